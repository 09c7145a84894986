"""Per-unit pricing (``cloudrate.plans._per_unit``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from moneyed import Money

from cloudrate import FloatNotAllowedError, PerUnit, PlanError
from cloudrate.testing import prices, quantities


class TestPerUnit:
    @given(prices(), quantities(), quantities())
    def test_additive(self, price, a, b):
        """Pricing a and b separately adds up to pricing a + b, exactly."""
        model = PerUnit(Money(price, "EUR"))
        assert model.price(a).amount + model.price(b).amount == model.price(a + b).amount

    def test_worked_example(self):
        """Lago's standard model (https://getlago.com/docs/guide/plans/charges/charge-models/
        standard): 1,000 API calls at $0.05 cost $50."""
        assert PerUnit(Money("0.05", "USD")).price(Decimal(1000)).amount == Money(50, "USD")

    def test_exact_sub_cent_prices(self):
        """720 hours at 0.0125 is exactly 9.0000, no float drift."""
        priced = PerUnit(Money("0.0125", "EUR")).price(Decimal(720))
        assert str(priced.amount.amount) == "9.0000"
        assert priced.explain() == "per unit: 720 x 0.0125 EUR = 9.0000 EUR"

    def test_float_price_refused(self):
        """A float price is refused with a message saying to pass a string or Decimal."""
        with pytest.raises(FloatNotAllowedError, match=r"pass Decimal\('0.02'\) or the string"):
            PerUnit(0.02)

    def test_price_needs_a_currency(self):
        """A bare number has no currency: the error shows how to give one."""
        with pytest.raises(PlanError, match="has no currency"):
            PerUnit("0.02")
        assert PerUnit(("0.02", "EUR")).unit_price == Money("0.02", "EUR")

    def test_negative_price_refused(self):
        """Negative prices are refused."""
        with pytest.raises(PlanError, match="unit_price: -1 EUR is negative"):
            PerUnit(Money(-1, "EUR"))

    def test_to_dict(self):
        """Plain data keeps the price's digits as written."""
        assert PerUnit(Money("0.0100", "EUR")).to_dict() == {
            "model": "per_unit",
            "unit_price": "0.0100",
        }
