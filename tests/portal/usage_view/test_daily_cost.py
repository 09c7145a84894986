"""Cost per day in the month's usage graph: each day's exact share of every line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate import UsageRecord
from cloudrate.portal.usage_view import CardSpec, UsageViewError, billing_overview, usage_view
from cloudrate.portal.usage_view._daily import exact_decimal
from cloudrate.portal.usage_view._ranges import DateRange

PLAN = """
name: Test
currency: EUR
timezone: UTC
metrics:
  vcpu_hours:   {unit: vCPU-hour}
  bandwidth_gb: {unit: GB}
  tiered:       {unit: unit}
  bulk:         {unit: unit}
charges:
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.01"}
  - {name: bandwidth, service: Network, metric: bandwidth_gb, model: per_unit,
     unit_price: "0.10", free_units: 5}
  - name: tiered
    metric: tiered
    model: graduated
    tiers: [{up_to: 10, unit_price: "1.00"}, {up_to: null, unit_price: "0.50"}]
  - name: bulk
    metric: bulk
    model: volume
    tiers: [{up_to: 10, unit_price: "1.00"}, {up_to: null, unit_price: "0.50"}]
  - {name: platform, service: Platform, model: flat, price: "5.00"}
"""


def day(d: int, metric: str, quantity: str | Decimal, account: str = "acme") -> UsageRecord:
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=datetime(2026, 10, d, tzinfo=UTC),
        end=datetime(2026, 10, d, 23, tzinfo=UTC),
        resource_id="r1",
    )


@pytest.fixture(name="plan")
def _plan():
    return cloudrate.load_plan(PLAN)


def overview(plan, usage, today=3, timezone="UTC"):
    return billing_overview(
        plan, usage, account="acme", today=date(2026, 10, today), timezone=timezone
    )


def amounts(ov):
    return [d.cost.amount for d in ov.daily]


class TestWorkedExamples:
    def test_per_unit_is_the_days_quantity_times_the_price(self, plan):
        """96, 48 and 0 vCPU-hours at 0.01: 0.96, 0.48 and 0 (another account's usage is
        not the account's)."""
        usage = [day(1, "vcpu_hours", "96"), day(2, "vcpu_hours", "48")]
        usage.append(day(2, "vcpu_hours", "1000", account="other"))
        ov = overview(plan, usage)
        assert amounts(ov) == [Decimal("0.96"), Decimal("0.48"), Decimal(0)]
        assert [d.card_cost("cpu").amount for d in ov.daily] == amounts(ov)
        assert ov.daily[0].card_cost("bandwidth").amount == 0

    def test_free_units_are_used_up_first(self, plan):
        """3, 4 and 4 GB with 5 GB free at 0.10: day 1 is free, day 2 pays 2 GB (0.20),
        day 3 pays 4 GB (0.40)."""
        usage = [day(d, "bandwidth_gb", q) for d, q in ((1, "3"), (2, "4"), (3, "4"))]
        assert amounts(overview(plan, usage)) == [Decimal(0), Decimal("0.20"), Decimal("0.40")]

    def test_graduated_days_pay_the_tier_they_reach(self, plan):
        """8 units then 4 units, 10 at 1.00 then 0.50: 8.00, then 2 x 1.00 + 2 x 0.50."""
        usage = [day(1, "tiered", "8"), day(2, "tiered", "4")]
        assert amounts(overview(plan, usage, today=2)) == [Decimal("8.00"), Decimal("3.00")]

    def test_a_volume_tier_crossed_reprices_the_month_so_far(self, plan):
        """Volume pricing: 8 units cost 8.00; 12 units cost 12 x 0.50 = 6.00, so the day
        that crosses the tier costs -2.00 and the days still add up to the line."""
        usage = [day(1, "bulk", "8"), day(2, "bulk", "4")]
        ov = overview(plan, usage, today=2)
        assert amounts(ov) == [Decimal("8.00"), Decimal("-2.00")]

    def test_fixed_charges_are_not_spread_over_days(self, plan):
        """The platform fee (no metric) is fixed_cost; days + fixed = the exact total."""
        ov = overview(plan, [day(1, "vcpu_hours", "100")])
        assert amounts(ov) == [Decimal("1.00"), Decimal(0), Decimal(0)]
        assert ov.fixed_cost.amount == Decimal("5.00")
        assert ov.exact_total.amount == Decimal("6.00")
        assert ov.notification.total_usage.amount == Decimal("6.00")

    def test_json(self, plan):
        data = overview(plan, [day(1, "vcpu_hours", "100")], today=1).to_dict()
        assert data["daily"] == [
            {
                "day": "2026-10-01",
                "cpu": "100",
                "memory": "0",
                "storage": "0",
                "bandwidth": "0",
                "cost": "1.00",
                "card_costs": {
                    "cpu": "1.00",
                    "memory": "0.00",
                    "storage": "0.00",
                    "bandwidth": "0.00",
                },
            }
        ]
        assert (data["fixed_cost"], data["exact_total"]) == ("5.00", "6.00")

    def test_card_keys_the_daily_entries_use_are_refused(self):
        with pytest.raises(UsageViewError, match="card 'cost': the key names a field"):
            CardSpec("cost", "Cost", "EUR", ("x",))


def exact_sum(values) -> Fraction:
    return sum((Fraction(v) for v in values), Fraction(0))


class TestDaysAddUpToTheMonth:
    @given(
        st.lists(
            st.tuples(
                st.integers(1, 20),
                st.sampled_from(["vcpu_hours", "bandwidth_gb", "tiered", "bulk"]),
                st.decimals(min_value=0, max_value=1000, places=3),
            ),
            max_size=25,
        ),
        st.integers(1, 20),
    )
    def test_any_usage(self, usage, today):
        """Whatever the usage and the charge models, the days add up to the month's usage
        lines exactly, and each card's days to its lines."""
        plan = cloudrate.load_plan(PLAN)
        records = [day(d, m, q) for d, m, q in usage]
        ov = overview(plan, records, today=today)
        view = usage_view(
            plan,
            records,
            account="acme",
            include_fixed=True,
            date_range=DateRange.month_to_date(today=date(2026, 10, today)),
        )
        usage_lines = [x for x in view.lines if x.charge != "platform"]
        assert exact_sum(d.cost.amount for d in ov.daily) == exact_sum(
            x.amount.amount for x in usage_lines
        )
        cpu = exact_sum(d.card_cost("cpu").amount for d in ov.daily)
        assert cpu == exact_sum(x.amount.amount for x in usage_lines if x.charge == "compute")
        assert exact_sum(d.cost.amount for d in ov.daily) + Fraction(
            ov.fixed_cost.amount
        ) == Fraction(ov.exact_total.amount)

    @given(st.integers(1, 31), st.sampled_from(["acme", "globex", "initech"]))
    def test_the_sample_month(self, today, account):
        """The sample plan (graduated storage per GB-month, free snapshot units, volume
        traffic, licences per VM, support as a percentage, a minimum): the days and the
        fixed charges add up to the month-to-date estimate exactly."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        ov = billing_overview(
            plan, usage, account=account, today=date(2026, 10, today), timezone=plan.timezone
        )
        days = exact_sum(d.cost.amount for d in ov.daily)
        assert days + Fraction(ov.fixed_cost.amount) == Fraction(ov.exact_total.amount)
        view = usage_view(
            plan,
            usage,
            account=account,
            include_fixed=True,
            date_range=DateRange.month_to_date(today=date(2026, 10, today), timezone=plan.timezone),
        )
        for card in ov.consumed:
            lines = [x for x in view.lines if x.metric in card.metrics]
            assert exact_sum(d.card_cost(card.key).amount for d in ov.daily) == exact_sum(
                x.amount.amount for x in lines
            )

    def test_a_whole_month_is_the_bill(self):
        """For October (a whole month) the exact total is the bill's exact total."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        ov = billing_overview(
            plan, usage, account="acme", today=date(2026, 10, 31), timezone=plan.timezone
        )
        bill = cloudrate.rate(plan, usage).bill("acme")
        assert Fraction(ov.exact_total.amount) == exact_sum(x.amount.amount for x in bill.lines)


def test_exact_decimal():
    assert exact_decimal(Fraction(1, 3) * 3) == Decimal(1)
    assert exact_decimal(Fraction(-7, 40)) == Decimal("-0.175")
    with pytest.raises(ValueError, match="no finite decimal expansion"):
        exact_decimal(Fraction(1, 3))
