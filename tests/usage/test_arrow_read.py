"""Large CSV files split by pyarrow (``cloudrate.usage._arrow_csv``) read as the csv
module reads them: the same records, origins, identity hashes and errors, or the file is
left to the csv module."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import ConfigError, read_usage_csv
from cloudrate.usage import _arrow_csv, _read

pytest.importorskip("pyarrow")

from .test_batch_read import csv_texts

HEADER = "account,metric,quantity,start,end,zone"
GOOD = "acme,m,1.5,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,z1"
#: Pieces of a line where the two parsers could part: quotes, carriage returns, NUL,
#: a byte-order mark, spaces, empty fields, another width, bytes that are not UTF-8.
ODD = (
    "",
    " ",
    ",",
    '"',
    '"a,b"',
    'a"b',
    "\r",
    "\0",
    "\ufeff",
    "\x1c",
    "\x85",
    "\u2028",
    "\x0b",
    "é",
    "\t",
    "x" * 10,
    "1",
    "2026-10-01T00:00:00Z",
)


@st.composite
def raw_files(draw: st.DrawFn) -> bytes:
    """A header (sometimes after a BOM or a blank line), then lines mostly of good rows,
    some with odd pieces, joined by \\n or \\r\\n, sometimes with bytes not UTF-8."""
    first = (HEADER, HEADER, HEADER, "\ufeff" + HEADER, "", HEADER + ",")
    lines = [draw(st.sampled_from(first))]
    odds = draw(st.sampled_from((5, 20, 1000)))  # one line in 6, in 21, (almost) none odd
    for _ in range(draw(st.integers(0, 8))):
        fields = GOOD.split(",")
        odd = draw(st.integers(0, odds))
        at = draw(st.integers(0, len(fields) - 1))
        if odd == 0:
            fields.insert(at, draw(st.sampled_from(ODD)))
        elif odd == 1:
            fields[at] = draw(st.sampled_from(ODD))
        elif odd == 2:
            fields[at] += draw(st.sampled_from(ODD))
        lines.append(",".join(fields) if draw(st.integers(0, 9)) else "")
    end = draw(st.sampled_from(("\n", "\r\n")))
    data = end.join(lines).encode() + draw(st.sampled_from((b"", end.encode())))
    if draw(st.integers(0, 39)) == 0:
        data += b"\xff"
    return data


def _outcome(path: Path) -> tuple[str, object]:
    try:
        records = read_usage_csv(path)
    except ConfigError as exc:
        return "error", (str(exc), [(p.line, p.message) for p in exc.problems])
    except Exception as exc:  # not UTF-8, a NUL: raised as the csv module raises them
        return "raised", (type(exc), str(exc))
    return "records", [(r, r.origin, r.to_dict(), r._identity) for r in records]


def _both(data: bytes) -> tuple[tuple[str, object], tuple[str, object]]:
    """The outcome through pyarrow (any size taken) and through the csv module."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "usage.csv"
        path.write_bytes(data)
        with mock.patch.object(_arrow_csv, "ARROW_FROM", 0):
            fast = _outcome(path)
        with mock.patch.object(_read, "csv_columns", return_value=None):
            slow = _outcome(path)
    return fast, slow


class TestArrowPath:
    @given(raw_files(), st.sampled_from((1, 3, 4096)), st.sampled_from((64, 200, 1 << 22)))
    def test_same_outcome_as_the_csv_module(self, data, size, block):
        """Whatever the bytes, reading through pyarrow gives the records and problems
        (or the exception) the csv module's reading gives, at any batch size, also when
        pyarrow refuses a row in a later block than the first."""
        with (
            mock.patch.object(_read, "_BATCH", size),
            mock.patch.object(_arrow_csv, "_BLOCK", block),
        ):
            fast, slow = _both(data)
        assert fast == slow

    def test_a_row_refused_late_reads_the_file_again(self, tmp_path):
        """A row of another width far into the file: the records built so far are left
        and the csv module reads the whole file (the same problems as without pyarrow)."""
        path = tmp_path / "usage.csv"
        path.write_text(f"{HEADER}\n" + f"{GOOD}\n" * 50 + "a,b\n", encoding="utf-8")
        with mock.patch.object(_arrow_csv, "_BLOCK", 128):
            fast, slow = _both(path.read_bytes())
            with mock.patch.object(_arrow_csv, "ARROW_FROM", 0):
                batches = _arrow_csv.csv_columns(path, 10)[1]  # type: ignore[index]
                assert next(batches)  # the first rows come before the refusal
        assert fast == slow and fast[0] == "error"

    @given(csv_texts())
    def test_same_outcome_on_written_files(self, text):
        """Files csv.writer writes (quoted where needed) read the same either way."""
        fast, slow = _both(text.encode())
        assert fast == slow

    def test_a_clean_file_is_split_by_pyarrow(self, tmp_path):
        """A large file without quotes is read through pyarrow, with the csv module's
        origins; a quote anywhere leaves it to the csv module."""
        path = tmp_path / "usage.csv"
        path.write_text(f"{HEADER}\n{GOOD}\n\n{GOOD}\n", encoding="utf-8")
        with (
            mock.patch.object(_arrow_csv, "ARROW_FROM", 0),
            mock.patch.object(_read._CsvRows, "collect", side_effect=AssertionError),
        ):
            records = read_usage_csv(path)
            assert [r.origin for r in records] == [f"{path} line 2", f"{path} line 3"]
            path.write_text(f'{HEADER}\n{GOOD}\n"{GOOD}"\n', encoding="utf-8")
            assert _arrow_csv.csv_columns(path, 10) is None

    def test_small_files_and_no_pyarrow_go_the_csv_way(self, tmp_path):
        """Files below ARROW_FROM, and any file without pyarrow installed, are not taken."""
        path = tmp_path / "usage.csv"
        path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
        assert _arrow_csv.csv_columns(path, 10) is None
        with (
            mock.patch.object(_arrow_csv, "ARROW_FROM", 0),
            mock.patch.object(_arrow_csv.importlib.util, "find_spec", return_value=None),
        ):
            assert _arrow_csv.csv_columns(path, 10) is None
            assert read_usage_csv(path)[0].attributes == {"zone": "z1"}

    def test_fields_beyond_the_csv_limit_go_the_csv_way(self, tmp_path):
        """A field the csv module refuses as too long is refused the same, with its line."""
        path = tmp_path / "usage.csv"
        path.write_text(f"{HEADER}\n{GOOD}{'x' * 200}\n", encoding="utf-8")
        old = csv.field_size_limit(100)
        try:
            fast, slow = _both(path.read_bytes())
        finally:
            csv.field_size_limit(old)
        assert fast == slow and fast[0] == "error"  # a ConfigError naming the line
