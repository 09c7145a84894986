"""Spreadsheet helpers every export shares: formula neutralising, XLSX-safe text and
byte-stable XLSX files.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
as a formula by spreadsheet programs (CSV and formula injection); :func:`neutralise` puts
an apostrophe in front of it. A spreadsheet that imports a CSV file with another list
separator (``;`` in German and French settings) or splits cells on tabs and line breaks
starts a new cell after each of them, so :func:`neutralise` also puts an apostrophe before
a formula character that starts a part after ``,``, ``;``, a tab, CR or LF (spaces and
double quotes before it ignored, at the start too), following the OWASP CSV injection guidance.

XLSX is XML, which cannot hold NUL, most control characters, lone surrogates or U+FFFE and
U+FFFF; :func:`xlsx_text` replaces each with U+FFFD, the Unicode replacement character.
An XLSX file is a zip whose entries and document properties carry the time it was written;
:func:`deterministic_xlsx` fixes both, so the same tables give the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile

__all__ = [
    "FORMULA_TRIGGERS",
    "XLSX_MAX_CHARS",
    "deterministic_xlsx",
    "neutralise",
    "xlsx_text",
]

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: The longest text an XLSX cell holds (Excel's limit); :func:`xlsx_text` cuts longer text.
XLSX_MAX_CHARS = 32_767

_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
# A part: the text from the start or a list separator, tab or line break to the next one.
_PART = re.compile(r"(?:^|(?<=[,;\t\r\n]))[^,;\t\r\n]*")
# A formula character after nothing but spaces and double quotes at the start of a part.
_PART_FORMULA = re.compile(r'[\s"]*(?=[=+\-@])')
# What XML 1.0 cannot hold: control characters but tab and LF (CR becomes LF),
# surrogates (only lone ones reach a str), U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CR = re.compile("\r\n?")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_STAMP = rb"\g<1>2000-01-01T00:00:00Z\g<2>"
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_CORE = "docProps/core.xml"


def neutralise(text: str, *, keep_numbers: bool = False) -> str:
    """*text*, with a ``'`` in front of each formula a spreadsheet could run.

    The whole text gets a leading ``'`` when it starts with one of
    :data:`FORMULA_TRIGGERS`. Each part (the text from the start or from a ``,``, ``;``,
    tab, CR or LF up to the next one) that starts with ``=``, ``+``, ``-`` or ``@`` (after
    any spaces and double quotes) gets a ``'`` right before that character, as a
    spreadsheet importing the CSV with ``;`` as list separator would start a cell there. With
    *keep_numbers*, the whole text or a part that is a plain number (``-1.25``, ``+3``) is
    left alone, as a spreadsheet reads it as that number; ``-2+3`` still gets the apostrophe.

    >>> neutralise('=HYPERLINK("http://x")'), neutralise("-5% promo"), neutralise("ACME")
    ('\\'=HYPERLINK("http://x")', "'-5% promo", 'ACME')
    >>> neutralise('ACME;=HYPERLINK("http://x")'), neutralise("VM, -10% promo")
    ('ACME;\\'=HYPERLINK("http://x")', "VM, '-10% promo")
    >>> neutralise(' "=1+1"')
    ' "\\'=1+1"'

    >>> neutralise("-1.25"), neutralise("-1.25", keep_numbers=True)
    ("'-1.25", '-1.25')
    >>> neutralise("-2+3", keep_numbers=True), neutralise("1;-2", keep_numbers=True)
    ("'-2+3", '1;-2')
    """
    if keep_numbers and _NUMBER.fullmatch(text):
        return text
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return _PART.sub(lambda m: _neutralise_part(m.group(), keep_numbers), text)


def _neutralise_part(part: str, keep_numbers: bool) -> str:
    lead = _PART_FORMULA.match(part)
    if lead is None or (keep_numbers and _NUMBER.fullmatch(part.strip(' "'))):
        return part
    return part[: lead.end()] + "'" + part[lead.end() :]


def xlsx_text(text: str) -> str:
    """*text* as an XLSX cell can hold it and reads back.

    Characters XML cannot hold (NUL and the other control characters but tab and line
    feed, lone surrogates, U+FFFE, U+FFFF) become U+FFFD; a CR or CR LF becomes LF, the line
    break of a spreadsheet cell (XML would read it back so anyway); text longer than
    :data:`XLSX_MAX_CHARS` is cut to that length, ending in ``…``. Neutralise first.

    >>> xlsx_text("ACME\\x00 GmbH\\r\\nBerlin\\ud800")
    'ACME\\ufffd GmbH\\nBerlin\\ufffd'
    >>> len(xlsx_text("x" * 40_000)), xlsx_text("x" * 40_000)[-1]
    (32767, '…')
    """
    text = _NOT_XML.sub("\ufffd", _CR.sub("\n", text))
    if len(text) > XLSX_MAX_CHARS:
        text = text[: XLSX_MAX_CHARS - 1] + "…"
    return text


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
