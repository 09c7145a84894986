"""Both engines' readers refuse what they cannot read, naming the line in the same words,
and never guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import ConfigError
from cloudrate.rating.columnar import rate_table, read_columnar
from cloudrate.usage import FIELD_LIMIT

PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
PERIOD = cloudrate.BillingPeriod.month(2026, 10, PLAN.timezone)
HEADER = "account,metric,quantity,start,end"


def _row(i: int) -> str:
    hour = f"2026-10-02T{i % 24:02d}"
    return f"acct{i % 3},vcpu_hours,{i + 1},{hour}:00:00Z,{hour}:30:00Z"


def _json_row(i: int) -> str:
    return json.dumps(
        {
            "account": f"acct{i % 3}",
            "metric": "vcpu_hours",
            "quantity": str(i + 1),
            "start": f"2026-10-02T{i % 24:02d}:00:00Z",
            "end": f"2026-10-02T{i % 24:02d}:30:00Z",
        }
    )


def _problem(path: Path) -> tuple[str, int | None, str]:
    """The one problem both engines' readers find in *path*: the same code, line and
    words (the per-record reader lists every problem; these files have one)."""
    with pytest.raises(ConfigError) as columnar:
        rate_table(PLAN, read_columnar(path), PERIOD)
    with pytest.raises(ConfigError) as per_record:
        cloudrate.read_usage(path)
    found = []
    for caught in (columnar, per_record):
        (problem,) = caught.value.problems
        assert problem.source == str(path)
        found.append((problem.code, problem.line, problem.message))
    assert found[0] == found[1], "the engines' readers disagree"
    return found[0]


def _write(tmp: pytest.TempPathFactory, name: str, data: bytes) -> Path:
    path = tmp.mktemp("hostile") / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["usage.csv", "usage.jsonl"])
def test_a_file_of_zero_bytes_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert _problem(path)[0] == "empty_file"


def test_a_csv_with_only_its_header_is_an_empty_month(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + "\n")
    assert rate_table(PLAN, read_columnar(path), PERIOD).bills == ()
    assert cloudrate.read_usage(path) == []


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 12),
    data=st.data(),
    bad=st.sampled_from([b"\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80"]),
    kind=st.sampled_from(["csv", "jsonl"]),
)
def test_bytes_that_are_not_utf8_are_named_by_line_and_byte(
    tmp_path_factory: pytest.TempPathFactory, rows: int, data: st.DataObject, bad: bytes, kind: str
) -> None:
    lines = [(_row if kind == "csv" else _json_row)(i).encode() for i in range(rows)]
    at = data.draw(st.integers(0, rows - 1))
    # inside the account name, so the line stays well formed apart from its encoding
    column = lines[at].index(b"acct") + 4
    lines[at] = lines[at][:column] + bad + lines[at][column:]
    head = [HEADER.encode()] if kind == "csv" else []
    path = _write(tmp_path_factory, f"usage.{kind}", b"\n".join(head + lines) + b"\n")
    code, line, message = _problem(path)
    assert code == "bad_encoding"
    assert line == at + 1 + len(head)
    assert f"byte {column + 1} of the line" in message


@settings(max_examples=20, deadline=None)
@given(
    at=st.integers(0, 1999), block=st.integers(200, 9000), kind=st.sampled_from(["csv", "jsonl"])
)
def test_bytes_that_are_not_utf8_in_a_later_block_are_named_by_their_line(
    tmp_path_factory: pytest.TempPathFactory, at: int, block: int, kind: str
) -> None:
    """Read in blocks of a few lines, a bad byte in any block is named by its line in the
    file, as the per-record reader names it (2,000 lines: more than the CSV header's
    first read of 64 KiB)."""
    lines = [(_row if kind == "csv" else _json_row)(i).encode() for i in range(2000)]
    column = lines[at].index(b"acct") + 4
    lines[at] = lines[at][:column] + b"\xff" + lines[at][column:]
    head = [HEADER.encode()] if kind == "csv" else []
    path = _write(tmp_path_factory, f"usage.{kind}", b"\n".join(head + lines) + b"\n")
    with pytest.raises(ConfigError) as caught:
        rate_table(PLAN, read_columnar(path, block_size=block), PERIOD)
    (problem,) = caught.value.problems
    assert (problem.code, problem.line) == ("bad_encoding", at + 1 + len(head))
    assert f"byte {column + 1} of the line" in problem.message


@settings(max_examples=30, deadline=None)
@given(
    names=st.permutations(["account", "metric", "quantity", "start", "end", "zone"]),
    data=st.data(),
)
def test_a_header_naming_a_column_twice_is_refused(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], data: st.DataObject
) -> None:
    twice = data.draw(st.sampled_from(names))
    header = [*names, twice]
    path = _write(tmp_path_factory, "usage.csv", (",".join(header) + "\n").encode())
    code, line, message = _problem(path)
    assert (code, line) == ("duplicate_column", 1)
    assert repr(twice) in message and f"columns {names.index(twice) + 1} and 7" in message


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 15), data=st.data(), extra=st.integers(1, 3))
def test_a_row_with_more_fields_than_the_header_is_named(
    tmp_path_factory: pytest.TempPathFactory, rows: int, data: st.DataObject, extra: int
) -> None:
    lines = [_row(i) for i in range(rows)]
    at = data.draw(st.integers(0, rows - 1))
    lines[at] += ",x" * extra
    path = _write(tmp_path_factory, "usage.csv", "\n".join([HEADER, *lines, ""]).encode())
    code, line, message = _problem(path)
    assert (code, line) == ("bad_record", at + 2)
    assert f"{5 + extra} fields where the header has 5" in message


@settings(max_examples=10, deadline=None)
@given(rows=st.integers(1, 6), data=st.data(), over=st.integers(1, 100))
def test_a_field_over_the_limit_is_refused_with_its_line(
    tmp_path_factory: pytest.TempPathFactory, rows: int, data: st.DataObject, over: int
) -> None:
    lines = [_row(i) for i in range(rows)]
    at = data.draw(st.integers(0, rows - 1))
    long = "a" * (FIELD_LIMIT + over)
    lines[at] = long + lines[at][lines[at].index(",") :]
    path = _write(tmp_path_factory, "usage.csv", "\n".join([HEADER, *lines, ""]).encode())
    code, line, message = _problem(path)
    assert (code, line) == ("field_too_long", at + 2)
    assert str(FIELD_LIMIT) in message


def test_a_field_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("\n".join([HEADER, "a" * FIELD_LIMIT + _row(0)[5:], ""]))
    (bill,) = rate_table(PLAN, read_columnar(path), PERIOD).bills
    assert len(bill.account) == FIELD_LIMIT


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, 10),
    data=st.data(),
    key=st.sampled_from(["quantity", "account", "start", "zone"]),
    second=st.sampled_from(['"5"', "5", '"x"']),
)
def test_a_json_key_given_twice_is_refused_not_the_last_taken(
    tmp_path_factory: pytest.TempPathFactory, rows: int, data: st.DataObject, key: str, second: str
) -> None:
    lines = [_json_row(i) for i in range(rows)]
    at = data.draw(st.integers(0, rows - 1))
    lines[at] = lines[at][:-1] + f', "{key}": {second}' + "}"
    if key == "zone":  # a key given twice only once it is given at all
        lines[at] = lines[at][:-1] + f', "{key}": "z1"' + "}"
    path = _write(tmp_path_factory, "usage.jsonl", "\n".join([*lines, ""]).encode())
    code, line, message = _problem(path)
    assert (code, line) == ("duplicate_key", at + 1)
    assert repr(key) in message


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_file_without_errors_is_never_scanned_for_line_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Lines are counted from the file's start only to name a problem: reading a valid
    file block by block never counts them (which read the file again up to each block)."""
    from cloudrate.rating.columnar import _io

    counted: list[int] = []
    monkeypatch.setattr(_io, "_line_at", lambda _path, offset: counted.append(offset) or 1)
    lines = [(_row if kind == "csv" else _json_row)(i) for i in range(3000)]
    path = tmp_path / f"usage.{kind}"
    path.write_text("\n".join(([HEADER] if kind == "csv" else []) + lines) + "\n")
    batches = list(read_columnar(path, block_size=4000))
    assert len(batches) > 10 and sum(b.num_rows for b in batches) == 3000
    assert counted == []
