"""A usage view as pandas DataFrames, for notebooks (``cloudrate[pandas]``).

Three tables of :class:`~cloudrate.portal.usage_view.UsageView`: its ``"services"`` (one
row per charge within each service, the usage summary), its metric ``"cards"`` and its
``"resources"`` (one row per charge of each resource). Numbers come as float columns
(``quantity``, ``cost``, ``cost_shown``: the cost the page shows with cost decimals) to
plot and aggregate, each with its exact Decimals in a ``<name>_exact`` column at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, get_args

from cloudrate.exceptions import MissingExtraError, OptionError

if TYPE_CHECKING:
    from ._resources import ResourceItem
    from ._view import UsageView

__all__ = ["VIEW_TABLES", "ViewTable", "view_frame"]

#: The tables of a usage view a DataFrame can hold.
ViewTable = Literal["services", "cards", "resources"]
VIEW_TABLES: tuple[ViewTable, ...] = get_args(ViewTable)

_NUMERIC = ("quantity", "cost", "cost_shown")
_COLUMNS: dict[ViewTable, tuple[str, ...]] = {
    "services": ("service", "charge", "description", "unit", "currency", *_NUMERIC),
    "cards": ("key", "label", "unit", "currency", *_NUMERIC),
    "resources": (
        "service",
        "resource_id",
        "charge",
        "description",
        "unit",
        "currency",
        *_NUMERIC,
    ),
}


def _pandas() -> ModuleType:
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("DataFrames", "pandas", "pandas") from None
    module: ModuleType = pandas
    return module


def _costs(item: ResourceItem) -> tuple[Decimal, Decimal, Decimal]:
    return (item.quantity, item.cost.amount, item.shown)


def _rows(view: UsageView, table: ViewTable) -> list[tuple[Any, ...]]:
    cur = view.currency
    if table == "cards":
        return [
            (c.key, c.label, c.unit, cur, c.quantity, c.cost.amount, c.shown) for c in view.cards
        ]
    if table == "services":
        return [
            (s.service, i.charge, i.description, i.unit, cur, i.quantity, i.cost.amount, i.shown)
            for s in view.services
            for i in s.items
        ]
    return [
        (r.service, r.resource_id, i.charge, i.description, i.unit, cur, *_costs(i))
        for r in view.resources
        for i in r.items
    ]


def _numeric(pandas: ModuleType, columns: Sequence[str], body: Sequence[tuple[Any, ...]]) -> Any:
    frame = pandas.DataFrame.from_records([list(r) for r in body], columns=list(columns))
    for name in _NUMERIC:
        i = columns.index(name)
        exact: list[Decimal] = [r[i] for r in body]
        frame[name] = pandas.Series([float(v) for v in exact], index=frame.index, dtype="float64")
        frame[f"{name}_exact"] = pandas.Series(exact, index=frame.index, dtype="object")
    return frame


def view_frame(view: UsageView, table: ViewTable = "services") -> Any:
    """One *table* of *view* (``"services"``, ``"cards"`` or ``"resources"``) as a
    DataFrame; the services' costs add up to the Total Estimated Bill.

    >>> import cloudrate
    >>> from datetime import date
    >>> from cloudrate.portal.usage_view import DateRange, usage_view
    >>> view = usage_view(cloudrate.load_plan(cloudrate.sample_plan_path()),
    ...     cloudrate.read_usage(cloudrate.sample_usage_path()), account="acme",
    ...     date_range=DateRange.last_month(today=date(2026, 11, 5), timezone="Europe/Berlin"))
    >>> frame = view_frame(view)
    >>> sum(frame.cost_exact) == view.total.amount
    True
    >>> view_frame(view, "cards")[["key", "unit"]].values.tolist()[0]
    ['cpu', 'vCPU-hour']
    """
    if table not in VIEW_TABLES:
        raise OptionError(
            f"table must be one of {', '.join(VIEW_TABLES)} (got {table!r})", path="table"
        )
    pandas = _pandas()
    return _numeric(pandas, _COLUMNS[table], _rows(view, table))
