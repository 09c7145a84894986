"""pandas DataFrames of invoices, when pandas is installed (``cloudrate[pandas]``)."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import InvoiceError

from ._tables import TableLayout, rows

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["invoices_to_pandas", "to_pandas"]


def _pandas() -> ModuleType:
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise InvoiceError("DataFrames need pandas: pip install 'cloudrate[pandas]'") from None
    module: ModuleType = pandas
    return module


def to_pandas(invoice: Invoice) -> Any:
    """The invoice's lines as a DataFrame (one row per line; amounts stay Decimal)."""
    return invoices_to_pandas([invoice], "lines")


def invoices_to_pandas(invoices: Iterable[Invoice], layout: TableLayout = "summary") -> Any:
    """Invoices as a DataFrame: ``"summary"`` (one row per invoice) or ``"lines"``, the
    columns of :func:`rows`; amounts stay Decimal. Needs ``pip install 'cloudrate[pandas]'``.

    >>> list(invoices_to_pandas([]).columns[:3])
    ['number', 'id', 'customer_id']
    """
    pandas = _pandas()
    header, body = rows(invoices, layout)
    return pandas.DataFrame.from_records(body, columns=list(header))
