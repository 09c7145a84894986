"""Stripe's published examples reproduced, and what ``profile: stripe`` changes.

Sources:
- tiered pricing: https://docs.stripe.com/subscriptions/pricing-models/tiered-pricing
  (fonts: 1-5 at 7 USD, 6-10 at 6.50 USD, 11+ at 6 USD; volume: 5 fonts 35 USD, 6 fonts
  39 USD; graduated: each tier's units at that tier's price);
- prorations: https://docs.stripe.com/billing/subscriptions/prorations ("Stripe prorates
  to the second"; 10 USD to 20 USD halfway through: 5 USD and 10 USD).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate.billing import BillingCustomer, Subscription, rate_customer
from cloudrate.invoice import Customer
from cloudrate.period import BillingPeriod

#: (up_to, unit price) of the fonts example, the last tier unbounded.
TIERS = ((5, Decimal(7)), (10, Decimal("6.50")), (None, Decimal(6)))


def fonts_plan(profile: str | None = "stripe") -> cloudrate.Plan:
    tiers = [{"up_to": up_to, "unit_price": str(price)} for up_to, price in TIERS]
    return cloudrate.load_plan(
        {
            "name": "Typographic",
            "currency": "USD",
            "profile": profile,
            "charges": [
                {"name": mode, "metric": "fonts", "model": mode, "tiers": tiers}
                for mode in ("volume", "graduated")
            ],
        }
    )


def stripe_volume(quantity: int) -> Decimal:
    """Stripe's volume rule as its page states it: every unit at the reached tier's price."""
    for up_to, price in TIERS:
        if up_to is None or quantity <= up_to:
            return quantity * price
    raise AssertionError("the last tier is unbounded")


def stripe_graduated(quantity: int) -> Decimal:
    """Stripe's graduated rule: the units inside each tier at that tier's price."""
    total, lower = Decimal(0), 0
    for up_to, price in TIERS:
        upper = quantity if up_to is None else min(quantity, up_to)
        if upper > lower:
            total += (upper - lower) * price
        if up_to is None or quantity <= up_to:
            return total
        lower = up_to
    return total


class TestTieredPricing:
    def test_the_figures_printed_on_stripes_page(self):
        plan = fonts_plan()
        price = {name: plan.charge(name).model.price for name in ("volume", "graduated")}
        assert price["volume"](Decimal(5)).amount.amount == 35
        assert price["volume"](Decimal(6)).amount.amount == 39
        assert price["volume"](Decimal(1)).amount.amount == 7
        assert price["graduated"](Decimal(6)).amount.amount == Decimal("41.50")

    @given(st.integers(min_value=0, max_value=10**6))
    def test_every_quantity_as_stripes_rules_say(self, fonts):
        plan = fonts_plan()
        assert plan.charge("volume").model.price(Decimal(fonts)).amount.amount == (
            stripe_volume(fonts)
        )
        assert plan.charge("graduated").model.price(Decimal(fonts)).amount.amount == (
            stripe_graduated(fonts)
        )

    def test_tiers_are_the_same_with_and_without_the_profile(self):
        """The profile changes prorations only: tier rules already agree."""
        assert fonts_plan("stripe") == fonts_plan(None)


NOVEMBER = BillingPeriod.month(2026, 11, "UTC")  # 30 days


def seat_lines(change: datetime, profile: str | None) -> list[Decimal]:
    def plan(name: str, fee: str) -> cloudrate.Plan:
        return cloudrate.load_plan(
            {
                "name": name,
                "currency": "USD",
                "profile": profile,
                "charges": [{"name": "seat", "model": "flat", "price": fee}],
            }
        )

    customer = BillingCustomer(
        customer=Customer(id="c1", name="C1"),
        subscriptions=[
            Subscription(plan="Basic", start=NOVEMBER.start),
            Subscription(plan="Pro", start=change),
        ],
    )
    plans = {"Basic": plan("Basic", "10.00"), "Pro": plan("Pro", "20.00")}
    bill = rate_customer(customer, plans, [], NOVEMBER).bill
    return [line.rounded.amount for line in bill.lines]


def _cents(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class TestProrationsToTheSecond:
    def test_halfway_is_five_and_ten_dollars(self):
        """Stripe's page: 10 USD to 20 USD halfway through the period."""
        halfway = NOVEMBER.start + timedelta(days=15)
        assert seat_lines(halfway, "stripe") == [Decimal("5.00"), Decimal("10.00")]

    @given(st.integers(min_value=1, max_value=30 * 86400 - 1))
    def test_any_second_of_the_month(self, second):
        """Each side is its fee times the seconds it covers over the period's."""
        change = NOVEMBER.start + timedelta(seconds=second)
        whole = 30 * 86400
        expected = [
            _cents(Fraction(10) * Fraction(second, whole)),
            _cents(Fraction(20) * Fraction(whole - second, whole)),
        ]
        assert seat_lines(change, "stripe") == expected

    def test_without_the_profile_both_sides_count_the_day_of_the_change(self):
        noon = datetime(2026, 11, 16, 12, tzinfo=UTC)
        assert seat_lines(noon, "stripe") == [Decimal("5.17"), Decimal("9.67")]
        assert seat_lines(noon, None) == [
            _cents(Fraction(10) * Fraction(16, 30)),
            _cents(Fraction(20) * Fraction(15, 30)),
        ]

    @pytest.mark.parametrize("proration", ["days", "none"])
    def test_an_explicit_proration_overrides_the_profile(self, proration):
        plan = cloudrate.load_plan(
            {
                "name": "p",
                "currency": "USD",
                "profile": "stripe",
                "charges": [
                    {"name": "seat", "model": "flat", "price": "10.00", "proration": proration}
                ],
            }
        )
        assert plan.charge("seat").model.proration == proration
