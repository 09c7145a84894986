"""A percent promo's rounded discount never exceeds the rounded lines it discounts, so a
promo never makes a bill negative (issue 12)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate import BillingPeriod
from cloudrate.rating import AccountBill, RatingResult
from cloudrate.rules import PromoCode, PromoDiscount, RuleContext, chain
from cloudrate.testing import plans, usage_for

OCTOBER = BillingPeriod.month(2026, 10, "UTC")
#: Percents in (0, 100] (a promo code of 0% is refused), the edges drawn often.
PERCENTS = st.sampled_from([Decimal(100), Decimal("99.99"), Decimal("0.01")]) | st.decimals(
    min_value=Decimal("0.0001"), max_value=100, places=4
)


def _eligible(bill: AccountBill, charges: frozenset[str]) -> Decimal:
    return sum(
        (
            x.rounded.amount
            for x in bill.lines
            if x.kind == "charge" and (not charges or x.charge in charges)
        ),
        Decimal(0),
    )


def _discounted(result: RatingResult, usage, code: PromoCode) -> RatingResult:
    return chain(PromoDiscount(code)).apply_result(result, RuleContext.for_result(result, usage))


@st.composite
def rated(draw: st.DrawFn) -> tuple[RatingResult, list[cloudrate.UsageRecord]]:
    plan = draw(plans())
    usage = draw(usage_for(plan, period=OCTOBER))
    return cloudrate.rate(plan, usage, OCTOBER), usage


class TestCap:
    def test_full_promo_on_the_sample(self):
        """With 100% the sample account initech's bill came to -0.01 EUR: its exact lines
        add up to 0.01 more than its rounded lines."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = list(cloudrate.read_usage(cloudrate.sample_usage_path()))
        result = cloudrate.rate(plan, usage)
        applied = _discounted(result, usage, PromoCode(code="FREE-2222", percent=100))
        for before, after in zip(result.bills, applied.bills, strict=True):
            (line,) = after.lines[len(before.lines) :]
            assert -line.rounded.amount <= _eligible(before, frozenset())
            assert after.total.amount >= 0
        initech = applied.bill("initech")
        assert initech.lines[-1].rounded.amount == -_eligible(result.bill("initech"), frozenset())
        assert initech.total.amount == 0

    @settings(max_examples=150, deadline=None)
    @given(data=st.data(), percent=PERCENTS)
    def test_discount_at_most_what_it_discounts(self, data, percent):
        """For any plan, usage, percent and choice of charges: the discount is at most the
        eligible lines' rounded sum, the bill never goes below zero, and the discount is
        the policy's rounding of the exact percentage wherever that fits."""
        result, usage = data.draw(rated())
        names = sorted({c.name for c in result.plan.charges})
        charges = frozenset(data.draw(st.lists(st.sampled_from(names), unique=True)))
        code = PromoCode(code="PROMO-2222", percent=percent, charges=charges)
        applied = _discounted(result, usage, code)
        for before, after in zip(result.bills, applied.bills, strict=True):
            added = after.lines[len(before.lines) :]
            base = _eligible(before, charges)
            discount = -sum((x.rounded.amount for x in added), Decimal(0))
            assert 0 <= discount <= max(base, Decimal(0))
            if all(x.rounded.amount >= 0 for x in before.lines):
                assert after.total.amount >= 0
            policy, currency = result.plan.rounding, str(before.total.currency.code)
            for line in added:
                assert line.rounded.amount == max(policy.round(line.amount.amount, currency), -base)
