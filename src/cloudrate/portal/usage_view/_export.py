"""Tables to CSV and XLSX, safe to open in a spreadsheet and the same bytes every time.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) get a leading apostrophe; plain numbers such
as ``-1.25`` are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from cloudrate import _sheets
from cloudrate._sheets import deterministic_xlsx
from cloudrate.exceptions import MissingExtraError

__all__ = ["Cell", "Table", "neutralise", "plain", "to_csv", "to_xlsx"]

Cell = str | Decimal | int | date | None
Table = tuple[Sequence[str], Sequence[Sequence[Cell]]]


def neutralise(text: str) -> str:
    """*text*, with a leading ``'`` if a spreadsheet would read it as a formula; text that
    is a plain number (``-1.25``) is left alone (:func:`cloudrate._sheets.neutralise`).

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1.25"), neutralise("@SUM(A1)")
    ('\\'=HYPERLINK("http://x")', '-1.25', "'@SUM(A1)")
    """
    return _sheets.neutralise(text, keep_numbers=True)


def plain(value: Decimal) -> str:
    """A Decimal written without exponent: ``Decimal('6.7E+2')`` -> ``'670'``.

    >>> plain(Decimal("6.7E+2")), plain(Decimal("0.50"))
    ('670', '0.50')
    """
    return f"{value:f}"


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return plain(cell)
    if isinstance(cell, date | int):
        return cell.isoformat() if isinstance(cell, date) else str(cell)
    return neutralise(str(cell))


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """*rows* under *header* as CSV text (``\\r\\n`` line ends, numbers as plain decimals).

    >>> print(to_csv(["name", "amount"], [["=1+2", Decimal("-3.50")]]), end="")
    name,amount
    '=1+2,-3.50
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_text(c) for c in row])
    return out.getvalue()


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]) -> bytes:
    """An XLSX workbook with one sheet per ``(name, header, rows)``; needs ``cloudrate[xlsx]``.

    Text is neutralised (so copying it to CSV later stays safe too). Decimals of at most
    15 significant digits become numbers (a spreadsheet number holds them exactly);
    longer ones are kept as text. The same tables give the same bytes.
    """
    try:
        from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
        from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("XLSX export", "openpyxl", "xlsx") from None
    book = Workbook()
    book.remove(book.active)
    for name, header, rows in sheets:
        sheet = book.create_sheet(name)
        sheet.append([_sheets.xlsx_text(neutralise(h)) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_cell(c) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return deterministic_xlsx(buffer.getvalue())


def _xlsx_cell(cell: Cell) -> object:
    if isinstance(cell, Decimal):
        return float(cell) if len(cell.as_tuple().digits) <= 15 else plain(cell)
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    return None if cell is None else _sheets.xlsx_text(_text(cell))
