"""The usage summary honours the cost decimals: displayed (exact costs rounded to them,
billed costs unchanged) or billed (rated with them). The 0.5923 example of
docs/rules/cost-decimals.md, and the sample data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from moneyed import Money

import cloudrate
from cloudrate.invoice import Customer, assemble
from cloudrate.portal.usage_view import (
    DateRange,
    billing_overview,
    report_csv,
    summary_table,
    usage_view,
)
from cloudrate.rules import CostDecimals

PLAN = cloudrate.load_plan("""
name: Volumes
currency: EUR
metrics:
  volume_gb: {unit: GB-month, usage_unit: GB-hour}
  vcpu_hours: {unit: vCPU-hour}
charges:
  - {name: storage, service: Storage, metric: volume_gb, model: per_unit, unit_price: "0.011846"}
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
""")
OCTOBER = cloudrate.BillingPeriod.month(2026, 10)  # UTC, 744 hours
RANGE = DateRange.custom(date(2026, 10, 1), date(2026, 10, 31))


def record(metric: str, quantity: str | int, rid: str) -> cloudrate.UsageRecord:
    return cloudrate.UsageRecord(
        account="acme",
        metric=metric,
        quantity=quantity,
        start=OCTOBER.start,
        end=OCTOBER.end,
        resource_id=rid,
    )


#: 50 GB all month: 50 x 0.011846 = 0.5923 EUR; 47.384 vCPU-hours x 0.0125 = 0.5923 EUR.
USAGE = [record("volume_gb", 50 * 744, "vol-1"), record("vcpu_hours", "47.384", "vm-1")]


def view(decimals: CostDecimals | None) -> cloudrate.portal.usage_view.UsageView:
    return usage_view(PLAN, USAGE, account="acme", date_range=RANGE, decimals=decimals)


class TestWorkedExample:
    def test_display_decimals_show_the_exact_cost(self):
        """4 display decimals: 0.5923 shown (not 0.59 padded to 0.5900); billed 0.59."""
        v = view(CostDecimals(4))
        storage = v.services[0].items[0]
        assert (storage.charge, storage.cost, storage.shown_cost) == (
            "storage",
            Money("0.59", "EUR"),
            Decimal("0.5923"),
        )
        assert v.total == Money("1.18", "EUR")  # billed: 0.59 + 0.59, unchanged
        assert v.shown == Decimal("1.1846")  # shown: 0.5923 + 0.5923
        assert v.card("cpu").shown == Decimal("0.5923")
        assert v.card("cpu").cost == Money("0.59", "EUR")

    def test_without_decimals_the_billed_costs_are_shown(self):
        """No cost decimals given: as before, the rounded costs."""
        v = view(None)
        assert v.services[0].items[0].shown == Decimal("0.59")
        assert v.shown == Decimal("1.18") and "cost_decimals" not in v.to_dict()

    def test_two_display_decimals_match_the_billed_costs(self):
        v = view(CostDecimals(2))
        assert [row.shown for row in v.services] == [Decimal("0.59"), Decimal("0.59")]
        assert v.shown == Decimal("1.18")

    def test_billed_decimals_are_billed_and_shown(self):
        """4 billed decimals: the usage is rated to 4 decimals, 0.5923 billed and shown."""
        v = view(CostDecimals(4, applies_to="billed"))
        storage = v.services[0].items[0]
        assert (storage.cost, storage.shown) == (Money("0.5923", "EUR"), Decimal("0.5923"))
        assert v.total == Money("1.1846", "EUR") and v.shown == Decimal("1.1846")

    @pytest.mark.parametrize(
        ("decimals", "shown"),
        [(CostDecimals(4), "0.5923"), (CostDecimals(4, applies_to="billed"), "0.5923")],
    )
    def test_every_output_shows_the_same_figures(self, decimals, shown):
        v = view(decimals)
        table = summary_table(v)
        assert [row[5] for row in table] == [Decimal(shown), Decimal(shown), Decimal("1.1846")]
        data = v.to_dict()
        assert data["services"][0]["items"][0]["cost"] == shown
        assert data["services"][0]["cost"] == shown
        assert data["total"] == "1.1846"
        assert data["cards"][0]["cost"] == shown  # cpu
        assert data["cost_decimals"] == decimals.to_dict()
        assert f",{shown},EUR" in report_csv(v)
        assert "1.1846" in v._repr_html_()

    @pytest.mark.parametrize(
        "decimals",
        [CostDecimals(4), CostDecimals(2), CostDecimals(4, applies_to="billed")],
    )
    def test_summary_agrees_with_the_invoice(self, decimals):
        """Billed decimals: the summary's costs are the invoice's lines. Display decimals:
        the summary shows the exact cost, the invoice bills the same lines rounded to the
        settlement precision as the summary's billed cost."""
        v = view(decimals)
        result = cloudrate.rate(PLAN, USAGE, rounding=decimals.rounding(PLAN.rounding))
        invoice = assemble(result, Customer(id="acme", name="ACME"))
        assert v.total == invoice.total
        lines = {line.charge: line.amount for line in invoice.lines}
        for item in (i for row in v.services for i in row.items):
            assert item.cost == lines[item.charge]
            if decimals.billed:
                assert item.shown == decimals.shown_settled(lines[item.charge])


def test_rows_add_up_their_shown_items():
    """Display decimals: each row is the sum of its items' shown costs and the total the
    sum of the rows, as the page's Total Estimated Bill row says. Sample data, acme, the
    last week of October."""
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    usage = list(cloudrate.read_usage(cloudrate.sample_usage_path()))
    week = DateRange.custom(date(2026, 10, 25), date(2026, 10, 31), "Europe/Berlin")
    plain = usage_view(plan, usage, account="acme", date_range=week)
    shown = usage_view(plan, usage, account="acme", date_range=week, decimals=CostDecimals(4))
    assert shown.total == plain.total == Money("59.18", "EUR")  # billed, unchanged
    for row in shown.services:
        assert row.shown == sum((i.shown for i in row.items), Decimal(0))
        for item in row.items:
            assert -item.shown.as_tuple().exponent == 4
    assert shown.shown == sum((r.shown for r in shown.services), Decimal(0))
    # The compute item is 1183 vCPU-hours x 0.0125 = 14.7875 exactly, shown 14.7875.
    compute = next(i for r in shown.services for i in r.items if i.charge == "compute")
    assert (compute.cost, compute.shown) == (Money("14.79", "EUR"), Decimal("14.7875"))


@pytest.mark.parametrize(
    ("decimals", "total_usage"),
    [(None, "1.18"), (CostDecimals(4), "1.18"), (CostDecimals(4, applies_to="billed"), "1.1846")],
)
def test_billing_overview_passes_the_decimals_on(decimals, total_usage):
    """The overview's cards show with the decimals; billed decimals bill its month."""
    ov = billing_overview(PLAN, USAGE, account="acme", today=date(2026, 10, 31), decimals=decimals)
    assert ov.notification.total_usage == Money(total_usage, "EUR")
    cpu = next(c for c in ov.consumed if c.key == "cpu")
    assert cpu.shown == (Decimal("0.59") if decimals is None else Decimal("0.5923"))
