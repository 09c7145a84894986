"""Estimates with cost decimals shown or billed; the 0.5923 example of
docs/rules/cost-decimals.md: 50 GB for October 2026 at 0.011846 EUR per GB-month."""

from __future__ import annotations

from decimal import Decimal

import pytest
from moneyed import Money

import cloudrate
from cloudrate.invoice import Customer, assemble
from cloudrate.portal.estimation import HourlyUsage, estimate, instance_usage
from cloudrate.rules import CostDecimals

PLAN = cloudrate.load_plan("""
name: Volumes
currency: EUR
metrics: {volume_gb: {unit: GB-month, usage_unit: GB-hour}}
charges:
  - {name: storage, service: Storage, metric: volume_gb, model: per_unit, unit_price: "0.011846"}
""")
OCTOBER = cloudrate.BillingPeriod.month(2026, 10)  # UTC, 744 hours
DISK = [HourlyUsage(metric="volume_gb", quantity=50, unit="GB-hour")]
NOV = cloudrate.BillingPeriod.month(2026, 11, "Europe/Berlin")  # 720 hours


@pytest.mark.parametrize(
    ("decimals", "monthly", "billed"),
    [
        (CostDecimals(4), "0.5923", "0.59"),  # shown to 4, billed to EUR's 2
        (CostDecimals(2), "0.59", "0.59"),
        (CostDecimals(4, applies_to="billed"), "0.5923", "0.5923"),  # billed to 4
        (CostDecimals(2, applies_to="billed"), "0.59", "0.59"),
    ],
)
def test_worked_example_on_and_off(decimals, monthly, billed):
    """50 x 0.011846 = 0.5923 EUR exactly; shown with the cost decimals either way, but
    billed to 4 decimals only when they are billed."""
    est = estimate(PLAN, DISK, OCTOBER, decimals=decimals)
    assert est.monthly == Money("0.5923", "EUR")  # the exact estimate never changes
    assert est.billed == Money(billed, "EUR")
    shown = est.to_dict()
    assert shown["monthly"] == monthly
    assert shown["lines"][0]["monthly"] == monthly


@pytest.mark.parametrize(
    ("decimals", "invoice_decimals"),
    [
        (CostDecimals(4), 4),
        (CostDecimals(0), 2),  # an invoice never hides a settled digit
        (CostDecimals(4, applies_to="billed"), 4),
        (CostDecimals(2, applies_to="billed"), 2),
    ],
)
def test_estimate_matches_the_invoice_of_the_same_usage(decimals, invoice_decimals):
    """Billed: the estimate shows what the invoice bills; display: what it shows is the
    exact cost, and the invoice bills at the settlement precision."""
    usage = [
        cloudrate.UsageRecord(
            account="acme",
            metric="volume_gb",
            quantity=50 * 744,
            start=OCTOBER.start,
            end=OCTOBER.end,
            resource_id="vol-1",
        )
    ]
    result = cloudrate.rate(PLAN, usage, rounding=decimals.rounding(PLAN.rounding))
    invoice = assemble(
        result,
        Customer(id="acme", name="ACME"),
        display_decimals=decimals.invoice_decimals("EUR", result.rounding),
    )
    est = estimate(PLAN, DISK, OCTOBER, decimals=decimals)
    if decimals.billed:
        assert est.billed == invoice.total
        assert est.to_dict()["monthly"] == str(decimals.shown_settled(invoice.total))
    else:
        assert invoice.total == Money("0.59", "EUR")
        assert est.to_dict()["monthly"] == str(decimals.shown(Money("0.5923", "EUR")))
    assert invoice.display_decimals == invoice_decimals


def test_billed_decimals_round_every_line_and_the_hour():
    """The sample plan, 2 vCPU / 4 GB / 50 GB / one IP for November (720 h): 43.156 EUR
    (see docs/cost-estimation.md). Billed to 4 decimals the lines keep their exact
    0.1/0.01 figures and the hour is 43.156 / 720 = 0.059938..., billed 0.0599."""
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    spec = instance_usage(vcpus=2, memory_gb=4, disk_gb=50, public_ips=1)
    billed = estimate(plan, spec, NOV, decimals=CostDecimals(4, applies_to="billed"))
    assert billed.billed == Money("43.1560", "EUR")
    assert {line.charge: line.rounded.amount for line in billed.bill.lines}["support"] == Decimal(
        "3.5960"
    )
    assert billed.to_dict()["hourly"] == "0.0599"
    shown = estimate(plan, spec, NOV, decimals=CostDecimals(4))
    # Display only: support 3.596 is billed 3.60, the total billed 43.16; 43.1560 shown.
    assert shown.billed == Money("43.16", "EUR")
    assert shown.to_dict()["monthly"] == "43.1560"


def test_billed_decimals_carry_into_the_currency_conversion():
    """Converted bills are rounded by the same policy: 0.5923 EUR x 1.1172 = 0.66171756
    USD, billed 0.6617 with 4 billed decimals, 0.66 with display decimals."""
    fx = cloudrate.fx.ExchangeRate(
        base="EUR",
        quote="USD",
        rate="1.1172",
        on=cloudrate.BillingPeriod.month(2026, 10).start.date(),
    )
    billed = estimate(
        PLAN, DISK, OCTOBER, rate_to=fx, decimals=CostDecimals(4, applies_to="billed")
    )
    shown = estimate(PLAN, DISK, OCTOBER, rate_to=fx, decimals=CostDecimals(4))
    assert billed.billed == Money("0.6617", "USD")
    assert shown.billed == Money("0.66", "USD")
    assert billed.to_dict()["monthly"] == shown.to_dict()["monthly"] == "0.6617"
