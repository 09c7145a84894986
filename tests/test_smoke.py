"""End-to-end: the sample plan and usage rate to bills whose totals add up."""

from __future__ import annotations

from decimal import Decimal

import cloudrate


def test_sample_month_rates_and_totals_add_up():
    """Every account total equals the sum of its rounded lines, and the demo plan loads."""
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    assert [b.account for b in result.bills] == ["acme", "globex", "initech"]
    for bill in result.bills:
        assert bill.total.amount == sum((line.rounded.amount for line in bill.lines), Decimal(0))
    assert result.unpriced == ()
    assert result.bill("initech").total.amount == Decimal("25.00")  # the minimum spend
