"""The CSV reader's parallel blocks, the quantity exponents read from a string array's
bytes, and the account look-up of a batch's dictionary: each the same as the plain way."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")

import cloudrate  # noqa: E402 - after the skip
from cloudrate import ConfigError, UsageRecord  # noqa: E402
from cloudrate.rating.columnar import _io, rate_table, read_columnar  # noqa: E402
from cloudrate.rating.columnar._aggregate import _known_codes  # noqa: E402
from cloudrate.rating.columnar._columns import _exponents, _exponents_by_value  # noqa: E402

from .conftest import OCT, PLAN, T0  # noqa: E402

digits = st.text("0123456789", min_size=1, max_size=20)
quantity_texts = st.one_of(
    digits,
    st.builds(lambda a, b: f"{a}.{b}", digits, digits),
    st.builds(lambda b: f".{b}", digits),
    st.builds(lambda a: f"{a}.", digits),
    st.builds(lambda s, a, b: f"{s}{a}.{b}", st.sampled_from("+-"), digits, digits),
)


class TestExponents:
    @given(st.lists(quantity_texts, max_size=60), st.integers(0, 5), st.booleans())
    def test_equal_decimals_exponents(self, texts, cut, large):
        """Every value's exponent is Decimal's, with or without a point in each value,
        for sliced and large string arrays."""
        array = pa.array(texts, pa.large_string() if large else pa.string())
        array = array.slice(min(cut, len(texts)))
        want = [Decimal(t).as_tuple().exponent for t in array.to_pylist()]
        got = _exponents(array)
        assert got.dtype == np.int32
        assert got.tolist() == want == _exponents_by_value(array).tolist()

    def test_values_with_an_exponent_read_by_decimal(self):
        """A value written with an exponent sends the array the Decimal way."""
        array = pa.array(["1.50", "15E-1", "2", "0.5e2"])
        assert _exponents(array).tolist() == [-2, -1, 0, 1]


class TestKnownCodes:
    @given(
        st.lists(st.sampled_from("abcdefghij"), unique=True, max_size=10),
        st.lists(st.sampled_from("abcdefghijklmn"), max_size=14),
    )
    def test_positions_among_the_known_names(self, known, dictionary):
        """Each dictionary value gets its position among the known names, -1 if absent,
        whichever of the two is larger (a repeated dictionary value may get -1 at its later
        positions: the aggregator finds those by name)."""
        got = _known_codes(pa.array(dictionary, pa.string()), pa.array(known, pa.string()))
        for i, (value, code) in enumerate(zip(dictionary, got.tolist(), strict=True)):
            first = dictionary.index(value) == i
            if value not in known:
                assert code == -1
            elif first or len(known) <= len(dictionary):
                assert code == known.index(value)
            else:
                assert code in (-1, known.index(value))

    def test_repeated_dictionary_values_rate_as_records(self):
        """Batches whose dictionaries repeat a value and are smaller or larger than the
        accounts seen rate as rate() rates the records."""
        usage = [
            UsageRecord(
                account=f"a{i % 5}",
                metric="vcpu_hours",
                quantity=f"{i}.5",
                start=T0 + timedelta(hours=i),
                end=T0 + timedelta(hours=i + 1),
            )
            for i in range(12)
        ]
        first = pa.DictionaryArray.from_arrays(
            pa.array([0, 1, 2, 3, 4, 0], pa.int32()), pa.array(["a0", "a1", "a2", "a3", "a4"])
        )
        second = pa.DictionaryArray.from_arrays(
            pa.array([2, 0, 3, 1, 0, 2], pa.int32()), pa.array(["a1", "a2", "a2", "a4"])
        )
        accounts = [*first.to_pylist(), *second.to_pylist()]
        assert len(set(second.dictionary.to_pylist())) < len(second.dictionary)
        batches = [
            pa.record_batch(
                {
                    "account": column,
                    "metric": pa.array(["vcpu_hours"] * 6),
                    "quantity": pa.array([str(r.quantity) for r in part]),
                    "start": pa.array([r.start for r in part], pa.timestamp("us", "UTC")),
                    "end": pa.array([r.end for r in part], pa.timestamp("us", "UTC")),
                }
            )
            for column, part in ((first, usage[:6]), (second, usage[6:]))
        ]
        rebuilt = [
            UsageRecord(account=a, metric=r.metric, quantity=r.quantity, start=r.start, end=r.end)
            for a, r in zip(accounts, usage, strict=True)
        ]
        assert rate_table(PLAN, batches, OCT) == cloudrate.rate(PLAN, rebuilt, OCT)


def _csv(path, rows: int) -> None:
    lines = ["account,metric,quantity,start,end"]
    for i in range(rows):
        start = T0 + timedelta(hours=i % 700)
        lines.append(
            f"acct{i % 37},{('vcpu_hours', 'storage_gb_hours')[i % 2]},{i % 97}.{i % 1000:03d},"
            f"{start.isoformat()},{(start + timedelta(hours=1)).isoformat()}"
        )
    path.write_text("\n".join(lines) + "\n")


def _jsonl(path, rows: int) -> None:
    """JSON lines whose quantities are numbers in rows 1000 to 1999, text elsewhere."""
    lines = []
    for i in range(rows):
        start = T0 + timedelta(hours=i % 700)
        quantity = f"{i % 97}.{i % 1000:03d}"
        lines.append(
            f'{{"account": "acct{i % 37}", '
            f'"metric": "{("vcpu_hours", "storage_gb_hours")[i % 2]}", '
            f'"quantity": {quantity if 1000 <= i < 2000 else json.dumps(quantity)}, '
            f'"start": "{start.isoformat()}", '
            f'"end": "{(start + timedelta(hours=1)).isoformat()}"}}'
        )
    path.write_text("\n".join(lines) + "\n")


_WRITERS = {"csv": _csv, "jsonl": _jsonl}


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
class TestParallelBlocks:
    def test_same_batches_as_one_parser(self, tmp_path, monkeypatch, kind):
        """Blocks parsed two at a time give the batches, in order, of one parser (JSON
        lines: blocks of text quantities, then of numbers, then of text again)."""
        path = tmp_path / f"u.{kind}"
        _WRITERS[kind](path, 3000)
        monkeypatch.setattr(_io, "_PARSERS", 2)  # whatever this machine's core count
        parallel = list(read_columnar(path, block_size=2048, prefetch=False))
        monkeypatch.setattr(_io, "_PARSERS", 1)
        single = list(read_columnar(path, block_size=2048, prefetch=False))
        assert len(single) > 10
        assert [b.num_rows for b in parallel] == [b.num_rows for b in single]
        assert all(a.equals(b) for a, b in zip(parallel, single, strict=True))
        assert [b.schema.metadata for b in parallel] == [b.schema.metadata for b in single]
        if kind == "jsonl":  # each block read with the quantities' own kind
            kinds = {str(b.schema.field("quantity").type) for b in parallel}
            assert kinds == {"string", "decimal128(38, 12)"}

    def test_an_error_comes_after_the_batches_before_it(self, tmp_path, monkeypatch, kind):
        """A bad line in a later block: every batch before it is given, then its error."""
        path = tmp_path / f"u.{kind}"
        _WRITERS[kind](path, 3000)
        lines = path.read_text().splitlines()
        lines[2001] = "acct1,vcpu_hours" if kind == "csv" else '{"account": "acct1", "metric"'
        path.write_text("\n".join(lines) + "\n")
        # the CSV file's line 2002 is its row 2001 (after the header); JSON lines' is 2002
        before = 2000 if kind == "csv" else 2001
        runs: dict[int, list[pa.RecordBatch]] = {}
        for parsers in (2, 1):
            monkeypatch.setattr(_io, "_PARSERS", parsers)
            seen = runs[parsers] = []
            with pytest.raises(ConfigError, match="line 2002"):
                seen.extend(read_columnar(path, block_size=2048, prefetch=False))
        assert before - 100 < sum(b.num_rows for b in runs[1]) <= before  # the blocks before
        assert len(runs[2]) == len(runs[1])
        assert all(a.equals(b) for a, b in zip(runs[2], runs[1], strict=True))

    @pytest.mark.parametrize("prefetch", [True, False])
    def test_stopping_early_ends_the_parsing_threads(self, tmp_path, prefetch, kind):
        """Closing the stream after one batch ends the reader and the parsing threads."""
        path = tmp_path / f"u.{kind}"
        _WRITERS[kind](path, 3000)
        stream = iter(read_columnar(path, block_size=2048, prefetch=prefetch))
        next(stream)
        stream.close()
        names = [t.name for t in threading.enumerate()]
        assert not [n for n in names if n.startswith(("cloudrate-read", "cloudrate-parse"))]


def test_an_error_reading_the_blocks_comes_after_their_results():
    """An error from the items (reading the file) comes after the work under way."""

    def items():
        yield from ((2, 3), (3, 2), (10, 0))
        raise OSError("disk")

    got: list[int] = []
    with pytest.raises(OSError, match="disk"):
        got.extend(_io._in_order(pow, items(), 2))
    assert got == [8, 9, 1]
