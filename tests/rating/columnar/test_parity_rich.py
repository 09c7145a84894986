"""Hypothesis: rich plans (every aggregation, selectors, flat fees, percentage, minimum)
and usage with attributes and resources rate the same through both paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

pytest.importorskip("pyarrow")

import cloudrate
from cloudrate import BillingPeriod, RoundingPolicy, UsageRecord
from cloudrate.plans import (
    AGGREGATIONS,
    PRORATIONS,
    Charge,
    Flat,
    Metric,
    Minimum,
    Percentage,
    Plan,
)
from cloudrate.rating.columnar import (
    account_totals,
    combine_partials,
    finish,
    partial_aggregate,
    rate_table,
    to_table,
)
from cloudrate.rating.columnar._fast import _vectorisable
from cloudrate.testing import charges, prices, quantities

T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCT = BillingPeriod.month(2026, 10, "UTC")
METRICS = ("m0", "m1", "m2")


@st.composite
def rich_plans(draw: st.DrawFn, vectorised: bool = False) -> Plan:
    """Plans of every kind; *vectorised* keeps to what account_totals prices on integers."""
    kinds = ("sum",) if vectorised else AGGREGATIONS
    metrics = [Metric(name=m, aggregation=draw(st.sampled_from(kinds))) for m in METRICS]
    items: list[Charge] = []
    for metric in METRICS:
        for k in range(draw(st.integers(1, 2))):
            name = f"{metric}_{k}"
            where = draw(
                st.sampled_from(
                    [{}, {"zone": "eu"}, {"zone": ["eu", "us"]}, {"zone": "us", "tier": "gold"}]
                )
            )
            if not vectorised and draw(st.integers(0, 4)) == 0:
                model = Flat(
                    Money(draw(prices(max_value=Decimal(100), places=2)), "EUR"),
                    proration=draw(st.sampled_from(PRORATIONS)),
                )
                items.append(Charge(name=name, metric=metric, model=model, where=where))
            else:
                c = draw(charges("EUR", metric=metric, name=name))
                items.append(
                    Charge(
                        name=name,
                        metric=metric,
                        model=c.model,
                        where=where,
                        free_units=c.free_units,
                    )
                )
    names = [c.name for c in items]
    if draw(st.booleans()):
        items.append(Charge(name="fee", model=Flat(Money("9.99", "EUR"))))
    if not vectorised and draw(st.booleans()):
        of = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        items.append(
            Charge(
                name="support",
                model=Percentage(
                    percent=draw(st.decimals(min_value=0, max_value=50, places=2)),
                    of=of,
                    currency="EUR",
                ),
            )
        )
    if not vectorised and draw(st.booleans()):
        items.append(
            Charge(
                name="minimum",
                model=Minimum(amount=Money(draw(prices(max_value=Decimal(50), places=2)), "EUR")),
            )
        )
    policy = RoundingPolicy(
        mode=draw(st.sampled_from(["half_up", "half_even", "down"])),
        placement=draw(st.sampled_from(["line", "total"])),
    )
    return Plan(name="rich", currency="EUR", charges=items, metrics=metrics, rounding=policy)


@st.composite
def rich_usage(draw: st.DrawFn) -> list[UsageRecord]:
    out = []
    for i in range(draw(st.integers(0, 25))):
        hour = draw(st.integers(0, 30 * 24 - 1))
        length = draw(st.integers(0, 48))
        start = T0 + timedelta(hours=hour, seconds=draw(st.sampled_from([0, 0, 1, 59])))
        end = min(start + timedelta(hours=length), OCT.end)
        attributes = {}
        zone = draw(st.sampled_from([None, "eu", "us"]))
        if zone:
            attributes["zone"] = zone
        if draw(st.booleans()):
            attributes["tier"] = draw(st.sampled_from(["gold", "silver"]))
        out.append(
            UsageRecord(
                account=draw(st.sampled_from(["a", "b", "c"])),
                metric=draw(st.sampled_from([*METRICS, "unknown"])),
                quantity=draw(
                    quantities(max_value=Decimal(10**4), places=draw(st.sampled_from([0, 2, 6])))
                ),
                start=start,
                end=end,
                record_id=f"r{i}",  # one record each: copies are dropped (test_dedup.py)
                resource_id=draw(st.sampled_from(["x", "y", "z"])),
                attributes=attributes,
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(plan=rich_plans(), records=rich_usage(), split=st.integers(1, 5))
def test_rich_plans_and_usage(plan, records, split):
    """Any such plan and usage: equal JSON via rate_table, partitions, and equal totals."""
    expected = cloudrate.rate(plan, records, OCT, accounts=["idle"])
    table = to_table(records)
    got = rate_table(
        plan, table.to_batches(max_chunksize=split) if records else table, OCT, accounts=["idle"]
    )
    assert got.to_json() == expected.to_json()
    parts = [
        partial_aggregate(plan, table.slice(i, split), OCT)
        for i in range(0, max(table.num_rows, 1), split)
    ]
    assert (
        finish(plan, combine_partials(parts), OCT, accounts=["idle"]).to_json()
        == expected.to_json()
    )
    fast = account_totals(plan, table, OCT, accounts=["idle"])
    assert dict(zip(fast["account"].to_pylist(), fast["total"].to_pylist(), strict=True)) == {
        a: m.amount for a, m in expected.totals().items()
    }


@settings(max_examples=40, deadline=None)
@given(plan=rich_plans(vectorised=True), records=rich_usage(), split=st.integers(1, 5))
def test_vectorised_totals_with_selectors(plan, records, split):
    """Usage charges with selectors and account fees: the integer totals equal rate()'s."""
    assert _vectorisable(plan)
    test_rich_plans_and_usage.hypothesis.inner_test(plan, records, split)
