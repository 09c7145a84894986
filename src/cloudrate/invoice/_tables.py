"""Tabular exports of invoices: rows, CSV and XLSX, safe against formula injection.

Two layouts: ``"lines"`` (one row per invoice line, with the invoice's number, customer and
dates) and ``"summary"`` (one row per invoice: the portal's invoice table). Text cells that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return, or with ``=``, ``+``, ``-``, ``@`` after a ``,``, ``;``, tab or line break) get an
apostrophe before the formula (:func:`cloudrate.invoice.neutralise`); numbers are written as
numbers, negative ones included. In XLSX, characters XML cannot hold (NUL, control
characters, lone surrogates) become U+FFFD and CR becomes LF, so every string can be written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, get_args

from cloudrate._sheets import deterministic_xlsx, neutralise, xlsx_text
from cloudrate.exceptions import InvoiceError

if TYPE_CHECKING:
    from ._invoice import Invoice
    from ._model import InvoiceLine

__all__ = ["LAYOUTS", "TableLayout", "rows", "write_csv", "write_xlsx"]

#: The layouts of :func:`rows`: one row per invoice line (``"lines"``) or per invoice
#: (``"summary"``).
TableLayout = Literal["lines", "summary"]
LAYOUTS: tuple[TableLayout, ...] = get_args(TableLayout)

Cell = str | Decimal | date | int | None
Row = tuple[Cell, ...]

_SUMMARY = (
    "number",
    "id",
    "customer_id",
    "customer_name",
    "period",
    "status",
    "issued_on",
    "due_on",
    "currency",
    "subtotal",
    "tax_total",
    "total",
    "paid",
    "amount_due",
)
_LINES = (
    "number",
    "id",
    "customer_id",
    "customer_name",
    "period",
    "issued_on",
    "due_on",
    "currency",
    "charge",
    "kind",
    "description",
    "service",
    "metric",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "tax_rate",
    "tax_category",
    "tax",
)


def _head(inv: Invoice) -> Row:
    return (inv.number, inv.id, inv.customer.id, inv.customer.name, inv.period.label)


def _summary_row(inv: Invoice, now: date | datetime | None) -> Row:
    return (
        *_head(inv),
        inv.status if now is None else inv.status_at(now),
        inv.issued_on,
        inv.due_on,
        inv.currency,
        inv.subtotal.amount,
        inv.tax_total.amount,
        inv.total.amount,
        inv.paid.amount,
        inv.amount_due.amount,
    )


def _line_row(inv: Invoice, x: InvoiceLine) -> Row:
    rate = x.tax_rate
    return (
        *_head(inv),
        inv.issued_on,
        inv.due_on,
        inv.currency,
        x.charge,
        x.kind,
        x.description,
        x.service,
        x.metric,
        x.quantity,
        x.unit,
        None if x.unit_price is None else x.unit_price.amount,
        x.amount.amount,
        None if rate is None else rate.percent,
        None if rate is None else rate.category,
        None if x.tax is None else x.tax.amount,
    )


def rows(
    invoices: Iterable[Invoice],
    layout: TableLayout = "lines",
    *,
    now: date | datetime | None = None,
) -> tuple[tuple[str, ...], list[Row]]:
    """The header and rows of *layout*; numbers stay Decimal, dates stay dates, text is raw
    (writers neutralise it). *now* turns unpaid into overdue where due.

    >>> rows([], "summary")[0][:3], rows([])[0][8:10]
    (('number', 'id', 'customer_id'), ('charge', 'kind'))
    """
    if layout not in LAYOUTS:
        raise InvoiceError(f"layout: one of {', '.join(LAYOUTS)} (got {layout!r})")
    if layout == "summary":
        return _SUMMARY, [_summary_row(inv, now) for inv in invoices]
    return _LINES, [_line_row(inv, x) for inv in invoices for x in inv.lines]


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return neutralise(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def write_csv(
    invoices: Iterable[Invoice],
    out: IO[str] | str | Path,
    layout: TableLayout = "lines",
    *,
    now: date | datetime | None = None,
) -> None:
    """Write *invoices* as CSV (UTF-8, ``\\r\\n`` line ends, numbers as plain decimals).

    >>> import io
    >>> buf = io.StringIO()
    >>> write_csv([], buf, "summary")
    >>> buf.getvalue().split(",")[:3]
    ['number', 'id', 'customer_id']
    """
    header, body = rows(invoices, layout, now=now)
    if isinstance(out, (str, Path)):
        with Path(out).open("w", encoding="utf-8", newline="") as handle:
            _write(handle, header, body)
    else:
        _write(out, header, body)


def _write(handle: IO[str], header: tuple[str, ...], body: list[Row]) -> None:
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_text(c) for c in row] for row in body)


def _openpyxl() -> tuple[Any, Any]:
    try:
        from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
        from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise InvoiceError("XLSX export needs openpyxl: pip install 'cloudrate[xlsx]'") from None
    return Workbook, Font


def _fill(sheet: Any, font: Any, header: tuple[str, ...], body: list[Row]) -> None:
    """Write *header* (bold, frozen) and *body* (text neutralised and made XML-safe, dates as
    dates) to *sheet*."""
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = font
    for row in body:
        sheet.append([xlsx_text(neutralise(c)) if isinstance(c, str) else c for c in row])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, (date, datetime)):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"


def write_xlsx(
    invoices: Iterable[Invoice], out: IO[bytes] | str | Path, *, now: date | datetime | None = None
) -> None:
    """Write an XLSX workbook with an ``Invoices`` (summary) and a ``Lines`` sheet.

    Numbers are numeric cells, dates date cells, text neutralised; characters XML cannot
    hold (NUL, control characters, lone surrogates) become U+FFFD, CR becomes LF and text
    past 32,767 characters is cut with ``…``. The file is the same byte for byte for the
    same invoices (fixed timestamps). Needs ``cloudrate[xlsx]``.

    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> write_xlsx([], buf)
    >>> "xl/worksheets/sheet2.xml" in zipfile.ZipFile(buf).namelist()
    True
    """
    workbook, font = _openpyxl()
    invoices = list(invoices)
    book = workbook()
    sheets = (book.active, book.create_sheet())
    layouts: tuple[tuple[str, TableLayout], ...] = (("Invoices", "summary"), ("Lines", "lines"))
    for sheet, (title, layout) in zip(sheets, layouts, strict=True):
        sheet.title = title
        _fill(sheet, font(bold=True), *rows(invoices, layout, now=now))
    raw = io.BytesIO()
    book.save(raw)
    data = deterministic_xlsx(raw.getvalue())
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(data)
    else:
        out.write(data)
