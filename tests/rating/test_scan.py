"""rate()'s record loop (cloudrate.rating._scan) against a reference loop and itself.

The loop tests :func:`cloudrate.period.strictly_within` before the full membership rule,
sums plainly summed metrics in a loop of their own, and sends records of selected metrics
to their charges' sums by the remembered values of the attributes their conditions read.
Each of those is checked here against the simplest loop that applies the rules one
record at a time: :func:`~cloudrate.period.spans_within`, every charge's ``where``
(``Condition.matches``) and :func:`~cloudrate.rating._accumulate.accumulate`, for plans of
every aggregation, with conditions of every kind, records on and around the edges of
periods in several timezones (clock changes included), of no length, with the smallest
and largest quantities, and numbers and booleans as attribute values (written as text).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money
from tests.rating.test_engine_parity import assert_records_agree

import cloudrate
from cloudrate import read_usage, sample_plan_path, sample_usage_path
from cloudrate.exceptions import CloudrateError, UsageError
from cloudrate.period import BillingPeriod, spans_within, strictly_within
from cloudrate.plans import Charge, Condition, PerUnit, Plan, load_plan
from cloudrate.rating import _rate, _scan
from cloudrate.rating._accumulate import Acc, accumulate
from cloudrate.rating._slots import charge_slots
from cloudrate.rating._unpriced import NO_CHARGE, NO_SELECTION, UnpricedTally
from cloudrate.usage import UsageRecord

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
#: Months with a clock change in Berlin and New York (March, October, November) and one
#: without.
MONTHS = ((2026, 3), (2026, 10), (2026, 11), (2026, 7))
#: Offsets from an edge: on it, a microsecond either side, an hour either side.
NEAR = (timedelta(0), timedelta(microseconds=1), timedelta(hours=1), timedelta(minutes=30))
WHERES: tuple[Any, ...] = (
    None,
    {"zone": "z1"},
    {"zone": ["z1", "z2"]},
    {"zone": "z1", "tier": "gold"},
    {"size": 1.5},
    {"flag": True},
    {"not": {"zone": "z1"}},
    {"any": [{"zone": "z2"}, {"tier": "gold"}]},
    {"all": [{"zone": ["z1", "z2"]}, {"not": {"tier": "gold"}}]},
    {"attribute": "all", "in": ["x"]},
)
AGGREGATIONS = ("sum", "sum", "sum", "max", "average", "unique", "latest")
#: Quantities: small, with many decimals, and at the largest and smallest cloudrate
#: takes (so that sums round at the 60 digits of the exact context, where the order of
#: the additions shows).
QUANTITIES = st.one_of(
    st.decimals(min_value=0, max_value=1000, places=3),
    st.sampled_from(
        [
            Decimal(0),
            Decimal("0.000"),
            Decimal("1E+3"),
            Decimal("9" * 36),
            Decimal("9" * 30 + "." + "9" * 6),
            Decimal("1E-100"),
            Decimal("0." + "0" * 40 + "7"),
        ]
    ),
)
ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "zone": st.sampled_from(["z1", "z2", "z3", ""]),
        "tier": st.sampled_from(["gold", "silver"]),
        "size": st.sampled_from([Decimal("1.5"), 1, "1.50"]),
        "flag": st.booleans(),
        "all": st.just("x"),
    },
)


def _edge_moment(draw: st.DrawFn, edges: Sequence[datetime]) -> datetime:
    edge = draw(st.sampled_from(edges))
    step = draw(st.sampled_from(NEAR)) * draw(st.sampled_from((-1, 1)))
    return (edge + step).astimezone(UTC)


@st.composite
def periods(draw: st.DrawFn) -> BillingPeriod:
    year, month = draw(st.sampled_from(MONTHS))
    return BillingPeriod.month(year, month, draw(st.sampled_from(ZONES)))


@st.composite
def spans(draw: st.DrawFn, period: BillingPeriod) -> tuple[datetime, datetime]:
    """A (start, end), start <= end, each on or near the period's edges or inside it."""
    edges = (period.start, period.end, period.start + timedelta(days=9))
    start, end = sorted((_edge_moment(draw, edges), _edge_moment(draw, edges)))
    if draw(st.booleans()):
        end = start  # no length
    return start, end


@st.composite
def plan_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A plan with metrics m1..m3 of drawn aggregations, each priced by 0 to 3 charges
    (per unit, or a flat fee per resource) with drawn conditions; m4 is never priced."""
    metrics: dict[str, Any] = {}
    charges: list[dict[str, Any]] = []
    for metric in ("m1", "m2", "m3"):
        metrics[metric] = {"unit": "u", "aggregation": draw(st.sampled_from(AGGREGATIONS))}
        for i in range(draw(st.integers(0, 3))):
            charge: dict[str, Any] = {"name": f"{metric}-{i}", "metric": metric}
            if draw(st.integers(0, 5)) == 0:
                charge.update(model="flat", price="3.00")
            else:
                charge.update(model="per_unit", unit_price=str(draw(st.sampled_from(["1", "2.5"]))))
            where = draw(st.sampled_from(WHERES))
            if where is not None:
                charge["where"] = where
            charges.append(charge)
    return {"name": "P", "currency": "EUR", "metrics": metrics, "charges": charges}


@st.composite
def cases(draw: st.DrawFn) -> tuple[Plan, BillingPeriod, list[UsageRecord]]:
    plan = load_plan(draw(plan_documents()))
    period = draw(periods())
    records = []
    for i in range(draw(st.integers(0, 30))):
        start, end = draw(spans(period))
        records.append(
            UsageRecord(
                account=draw(st.sampled_from("abc")),
                metric=draw(st.sampled_from(["m1", "m2", "m3", "m4"])),
                quantity=draw(QUANTITIES),
                start=start,
                end=end,
                resource_id=draw(st.sampled_from([f"r{i}", "r0", "r1"])),
                attributes=draw(ATTRIBUTES),
            )
        )
    return plan, period, records


def reference(
    plan: Plan, period: BillingPeriod, records: Sequence[UsageRecord]
) -> tuple[dict[tuple[str, int], Acc], dict[Any, dict[str, int]], list[UsageRecord]]:
    """The accumulators, unpriced counts and records outside the period, one record at
    a time through the rules themselves."""
    slots = charge_slots(plan)
    accs: dict[tuple[str, int], Acc] = {}
    tally = UnpricedTally()
    outside = []
    for record in records:
        if not spans_within(record.start, record.end, period.start, period.end):
            outside.append(record)
            continue
        if record.metric not in slots:
            tally.add(record.metric, NO_CHARGE, record.account)
            continue
        matched = False
        for slot in slots[record.metric]:
            if slot.charge.where and not slot.charge.where.matches(record.attributes):
                continue
            matched = True
            acc = accs.setdefault((record.account, slot.index), Acc())
            acc.count += 1
            accumulate(acc, slot.aggregation, record)
        if not matched:
            tally.add(record.metric, NO_SELECTION, record.account)
    return accs, tally.counts, outside


def walked(
    plan: Plan, period: BillingPeriod, records: Sequence[UsageRecord]
) -> tuple[dict[tuple[str, int], Acc], dict[Any, dict[str, int]], list[UsageRecord]]:
    """The same from rate()'s walk: its record loop, then the sums handed to the charges."""
    walk = _rate._Walk(plan, period, ())
    walk._scan(records)
    walk._share_sums()
    assert walk.known | walk.unpriced.accounts() == (
        {account for account, _ in walk.accs} | walk.unpriced.accounts()
    )
    return walk.accs, walk.unpriced.counts, walk.outside


def content(acc: Acc) -> tuple[Any, ...]:
    """Everything an accumulator holds, the value's digits and exponent included."""
    return (acc.value.as_tuple(), acc.count, acc.latest, acc.resources)


def outcome(compute: Any, plan: Plan, period: BillingPeriod, records: Sequence[UsageRecord]) -> Any:
    try:
        accs, counts, outside = compute(plan, period, records)
    except CloudrateError as exc:
        return type(exc), str(exc)
    return {key: content(acc) for key, acc in accs.items()}, counts, outside


class TestStrictlyWithin:
    @given(periods(), st.data())
    def test_implies_spans_within_and_differs_only_at_the_end(self, period, data):
        """For usage that does not end before it starts, strictly_within implies
        spans_within, and they differ only for usage ending exactly at the period's end
        (zero-length usage at the start and the end, DST edges included)."""
        start, end = data.draw(spans(period))
        lo, hi = period.start.astimezone(UTC), period.end.astimezone(UTC)
        quick, rule = strictly_within(start, end, lo, hi), spans_within(start, end, lo, hi)
        assert not quick or rule
        assert quick == rule or end == hi
        assert rule == period.contains(start, end)

    @given(st.lists(st.tuples(st.integers(-5, 5), st.integers(0, 5)), max_size=20))
    def test_on_arrays_of_instants(self, pairs):
        """On numpy arrays of integer instants it gives, element by element, what it
        gives on each pair."""
        starts = np.array([s for s, _ in pairs], dtype=np.int64)
        ends = starts + np.array([d for _, d in pairs], dtype=np.int64)
        got = strictly_within(starts, ends, 0, 3)
        assert got.tolist() == [
            strictly_within(int(s), int(e), 0, 3) for s, e in zip(starts, ends, strict=True)
        ]

    def test_records_never_end_before_they_start(self):
        """The loop's two-comparison test needs start <= end, which every way of building
        a record keeps."""
        t0 = datetime(2026, 10, 2, tzinfo=UTC)
        record = UsageRecord(account="a", metric="m", quantity=1, start=t0, end=t0)
        with pytest.raises(UsageError, match="is before start"):
            UsageRecord(account="a", metric="m", quantity=1, start=t0, end=t0 - timedelta(1))
        with pytest.raises(UsageError, match="is before start"):
            attrs.evolve(record, end=t0 - timedelta(microseconds=1))


class TestRecordLoop:
    @given(cases())
    def test_the_walk_equals_the_reference_loop(self, case):
        """Accumulators (digits and exponent of every sum, counts, latest records,
        resources), unpriced counts, records outside the period and the first error are
        what the rules give one record at a time, in record order."""
        plan, period, records = case
        assert outcome(walked, plan, period, records) == outcome(reference, plan, period, records)

    @given(cases())
    def test_remembering_nothing_gives_the_same(self, case):
        """With room to remember no attribute values (each record tested by the
        conditions themselves) the walk gives the same."""
        plan, period, records = case
        expected = outcome(reference, plan, period, records)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_scan, "MEMO_LIMIT", 0)
            assert outcome(walked, plan, period, records) == expected

    @given(cases(), st.integers(0, 30))
    def test_leaving_the_summing_loop_anywhere_gives_the_same(self, case, at):
        """The general loop takes over from the summing loop after any number of records
        (none included) with the same result."""
        plan, period, records = case
        expected = outcome(reference, plan, period, records)
        plain = _scan._plain

        def stop_early(rest: Any, lo: Any, hi: Any, sums: Any, outside: Any) -> Any:
            for _ in range(at):
                record = next(rest, None)
                if record is None:
                    return None
                stopped = plain(iter([record]), lo, hi, sums, outside)
                if stopped is not None:
                    return stopped
            return next(rest, None)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_scan, "_plain", stop_early)
            assert outcome(walked, plan, period, records) == expected

    @given(cases())
    def test_rate_equals_the_columnar_engine(self, case):
        """rate() and the columnar engine give the same JSON, or the same error."""
        plan, period, records = case
        assert_records_agree(plan, records, period)

    @pytest.mark.parametrize("inside", [0, 1])
    def test_a_plan_pricing_no_metric_with_usage_outside_the_period(self, inside):
        """A plan of flat fees only, usage before the period (and perhaps some inside):
        both engines refuse it alike (the columnar engine used to index its per-metric
        flags with the outside rows' code when the plan prices no metric)."""
        from cloudrate.plans import Flat

        plan = Plan(
            name="f", currency="EUR", charges=[Charge(name="fee", model=Flat(Money("5", "EUR")))]
        )
        period = BillingPeriod.month(2026, 10, "UTC")
        t0 = datetime(2026, 9, 30, 23, tzinfo=UTC)
        records = [
            UsageRecord(account="a", metric="m1", quantity="1", start=t0 + timedelta(hours=h),
                        end=t0 + timedelta(hours=h + 1))
            for h in range(1 + inside)
        ]  # fmt: skip
        assert_records_agree(plan, records, period)
        with pytest.raises(CloudrateError, match="outside"):
            cloudrate.rate(plan, records, period)

    @given(cases(), st.randoms(use_true_random=False))
    def test_order_of_the_records_does_not_matter(self, case, rng):
        """The records in another order give the same result, byte for byte, when the
        sums are exact (quantities of at most 3 decimals, here)."""
        plan, period, records = case
        records = [
            r for r in records if r.quantity.as_tuple().exponent >= -3 and r.quantity < 10**36
        ]
        shuffled = list(records)
        rng.shuffle(shuffled)

        def rated(usage: list[UsageRecord]) -> Any:
            try:
                return cloudrate.rate(plan, usage, period).to_json()
            except CloudrateError as exc:
                return type(exc)

        assert rated(shuffled) == rated(records)


class _Tier(Condition):
    """A condition of the user's own: cloudrate cannot know what it reads."""

    __slots__ = ()

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return len(attributes) % 2 == 1

    def attributes(self) -> frozenset[str]:
        return frozenset()


class TestSelections:
    def test_conditions_of_another_kind_are_tested_record_by_record(self):
        """A metric with a condition that is not cloudrate's own is not remembered by
        attribute values; its records are tested by the condition each time."""
        plan = Plan(
            name="P",
            currency="EUR",
            charges=[
                Charge(name="odd", metric="m", model=PerUnit(Money(1, "EUR")), where=_Tier()),
                Charge(name="z1", metric="n", model=PerUnit(Money(1, "EUR")), where={"zone": "z1"}),
            ],
        )
        walk = _rate._Walk(plan, BillingPeriod.month(2026, 10), ())
        assert set(walk.selections) == {"n"}
        t0 = datetime(2026, 10, 2, tzinfo=UTC)
        records = [
            UsageRecord(account="a", metric=m, quantity=q, start=t0, end=t0, attributes=attrs)
            for m, q, attrs in (
                ("m", 1, {"x": "1"}),
                ("m", 2, {"x": "1", "zone": "z1"}),
                ("m", 4, {"x": "2"}),
                ("n", 8, {"zone": "z1"}),
            )
        ]
        bill = cloudrate.rate(plan, records, BillingPeriod.month(2026, 10)).bill("a")
        assert bill.line("odd").usage_quantity == 5
        assert bill.line("z1").usage_quantity == 8

    def test_per_record_charges_remember_their_selections(self):
        """A metric whose charges aggregate otherwise than by summing (the sample plan's
        licence fees per VM, selected by ``os``) finds the charges a record goes to once
        per value of ``os``; with a condition of another kind, record by record. The
        bills are those of testing every condition on every record."""
        plan = load_plan(sample_plan_path())
        period = BillingPeriod.month(2026, 10, plan.timezone)
        route = _rate._Walk(plan, period, ()).others["vm_running"]
        assert isinstance(route, partial) and route.args[2] is not None
        usage = [r for r in read_usage(sample_usage_path()) if r.metric == "vm_running"]
        assert {r.attributes.get("os") for r in usage} >= {"windows", "linux"}
        remembered = cloudrate.rate(plan, usage, period)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_scan, "MEMO_LIMIT", 0)
            assert cloudrate.rate(plan, usage, period) == remembered
        odd = Plan(
            name="P",
            currency="EUR",
            metrics=plan.metrics,
            charges=[attrs.evolve(plan.charge("linux"), where=_Tier())],
        )
        route = _rate._Walk(odd, period, ()).others["vm_running"]
        assert isinstance(route, partial) and route.args[2] is None

    def test_values_are_remembered_once(self):
        """Each distinct value of the attribute read is tested once; records with other
        attributes share its entry."""
        z1: dict[str, Acc] = {}
        calls = []

        def matcher(attributes: Mapping[str, str]) -> bool:
            calls.append(dict(attributes))
            return attributes.get("zone") == "z1"

        selection = _scan.Selection(("zone",), ((matcher, z1),))
        t0 = datetime(2026, 10, 2, tzinfo=UTC)
        records = [
            UsageRecord(account="a", metric="m", quantity=1, start=t0, end=t0, attributes=a)
            for a in ({"zone": "z1"}, {"zone": "z1", "os": "linux"}, {"zone": "z2"}, {})
        ]
        route: dict[str, Any] = {"m": None}
        unselected: list[UsageRecord] = []
        _scan.scan(
            records, t0, t0 + timedelta(1), route, {"m": selection}, {}, [],
            unselected.append, unselected.append,
        )  # fmt: skip
        assert [c.get("zone") for c in calls] == ["z1", "z2", None]
        assert z1["a"].count == 2
        assert unselected == records[2:]

    def test_metric_first_seen_late_is_tallied(self):
        """A metric no charge prices, first seen after records of summed metrics, is
        tallied as unpriced from then on, with the summed ones still summed."""
        plan = load_plan(
            "name: P\ncurrency: EUR\ncharges:\n"
            "  - {name: c, metric: m, model: per_unit, unit_price: '1'}\n"
        )
        t0 = datetime(2026, 10, 2, tzinfo=UTC)
        records = [
            UsageRecord(account=a, metric=m, quantity=q, start=t0, end=t0)
            for a, m, q in (("a", "m", 1), ("b", "gpu", 5), ("a", "m", 2), ("c", "gpu", 1))
        ]
        result = cloudrate.rate(plan, records, BillingPeriod.month(2026, 10))
        assert result.bill("a").line("c").usage_quantity == 3
        assert [(u.metric, u.records, u.accounts) for u in result.unpriced] == [
            ("gpu", 2, ("b", "c"))
        ]


def test_records_shuffled_at_random_rate_alike():
    """A larger mix of summed, selected and other metrics in random orders rates the
    same every time."""
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    records = cloudrate.read_usage(cloudrate.sample_usage_path())
    expected = cloudrate.rate(plan, records).to_json()
    rng = random.Random(11)
    for _ in range(5):
        shuffled = list(records)
        rng.shuffle(shuffled)
        assert cloudrate.rate(plan, shuffled).to_json() == expected
