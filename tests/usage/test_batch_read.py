"""The CSV reader's batch path (``cloudrate.usage._read._CsvRows.batch``): batches of
ordinary rows built a column at a time are the records row by row and the dict path
give, whatever the batch size; and the collector pause leaves the collector as found."""

from __future__ import annotations

import csv
import decimal
import gc
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloudrate import ConfigError, UsageError, read_usage_csv
from cloudrate.usage import _identity, _read, dedupe, parse_quantity
from cloudrate.usage._record import _quantities

from .dict_reference import dict_path

T0 = datetime(2026, 10, 1, tzinfo=UTC)
OPTIONAL = ("record_id", "revision", "resource_id", "service", "zone", "attr.zone", "attributes")


_MOMENTS = st.builds(
    lambda h, us: T0 + timedelta(hours=h, microseconds=us),
    st.integers(0, 30 * 24),
    st.sampled_from((0, 0, 500_000, 1)),
)


@st.composite
def _time_text(draw: st.DrawFn, moment: datetime) -> str:
    """*moment* as exports write it: Z or an offset, sometimes with spaces around."""
    offset = draw(st.sampled_from((timedelta(0), timedelta(hours=2), timedelta(hours=-5))))
    text = moment.astimezone(timezone(offset)).isoformat()
    if not offset and draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    pad = draw(st.sampled_from(("", "", " ")))
    return pad + text + pad


def _quantity_texts() -> st.SearchStrategy[str]:
    numbers = st.decimals(min_value=0, max_value=10**9, allow_nan=False, places=6)
    forms = st.sampled_from((str, lambda d: f"{d:E}", lambda d: f" {d} ", lambda d: f"{d:f}"))
    return st.builds(lambda d, form: form(d), numbers, forms)


#: Bad or unusual cells, one of which sometimes replaces a good one.
BAD = {
    "account": ("",),
    "metric": ("",),
    "quantity": ("", "-1", "1_000", "lots", "NaN", "-Infinity", "sNaN", "1E+40", "1e-400", "٣"),
    "start": ("", "2026-10-01T00:00:00", "2026-10-01T00:00:00.1234567Z", "later"),
    "end": ("", "2026-09-01T00:00:00Z"),
    "revision": ("0", " 2 ", "x"),
    "attributes": ("x",),
}


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """A header of the required columns and some optional ones (in any order), then
    mostly ordinary rows: whole batches of them go the column way, a bad cell, an empty
    line or a row of another width sends its batch row by row."""
    names = ["account", "metric", "quantity", "start", "end"]
    names += draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=4))
    names = draw(st.permutations(names))
    cells = {
        "account": st.sampled_from(("acme", "beta", " gamma ", "NA")),
        "metric": st.sampled_from(("vcpu_hours", "gb")),
        "quantity": _quantity_texts(),
        "record_id": st.sampled_from(("", "r-1", "r-2", "r-3")),
        "revision": st.just(""),
        "resource_id": st.sampled_from(("", "vm-1", "vm-2")),
        "service": st.sampled_from(("", "compute")),
        "zone": st.sampled_from(("", "z1", "z2")),
        "attr.zone": st.sampled_from(("", "z3")),
        "attributes": st.just(""),
    }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(names)
    for _ in range(draw(st.integers(0, 12))):
        row = {n: draw(cells[n]) for n in names if n in cells}
        start, end = sorted((draw(_MOMENTS), draw(_MOMENTS)))
        row["start"], row["end"] = draw(_time_text(start)), draw(_time_text(end))
        odd = draw(st.integers(0, 19))
        if odd == 0:
            bad = draw(st.sampled_from([n for n in names if n in BAD]))
            row[bad] = draw(st.sampled_from(BAD[bad]))
        values = [row[n] for n in names]
        if odd == 1:
            values = values[:-1]
        elif odd == 2:
            values = []
        writer.writerow(values)
    return out.getvalue()


def _outcome(text: str) -> tuple[str, object]:
    try:
        records = read_usage_csv(io.StringIO(text))
    except ConfigError as exc:
        return "error", (str(exc), [(p.line, p.message) for p in exc.problems])
    return "records", [(r, r.origin, r.to_dict(), r._identity) for r in records]


def _row_by_row(text: str) -> tuple[str, object]:
    with mock.patch.object(_read._CsvRows, "batch", return_value=None):
        return _outcome(text)


class TestBatchPath:
    @given(csv_texts(), st.sampled_from((1, 2, 3, 5, 4096)))
    def test_same_outcome_as_row_by_row(self, text, size):
        """Whatever the batch size, the reader gives the records (fields, origins,
        identity hashes) or the problems (lines, messages) of building each row alone."""
        with mock.patch.object(_read, "_BATCH", size):
            assert _outcome(text) == _row_by_row(text)

    @given(csv_texts())
    def test_same_outcome_as_the_dict_path(self, text):
        """And those are the records and problems of the file rules, then csv.DictReader
        rows through record_from_mapping (the public constructor)."""
        try:
            found = dict_path(text)
        except ConfigError as exc:
            expected: object = "error", (str(exc), [(p.line, p.message) for p in exc.problems])
        else:
            expected = "records", [(r, r.origin, r.to_dict(), r._identity) for r in found]
        assert _outcome(text) == expected

    def test_ordinary_batches_go_the_column_way(self):
        """A file of ordinary rows is built a batch at a time (no row alone), with the
        origins of its lines, empty lines skipped uncounted as before."""
        text = "account,metric,quantity,start,end,zone\n" + (
            "a,m,1.5,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,z1\n\n" * 5
        )
        with (
            mock.patch.object(_read, "_BATCH", 4),
            mock.patch.object(_read._CsvRows, "one", side_effect=AssertionError) as one,
        ):
            records = read_usage_csv(io.StringIO(text))
        assert not one.called
        assert [r.origin for r in records] == [f"<stream> line {i}" for i in range(2, 7)]
        assert records[0].attributes is records[4].attributes  # read-only, shared

    @given(csv_texts())
    def test_untrapped_context_reads_as_row_by_row(self, text):
        """Under a caller's decimal context that does not trap bad text (Decimal gives
        NaN instead of raising), batches still give what row by row gives."""
        with decimal.localcontext(decimal.Context(traps=[])):
            assert _outcome(text) == _row_by_row(text)


class TestQuantityColumn:
    @given(st.lists(st.one_of(_quantity_texts(), st.sampled_from(BAD["quantity"]), st.text())))
    def test_same_as_parse_quantity(self, texts):
        """A column of quantities is parse_quantity of each text, or None (row by row)."""
        found = _quantities(texts)
        if found is not None:
            assert [(q, str(q)) for q in found] == [(q, str(q)) for q in map(parse_quantity, texts)]

    @given(st.lists(_quantity_texts()))
    def test_ordinary_texts_are_taken(self, texts):
        """Decimal texts as exports write them are parsed a column at a time."""
        assert _quantities(texts) is not None

    @pytest.mark.parametrize("text", ["-1", "1_000", "NaN", "Infinity", "", "x"])
    def test_unusual_texts_are_left_to_the_rows(self, text):
        """Any text parse_quantity refuses (or must explain) sends the column row by row."""
        assert _quantities(["1", text]) is None
        with pytest.raises(UsageError):
            parse_quantity(text)


def _written_texts() -> st.SearchStrategy[str]:
    """Quantity texts as any export may write them: leading zeros, a point first or
    last, zeros at the end, an exponent, a sign, spaces."""
    digits = st.text("0123456789", min_size=1, max_size=8)
    plain = st.builds(
        lambda whole, point, fraction, zeros: whole + point + fraction + "0" * zeros,
        st.sampled_from(("", "0", "00", "7", "10")) | digits,
        st.sampled_from(("", ".")),
        st.sampled_from(("", "5", "05")) | digits,
        st.integers(0, 4),
    )
    return st.one_of(
        plain,
        _quantity_texts(),
        st.builds(lambda t, e: f"{t}E{e}", digits, st.integers(-5, 5)),
        st.builds(lambda t: f"+{t}", digits),
        st.sampled_from(("0", "0.0", "0.", ".5", "5.", "-0", "000", "0.000")),
    )


class TestQuantityKeys:
    """The identity hash reads each quantity as a text (_quantity_key); a column of
    texts gives those texts without parsing them again (_quantity_keys)."""

    @given(st.lists(_written_texts(), min_size=1, max_size=12))
    @example(["10.0", "100", "0.0", "0", "7.50"])
    def test_column_gives_each_values_key(self, texts):
        """From the texts or from the values, the keys of a column are those of its
        values, whatever the mix of forms in it."""
        values = _quantities(texts)
        if values is None:
            return
        assert _identity._quantity_keys(texts, values) == list(map(_identity._quantity_key, values))

    @given(st.decimals(min_value=0, max_value=10**9, allow_nan=False, places=6), st.integers(0, 5))
    @example(Decimal("100"), 1)
    @example(Decimal("0"), 2)
    def test_equal_values_give_one_key(self, value, zeros):
        """1.5 and 1.50 (and 15E-1) are one quantity: one key, so one identity hash."""
        short = format(value.normalize(), "f")  # 100 for 100.000000
        point = "" if "." in short else "."
        forms = [str(value), short, short + point + "0" * zeros, f"{value:E}", f" {value} "]
        keys = {k for t in forms for k in _identity._quantity_keys([t], [Decimal(t)])}
        assert len(keys) == 1

    def test_tenfold_quantities_meet_and_stay_two_records(self):
        """Quantities ten or a hundred times apart share a key: their records' hashes meet, and
        dedupe compares the records themselves and keeps both."""
        text = "account,metric,quantity,start,end\n" + "".join(
            f"a,m,{q},2026-10-01T00:00:00Z,2026-10-01T01:00:00Z\n"
            for q in ("1", "10", "100.0", "1")
        )
        records = read_usage_csv(io.StringIO(text))
        assert len({r._identity for r in records}) == 1
        found = dedupe(records)
        assert [r.quantity for r in found.records] == [Decimal(q) for q in ("1", "10", "100")]
        assert found.duplicates_dropped == 1


class _Watched(io.StringIO):
    """A stream that notes whether the collector ran while each line was read."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.collector: list[bool] = []

    def __next__(self) -> str:
        self.collector.append(gc.isenabled())
        return super().__next__()


class TestCollectorPause:
    TEXT = "account,metric,quantity,start,end\na,m,1,2026-10-01T00:00Z,2026-10-01T01:00Z\n"

    def test_paused_while_reading_then_on_again(self):
        """The collector is off while the rows are read and built, on again after."""
        assert gc.isenabled()
        stream = _Watched(self.TEXT)
        read_usage_csv(stream)
        assert stream.collector[0] and not any(stream.collector[1:])  # header, then rows
        assert gc.isenabled()

    def test_on_again_after_an_error(self):
        """A file with bad rows leaves the collector on."""
        with pytest.raises(ConfigError):
            read_usage_csv(io.StringIO(self.TEXT.replace(",1,", ",-1,")))
        assert gc.isenabled()

    def test_left_off_when_the_caller_turned_it_off(self):
        """A caller that turned the collector off finds it off after a read."""
        gc.disable()
        try:
            read_usage_csv(io.StringIO(self.TEXT))
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_nested_pauses(self):
        """Nested (or concurrent) reads turn it on again only when the last ends."""
        with _read._collector_paused():
            with _read._collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
