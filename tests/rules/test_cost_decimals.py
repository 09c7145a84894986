"""Cost decimals: one switch says whether the digits are shown or billed."""

from __future__ import annotations

import pytest
from moneyed import Money

import cloudrate
from cloudrate.rules import COST_DECIMALS_USES, CostDecimals


def eur(value: str) -> Money:
    return Money(value, "EUR")


class TestSwitch:
    def test_uses_are_listed_and_display_is_the_default(self):
        assert COST_DECIMALS_USES == ("display", "billed")
        assert CostDecimals(4).applies_to == "display" and not CostDecimals(4).billed
        assert CostDecimals(4, applies_to="billed").billed

    def test_unknown_use_is_refused_naming_the_choices(self):
        with pytest.raises(
            cloudrate.PlanError, match=r"applies_to: must be one of display, billed"
        ):
            CostDecimals(4, applies_to="shown")  # type: ignore[arg-type]

    @pytest.mark.parametrize(("applies_to", "digits"), [("display", None), ("billed", 4)])
    def test_rounding_policy(self, applies_to, digits):
        """Display leaves the plan's policy alone; billed keeps its mode and placement and
        sets the digits."""
        plan_policy = cloudrate.RoundingPolicy(mode="half_even", placement="total")
        policy = CostDecimals(4, applies_to=applies_to).rounding(plan_policy)
        assert (policy.mode, policy.placement, policy.digits) == ("half_even", "total", digits)

    @pytest.mark.parametrize(
        ("decimals", "expected"),
        [
            (CostDecimals(4), 4),
            (CostDecimals(0), 2),  # never fewer than EUR's settled 2 decimals
            (CostDecimals(4, applies_to="billed"), 4),
            (CostDecimals(0, applies_to="billed"), 0),  # billed to whole euros
        ],
    )
    def test_invoice_decimals_never_hide_a_settled_digit(self, decimals, expected):
        assert decimals.invoice_decimals("EUR") == expected

    @pytest.mark.parametrize(
        ("decimals", "shown"),
        [
            (CostDecimals(4), "0.5923"),  # the exact amount, rounded to 4
            (CostDecimals(2), "0.59"),
            (CostDecimals(3), "0.592"),
            (CostDecimals(4, applies_to="billed"), "0.5900"),  # the billed 0.59, 4 decimals
        ],
    )
    def test_cost_shows_exact_for_display_and_billed_for_billed(self, decimals, shown):
        """0.5923 exact, billed 0.59 at the settlement precision."""
        assert str(decimals.cost(eur("0.5923"), eur("0.59"))) == shown

    def test_to_dict(self):
        assert CostDecimals(4, applies_to="billed").to_dict() == {
            "digits": 4,
            "applies_to": "billed",
        }
