"""WHMCS CreateInvoice export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import cloudrate
from cloudrate.integrations.whmcs import whmcs_invoice

D1, D2 = date(2026, 11, 1), date(2026, 11, 15)


@pytest.fixture(name="bill", scope="module")
def _bill():
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    return cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path())).bill("acme")


def items(fields):
    n = sum(1 for k in fields if k.startswith("itemamount"))
    return [
        (fields[f"itemdescription{i}"], fields[f"itemamount{i}"], fields[f"itemtaxed{i}"])
        for i in range(1, n + 1)
    ]


def test_items_sum_to_the_bill_total(bill):
    """One item per line, numbered from 1, amounts adding up to the bill's total."""
    fields = whmcs_invoice(bill, userid=7, client_currency="EUR", date=D1, duedate=D2)
    rows = items(fields)
    assert len(rows) == len(bill.lines)
    assert sum(Decimal(a) for _, a, _ in rows) == bill.total.amount
    assert fields["date"] == "2026-11-01" and fields["duedate"] == "2026-11-15"
    assert all("e" not in a.lower() for _, a, _ in rows)  # plain decimals, no exponent


def test_draft_and_taxed(bill):
    fields = whmcs_invoice(
        bill,
        userid=7,
        client_currency="EUR",
        date=D1,
        duedate=D2,
        draft=True,
        taxed=True,
        paymentmethod="banktransfer",
    )
    assert fields["draft"] == "1" and "status" not in fields and "sendinvoice" not in fields
    assert fields["paymentmethod"] == "banktransfer"
    assert {t for _, _, t in items(fields)} == {"1"}


def test_refuses_other_currency_and_bad_ids(bill):
    with pytest.raises(cloudrate.CurrencyMismatchError):
        whmcs_invoice(bill, userid=7, client_currency="USD", date=D1, duedate=D2)
    with pytest.raises(cloudrate.PlanError, match="userid"):
        whmcs_invoice(bill, userid=0, client_currency="EUR", date=D1, duedate=D2)
    with pytest.raises(cloudrate.PlanError, match="draft"):
        whmcs_invoice(
            bill, userid=1, client_currency="EUR", date=D1, duedate=D2, draft=True, sendinvoice=True
        )
