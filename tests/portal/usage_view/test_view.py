"""The usage page: cards, per-service rows and the Total Estimated Bill."""

from __future__ import annotations

import decimal
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate import RatedLine, UsageRecord
from cloudrate._money import EXACT
from cloudrate.portal.usage_view import (
    CardSpec,
    DateRange,
    UsageViewError,
    clip_records,
    usage_view,
)

PLAN = """
name: Test
currency: EUR
timezone: UTC
metrics:
  vcpu_hours:      {unit: vCPU-hour}
  memory_gb_hours: {unit: GB-hour, usage_unit: MB-hour}
  volume_gb:       {unit: GB-month, usage_unit: GB-hour}
  bandwidth_gb:    {unit: GB, usage_unit: byte}
charges:
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.01"}
  - {name: memory, service: Compute, metric: memory_gb_hours, model: per_unit,
     unit_price: "0.005"}
  - {name: storage, service: Storage, metric: volume_gb, model: per_unit, unit_price: "0.10"}
  - {name: bandwidth, service: Network, metric: bandwidth_gb, model: per_unit,
     unit_price: "0.02"}
  - {name: platform, service: Platform, model: flat, price: "5.00"}
"""


def at(day: int, hour: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def rec(
    metric: str,
    quantity: str,
    start: datetime,
    end: datetime,
    account: str = "acme",
    resource: str = "r1",
) -> UsageRecord:
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=start,
        end=end,
        resource_id=resource,
    )


@pytest.fixture(name="plan")
def _plan():
    return cloudrate.load_plan(PLAN)


SAMPLE = (
    cloudrate.load_plan(cloudrate.sample_plan_path()),
    cloudrate.read_usage(cloudrate.sample_usage_path()),
)


class TestCards:
    def test_worked_example(self, plan):
        """Ten days in October: 4 vCPU all along, 2048 MB, 100 GB for half the days,
        5 GB of traffic."""
        usage = []
        for d in range(1, 11):
            usage.append(rec("vcpu_hours", "96", at(d), at(d + 1)))
            usage.append(rec("memory_gb_hours", "49152", at(d), at(d + 1)))  # 2048 MB x 24 h
            usage.append(rec("bandwidth_gb", "500000000", at(d), at(d + 1)))
            if d <= 5:
                usage.append(rec("volume_gb", "2400", at(d), at(d + 1)))  # 100 GB x 24 h
        usage.append(rec("vcpu_hours", "1000", at(1), at(2), account="other"))
        view = usage_view(
            plan,
            usage,
            account="acme",
            date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 10)),
        )
        cpu, memory, storage, bandwidth = view.cards
        assert (cpu.quantity, cpu.cost.amount) == (Decimal(960), Decimal("9.60"))
        assert memory.quantity == Decimal("491.52")  # 491520 MB-hour / 1000
        assert memory.cost.amount == Decimal("2.46")  # 2.4576 rounded half-up
        assert storage.quantity == Decimal(50)  # 100 GB for half of the 10 days
        # 12000 GB-hours over October's 744 hours at 0.10 per GB-month
        assert storage.cost.amount == Decimal("1.61")
        assert (bandwidth.quantity, bandwidth.cost.amount) == (Decimal(5), Decimal("0.10"))
        assert storage.unit == "GB" and cpu.unit == "vCPU-hour"
        # the document keeps its published schema name wherever the module lives
        assert view.to_dict()["schema"] == "cloudrate.usage_view/1"

    def test_fixed_fees_left_out_unless_asked(self, plan):
        """The platform fee is no usage: in the estimate only with include_fixed."""
        usage = [rec("vcpu_hours", "100", at(1), at(2))]
        r = DateRange.custom(date(2026, 10, 1), date(2026, 10, 7))
        assert usage_view(plan, usage, account="acme", date_range=r).total.amount == Decimal("1.00")
        full = usage_view(plan, usage, account="acme", date_range=r, include_fixed=True)
        assert full.total.amount == Decimal("6.00")
        assert [s.service for s in full.services] == ["Compute", "Platform"]

    def test_range_over_a_month_end_is_rated_per_month(self, plan):
        """Storage priced per GB-month is priced by each month's own length."""
        usage = [
            rec("volume_gb", "744", at(31), at(1, month=11)),
            rec("volume_gb", "720", at(1, month=11), at(2, month=11)),
        ]
        r = DateRange.custom(date(2026, 10, 31), date(2026, 11, 1))
        view = usage_view(plan, usage, account="acme", date_range=r)
        # 744 GB-h of 744 h October -> 1 GB-month; 720 GB-h of 720 h November -> 1 GB-month
        assert view.services[0].items[0].quantity == Decimal(2)
        assert view.total.amount == Decimal("0.20")
        assert view.card("storage").quantity == Decimal(1464) / Decimal(48)

    def test_policies_adjust_each_month(self, plan):
        """A policy (here 10% off compute, per month) adds lines that count in the rows and
        the total, under "Adjustments" when they name no service."""
        from moneyed import Money

        def ten_percent_off(result):
            bills = []
            for bill in result.bills:
                compute = bill.line("compute").rounded.amount
                off = RatedLine.adjustment(
                    account=bill.account,
                    charge="promo",
                    description="10% off compute",
                    amount=Money(-compute / 10, "EUR"),
                    rounded=Money((-compute / 10).quantize(Decimal("0.01")), "EUR"),
                    kind="discount",
                )
                bills.append(bill.with_lines([off]))
            return result.with_bills(bills)

        usage = [
            rec("vcpu_hours", "1000", at(30), at(31)),
            rec("vcpu_hours", "500", at(1, month=11), at(2, month=11)),
        ]
        r = DateRange.custom(date(2026, 10, 30), date(2026, 11, 1))
        view = usage_view(plan, usage, account="acme", date_range=r, adjust=ten_percent_off)
        rows = {row.service: row.cost.amount for row in view.services}
        assert rows == {"Compute": Decimal("15.00"), "Adjustments": Decimal("-1.50")}
        assert view.total.amount == Decimal("13.50")

    def test_unknown_card_kind(self):
        with pytest.raises(UsageViewError, match="kind must be"):
            CardSpec("x", "X", "GB", ("a",), kind="median")

    def test_card_lookup(self, plan):
        view = usage_view(
            plan,
            [],
            account="acme",
            date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 1)),
        )
        assert view.card("cpu").cost.amount == 0
        with pytest.raises(KeyError, match="cards are cpu, memory, storage, bandwidth"):
            view.card("gpu")


class TestAgainstTheBill:
    def test_last_month_with_fixed_fees_is_the_bill(self):
        """For a whole month, include_fixed gives exactly rate()'s bill, service by
        service."""
        plan, usage = SAMPLE
        result = cloudrate.rate(plan, usage)
        for account in ("acme", "globex", "initech"):
            view = usage_view(
                plan,
                usage,
                account=account,
                include_fixed=True,
                date_range=DateRange.last_month(today=date(2026, 11, 20), timezone=plan.timezone),
            )
            bill = result.bill(account)
            assert view.total == bill.total
            expected: dict[str, Decimal] = defaultdict(Decimal)
            for line in bill.lines:
                expected[line.service or "Other"] += line.rounded.amount
            assert {s.service: s.cost.amount for s in view.services} == expected

    @given(st.integers(1, 31), st.integers(0, 40))
    def test_total_is_the_sum_of_rows_and_cards_never_exceed_it(self, first, length):
        """Total Estimated Bill = sum of the service rows = sum of their items, for any range."""
        plan, usage = SAMPLE
        start = date(2026, 10, first)
        view = usage_view(
            plan,
            usage,
            account="acme",
            date_range=DateRange.custom(start, start + timedelta(days=length), plan.timezone),
        )
        assert view.total.amount == sum((s.cost.amount for s in view.services), Decimal(0))
        for row in view.services:
            assert row.cost.amount == sum((i.cost.amount for i in row.items), Decimal(0))
        assert sum((c.cost.amount for c in view.cards), Decimal(0)) <= view.total.amount
        assert view.total.amount == sum((x.rounded.amount for x in view.lines), Decimal(0))


class TestClip:
    @given(st.integers(1, 23))
    def test_split_in_two_keeps_the_whole(self, hour):
        """Cutting a summed record at any hour gives two parts adding up to it (to the 60
        significant digits of the exact context: 7/24 does not end)."""
        plan = cloudrate.load_plan(PLAN)
        r = rec("vcpu_hours", "7", at(1), at(2))
        a = clip_records(plan, [r], at(1), at(1, hour))
        b = clip_records(plan, [r], at(1, hour), at(2))
        assert abs(a[0].quantity + b[0].quantity - 7) <= Decimal("1e-57")
        with decimal.localcontext(EXACT):
            assert a[0].quantity == Decimal(7) * hour / 24

    def test_levels_keep_their_quantity(self):
        """An average-aggregated level (GB stored) only loses time, not height."""
        plan = cloudrate.load_plan(
            "{name: P, currency: EUR, metrics: {disk: {unit: GB, aggregation: average}}, "
            "charges: []}"
        )
        r = rec("disk", "50", at(1), at(3))
        [c] = clip_records(plan, [r], at(2), at(5))
        assert (c.quantity, c.start, c.end) == (Decimal(50), at(2), at(3))

    def test_outside_and_instants(self, plan):
        """Records outside are dropped; an instant counts where it falls."""
        outside = rec("vcpu_hours", "1", at(5), at(6))
        instant = rec("vcpu_hours", "1", at(2), at(2))
        assert clip_records(plan, [outside, instant], at(1), at(3)) == [instant]
        assert clip_records(plan, [instant], at(3), at(4)) == []


class TestNotebook:
    def test_repr_html_escapes_and_shows_the_total(self):
        plan, usage = SAMPLE
        view = usage_view(
            plan,
            usage,
            account="acme",
            date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 7), plan.timezone),
        )
        page = view._repr_html_()
        assert "Total Estimated Bill" in page and str(view.total.amount) in page
        assert "<th>Estimated cost (EUR)</th>" in page
        odd = usage_view(plan, [], account="<b>x</b>", date_range=view.date_range)
        assert "&lt;b&gt;x&lt;/b&gt;" in odd._repr_html_()
