"""Tables to CSV and XLSX, safe to open in a spreadsheet and the same bytes every time.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) get a leading apostrophe; plain numbers such
as ``-1.25`` are left alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

__all__ = ["Cell", "Table", "neutralise", "plain", "to_csv", "to_xlsx"]

Cell = str | Decimal | int | date | None
Table = tuple[Sequence[str], Sequence[Sequence[Cell]]]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
#: Fixed creation time written into XLSX files, so the bytes do not depend on the clock.
_EPOCH = datetime(2000, 1, 1)


def neutralise(text: str) -> str:
    """*text*, with a leading ``'`` if a spreadsheet would read it as a formula.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1.25"), neutralise("@SUM(A1)")
    ('\\'=HYPERLINK("http://x")', '-1.25', "'@SUM(A1)")
    """
    if text.startswith(_TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


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

    Text is written as text (never as a formula) and neutralised too, so copying it to
    CSV later stays safe. Decimals of at most 15 significant digits become numbers (a
    spreadsheet number holds them exactly); longer ones are kept as text.
    """
    try:
        import xlsxwriter  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "XLSX export needs XlsxWriter: pip install 'cloudrate[xlsx]'"
        ) from None
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": _EPOCH})
    bold = workbook.add_format({"bold": True})
    for name, header, rows in sheets:
        sheet = workbook.add_worksheet(name)
        for col, title in enumerate(header):
            sheet.write_string(0, col, neutralise(title), bold)
        for r, row in enumerate(rows, start=1):
            for col, cell in enumerate(row):
                if isinstance(cell, Decimal) and len(cell.as_tuple().digits) <= 15:
                    sheet.write_number(r, col, float(cell))  # exact: <= 15 digits round-trip
                elif isinstance(cell, int) and not isinstance(cell, bool):
                    sheet.write_number(r, col, cell)
                elif cell is not None:
                    sheet.write_string(r, col, _text(cell))
        sheet.set_column(0, max(len(header) - 1, 0), 16)
    workbook.close()
    return buffer.getvalue()
