"""``profile: lago`` gives Lago's published figures without any other setting.

Sources:
- https://getlago.com/docs/guide/plans/charges/charge-models/volume (up to 10,000 calls at
  $0.0010, up to 50,000 at $0.0008, up to 100,000 at $0.0006, $0.0004 above, each with a
  $10 flat fee: "65,000 API calls would cost 65,000 x $0.0006 + $10 = $49");
- getlago/lago-api pull request 5760 ("apply flat fee even when usage is zero"): no usage
  pays the first range's flat fee;
- getlago/lago-api app/services/fees/charge_service.rb: each fee is
  ``amount.round(currency.exponent)``, Ruby's BigDecimal rounding, half up.
The options themselves are tested in tests/plans/test_zero_usage.py and
tests/plans/test_quantity_rounding.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate.period import BillingPeriod

OCTOBER = BillingPeriod.month(2026, 10, "UTC")
RANGES = ((10000, "0.0010"), (50000, "0.0008"), (100000, "0.0006"), (None, "0.0004"))


def api_plan(model: str, profile: str | None = "lago") -> cloudrate.Plan:
    return cloudrate.load_plan(
        {
            "name": "API",
            "currency": "USD",
            "profile": profile,
            "charges": [
                {
                    "name": "api_calls",
                    "metric": "api_calls",
                    "model": model,
                    "tiers": [
                        {"up_to": up_to, "unit_price": price, "flat_price": "10"}
                        for up_to, price in RANGES
                    ],
                }
            ],
        }
    )


def bill(plan: cloudrate.Plan, calls: int | None) -> Decimal:
    start = OCTOBER.start
    records = (
        []
        if calls is None
        else [
            cloudrate.UsageRecord(
                account="acme",
                metric="api_calls",
                quantity=calls,
                start=start,
                end=start + timedelta(hours=1),
            )
        ]
    )
    return cloudrate.rate(plan, records, OCTOBER, accounts=["acme"]).bill("acme").total.amount


def lago_volume(calls: int) -> Decimal:
    """Lago's volume rule as its page states it: every unit at the reached range, plus
    that range's flat fee; no usage is the first range's flat fee."""
    for up_to, price in RANGES:
        if up_to is None or calls <= up_to:
            exact = calls * Decimal(price) + 10
            return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    raise AssertionError("the last range is unbounded")


class TestVolume:
    def test_the_figure_on_lagos_page(self):
        assert bill(api_plan("volume"), 65000) == Decimal("49.00")

    @pytest.mark.parametrize("calls", [None, 0])
    def test_no_usage_pays_the_first_flat_fee_with_the_profile_only(self, calls):
        assert bill(api_plan("volume"), calls) == Decimal("10.00")
        assert bill(api_plan("volume", None), calls) == Decimal("0")

    @given(st.integers(min_value=0, max_value=10**7))
    def test_every_quantity_as_lagos_rule_says(self, calls):
        assert bill(api_plan("volume"), calls) == lago_volume(calls)


def test_the_profile_leaves_a_plain_percentage_alone():
    """zero_usage applies to percentages in tiers only (a plain percent refuses it)."""
    plan = cloudrate.load_plan(
        {
            "name": "p",
            "currency": "USD",
            "profile": "lago",
            "charges": [
                {"name": "vm", "metric": "vm", "model": "per_unit", "unit_price": "1"},
                {"name": "tax", "model": "percentage", "of": ["vm"], "percent": "3"},
            ],
        }
    )
    assert plan.charge("tax").model.zero_usage == "free"


def test_first_flat_fee_applies_to_graduated_charges_too():
    graduated = api_plan("graduated")
    assert graduated.charge("api_calls").model.zero_usage == "first_flat_fee"
    assert bill(graduated, None) == Decimal("10.00")


def test_an_explicit_free_wins_over_the_profile():
    data = cloudrate.dump_plan(api_plan("volume", None))
    data["charges"][0]["zero_usage"] = "free"
    plan = cloudrate.load_plan({**data, "profile": "lago"})
    assert bill(plan, None) == Decimal("0")
