"""Invoices as pandas DataFrames with numeric columns, for notebooks (``cloudrate[pandas]``).

The columns are those of :func:`cloudrate.invoice.rows` (the CSV and XLSX exports); every
Decimal column becomes a float column of the same name, to plot and aggregate, and keeps
the exact Decimals in a ``<name>_exact`` column at the end. Bills are the Decimals; the
floats are for pictures and quick sums only (see docs/notebooks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import MissingExtraError

from ._tables import TableLayout, rows

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["invoice_frame", "invoices_frame"]

#: Columns that hold numbers in some layout; the rest are text and dates.
_NUMERIC = frozenset(
    {"quantity", "unit_price", "amount", "tax_rate", "tax", "subtotal", "tax_total", "total"}
    | {"paid", "amount_due"}
)


def _pandas() -> ModuleType:
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("DataFrames", "pandas", "pandas") from None
    module: ModuleType = pandas
    return module


def _frame(header: Sequence[str], body: Sequence[Sequence[Any]]) -> Any:
    pandas = _pandas()
    frame = pandas.DataFrame.from_records([list(r) for r in body], columns=list(header))
    for i, name in enumerate(header):
        if name not in _NUMERIC:
            continue
        exact: list[Decimal | None] = [r[i] for r in body]
        floats = [float("nan") if v is None else float(v) for v in exact]
        frame[name] = pandas.Series(floats, index=frame.index, dtype="float64")
        frame[f"{name}_exact"] = pandas.Series(exact, index=frame.index, dtype="object")
    return frame


def invoices_frame(
    invoices: Iterable[Invoice],
    layout: TableLayout = "summary",
    *,
    now: date | datetime | None = None,
) -> Any:
    """*invoices* as a DataFrame: one row per invoice (``"summary"``) or per line
    (``"lines"``); *now* turns unpaid into overdue where due.

    >>> import cloudrate
    >>> from cloudrate.invoice import Customer, TaxRate, assemble
    >>> result = cloudrate.rate(cloudrate.load_plan(cloudrate.sample_plan_path()),
    ...                         cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> invoice = assemble(result, Customer(id="acme", name="ACME GmbH"),
    ...                    taxes=TaxRate(percent="19"))
    >>> frame = invoices_frame([invoice])
    >>> float(frame.total[0]), frame.total_exact[0]
    (280.71, Decimal('280.71'))
    """
    header, body = rows(invoices, layout, now=now)
    return _frame(header, body)


def invoice_frame(invoice: Invoice) -> Any:
    """The lines of *invoice* as a DataFrame, one row per line.

    >>> import cloudrate
    >>> from cloudrate.invoice import Customer, assemble
    >>> result = cloudrate.rate(cloudrate.load_plan(cloudrate.sample_plan_path()),
    ...                         cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> frame = invoice_frame(assemble(result, Customer(id="acme", name="ACME GmbH")))
    >>> round(float(frame.amount.sum()), 2), sum(frame.amount_exact)
    (235.89, Decimal('235.89'))
    """
    return invoices_frame([invoice], "lines")
