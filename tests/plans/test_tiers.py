"""Tiers (``cloudrate.plans._tiers``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from moneyed import Money

from cloudrate import FloatNotAllowedError, PlanError, Tier


class TestTier:
    def test_fields(self):
        """A tier holds a Decimal bound, a price and an optional flat price."""
        tier = Tier("100", Money("0.10", "EUR"), Money("1", "EUR"))
        assert tier.up_to == Decimal(100)
        assert tier.flat_price == Money(1, "EUR")

    def test_open(self):
        """None is no limit."""
        assert Tier(None, Money(1, "EUR")).up_to is None

    def test_negative_bound(self):
        """A negative up_to is refused."""
        with pytest.raises(PlanError, match="must be >= 0"):
            Tier(-1, Money(1, "EUR"))

    def test_negative_flat_price(self):
        """A negative flat price is refused."""
        with pytest.raises(PlanError, match="flat_price: -1 EUR is negative"):
            Tier(None, Money(1, "EUR"), Money(-1, "EUR"))

    def test_float_bound(self):
        """A float bound is refused with the string/Decimal fix."""
        with pytest.raises(FloatNotAllowedError, match=r"string '10\.5'"):
            Tier(10.5, Money(1, "EUR"))

    def test_to_dict(self):
        """Plain data: amounts and bounds as strings, open as None."""
        assert Tier(Decimal("1e3"), Money("0.10", "EUR")).to_dict() == {
            "up_to": "1E+3",
            "unit_price": "0.10",
        }
