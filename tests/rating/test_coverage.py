"""Rating one side of a plan change: a Coverage of part of the period."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

import cloudrate
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.rating import Coverage, rate

OCTOBER = BillingPeriod.month(2026, 10)  # 31 days
SIXTEENTH = datetime(2026, 10, 16, tzinfo=UTC)
PLAN = cloudrate.load_plan(
    """
name: Basic
currency: EUR
charges:
  - {name: fee, model: flat, price: "30.00"}
  - {name: vm, metric: vm_hours, model: flat, price: "31.00"}
  - {name: storage, metric: gb_months, model: per_unit, unit_price: "0.10", free_units: 100}
  - {name: floor, model: minimum, amount: "93.00"}
"""
)


def _record(metric: str, quantity: str, day: int, hours: int = 1) -> cloudrate.UsageRecord:
    start = datetime(2026, 10, day, tzinfo=UTC)
    end = datetime(2026, 10, day, hours, tzinfo=UTC)
    return cloudrate.UsageRecord(
        account="a", metric=metric, quantity=quantity, start=start, end=end, resource_id="vm-1"
    )


FIRST_HALF = Coverage(start=OCTOBER.start, end=SIXTEENTH, label="plan Basic")
USAGE = [_record("gb_months", "200", 2), _record("vm_hours", "1", 3)]


def test_the_first_fifteen_days_bill_fifteen_thirty_firsts_of_what_is_per_period() -> None:
    bill = rate(PLAN, USAGE, OCTOBER, coverage=FIRST_HALF).bill("a")
    rounded = {x.charge: x.rounded.amount for x in bill.lines}
    assert rounded["fee"] == Decimal("14.52")  # 30.00 x 15/31 = 14.516...
    assert rounded["vm"] == Decimal("1.00")  # one day of 31 of a 31.00 fee, as without a change
    # 100 free units x 15/31 = 48.387...; (200 - 48.387...) x 0.10 = 15.1612...
    assert rounded["storage"] == Decimal("15.16")
    # minimum 93.00 x 15/31 = 45.00, less the rounded lines so far (placement "line")
    assert bill.line("floor").rounded.amount == Decimal("45.00") - Decimal("14.52") - Decimal(
        "1.00"
    ) - Decimal("15.16")
    assert bill.total.amount == Decimal("45.00")
    for line in bill.lines:
        assert "plan Basic: covers 2026-10-01" in line.explain()


def test_without_a_coverage_nothing_is_prorated() -> None:
    bill = rate(PLAN, USAGE, OCTOBER).bill("a")
    rounded = {x.charge: x.rounded.amount for x in bill.lines}
    assert rounded["fee"] == Decimal("30.00")
    assert rounded["storage"] == Decimal("10.00")  # (200 - 100) x 0.10
    assert "covers" not in bill.line("fee").explain()


def test_the_two_sides_of_a_change_share_the_fee_as_fifteen_and_sixteen_days() -> None:
    second = Coverage(start=SIXTEENTH, end=OCTOBER.end, label="plan Pro")
    fee = cloudrate.load_plan(
        "name: Pro\ncurrency: EUR\ncharges:\n  - {name: fee, model: flat, price: '62.00'}\n"
    )
    first = rate(fee, [], OCTOBER, accounts=["a"], coverage=FIRST_HALF).bill("a")
    last = rate(fee, [], OCTOBER, accounts=["a"], coverage=second).bill("a")
    assert first.line("fee").rounded.amount == Decimal("30.00")  # 62 x 15/31
    assert last.line("fee").rounded.amount == Decimal("32.00")  # 62 x 16/31


def test_usage_outside_the_coverage_is_refused() -> None:
    with pytest.raises(RatingError, match="outside the period"):
        rate(PLAN, [_record("gb_months", "1", 20)], OCTOBER, coverage=FIRST_HALF)


def test_a_coverage_must_lie_in_the_period_and_come_with_one() -> None:
    november = Coverage(start=OCTOBER.end, end=datetime(2026, 11, 5, tzinfo=UTC))
    with pytest.raises(RatingError, match="reaches outside"):
        rate(PLAN, [], OCTOBER, accounts=["a"], coverage=november)
    with pytest.raises(RatingError, match="pass the period"):
        rate(PLAN, USAGE, coverage=FIRST_HALF)
    with pytest.raises(RatingError, match="not after"):
        Coverage(start=SIXTEENTH, end=SIXTEENTH)
