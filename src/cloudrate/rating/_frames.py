"""A rating result as a pandas DataFrame, for notebooks (``cloudrate[pandas]``).

Every number comes twice: a float column named plainly (``amount``, ``quantity``) to plot
and aggregate, and the exact :class:`~decimal.Decimal` it came from in the column of the
same name ending in ``_exact``. The floats are for pictures and quick sums only; bills are
the Decimals (see docs/notebooks.md for why not Arrow's decimal128).

``amount`` is the billed (rounded) amount of a line and ``amount_unrounded`` the amount
before rounding (``RatedLine.amount``); ``_exact`` never means "before rounding", only "as
a Decimal".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import MissingExtraError

if TYPE_CHECKING:
    from ._result import RatedLine, RatingResult

__all__ = ["LINE_COLUMNS", "NUMERIC", "lines_frame", "numeric_frame", "rating_frame"]

#: The columns of :func:`rating_frame`, before the ``_exact`` twins of :data:`NUMERIC`.
LINE_COLUMNS = (
    "period",
    "account",
    "charge",
    "kind",
    "description",
    "service",
    "metric",
    "unit",
    "currency",
    "records",
    "usage_quantity",
    "free_quantity",
    "quantity",
    "unit_price",
    "proration",
    "amount",
    "amount_unrounded",
)
#: The numeric columns: each a float column and its ``_exact`` Decimal twin.
NUMERIC = (
    "usage_quantity",
    "free_quantity",
    "quantity",
    "unit_price",
    "proration",
    "amount",
    "amount_unrounded",
)


def _pandas() -> ModuleType:
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("DataFrames", "pandas", "pandas") from None
    module: ModuleType = pandas
    return module


def _float(value: Decimal | None) -> float:
    # For plotting only: the nearest float (NaN for no value); the Decimal stays beside it.
    return float("nan") if value is None else float(value)


def numeric_frame(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[str]
) -> Any:
    """A DataFrame of *rows* whose *numeric* columns (Decimal or None) become float
    columns, each followed at the end by its ``<name>_exact`` column of the Decimals.

    >>> frame = numeric_frame(("a", "n"), [("x", Decimal("0.1"))], ["n"])
    >>> list(frame.columns), float(frame.n[0]), frame.n_exact[0]
    (['a', 'n', 'n_exact'], 0.1, Decimal('0.1'))
    """
    pandas = _pandas()
    columns = list(columns)
    numbers = [c for c in numeric if c in columns]
    body = [list(r) for r in rows]
    frame = pandas.DataFrame.from_records(body, columns=columns)
    for name in numbers:
        i = columns.index(name)
        exact = [r[i] for r in body]
        frame[name] = pandas.Series([_float(v) for v in exact], index=frame.index, dtype="float64")
        frame[f"{name}_exact"] = pandas.Series(exact, index=frame.index, dtype="object")
    return frame


def _row(period: str, line: RatedLine) -> tuple[Any, ...]:
    return (
        period,
        line.account,
        line.charge,
        line.kind,
        line.description,
        line.service,
        line.metric,
        line.unit,
        line.currency,
        line.records,
        line.usage_quantity,
        line.free_quantity,
        line.quantity,
        None if line.unit_price is None else line.unit_price.amount,
        line.proration,
        line.rounded.amount,
        line.amount.amount,
    )


def lines_frame(period: str, lines: Iterable[RatedLine]) -> Any:
    """Rated *lines* of *period* (its label) as a DataFrame, one row per line."""
    frame = numeric_frame(LINE_COLUMNS, (_row(period, x) for x in lines), NUMERIC)
    frame["records"] = frame["records"].astype("int64")
    return frame


def rating_frame(result: RatingResult) -> Any:
    """Every line of *result* as a DataFrame, one row per line in bill order.

    >>> import cloudrate
    >>> result = cloudrate.rate(cloudrate.load_plan(cloudrate.sample_plan_path()),
    ...                         cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> frame = rating_frame(result)
    >>> frame.groupby("account").amount.sum().round(2).to_dict()
    {'acme': 235.89, 'globex': 526.94, 'initech': 25.0}
    >>> line = frame[frame.charge == "windows_license"].iloc[0]
    >>> round(float(line.quantity), 4), len(str(line.quantity_exact))
    (0.3548, 62)
    """
    return lines_frame(result.period.label, result.lines)
