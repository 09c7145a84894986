"""The overview and the per-resource split read the records once: the same figures as
rating every group, and a constant number of ratings whatever the month's length."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate import UsageRecord
from cloudrate.portal.usage_view import DateRange, _daily, _resources, _view, billing_overview
from cloudrate.portal.usage_view._aggregate import OnePassError
from cloudrate.portal.usage_view._view import DEFAULT_CARDS, _fixed

PLAN = """
name: Every model
currency: EUR
timezone: Europe/Berlin
metrics:
  vcpu_hours: {unit: vCPU-hour}
  traffic:    {unit: GB, usage_unit: byte}
  disk:       {unit: GB-month, usage_unit: GB-hour}
  peak:       {unit: unit, aggregation: max}
  level:      {unit: GB, aggregation: average}
  ips:        {unit: IP, aggregation: unique}
  seats:      {unit: seat, aggregation: latest}
  vm:         {unit: VM-hour}
charges:
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
  - {name: big, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.02",
     where: {size: big}}
  - {name: traffic, service: Network, metric: traffic, model: volume, free_units: 1,
     tiers: [{up_to: 3, unit_price: "0.10"}, {up_to: null, unit_price: "0.05"}]}
  - name: disk
    service: Storage
    metric: disk
    model: graduated
    tiers: [{up_to: 1, unit_price: "0.30"}, {up_to: null, unit_price: "0.10"}]
  - {name: peak, metric: peak, model: per_unit, unit_price: "0.70"}
  - {name: level, service: Storage, metric: level, model: per_unit, unit_price: "0.11"}
  - {name: ips, service: Network, metric: ips, model: per_unit, unit_price: "1.5"}
  - {name: seats, metric: seats, model: per_unit, unit_price: "2"}
  - {name: licence, service: Licences, metric: vm, model: flat, price: "12.00",
     where: {os: windows}}
  - {name: platform, model: flat, price: "5.00"}
  - {name: support, model: percentage, percent: "10", of: [compute, disk, platform]}
  - {name: minimum, model: minimum, amount: "40.00"}
"""

METRICS = ("vcpu_hours", "traffic", "disk", "peak", "level", "ips", "seats", "vm")


@pytest.fixture(name="plan", scope="module")
def _plan():
    return cloudrate.load_plan(PLAN)


#: The local midnights (Berlin) from 1 to 11 October 2026, in UTC: the start of every
#: range the tests take, and the end of each day, the range's end among them.
MIDNIGHTS = [
    datetime(2026, 10, day, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    for day in range(1, 12)
]


def _records(draw: st.DrawFn) -> list[UsageRecord]:
    """Up to 25 records of the first ten days of October (Berlin): any minute, from an
    instant to 50 hours long; some start or end exactly at a midnight, most of those
    instants (an instant at midnight belongs to the day it starts)."""
    out = []
    for n in range(draw(st.integers(0, 25))):
        where = draw(st.sampled_from(["any", "any", "midnight", "ends at midnight"]))
        if where == "any":
            start = datetime(2026, 9, 30, 22, tzinfo=UTC) + timedelta(
                minutes=draw(st.integers(0, 10 * 24 * 60))
            )
            length = timedelta(minutes=draw(st.sampled_from([0, 30, 60, 60 * 24, 60 * 50])))
        else:
            length = timedelta(minutes=draw(st.sampled_from([0, 0, 0, 30, 60 * 24])))
            start = draw(st.sampled_from(MIDNIGHTS))
            if where == "ends at midnight":
                start -= length
        out.append(
            UsageRecord(
                account="acme",
                metric=draw(st.sampled_from(METRICS)),
                quantity=draw(st.decimals(0, 1000, places=3)),
                start=start,
                end=start + length,
                resource_id=draw(st.sampled_from(["a", "b", "c", None])) or f"x{n}",
                record_id=f"r{n}",
                attributes={
                    "size": draw(st.sampled_from(["big", "small"])),
                    "os": draw(st.sampled_from(["windows", "linux"])),
                },
            )
        )
    return out


usages = st.composite(_records)


def _month_records(plan, usage, month, account="acme"):
    return cloudrate.usage.dedupe(
        cloudrate.portal.usage_view.clip_records(plan, usage, month.start, month.end, account)
    ).records


class TestOnePass:
    @settings(max_examples=60, deadline=None)
    @given(usage=usages(), today=st.integers(1, 10))
    def test_cumulative_costs_are_rating_each_day(self, plan, usage, today):
        """Priced from one pass, the cost up to each day is the cost of rating the month
        up to that day, exactly, for every charge model and records across midnight."""
        month = DateRange.month_to_date(today=date(2026, 10, today), timezone="Europe/Berlin")
        records = _month_records(plan, usage, month)
        cards = {c.key: c.metrics for c in DEFAULT_CARDS} | {"all": METRICS}
        args = {"account": "acme", "fixed": _fixed(plan), "cards": cards, "rounding": None}
        slow = [_daily._to_date(plan, records, month, d, **args) for d in month.dates()]
        try:
            fast = _daily._cumulative(plan, records, month, **args)
        except OnePassError:  # pieces of records across midnight whose sums would round
            fast = None
        else:
            assert fast == slow
        costs = _daily.daily_costs(plan, records, month, **args)
        before = (Fraction(0), Fraction(0))
        for (cost, per_card), (total, by_card) in zip(costs, slow, strict=True):
            assert Fraction(cost.amount) == total - before[0]
            assert Fraction(dict(per_card)["all"].amount) == by_card["all"] - before[1]
            before = (total, by_card["all"])

    @pytest.mark.parametrize("account", ["acme", "globex"])
    def test_the_sample_month_takes_the_one_pass(self, account):
        """Hourly and daily records of the sample month need no fallback."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        month = DateRange.month_to_date(today=date(2026, 10, 31), timezone="Europe/Berlin")
        records = _month_records(
            plan, cloudrate.read_usage(cloudrate.sample_usage_path()), month, account
        )
        cards = {c.key: c.metrics for c in DEFAULT_CARDS}
        args = {"account": account, "fixed": _fixed(plan), "cards": cards, "rounding": None}
        fast = _daily._cumulative(plan, records, month, **args)
        assert fast == [_daily._to_date(plan, records, month, d, **args) for d in month.dates()]

    @settings(max_examples=60, deadline=None)
    @given(usage=usages())
    def test_resource_quantities_are_rating_each_resource(self, plan, usage):
        """Each charge's quantity per resource, from one pass, is what rating the month
        with each resource as its own account gives, in the same order."""
        month = DateRange.custom(date(2026, 10, 1), date(2026, 10, 31), "Europe/Berlin")
        [period] = month.months()
        records = _month_records(plan, usage, month)
        names = sorted({r.resource_id for r in records}, key=lambda i: (i is None, i or ""))
        keys = {rid: f"resource-{n}" for n, rid in enumerate(names)}
        rekeyed = [attrs.evolve(r, account=keys[r.resource_id]) for r in records]
        back = {key: rid for rid, key in keys.items()}
        expected: dict[str, list[tuple[str | None, Decimal]]] = {}
        for bill in cloudrate.rate(plan, rekeyed, period).bills:
            for line in bill.lines:
                if line.kind == "charge" and line.metric is not None:
                    expected.setdefault(line.charge, []).append(
                        (back[bill.account], line.usage_quantity)
                    )
        assert _resources._quantities(plan, records, period) == expected


LAGO_PLAN = """
name: Lago conventions
currency: EUR
timezone: Europe/Berlin
metrics:
  vcpu_hours: {unit: vCPU-hour, rounding: {mode: ceil, precision: -1}}
  traffic:    {unit: GB, usage_unit: byte, rounding: {mode: half_even, precision: 8, per: record}}
  disk:       {unit: GB-month, usage_unit: GB-hour, rounding: {mode: round, precision: 2}}
  peak:       {unit: unit, aggregation: max, rounding: {mode: floor, per: record}}
  level:      {unit: GB, aggregation: average, rounding: {mode: round, precision: 1, per: record}}
  ips:        {unit: IP, aggregation: unique, rounding: {mode: ceil, precision: -1}}
  seats:      {unit: seat, aggregation: latest, rounding: {mode: ceil}}
  vm:         {unit: VM-hour}
charges:
  - name: compute
    metric: vcpu_hours
    model: graduated
    zero_usage: first_flat_fee
    tiers: [{up_to: 100, unit_price: "0.0125", flat_price: "3"}, {up_to: null, unit_price: "0.01"}]
  - {name: traffic, metric: traffic, model: volume, free_units: 1, zero_usage: first_flat_fee,
     tiers: [{up_to: 3, unit_price: "0.10", flat_price: "1"}, {up_to: null, unit_price: "0.05"}]}
  - {name: disk, metric: disk, model: per_unit, unit_price: "0.30"}
  - {name: peak, metric: peak, model: per_unit, unit_price: "0.70"}
  - {name: level, metric: level, model: per_unit, unit_price: "0.11"}
  - {name: ips, metric: ips, model: per_unit, unit_price: "1.5"}
  - {name: seats, metric: seats, model: per_unit, unit_price: "2"}
  - {name: platform, model: flat, price: "5.00"}
  - name: support
    model: percentage
    of: [compute, disk]
    zero_usage: first_flat_fee
    tiers: [{up_to: 10, percent: "10", flat_price: "2"}, {up_to: null, percent: "5"}]
"""


class TestOnePassWithLagoConventions:
    """The first tier's flat fee for no usage and rounded quantities (of the aggregate and
    of each record, pieces of records across midnight included) in the one pass."""

    @settings(max_examples=60, deadline=None)
    @given(usage=usages(), today=st.integers(1, 10))
    def test_cumulative_costs_are_rating_each_day(self, usage, today):
        plan = cloudrate.load_plan(LAGO_PLAN)
        month = DateRange.month_to_date(today=date(2026, 10, today), timezone="Europe/Berlin")
        records = _month_records(plan, usage, month)
        cards = {c.key: c.metrics for c in DEFAULT_CARDS} | {"all": METRICS}
        args = {"account": "acme", "fixed": _fixed(plan), "cards": cards, "rounding": None}
        slow = [_daily._to_date(plan, records, month, d, **args) for d in month.dates()]
        try:
            fast = _daily._cumulative(plan, records, month, **args)
        except OnePassError:
            pass
        else:
            assert fast == slow
        scan = _scan_month(plan, records, month)
        if scan is not None:  # the overview's one pass, priced day by day
            [period] = month.months()
            try:
                days = _daily.price_days(
                    plan, period, None, scan.whole, scan.parts, _fixed(plan), cards
                )
            except OnePassError:  # sums that would round: the overview rates instead
                pass
            else:
                assert days == slow

    @settings(max_examples=60, deadline=None)
    @given(usage=usages())
    def test_resource_quantities_are_rating_each_resource(self, usage):
        plan = cloudrate.load_plan(LAGO_PLAN)
        month = DateRange.custom(date(2026, 10, 1), date(2026, 10, 31), "Europe/Berlin")
        [period] = month.months()
        records = _month_records(plan, usage, month)
        names = sorted({r.resource_id for r in records}, key=lambda i: (i is None, i or ""))
        keys = {rid: f"resource-{n}" for n, rid in enumerate(names)}
        rekeyed = [attrs.evolve(r, account=keys[r.resource_id]) for r in records]
        back = {key: rid for rid, key in keys.items()}
        expected: dict[str, list[tuple[str | None, Decimal]]] = {}
        for bill in cloudrate.rate(plan, rekeyed, period).bills:
            for line in bill.lines:
                # lines of charges a resource has no records of are the flat fee for no
                # usage: no quantity of the resource's to share a line by
                if line.kind == "charge" and line.metric is not None and line.records:
                    expected.setdefault(line.charge, []).append(
                        (back[bill.account], line.usage_quantity)
                    )
        assert _resources._quantities(plan, records, period) == expected


def _scan_month(plan, records, month):
    from cloudrate.portal.usage_view._scan import scan_month

    try:
        return scan_month(plan, records, month)
    except OnePassError:
        return None


class TestRatingCalls:
    @pytest.mark.parametrize("today", [3, 31])
    def test_the_overview_rates_a_constant_number_of_times(self, monkeypatch, today):
        """The overview of a month rates the month once, however many days it has (it
        used to rate it once per day, and once more per resource)."""
        calls = []

        def counting(real):
            def wrapper(*args, **kwargs):
                calls.append(1)
                return real(*args, **kwargs)

            return wrapper

        monkeypatch.setattr(_view, "rate", counting(_view.rate))
        monkeypatch.setattr(_daily, "rate", counting(_daily.rate))
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        ov = billing_overview(
            plan, usage, account="acme", today=date(2026, 10, today), timezone="Europe/Berlin"
        )
        assert len(ov.daily) == today
        assert len(calls) == 1


class TestOneRule:
    """The one pass adds records by rating's own rule, so it refuses what rating refuses,
    with rating's error."""

    def _nameless(self) -> list[UsageRecord]:
        start = datetime(2026, 10, 2, 8, tzinfo=UTC)
        return [
            UsageRecord(
                account="acme",
                metric="ips",
                quantity="1",
                start=start,
                end=start + timedelta(hours=1),
            )
        ]

    def test_a_count_per_resource_without_a_resource_is_rating_s_error(self, plan):
        month = DateRange.custom(date(2026, 10, 1), date(2026, 10, 31), "Europe/Berlin")
        [period] = month.months()
        records = self._nameless()
        with pytest.raises(cloudrate.exceptions.RatingError) as rated:
            cloudrate.rate(plan, records, period)
        with pytest.raises(cloudrate.exceptions.RatingError) as split:
            _resources._quantities(plan, records, period)
        assert str(split.value) == str(rated.value)
        with pytest.raises(cloudrate.exceptions.RatingError) as overview:
            billing_overview(
                plan, records, account="acme", today=date(2026, 10, 5), timezone="Europe/Berlin"
            )
        assert str(overview.value) == str(rated.value)
