"""Package (block) pricing (``cloudrate.plans._package``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import given
from moneyed import Money

import cloudrate
from cloudrate import Charge, Package, PlanError, UsageRecord
from cloudrate.testing import prices, quantities

D = Decimal


class TestPackage:
    @given(quantities(min_value=D(1), max_value=D(1000), places=0), prices(), quantities())
    def test_started_blocks(self, size, price, quantity):
        """Every started block is charged: ceil(quantity / size) blocks."""
        blocks = (quantity / size).to_integral_value(rounding=ROUND_CEILING)
        assert Package(size, Money(price, "EUR")).price(quantity).amount.amount == blocks * price
        assert blocks * size >= quantity > (blocks - 1) * size or quantity == 0

    @pytest.mark.parametrize(("tokens", "packages"), [(10, 1), (1_000_000, 1), (1_500_000, 2)])
    def test_worked_example_chargebee(self, tokens, packages):
        """Chargebee's package example (https://www.chargebee.com/docs/billing/2.0/
        product-catalog/package-pricing): $1.25 per 1M tokens; 10 tokens bill one package,
        1,000,000 one, 1,500,000 two."""
        model = Package(D(1_000_000), Money("1.25", "USD"))
        assert model.price(D(tokens)).amount.amount == packages * D("1.25")

    def test_worked_example_lago_with_free_units(self):
        """Lago's package example (https://getlago.com/docs/guide/plans/charges/
        charge-models/package): $5 per 100 units, first 100 units free; 201 units cost
        $0 + $5 + $5 = $10. Here the free units are the charge's free_units."""
        plan = cloudrate.Plan(
            name="API",
            currency="USD",
            charges=[
                Charge(
                    name="calls",
                    metric="api_calls",
                    free_units=D(100),
                    model=Package(D(100), Money(5, "USD")),
                )
            ],
        )
        t0, t1 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
        result = cloudrate.rate(
            plan, [UsageRecord(account="a", metric="api_calls", quantity=201, start=t0, end=t1)]
        )
        line = result.bill("a").line("calls")
        assert (line.free_quantity, line.quantity) == (D(100), D(101))
        assert line.rounded.amount == D(0) + 5 + 5

    def test_block_size_must_be_positive(self):
        """A block of 0 units cannot be priced."""
        with pytest.raises(PlanError, match="block_size: must be above 0"):
            Package(D(0), Money(5, "EUR"))

    def test_to_dict(self):
        """Plain data as a plan file writes it."""
        assert Package(D(100), Money("5.00", "EUR")).to_dict() == {
            "model": "package",
            "block_size": "100",
            "block_price": "5.00",
        }
