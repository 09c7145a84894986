"""Amounts beyond the largest cloudrate bills are refused the same way by both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

import cloudrate
from cloudrate._money import MAX_AMOUNT
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.rating import rate
from cloudrate.rating.columnar import account_totals, to_table

OCTOBER = BillingPeriod.month(2026, 10)


def _plan(price: str) -> cloudrate.Plan:
    return cloudrate.load_plan(
        "name: P\ncurrency: EUR\ncharges:\n"
        f"  - {{name: c, metric: m, model: per_unit, unit_price: '{price}'}}\n"
    )


def _usage(quantity: Decimal) -> list[cloudrate.UsageRecord]:
    t = datetime(2026, 10, 2, tzinfo=UTC)
    return [cloudrate.UsageRecord(account="a", metric="m", quantity=quantity, start=t, end=t)]


@pytest.mark.parametrize("engine", ["rate", "columnar"])
def test_an_amount_at_the_bound_is_refused_and_just_below_it_is_billed(engine: str) -> None:
    def run(quantity: Decimal) -> Decimal:
        plan, usage = _plan("1000000"), _usage(quantity)
        if engine == "rate":
            return rate(plan, usage, OCTOBER).bill("a").total.amount
        totals = account_totals(plan, to_table(usage), OCTOBER)
        return Decimal(totals["total"][0].as_py())

    below = Decimal(10**30 - 1)  # exact: the default context would round it
    assert run(below) == Decimal((10**30 - 1) * 10**6)
    with pytest.raises(RatingError, match="beyond the largest amount"):
        run(Decimal(10**30))
    assert Decimal(10**36) == MAX_AMOUNT
