"""Minimum spend per period (``cloudrate.plans._minimum``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import Charge, Minimum, PerUnit, Plan, PlanError, RoundingPolicy, UsageRecord
from cloudrate.testing import quantities

D = Decimal
T0, T1 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)


def _plan(minimum="25.00", of=()) -> Plan:
    return Plan(
        name="p",
        currency="EUR",
        charges=[
            Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("0.0125", "EUR"))),
            Charge(name="minimum", model=Minimum(amount=Money(minimum, "EUR"), of=of)),
        ],
    )


def _usage(hours) -> list[UsageRecord]:
    return [UsageRecord(account="a", metric="vcpu_hours", quantity=hours, start=T0, end=T1)]


class TestMinimum:
    def test_true_up(self):
        """Below the minimum, the difference is charged; at or above it, nothing."""
        m = Minimum(amount=Money("20.00", "EUR"))
        assert m.price(D("12.40")).amount.amount == D("7.60")
        assert m.price(D("20.00")).amount.amount == 0
        assert m.price(D(25)).details == ()

    def test_true_up_per_line_rounding(self):
        """placement=line: 1,441 h x 0.0125 = 18.0125, billed 18.01; the true-up tops the
        rounded 18.01 up to 25.00 (6.99) so the bill shows exactly the minimum."""
        bill = cloudrate.rate(_plan(), _usage("1441")).bill("a")
        assert bill.line("compute").rounded.amount == D("18.01")
        assert bill.line("minimum").amount.amount == D("25.00") - D("18.01")
        assert bill.total.amount == D("25.00")

    def test_true_up_total_rounding(self):
        """placement=total: the true-up is from the exact 18.0125 (6.9875); the rounded
        total is 25.00 and the lines, allocated by largest remainder, add up to it."""
        result = cloudrate.rate(_plan(), _usage("1441"), rounding=RoundingPolicy(placement="total"))
        bill = result.bill("a")
        assert bill.line("minimum").amount.amount == D("25.00") - D("18.0125")
        assert bill.total.amount == D("25.00")
        assert sum(line.rounded.amount for line in bill.lines) == D("25.00")

    @given(quantities(max_value=D(5000), places=3), st.sampled_from(("line", "total")))
    def test_total_is_at_least_the_minimum(self, hours, placement):
        """Whatever the usage and placement, the bill is max(usage, minimum)."""
        policy = RoundingPolicy(placement=placement)
        bill = cloudrate.rate(_plan(), _usage(hours), rounding=policy).bill("a")
        usage = policy.round(hours * D("0.0125"), "EUR")
        assert bill.total.amount == max(usage, D("25.00"))

    def test_account_without_usage_pays_the_minimum(self):
        """Accounts passed to rate() without usage still get the minimum line."""
        result = cloudrate.rate(
            _plan(), [], cloudrate.BillingPeriod.month(2026, 10), accounts=["idle"]
        )
        assert result.bill("idle").total.amount == D("25.00")

    def test_of_names_earlier_charges(self):
        """A minimum over named charges must follow them."""
        with pytest.raises(PlanError, match="not a charge declared before"):
            Plan(
                name="p",
                currency="EUR",
                charges=[
                    Charge(name="minimum", model=Minimum(amount=Money(1, "EUR"), of="compute"))
                ],
            )

    def test_to_dict(self):
        """Plain data omits an empty 'of'."""
        assert Minimum(amount=Money("25.00", "EUR")).to_dict() == {
            "model": "minimum",
            "amount": "25.00",
        }
        assert Minimum(amount=Money(1, "EUR"), of="x").to_dict()["of"] == ["x"]
