"""Graduated tiers (``cloudrate.plans._graduated``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import (
    CurrencyMismatchError,
    FloatNotAllowedError,
    Graduated,
    PerUnit,
    PlanError,
    Tier,
    Volume,
)
from cloudrate.testing import prices, quantities, tiers

D = Decimal


def _oracle(tier_list, quantity):
    """Graduated price computed independently: clamp the quantity into each band."""
    total, lower = D(0), D(0)
    for tier in tier_list:
        upper = tier.up_to if tier.up_to is not None else max(quantity, lower)
        units = min(max(quantity - lower, D(0)), upper - lower)
        total += units * tier.unit_price.amount
        if quantity > lower and tier.flat_price is not None:
            total += tier.flat_price.amount
        lower = upper
    return total


class TestGraduated:
    @given(tiers(), quantities(), quantities())
    def test_price_never_decreases(self, tier_list, a, b):
        """Using more never costs less."""
        model, (lo, hi) = Graduated(tiers=tier_list), sorted((a, b))
        assert model.price(lo).amount.amount <= model.price(hi).amount.amount

    @given(tiers(), quantities())
    def test_matches_an_independent_computation(self, tier_list, quantity):
        """Each band is priced at its own price, plus its flat price once it is reached."""
        assert Graduated(tiers=tier_list).price(quantity).amount.amount == _oracle(
            tier_list, quantity
        )

    @given(prices(), quantities())
    def test_one_tier_is_volume_is_per_unit(self, price, quantity):
        """With one open tier and no flat price, graduated, volume and per unit agree."""
        tier = Tier(None, Money(price, "EUR"))
        expected = PerUnit(Money(price, "EUR")).price(quantity).amount
        assert Graduated(tiers=[tier]).price(quantity).amount == expected
        assert Volume(tiers=[tier]).price(quantity).amount == expected
        assert expected.amount == quantity * price

    @given(tiers(), quantities())
    def test_details_add_up_to_the_amount(self, tier_list, quantity):
        """The explanation's steps add up to the amount; units add up to the quantity."""
        priced = Graduated(tiers=tier_list).price(quantity)
        assert sum((d.amount.amount for d in priced.details), D(0)) == priced.amount.amount
        units = sum((d.quantity for d in priced.details if d.quantity is not None), D(0))
        assert units == quantity

    def test_worked_example_with_per_tier_flat_fees(self):
        """Lago's graduated example with a flat fee per tier, as published at
        https://getlago.com/docs/guide/plans/charges/charge-models/graduated-percentage:
        tiers 0-1,000 at 1% + $200, 1,001-10,000 at 2% + $300, above at 3% + $400.
        Transactions of $500, $550 and $4,000 in one period cost $205.00, $306.00 and
        $80.00: each tier's flat fee is charged once, when usage first reaches the tier.
        Priced per dollar (1% = 0.01 a unit), the period's total is their sum."""
        model = Graduated(
            tiers=[
                Tier(D(1000), Money("0.01", "USD"), Money("200", "USD")),
                Tier(D(10000), Money("0.02", "USD"), Money("300", "USD")),
                Tier(None, Money("0.03", "USD"), Money("400", "USD")),
            ]
        )
        first = D(500) * D("0.01") + D(200)
        second = D(500) * D("0.01") + D(50) * D("0.02") + D(300)
        third = D(4000) * D("0.02")
        assert (first, second, third) == (D(205), D(306), D(80))
        assert model.price(D(500)).amount == Money(first, "USD")
        assert model.price(D(1050)).amount == Money(first + second, "USD")
        assert model.price(D(5050)).amount == Money(first + second + third, "USD")

    def test_worked_example_without_flat_fees(self):
        """Zuplo's published graduated example
        (https://zuplo.com/docs/articles/monetization/pricing-models): 0-1,000 at $0.10,
        1,001-10,000 at $0.05, above at $0.01; 15,000 units cost
        1,000 x 0.10 + 9,000 x 0.05 + 5,000 x 0.01 = $600."""
        model = Graduated(
            tiers=[
                Tier(D(1000), Money("0.10", "USD")),
                Tier(D(10000), Money("0.05", "USD")),
                Tier(None, Money("0.01", "USD")),
            ]
        )
        expected = D(1000) * D("0.10") + D(9000) * D("0.05") + D(5000) * D("0.01")
        assert expected == D(600)
        assert model.price(D(15000)).amount == Money(expected, "USD")

    def test_up_to_is_inclusive_and_fractions_fall_by_value(self):
        """Unit 100 is in the tier ending at 100; 100.5 puts half a unit in the next."""
        model = Graduated(
            tiers=[
                Tier(D(100), Money("0.10", "EUR"), Money("1", "EUR")),
                Tier(None, Money("0.05", "EUR"), Money("2", "EUR")),
            ]
        )
        assert model.price(D(100)).amount.amount == D(100) * D("0.10") + 1
        assert model.price(D("100.5")).amount.amount == D(10) + 1 + D("0.5") * D("0.05") + 2

    def test_zero_costs_nothing(self):
        """A quantity of 0 reaches no tier, so no flat price is charged either."""
        model = Graduated(tiers=[Tier(None, Money("0.10", "EUR"), Money("5", "EUR"))])
        assert model.price(D(0)).amount.amount == 0
        assert model.price(D(0)).details == ()

    def test_to_dict_writes_decimal_strings(self):
        """Plain data has amounts as strings and null for the open tier."""
        model = Graduated(
            tiers=[
                Tier(D(100), Money("0.10", "EUR"), Money("1.00", "EUR")),
                Tier(None, Money("0.05", "EUR")),
            ]
        )
        assert model.to_dict() == {
            "model": "graduated",
            "tiers": [
                {"up_to": "100", "unit_price": "0.10", "flat_price": "1.00"},
                {"up_to": None, "unit_price": "0.05"},
            ],
        }

    def test_last_tier_must_be_open(self):
        """A bounded last tier is rejected with a message saying the fix."""
        with pytest.raises(PlanError, match="last tier must have up_to=None"):
            Graduated(tiers=[Tier(D(10), Money(1, "EUR"))])

    def test_unsorted_tiers(self):
        """Tiers out of order are rejected, naming the tier and the previous bound."""
        with pytest.raises(PlanError, match=r"tier 2 up_to must be above 100.*sort tiers"):
            Graduated(
                tiers=[
                    Tier(D(100), Money(1, "EUR")),
                    Tier(D(50), Money(1, "EUR")),
                    Tier(None, Money(1, "EUR")),
                ]
            )

    def test_open_tier_in_the_middle(self):
        """Only the last tier may be open."""
        with pytest.raises(PlanError, match="tier 1 has up_to=None but is not the last"):
            Graduated(tiers=[Tier(None, Money(1, "EUR")), Tier(None, Money(1, "EUR"))])

    def test_no_tiers(self):
        """An empty tier list is refused."""
        with pytest.raises(PlanError, match="at least one tier"):
            Graduated(tiers=[])

    @given(st.sampled_from(("USD", "JPY", "GBP")))
    def test_mixed_currencies(self, other):
        """Tiers in two currencies always raise CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError, match=f"tier 2 unit_price is in {other}"):
            Graduated(tiers=[Tier(D(10), Money(1, "EUR")), Tier(None, Money(1, other))])
        with pytest.raises(CurrencyMismatchError):
            Graduated(tiers=[Tier(None, Money(1, "EUR"), Money(1, other))])

    def test_negative_price(self):
        """A negative price is refused; credits are adjustments, not prices."""
        with pytest.raises(PlanError, match="negative; prices are >= 0"):
            Tier(None, Money("-0.01", "EUR"))

    def test_float_price(self):
        """A float price is refused with a message saying to pass a string or Decimal."""
        with pytest.raises(FloatNotAllowedError, match=r"string '0\.1'"):
            Tier(None, 0.1)
        with pytest.raises(FloatNotAllowedError):
            Tier(100.0, Money(1, "EUR"))


@given(st.integers(2, 6), st.data())
def test_tier_errors_count_from_one_as_explanations_do(count: int, data: st.DataObject) -> None:
    """An open tier before the last is named by its place counted from 1, the way a line's
    explanation names tiers ("tier 1 (0 to 100)")."""
    open_at = data.draw(st.integers(0, count - 2))
    tiers = [
        Tier(None if i == open_at else D(10 * (i + 1)), Money(1, "EUR")) for i in range(count - 1)
    ] + [Tier(None, Money(1, "EUR"))]
    with pytest.raises(PlanError, match=f"^tier {open_at + 1} has up_to=None"):
        Graduated(tiers=tiers)
