"""The rows of a large CSV file split by pyarrow's CSV parser, when it splits them exactly as
:func:`csv.reader` does.

Splitting rows into fields is most of the time :func:`csv.reader` takes on a large file;
pyarrow does it about three times faster. The two agree on every file this module takes:
one without quotes, NUL characters or a carriage return that does not end a line (those
are where the csv module's excel dialect has rules of its own), whose header is its first
line, whose rows are all as wide as the header, valid UTF-8 and with no field longer
than :func:`csv.field_size_limit` (which the csv module refuses). Both skip empty lines
and give every other value as the text written. For any other file, or without pyarrow,
:func:`csv_columns` gives None and the caller reads the file with the csv module; the
last three are found as the file is read, where the batches raise :class:`RefusedError`
and the caller reads the file again with the csv module. The file is read a block at a
time (about 4 MB), so memory stays that of the records.

pyarrow is imported only when a file is large enough for it to pay for its import.
"""

from __future__ import annotations

import csv
import importlib.util
import mmap
import re
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ARROW_FROM", "RefusedError", "csv_columns"]

#: The smallest file (in bytes) split by pyarrow: about 90,000 rows of a usual export,
#: whose time saved is more than importing pyarrow costs.
ARROW_FROM = 8 << 20

#: The bytes pyarrow parses at a time.
_BLOCK = 1 << 22

#: A carriage return that does not end a line (searched for only in files with one).
_LONE_CR = re.compile(rb"\r(?!\n)")


class RefusedError(Exception):
    """Never seen by users: pyarrow refused a part of the file the batches had not
    reached yet (a row of another width, text that is not UTF-8, a field beyond the csv
    module's limit); read the whole file with the csv module instead."""


def csv_columns(path: Path, size: int) -> tuple[list[str], Iterator[list[list[str]]]] | None:
    """The header of the CSV file at *path* and its rows in batches of *size*, each
    batch as its columns (lists of the texts of each row), or None when the file is not
    one this module takes (see above). The batches are read from the file as they are
    asked for; they raise :class:`RefusedError` where pyarrow refuses the rest.
    """
    try:
        if path.stat().st_size < ARROW_FROM or importlib.util.find_spec("pyarrow") is None:
            return None
        with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            # where the csv module's excel dialect has rules of its own
            if data.find(b'"') >= 0 or data.find(b"\0") >= 0:
                return None
            if data.find(b"\r") >= 0 and _LONE_CR.search(data):
                return None
            end = data.find(b"\n")
            first = data[: len(data) if end < 0 else end]
    except (OSError, ValueError):
        return None  # the csv module's reading says what is wrong
    try:
        header = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not header:
        return None
    names = header.removesuffix("\r").split(",")
    return names, _batches(path, len(names), size)


def _batches(path: Path, width: int, size: int) -> Iterator[list[list[str]]]:
    """The rows after the header, *size* at a time, as *width* columns of texts."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    columns = [f"f{i}" for i in range(width)]
    limit = csv.field_size_limit()
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(
                skip_rows=1, column_names=columns, use_threads=False, block_size=_BLOCK
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=",",
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
        for block in reader:
            for column in block.columns:
                longest = pc.max(pc.utf8_length(column)).as_py()
                if longest is not None and longest >= limit:
                    raise RefusedError(f"a field of {longest} characters")
            for offset in range(0, block.num_rows, size):
                part = block.slice(offset, size)
                yield [column.to_pylist() for column in part.columns]
    except (pa.ArrowInvalid, ValueError) as exc:  # another width, text not UTF-8
        raise RefusedError(str(exc)) from None
