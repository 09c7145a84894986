"""Spreadsheet helpers every export shares: formula neutralising and byte-stable XLSX files.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
as a formula by spreadsheet programs (CSV and formula injection); :func:`neutralise` puts
an apostrophe in front of it. An XLSX file is a zip whose entries and document properties
carry the time it was written; :func:`deterministic_xlsx` fixes both, so the same tables
give the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile

__all__ = ["FORMULA_TRIGGERS", "deterministic_xlsx", "neutralise"]

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_STAMP = rb"\g<1>2000-01-01T00:00:00Z\g<2>"
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_CORE = "docProps/core.xml"


def neutralise(text: str, *, keep_numbers: bool = False) -> str:
    """*text*, with a leading ``'`` when a spreadsheet would run it as a formula.

    With *keep_numbers*, text that is a plain number (``-1.25``, ``+3``) is left alone, as
    a spreadsheet reads it as that number; ``-2+3`` still gets the apostrophe.

    >>> neutralise('=HYPERLINK("http://x")'), neutralise("-5% promo"), neutralise("ACME")
    ('\\'=HYPERLINK("http://x")', "'-5% promo", 'ACME')
    >>> neutralise("-1.25"), neutralise("-1.25", keep_numbers=True)
    ("'-1.25", '-1.25')
    >>> neutralise("-2+3", keep_numbers=True)
    "'-2+3"
    """
    if not text.startswith(FORMULA_TRIGGERS):
        return text
    if keep_numbers and _NUMBER.fullmatch(text):
        return text
    return "'" + text


def deterministic_xlsx(data: bytes) -> bytes:
    """The XLSX (zip) file *data*, re-packed with fixed entry times and document timestamps.

    Each entry's time becomes 1980-01-01 and the ``dcterms:created`` and
    ``dcterms:modified`` stamps of ``docProps/core.xml`` become 2000-01-01, so two
    workbooks with the same cells written at different times are equal byte for byte.

    >>> def book(when: tuple[int, ...], stamp: str) -> bytes:
    ...     buf = io.BytesIO()
    ...     with zipfile.ZipFile(buf, "w") as z:
    ...         z.writestr(zipfile.ZipInfo("docProps/core.xml", when),
    ...                    f"<dcterms:created x='1'>{stamp}</dcterms:created>")
    ...     return buf.getvalue()
    >>> a = deterministic_xlsx(book((2026, 11, 1, 9, 0, 0), "2026-11-01T09:00:00Z"))
    >>> b = deterministic_xlsx(book((2027, 1, 2, 3, 4, 6), "2027-01-02T03:04:06Z"))
    >>> a == b, zipfile.ZipFile(io.BytesIO(a)).read("docProps/core.xml")
    (True, b"<dcterms:created x='1'>2000-01-01T00:00:00Z</dcterms:created>")
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == _CORE:
                content = _STAMP.sub(_FIXED_STAMP, content)
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buf.getvalue()
