"""The CSV reader's fast path (``cloudrate.usage._read``): rows it builds with
``UsageRecord._checked`` are the records, and the errors, of the dict path."""

from __future__ import annotations

import csv
import io
import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import ConfigError, UsageRecord, read_usage_csv
from cloudrate.testing import usage_records
from cloudrate.usage import _read

from .dict_reference import dict_path

T0 = datetime(2026, 10, 1, tzinfo=UTC)

#: Texts per column, good and bad, so rows go both ways.
CELLS: dict[str, tuple[str, ...]] = {
    "account": ("acme", "b", "", " c ", "NA"),
    "metric": ("vcpu_hours", "m", ""),
    "quantity": (
        "1",
        "2.50",
        " 3 ",
        "0",
        "-0",
        "1e3",
        "",
        "-1",
        "1_000",
        "lots",
        "NaN",
        "Infinity",
    ),
    "start": (
        "2026-10-01T00:00:00Z",
        "2026-10-01T02:00:00+02:00",
        " 2026-10-01T00:00:00+00:00 ",
        "2026-10-01T00:00:00.5Z",
        "",
        "2026-10-01T00:00:00",
        "yesterday",
        "2026-10-01T00:00:00.1234567Z",
    ),
    "end": ("2026-10-01T01:00:00Z", "2026-10-01T00:00:00Z", "2026-10-01T03:00:00+02:00", ""),
    "record_id": ("", "r-1", "r-2"),
    "revision": ("", "0", " 2 ", "x", "-1"),
    "resource_id": ("", "vm-1"),
    "service": ("", "compute"),
    "zone": ("", "z1", "NA"),
    "attr.zone": ("", "z2"),
    "attributes": ("", "x"),
    "": ("", "v"),
}


def _reference(text: str) -> list[UsageRecord]:
    """The dict path alone: the file rules, then csv.DictReader rows through
    record_from_mapping."""
    return dict_path(text)


def _outcome(read: object) -> tuple[str, object]:
    try:
        records = read()  # type: ignore[operator]
    except ConfigError as exc:
        return "error", (str(exc), [(p.line, p.message) for p in exc.problems])
    except Exception as exc:  # a row with more values than the header (both paths)
        return "raised", (type(exc), str(exc))
    return "records", [(r, r.origin, r.to_dict(), r._identity) for r in records]


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """A header of some of the columns (sometimes one twice), then rows of their texts
    (sometimes one too short or too long, sometimes an empty line)."""
    names = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=10, unique=True))
    required = ["account", "metric", "quantity", "start", "end"]
    if draw(st.booleans()):
        names = required + [n for n in names if n not in required]
    if draw(st.integers(0, 9)) == 0:
        names.append(draw(st.sampled_from(names)))
    header = [f" {n}" if draw(st.integers(0, 4)) == 0 else n for n in names]
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(st.sampled_from(CELLS[n])) for n in names]
        shape = draw(st.integers(0, 15))
        if shape == 0:
            row = row[:-1]
        elif shape == 1:
            row = [*row, "extra"]
        elif shape == 2:
            row = []
        lines.append(",".join(f'"{c}"' if "," in c else c for c in row))
    return "\n".join(lines) + "\n"


class TestFastPath:
    @given(csv_texts())
    def test_same_records_and_errors_as_the_dict_path(self, text):
        """Whatever the rows, the reader gives the records (fields, origin, identity
        hash) or the problems (lines and messages) the dict path gives."""
        assert _outcome(lambda: read_usage_csv(io.StringIO(text))) == _outcome(
            lambda: _reference(text)
        )

    @given(st.lists(usage_records(), max_size=20))
    def test_written_records_read_back_equal(self, records):
        """Records written as CSV read back equal to the constructor's, with the same
        identity hash (so dedupe sees them as the same records)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["account", "metric", "quantity", "start", "end"])
        for r in records:
            writer.writerow([r.account, r.metric, r.quantity, r.start.isoformat(), r.end])
        read = read_usage_csv(io.StringIO(out.getvalue()))
        assert read == records
        assert [r._identity for r in read] == [r._identity for r in records]

    def test_fast_records_equal_public_ones(self):
        """A record built by UsageRecord._checked equals, hashes and pickles like the
        public constructor's."""
        fields = {"account": "a", "metric": "m", "start": T0, "end": T0 + timedelta(hours=1)}
        public = UsageRecord(**fields, quantity="1.5", record_id="r", revision=1, origin="x")
        fast = UsageRecord._checked(
            "a", "m", public.quantity, T0, T0 + timedelta(hours=1), "r", 1, None, None,
            public.attributes, "x",
        )  # fmt: skip
        assert fast == public and hash(fast) == hash(public)
        assert fast._identity == public._identity and fast.origin == "x"
        assert pickle.loads(pickle.dumps(fast)) == public

    def test_cross_field_rules_apply(self):
        """The fast constructor refuses what the public one refuses."""
        with pytest.raises(ValueError, match="is before start"):
            UsageRecord._checked(
                "a", "m", Decimal(1), T0 + timedelta(hours=1), T0, None, None, None,
                None, {}, None,
            )  # fmt: skip

    def test_timestamps_are_shared(self):
        """Rows with one timestamp text share one datetime (the per-file cache)."""
        text = (
            "account,metric,quantity,start,end\n"
            + "a,m,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z\n" * 3
        )
        a, b, c = read_usage_csv(io.StringIO(text))
        assert a.start is b.start is c.start and a.end is c.end

    def test_caches_start_again_when_full(self, monkeypatch):
        """The caches are bounded: when full they start again, and records stay right."""
        monkeypatch.setattr(_read, "_CACHE_SIZE", 2)
        rows = "".join(
            f"a{i},m{i},{i},2026-10-01T0{i}:00:00Z,2026-10-01T0{i + 1}:00:00Z,z{i}\n"
            for i in range(6)
        )
        records = read_usage_csv(io.StringIO("account,metric,quantity,start,end,zone\n" + rows))
        assert [(r.account, r.attributes["zone"], r.start.hour) for r in records] == [
            (f"a{i}", f"z{i}", i) for i in range(6)
        ]
