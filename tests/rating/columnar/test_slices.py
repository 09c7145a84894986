"""The columnar engine aggregates usage in slices; where the slices end changes nothing.

The aggregator reads each record batch in slices of ``chunk`` rows (the billing run's
line kernel in slices of ``lines.SLICE``), keeping running aggregates, and the
fingerprints that find copies of records across all of them (compact ones, 4 bytes a
row, for usage held in memory). Here slices of one row, of sizes that cut an account's
records apart and of the whole input, input batches of every size, with copies and
corrections of records, all give the same aggregates, lines, totals and rating results,
and the same as :func:`cloudrate.rate`.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate.rating.columnar._fingerprint as fingerprint
import cloudrate.rating.columnar.lines as lines_module
from cloudrate import BillingPeriod, UsageRecord, rate
from cloudrate.plans import Plan
from cloudrate.rating.columnar import account_totals, finish, to_table
from cloudrate.rating.columnar._dedup import aggregate
from cloudrate.rating.columnar._exact import GroupSum
from cloudrate.rating.columnar._partials import to_partials
from cloudrate.rating.columnar.lines import LineColumns, rate_lines
from cloudrate.testing import charges, plans, usage_records

PERIOD = BillingPeriod.month(2026, 10, "UTC")
METRICS = ("vcpu_hours", "memory_gb_hours", "storage_gb_hours")
ACCOUNTS = st.sampled_from(("a", "b", "c", "acct-0001"))


@st.composite
def usage_with_copies(draw: st.DrawFn, metrics: tuple[str, ...] = METRICS) -> list[UsageRecord]:
    """Records of few accounts (so slices cut an account's records apart), some of them
    copied exactly, some given a record_id and corrected by a later revision."""
    base = draw(
        st.lists(
            usage_records(accounts=ACCOUNTS, metrics=st.sampled_from(metrics)),
            min_size=1,
            max_size=25,
        )
    )
    out = list(base)
    for record in draw(st.lists(st.sampled_from(base), max_size=4)):  # exact copies
        out.insert(draw(st.integers(0, len(out))), record)
    for i, record in enumerate(draw(st.lists(st.sampled_from(base), max_size=3, unique=True))):
        first = attrs.evolve(record, record_id=f"r-{i}", revision=1)
        fixed = attrs.evolve(first, quantity=record.quantity + 1, revision=2)
        out[out.index(record)] = first
        out.insert(draw(st.integers(0, len(out))), fixed)
    return out


def _batches(draw: st.DrawFn, table: pa.Table) -> list[pa.Table]:
    """*table* cut into input batches of drawn sizes (every row once, in order)."""
    cuts = sorted(draw(st.lists(st.integers(0, table.num_rows), max_size=3)))
    edges = [0, *cuts, table.num_rows]
    return [table.slice(lo, hi - lo) for lo, hi in itertools.pairwise(edges)]


def _slice_sizes(n: int) -> st.SearchStrategy[int]:
    """One row, a few rows (cutting accounts apart), and the whole input or more."""
    return st.one_of(st.just(1), st.integers(1, max(n, 1)), st.just(n + 1))


def _rows(partials: pa.Table) -> list[str]:
    """The rows of a partial table in one order (the slices may add state in another)."""
    return sorted(repr(sorted(row.items())) for row in partials.to_pylist())


def _columns(lines: LineColumns) -> list[Any]:
    return [
        lines.accounts,
        lines.charge.tolist(),
        lines.used.tolist(),
        lines.used_exp.tolist(),
        lines.records.tolist(),
        lines.rounded.tolist(),
        lines.starts.tolist(),
        lines.totals.tolist(),
        lines.bill_of.tolist(),
    ]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_slices_aggregate_as_one_slice(data: st.DataObject) -> None:
    """Aggregates of any plan (sums, maxima, latest records, resources, unpriced usage)
    read in slices of any size, from input batches of any size, compact fingerprints or
    not, price as those of one slice and as ``rate()``."""
    plan = attrs.evolve(data.draw(plans()), timezone="UTC", effective_from=None, effective_to=None)
    metrics = tuple(sorted({c.metric for c in plan.charges if c.metric})) or METRICS
    records = data.draw(usage_with_copies(metrics))
    table = to_table(records)
    whole = aggregate(plan, table, PERIOD)
    chunk = data.draw(_slice_sizes(len(records)), label="slice rows")
    compact = data.draw(st.booleans(), label="compact")
    parts = _batches(data.draw, table)
    sliced = aggregate(plan, parts, PERIOD, compact=compact, chunk=chunk)
    assert _rows(to_partials(sliced)) == _rows(to_partials(whole))
    got = finish(plan, to_partials(sliced), PERIOD)
    assert got.to_json() == finish(plan, to_partials(whole), PERIOD).to_json()
    assert got.to_json() == rate(plan, records, PERIOD).to_json()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_slices_give_the_lines_of_one_slice(data: st.DataObject) -> None:
    """The billing run's line columns (every line, its text, every bill's total) are
    the same whatever the slices, down to one row, and are the lines ``rate()`` builds."""
    count = data.draw(st.integers(1, len(METRICS)))
    items = [data.draw(charges(metric=METRICS[i], name=f"c{i}")) for i in range(count)]
    plan = Plan(name="p", currency="EUR", charges=items)
    records = data.draw(usage_with_copies(METRICS[:count]))
    table = to_table(records)
    one = rate_lines(plan, table, PERIOD, accounts=["zz"])
    chunk = data.draw(_slice_sizes(len(records)), label="slice rows")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lines_module, "SLICE", chunk)
        sliced = rate_lines(plan, _batches(data.draw, table), PERIOD, accounts=["zz"])
    assert isinstance(one, LineColumns) and isinstance(sliced, LineColumns)
    assert _columns(sliced) == _columns(one)
    assert sliced.texts(0, len(sliced.accounts)) == one.texts(0, len(one.accounts))
    # rate_lines does not report usage without a price (a charge's window may leave some)
    want = attrs.evolve(rate(plan, records, PERIOD, accounts=["zz"]), unpriced=())
    assert sliced.result() == one.result() == want


@settings(max_examples=100, deadline=None)
@given(usage_with_copies(), st.integers(1, 8))
def test_short_fingerprints_that_collide_are_widened(
    records: list[UsageRecord], chunk: int
) -> None:
    """Compact fingerprints keep 32 bits: when those repeat by chance (here every row's,
    the low bits made equal) the full fingerprints of just those rows are taken on a
    second reading, and only true repeats are compared: copies are still found, other
    rows still billed."""
    real = fingerprint.Fingerprints.of
    plan = Plan(name="p", currency="EUR", charges=[charges_of(METRICS[0])])

    def colliding(self: Any, data: Any, accounts: Any, metrics: Any, out: Any = None) -> Any:
        h = real(self, data, accounts, metrics, out)
        h &= np.uint64(0xFFFFFFFF00000000)
        h |= np.uint64(7)
        return h

    want = rate(plan, records, PERIOD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fingerprint.Fingerprints, "of", colliding)
        agg = aggregate(plan, to_table(records), PERIOD, compact=True, chunk=chunk)
    assert finish(plan, to_partials(agg), PERIOD) == want
    assert (agg.duplicates_dropped, agg.corrections) == (
        want.duplicates_dropped,
        want.corrections,
    )


def charges_of(metric: str) -> Any:
    from moneyed import Money

    from cloudrate.plans import Charge, PerUnit

    return Charge(name="c", metric=metric, model=PerUnit(Money("0.5", "EUR")))


def test_full_fingerprints_that_collide_are_compared_field_by_field() -> None:
    """With every full fingerprint equal, the compact path compares every row exactly:
    different rows are all billed, the one copy dropped."""

    def same(self: Any, data: Any, accounts: Any, metrics: Any, out: Any = None) -> Any:
        h = np.zeros(data.rows, np.uint64) if out is None else out
        h[:] = 7
        return h

    start = PERIOD.start
    one = UsageRecord(
        account="a", metric="vcpu_hours", quantity="1", start=start, end=start + timedelta(hours=1)
    )
    records = [one, attrs.evolve(one, quantity=Decimal(2)), attrs.evolve(one, account="b"), one]
    plan = Plan(name="p", currency="EUR", charges=[charges_of("vcpu_hours")])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fingerprint.Fingerprints, "of", same)
        lines = rate_lines(plan, to_table(records), PERIOD)
    assert isinstance(lines, LineColumns)
    assert lines.result() == rate(plan, records, PERIOD)
    assert lines.duplicates_dropped == 1


def test_compact_fingerprints_only_for_usage_held_in_memory() -> None:
    """A stream is read once: its fingerprints stay whole (8 bytes a row), so a stream
    without copies is still rated in one reading."""
    start = PERIOD.start
    records = [
        UsageRecord(
            account="a",
            metric="vcpu_hours",
            quantity=str(i),
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i + 1),
        )
        for i in range(5)
    ]
    plan = Plan(name="p", currency="EUR", charges=[charges_of("vcpu_hours")])
    stream = iter(to_table(records).to_batches(max_chunksize=2))
    agg = aggregate(plan, stream, PERIOD, compact=True, chunk=1)
    assert finish(plan, to_partials(agg), PERIOD) == rate(plan, records, PERIOD)
    table = to_table(records)
    totals = account_totals(plan, table, PERIOD)
    assert totals["total"].to_pylist() == [rate(plan, records, PERIOD).bill("a").total.amount]


def test_counts_move_to_int64_before_they_could_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record counts are int32 (4 bytes a key) while no count can pass 2**31 - 1; past
    that bound (made small here) they are int64, with the same values."""
    import cloudrate.rating.columnar._exact as exact

    monkeypatch.setattr(exact, "_COUNT_LIMIT", 4)
    group = GroupSum()
    group.add(np.array([0, 1, 0]), np.array([5, 6, 7], dtype=np.int64), 0, 2)
    assert group.counts.dtype == np.int32
    group.add(np.array([0, 0]), np.array([1, 1], dtype=np.int64), 0, 2)
    group.add_one(1, 2**70, 0, 2)
    assert group.counts.dtype == np.int64
    assert group.counts.tolist() == [4, 2]
    assert (group.value(0), group.value(1)) == (14, 6 + 2**70)
