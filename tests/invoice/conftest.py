"""Fixtures for the invoice tests: a small EUR plan, its rated month, and bill builders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine, UsageRecord, load_plan, rate
from cloudrate.invoice import Customer

PLAN = """
name: Small
currency: EUR
charges:
  - {name: compute, description: vCPU, service: Compute, metric: vcpu_hours,
     model: per_unit, unit_price: "0.0125"}
  - {name: storage, description: Block storage, service: Storage, metric: volume_gb,
     model: per_unit, unit_price: "0.10"}
"""


def bill_of(
    *amounts: str, account: str = "acme", currency: str = "EUR", kinds: tuple[str, ...] = ()
) -> AccountBill:
    """A bill with one line per rounded amount (kind 'charge' unless *kinds* says)."""
    lines = [
        RatedLine.adjustment(
            account=account,
            charge=f"c{i}",
            description=f"Line {i}",
            amount=Money(a, currency),
            rounded=Money(a, currency),
            kind=kinds[i] if i < len(kinds) else "charge",
        )
        for i, a in enumerate(amounts)
    ]
    empty = AccountBill(
        account=account, lines=(), total=Money(0, currency), exact_total=Money(0, currency)
    )
    return empty.with_lines(lines)


@pytest.fixture(name="october")
def _october() -> BillingPeriod:
    return BillingPeriod.month(2026, 10, "UTC")


@pytest.fixture(name="acme")
def _acme() -> Customer:
    return Customer(
        id="acme",
        name="ACME GmbH",
        address=["Hauptstr. 1", "10115 Berlin"],
        tax_id="DE123456789",
        country="DE",
        locale="de_DE",
    )


@pytest.fixture(name="rated")
def _rated(october):
    plan = load_plan(PLAN)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    t1 = datetime(2026, 10, 31, tzinfo=UTC)
    usage = [
        UsageRecord(account="acme", metric="vcpu_hours", quantity="1441", start=t0, end=t1),
        UsageRecord(account="acme", metric="volume_gb", quantity="50", start=t0, end=t1),
        UsageRecord(account="globex", metric="vcpu_hours", quantity="10", start=t0, end=t1),
    ]
    return rate(plan, usage, october)


D = Decimal
