"""Volume tiers (``cloudrate.plans._volume``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from moneyed import Money

from cloudrate import PlanError, Tier, Volume
from cloudrate.testing import quantities, tiers

D = Decimal


def _lago_api_calls() -> Volume:
    """Lago's volume table (https://getlago.com/docs/guide/plans/charges/charge-models/volume):
    0-10,000 at $0.0010, 10,001-50,000 at $0.0008, 50,001-100,000 at $0.0006, above at
    $0.0004, each with a $10 fixed fee."""
    fee = Money("10", "USD")
    return Volume(
        tiers=[
            Tier(D(10000), Money("0.0010", "USD"), fee),
            Tier(D(50000), Money("0.0008", "USD"), fee),
            Tier(D(100000), Money("0.0006", "USD"), fee),
            Tier(None, Money("0.0004", "USD"), fee),
        ]
    )


class TestVolume:
    def test_worked_example(self):
        """Lago's published example: 65,000 API calls cost 65,000 x $0.0006 + $10 = $49."""
        expected = D(65000) * D("0.0006") + D(10)
        assert expected == D(49)
        assert _lago_api_calls().price(D(65000)).amount == Money(expected, "USD")

    def test_total_drops_when_crossing_a_boundary(self):
        """In the same table, 50,000 calls cost 50,000 x 0.0008 + 10 = $50 but one call more
        lands in the cheaper tier: 50,001 x 0.0006 + 10 = $40.0006."""
        model = _lago_api_calls()
        at_bound = D(50000) * D("0.0008") + 10
        above = D(50001) * D("0.0006") + 10
        assert model.price(D(50000)).amount.amount == at_bound == D(50)
        assert model.price(D(50001)).amount.amount == above == D("40.0006")
        assert above < at_bound

    @given(tiers(), quantities())
    def test_all_units_at_the_tier_holding_the_total(self, tier_list, quantity):
        """The price is quantity x the price of the first tier whose up_to holds it."""
        model = Volume(tiers=tier_list)
        if quantity == 0:
            assert model.price(quantity).amount.amount == 0
            return
        tier = next(t for t in tier_list if t.up_to is None or quantity <= t.up_to)
        flat = tier.flat_price.amount if tier.flat_price is not None else 0
        assert model.price(quantity).amount.amount == quantity * tier.unit_price.amount + flat

    def test_up_to_is_inclusive(self):
        """Exactly 100 is in the tier ending at 100; 100.5 is above it."""
        model = Volume(tiers=[Tier(D(100), Money("1.00", "EUR")), Tier(None, Money("0.80", "EUR"))])
        assert model.price(D(100)).amount.amount == D(100)
        assert model.price(D("100.5")).amount.amount == D("100.5") * D("0.80")

    def test_explains_the_tier_used(self):
        """The detail names the tier and its bounds, and the flat price separately."""
        text = _lago_api_calls().price(D(65000)).explain()
        assert "tier 3 (50000 to 100000): 65000 x 0.0006 USD" in text
        assert "tier 3 (50000 to 100000) flat price: 10 USD" in text

    def test_last_tier_must_be_open(self):
        """A bounded last tier is refused."""
        with pytest.raises(PlanError, match="last tier must have up_to=None"):
            Volume(tiers=[Tier(D(10), Money(1, "EUR"))])

    def test_to_dict(self):
        """Plain data as a plan file writes it."""
        assert Volume(tiers=[Tier(None, Money("0.5", "EUR"))]).to_dict() == {
            "model": "volume",
            "tiers": [{"up_to": None, "unit_price": "0.5"}],
        }
