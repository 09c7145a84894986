"""The overview's one pass (``_scan``) gives what each separate pass gives.

The billing overview reads the month's records once for the day buckets, the cumulative
cost per day, the records per metric and the resources per metric. Each is held here to
its reference: the records cut to each day with :func:`clip_records`, rating the month
up to the end of each day, the view's own grouping, and a plain count; and the whole
overview to the overview computed without the pass. Records start anywhere in the month, across
midnight and the clock change of 25 October, in several timezones; instants and records
start and end exactly at local midnights, the range's start and end among them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate import UsageRecord
from cloudrate.portal.usage_view import (
    DateRange,
    _overview,
    _scan,
    billing_overview,
    clip_records,
    usage_view,
)
from cloudrate.portal.usage_view._aggregate import OnePassError
from cloudrate.portal.usage_view._daily import _cumulative, _to_date, price_days
from cloudrate.portal.usage_view._view import DEFAULT_CARDS, _by_metric, _fixed
from cloudrate.rules import CostDecimals

PLAN = """
name: Every model
currency: EUR
timezone: {tz}
metrics:
  vcpu_hours: {{unit: vCPU-hour}}
  traffic:    {{unit: GB, usage_unit: byte}}
  disk:       {{unit: GB-month, usage_unit: GB-hour}}
  peak:       {{unit: unit, aggregation: max}}
  level:      {{unit: GB, aggregation: average}}
  ips:        {{unit: IP, aggregation: unique}}
  seats:      {{unit: seat, aggregation: latest}}
  vm:         {{unit: VM-hour}}
charges:
  - {{name: compute, service: Compute, metric: vcpu_hours, model: per_unit,
     unit_price: "0.0125"}}
  - {{name: big, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.02",
     where: {{size: big}}}}
  - {{name: big-windows, service: Compute, metric: vcpu_hours, model: per_unit,
     unit_price: "0.03", where: {{size: big, os: windows}}}}
  - {{name: many-cores, service: Compute, metric: level, model: per_unit,
     unit_price: "0.01", where: {{cores: {{gt: 4}}}}}}
  - {{name: traffic, service: Network, metric: traffic, model: volume, free_units: 1,
     tiers: [{{up_to: 3, unit_price: "0.10"}}, {{up_to: null, unit_price: "0.05"}}]}}
  - name: disk
    service: Storage
    metric: disk
    model: graduated
    tiers: [{{up_to: 1, unit_price: "0.30"}}, {{up_to: null, unit_price: "0.10"}}]
  - {{name: peak, metric: peak, model: per_unit, unit_price: "0.70"}}
  - {{name: level, service: Storage, metric: level, model: per_unit, unit_price: "0.11"}}
  - {{name: ips, service: Network, metric: ips, model: per_unit, unit_price: "1.5"}}
  - {{name: seats, metric: seats, model: per_unit, unit_price: "2"}}
  - {{name: licence, service: Licences, metric: vm, model: flat, price: "12.00",
     where: {{os: windows}}}}
  - {{name: platform, model: flat, price: "5.00"}}
  - {{name: support, model: percentage, percent: "10", of: [compute, disk, platform]}}
  - {{name: minimum, model: minimum, amount: "40.00"}}
"""

METRICS = ("vcpu_hours", "traffic", "disk", "peak", "level", "ips", "seats", "vm", "unpriced")
ZONES = ("Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata")


def midnights(tz: str) -> list[datetime]:
    """The local midnights of *tz* from 30 September to 2 November 2026, in UTC: the
    ends of every day of every month-to-date range, the range's start and end among
    them."""
    days = DateRange.custom(date(2026, 9, 30), date(2026, 11, 1), tz)
    return [DateRange.custom(d, d, tz).start.astimezone(UTC) for d in days.dates()] + [
        days.end.astimezone(UTC)
    ]


@st.composite
def usages(draw: st.DrawFn, tz: str = "UTC", today: int = 31) -> list[UsageRecord]:
    """Up to 40 records of October 2026 and the days around it: any minute, from an
    instant to 50 hours long, some without a resource id, one metric no charge prices;
    charges selecting by one attribute and by two (remembered by their values: licences,
    vCPU-hours) and by a number (tested record by record: levels). Some start or end
    exactly at a local midnight of *tz*, most of those instants, some at the start or
    the end of the range to *today*: an instant at midnight belongs to the day it
    starts, as rating's period rule says."""
    month = DateRange.month_to_date(today=date(2026, 10, today), timezone=tz)
    edges = [month.start.astimezone(UTC), month.end.astimezone(UTC)]
    at_midnight = st.sampled_from(midnights(tz))
    out = []
    for n in range(draw(st.integers(0, 40))):
        where = draw(st.sampled_from(["any", "any", "midnight", "edge", "ends at midnight"]))
        if where == "any":
            start = datetime(2026, 9, 30, 12, tzinfo=UTC) + timedelta(
                minutes=draw(st.integers(0, 32 * 24 * 60))
            )
            length = timedelta(minutes=draw(st.sampled_from([0, 30, 60, 60 * 24, 60 * 50])))
        else:
            length = timedelta(minutes=draw(st.sampled_from([0, 0, 0, 30, 60 * 24])))
            start = draw(st.sampled_from(edges) if where == "edge" else at_midnight)
            if where == "ends at midnight":
                start -= length
        out.append(
            UsageRecord(
                account=draw(st.sampled_from(["acme", "acme", "globex"])),
                metric=draw(st.sampled_from(METRICS)),
                quantity=draw(st.decimals(0, 1000, places=draw(st.integers(0, 3)))),
                start=start,
                end=start + length,
                resource_id=draw(st.sampled_from(["a", "b", "c", None])),
                record_id=f"r{n}",
                attributes={
                    "size": draw(st.sampled_from(["big", "small"])),
                    "os": draw(st.sampled_from(["windows", "linux"])),
                    "cores": draw(st.sampled_from(["2", "8"])),
                },
            )
        )
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[UsageRecord], int, str]:
    """Records (:func:`usages`), the day of October the range ends on and the zone."""
    today, tz = draw(st.integers(1, 31)), draw(st.sampled_from(ZONES))
    return draw(usages(tz, today)), today, tz


def setup(usage, today, tz):
    plan = cloudrate.load_plan(PLAN.format(tz=tz))
    month = DateRange.month_to_date(today=date(2026, 10, today), timezone=tz)
    records = cloudrate.usage.dedupe(
        clip_records(plan, usage, month.start, month.end, "acme")
    ).records
    return plan, month, records


def scanned(plan, records, month):
    try:
        return _scan.scan_month(plan, records, month)
    except OnePassError:  # sums that would round: the overview takes the separate passes
        return None


class TestEachPart:
    @settings(max_examples=80, deadline=None)
    @given(case=cases())
    def test_day_buckets_are_the_records_cut_to_each_day(self, case):
        usage, today, tz = case
        plan, month, records = setup(usage, today, tz)
        scan = scanned(plan, records, month)
        expected = [
            _by_metric(clip_records(plan, records, d.start, d.end))
            for d in (DateRange.custom(x, x, tz) for x in month.dates())
        ]
        assert _overview._by_day(plan, records, month) == expected
        if scan is not None:
            assert scan.days == expected
            assert scan.by_metric == _by_metric(records)

    @settings(max_examples=80, deadline=None)
    @given(case=cases())
    def test_cumulative_costs_are_rating_each_day(self, case):
        usage, today, tz = case
        plan, month, records = setup(usage, today, tz)
        scan = scanned(plan, records, month)
        if scan is None:
            return
        [period] = month.months()
        cards = {c.key: c.metrics for c in DEFAULT_CARDS} | {"all": METRICS}
        args = {"account": "acme", "fixed": _fixed(plan), "cards": cards, "rounding": None}
        try:
            fast = price_days(plan, period, None, scan.whole, scan.parts, _fixed(plan), cards)
        except OnePassError:
            return
        assert fast == [_to_date(plan, records, month, d, **args) for d in month.dates()]

    @settings(max_examples=80, deadline=None)
    @given(case=cases())
    def test_resources_per_metric(self, case):
        usage, today, tz = case
        plan, month, records = setup(usage, today, tz)
        scan = scanned(plan, records, month)
        if scan is None:
            return
        seen: dict[str, set[str]] = {}
        for r in records:
            if r.resource_id is not None:
                seen.setdefault(r.metric, set()).add(r.resource_id)
        assert scan.seen == seen


class TestTheOverview:
    @settings(max_examples=60, deadline=None)
    @given(
        case=cases(),
        decimals=st.sampled_from([None, CostDecimals(4), CostDecimals(3, applies_to="billed")]),
    )
    def test_the_same_with_and_without_the_pass(self, case, decimals):
        """The overview from the one pass is the overview from the separate passes,
        to the last digit of its document."""
        usage, today, tz = case
        plan = cloudrate.load_plan(PLAN.format(tz=tz))

        def run():
            return billing_overview(
                plan,
                usage,
                account="acme",
                today=date(2026, 10, today),
                timezone=tz,
                decimals=decimals,
            ).to_dict()

        fast = run()
        with pytest.MonkeyPatch.context() as m:
            m.setattr(_overview, "scan_month", _refuse)
            slow = run()
        assert fast == slow

    def test_the_benchmark_month_takes_the_pass(self, monkeypatch):
        """Hourly records of the sample plan need no fallback (the benchmark's case)."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        calls = []
        real = _overview.scan_month

        def counting(*args):
            calls.append(1)
            return real(*args)

        monkeypatch.setattr(_overview, "daily_costs", _fail)
        monkeypatch.setattr(_overview, "scan_month", counting)
        ov = billing_overview(
            plan, usage, account="acme", today=date(2026, 10, 31), timezone="Europe/Berlin"
        )
        assert calls == [1]
        assert ov.exact_total is not None and ov.exact_total.amount > Decimal(0)


def _refuse(*_args: object) -> None:
    raise OnePassError("refused for the test")


def _fail(*_args: object, **_kwargs: object) -> None:
    pytest.fail("the overview fell back to the separate passes")


ONE_CHARGE = """
name: One charge
currency: EUR
timezone: Europe/Berlin
metrics:
  vcpu_hours: {unit: vCPU-hour}
charges:
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "1"}
"""


def _record(name: str, quantity: str, start: datetime, hours: int = 0) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric="vcpu_hours",
        quantity=quantity,
        start=start,
        end=start + timedelta(hours=hours),
        record_id=name,
    )


#: 8 vCPU-hours at the instant 4 October 2026 begins in Berlin.
AT_MIDNIGHT = _record("instant", "8", datetime(2026, 10, 3, 22, tzinfo=UTC))
#: Two records whose sum rounds: the one pass refuses them, the overview rates each day.
ROUNDING = [
    _record("big", "1" + "0" * 30, datetime(2026, 10, 5, 10, tzinfo=UTC), 1),
    _record("tiny", "0." + "0" * 30 + "1", datetime(2026, 10, 5, 10, tzinfo=UTC), 1),
]


class TestAnInstantAtMidnight:
    """An instant at a local midnight belongs to the day it starts, as rating's period
    rule (``spans_within``) and :func:`clip_records` say: on every path of the overview,
    its cost and its quantity are on 4 October, not on 3 October (the one pass gave the
    day ending there the cost, and both days the quantity)."""

    @pytest.fixture(name="plan")
    def _plan(self):
        return cloudrate.load_plan(ONE_CHARGE)

    def _days(self, plan, usage, today=6):
        ov = billing_overview(
            plan, usage, account="acme", today=date(2026, 10, today), timezone="Europe/Berlin"
        )
        return {d.day.day: (d.cost.amount, d.quantity("cpu")) for d in ov.daily}

    def test_the_one_pass(self, plan):
        days = self._days(plan, [AT_MIDNIGHT])
        assert days[3] == (Decimal("0.00"), Decimal(0))
        assert days[4] == (Decimal("8.00"), Decimal(8))
        assert sum(q for _, q in days.values()) == 8

    def test_the_fallback_agrees(self, plan):
        """With sums that round, the overview takes the separate passes and rates the
        month up to each day: the same days."""
        month = DateRange.month_to_date(today=date(2026, 10, 6), timezone="Europe/Berlin")
        records = [AT_MIDNIGHT, *ROUNDING]
        args = {"account": "acme", "fixed": set(), "cards": {}, "rounding": None}
        with pytest.raises(OnePassError):
            _scan.scan_month(plan, records, month)
        with pytest.raises(OnePassError):
            _cumulative(plan, records, month, **args)
        fallback = self._days(plan, records)
        one_pass = self._days(plan, [AT_MIDNIGHT])
        assert [fallback[d] for d in (1, 2, 3, 4)] == [one_pass[d] for d in (1, 2, 3, 4)]
        assert fallback[3] == (Decimal("0.00"), Decimal(0))
        assert fallback[4] == (Decimal("8.00"), Decimal(8))

    def test_the_separate_passes(self, plan, monkeypatch):
        monkeypatch.setattr(_overview, "scan_month", _refuse)
        days = self._days(plan, [AT_MIDNIGHT])
        assert days[3] == (Decimal("0.00"), Decimal(0))
        assert days[4] == (Decimal("8.00"), Decimal(8))

    @pytest.mark.parametrize(("day", "cost"), [(3, "0"), (4, "8.00")])
    def test_the_usage_view_of_each_day(self, plan, day, cost):
        one = DateRange.custom(date(2026, 10, day), date(2026, 10, day), "Europe/Berlin")
        view = usage_view(plan, [AT_MIDNIGHT], account="acme", date_range=one)
        assert view.total.amount == Decimal(cost)

    def test_the_buckets_hold_it_once(self, plan):
        month = DateRange.month_to_date(today=date(2026, 10, 6), timezone="Europe/Berlin")
        expected = [[], [], [], [AT_MIDNIGHT], [], []]
        scan = _scan.scan_month(plan, [AT_MIDNIGHT], month)
        assert [d.get("vcpu_hours", []) for d in scan.days] == expected
        by_day = _overview._by_day(plan, [AT_MIDNIGHT], month)
        assert [d.get("vcpu_hours", []) for d in by_day] == expected

    def test_at_the_range_s_end_it_is_the_next_day_s(self, plan):
        """The range to 3 October ends at the instant: the instant is not in it."""
        assert sum(c for c, _ in self._days(plan, [AT_MIDNIGHT], today=3).values()) == 0
        assert self._days(plan, [AT_MIDNIGHT], today=4)[4] == (Decimal("8.00"), Decimal(8))

    def test_at_the_range_s_start(self, plan):
        first = _record("first", "8", datetime(2026, 9, 30, 22, tzinfo=UTC))
        assert self._days(plan, [first], today=2) == {
            1: (Decimal("8.00"), Decimal(8)),
            2: (Decimal("0.00"), Decimal(0)),
        }
