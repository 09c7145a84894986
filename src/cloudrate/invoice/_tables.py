"""Tabular exports of invoices: rows, CSV and XLSX, safe against formula injection.

Two layouts: ``"lines"`` (one row per invoice line, with the invoice's number, customer and
dates) and ``"summary"`` (one row per invoice: the portal's invoice table). Text cells that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return) get a leading apostrophe; numbers are written as numbers, negative ones included.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

from cloudrate.exceptions import InvoiceError

from ._invoice import Invoice

__all__ = ["LAYOUTS", "neutralise", "rows", "write_csv", "write_xlsx"]

LAYOUTS = ("lines", "summary")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | Decimal | date | int | None

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


def neutralise(text: str) -> str:
    """Make *text* inert in a spreadsheet: prefix ``'`` when it starts like a formula.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-5% promo"), neutralise("ACME")
    ('\\'=HYPERLINK("http://x")', "'-5% promo", 'ACME')
    """
    return "'" + text if text.startswith(_DANGEROUS) else text


def _status(invoice: Invoice, now: date | datetime | None) -> str:
    return invoice.status if now is None else invoice.status_at(now)


def rows(
    invoices: Iterable[Invoice], layout: str = "lines", *, now: date | datetime | None = None
) -> tuple[tuple[str, ...], list[tuple[Cell, ...]]]:
    """The header and rows of *layout*; numbers stay Decimal, dates stay dates, text is raw
    (writers neutralise it). *now* turns unpaid into overdue where due."""
    if layout not in LAYOUTS:
        raise InvoiceError(f"layout: one of {', '.join(LAYOUTS)} (got {layout!r})")
    out: list[tuple[Cell, ...]] = []
    for inv in invoices:
        head: tuple[Cell, ...] = (
            inv.number,
            inv.id,
            inv.customer.id,
            inv.customer.name,
            inv.period.label,
        )
        if layout == "summary":
            out.append(
                (
                    *head,
                    _status(inv, now),
                    inv.issued_on,
                    inv.due_on,
                    inv.currency,
                    inv.subtotal.amount,
                    inv.tax_total.amount,
                    inv.total.amount,
                    inv.paid.amount,
                    inv.amount_due.amount,
                )
            )
            continue
        for x in inv.lines:
            out.append(
                (
                    *head,
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
                    None if x.tax_rate is None else x.tax_rate.percent,
                    None if x.tax_rate is None else x.tax_rate.category,
                    None if x.tax is None else x.tax.amount,
                )
            )
    return (_SUMMARY if layout == "summary" else _LINES), out


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
    layout: str = "lines",
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
        with open(out, "w", encoding="utf-8", newline="") as handle:
            _write(handle, header, body)
    else:
        _write(out, header, body)


def _write(handle: IO[str], header: tuple[str, ...], body: list[tuple[Cell, ...]]) -> None:
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_text(c) for c in row] for row in body)


_FIXED = (1980, 1, 1, 0, 0, 0)
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def write_xlsx(
    invoices: Iterable[Invoice], out: IO[bytes] | str | Path, *, now: date | datetime | None = None
) -> None:
    """Write an XLSX workbook with an ``Invoices`` (summary) and a ``Lines`` sheet.

    Numbers are numeric cells, dates date cells, text neutralised. The file is the same
    byte for byte for the same invoices (fixed timestamps). Needs ``cloudrate[xlsx]``.
    """
    try:
        from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
        from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise InvoiceError("XLSX export needs openpyxl: pip install 'cloudrate[xlsx]'") from None
    invoices = list(invoices)
    book = Workbook()
    first = True
    for title, layout in (("Invoices", "summary"), ("Lines", "lines")):
        sheet = book.active if first else book.create_sheet()
        first = False
        assert sheet is not None
        sheet.title = title
        header, body = rows(invoices, layout, now=now)
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append([neutralise(c) if isinstance(c, str) else c for c in row])
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, (date, datetime)):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"
    raw = io.BytesIO()
    book.save(raw)
    data = _deterministic(raw.getvalue())
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(data)
    else:
        out.write(data)


def _deterministic(data: bytes) -> bytes:
    """Re-pack the zip with fixed entry times and fixed document timestamps."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _STAMP.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=_FIXED),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buf.getvalue()
