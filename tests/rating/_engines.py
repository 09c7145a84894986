"""Rating one plan with every engine: a helper the rating tests share."""

from __future__ import annotations

import cloudrate
from cloudrate import BillingPeriod, UsageRecord
from cloudrate.plans import Plan
from cloudrate.rating.columnar import (
    account_totals,
    combine_partials,
    finish,
    partial_aggregate,
    rate_table,
    to_table,
)


def every_engine(
    plan: Plan, records: list[UsageRecord], period: BillingPeriod, accounts: tuple[str, ...] = ()
) -> cloudrate.RatingResult:
    """rate()'s result, after checking the columnar engine, its totals and partials of
    one record each, combined, give the same."""
    by_records = cloudrate.rate(plan, records, period, accounts=accounts)
    expected = by_records.to_json()
    table = to_table(records)
    assert rate_table(plan, table, period, accounts=accounts).to_json() == expected
    totals = account_totals(plan, table, period, accounts=accounts)
    assert dict(zip(totals["account"].to_pylist(), totals["total"].to_pylist(), strict=True)) == {
        a: m.amount for a, m in by_records.totals().items()
    }
    parts = [partial_aggregate(plan, table.slice(i, 1), period) for i in range(len(records))]
    combined = finish(plan, combine_partials(parts[::-1]), period, accounts=accounts)
    assert combined.to_json() == expected
    return by_records
