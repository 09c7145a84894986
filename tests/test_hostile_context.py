"""Money stays exact whatever the caller's decimal context is (issue 12, group 1)."""

from __future__ import annotations

import decimal
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from moneyed import Money

import cloudrate
from cloudrate.accounts import Ledger, MemoryLedgerStore
from cloudrate.billing import (
    BillingRun,
    SQLiteDocumentStore,
    load_invoice,
    pay_now,
    succeed_payment,
)
from cloudrate.invoice import InMemorySequenceStore, Net, Numbering, TaxRate, assemble_all

PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
USAGE = list(cloudrate.read_usage(cloudrate.sample_usage_path()))
HOSTILE = [
    decimal.Context(prec=4, rounding=decimal.ROUND_FLOOR),
    decimal.Context(prec=2, rounding=decimal.ROUND_UP, traps=[decimal.Inexact, decimal.Rounded]),
    decimal.Context(prec=28, rounding=decimal.ROUND_05UP, Emax=10, Emin=-10),
]


@pytest.fixture(params=range(len(HOSTILE)), ids=["prec4-floor", "prec2-traps", "tiny-exponents"])
def hostile(request: pytest.FixtureRequest) -> Iterator[None]:
    with decimal.localcontext(HOSTILE[request.param]):
        yield


# What the library computes in its own context, before any hostile context is set.
REFERENCE = cloudrate.rate(PLAN, USAGE)
INVOICES = assemble_all(REFERENCE, taxes=TaxRate(percent="19"))


@pytest.mark.usefixtures("hostile")
def test_rating_and_invoices_are_the_same_in_a_hostile_context() -> None:
    assert cloudrate.rate(PLAN, USAGE).totals() == REFERENCE.totals()
    invoices = assemble_all(cloudrate.rate(PLAN, USAGE), taxes=TaxRate(percent="19"))
    assert [i.total for i in invoices] == [i.total for i in INVOICES]
    issued = invoices[0].finalise(
        Numbering(), InMemorySequenceStore(), issued_on=date(2026, 11, 1), terms=Net(30)
    )
    assert issued.pay_now(date(2026, 11, 3)).status == "paid"


@pytest.mark.usefixtures("hostile")
def test_the_wallet_ledger_is_exact_in_a_hostile_context() -> None:
    ledger = Ledger(MemoryLedgerStore())
    at = datetime(2026, 11, 1, tzinfo=UTC)
    ledger.open("acme", "EUR", at=at)
    ledger.recharge("acme", Money("1000.00", "EUR"), key="r", at=at)
    ledger.deduct("acme", Money("123.45", "EUR"), key="d", at=at)
    assert ledger.balance("acme").amount == decimal.Decimal("876.55")


@pytest.mark.usefixtures("hostile")
def test_billing_runs_and_payments_are_exact_in_a_hostile_context() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteDocumentStore(Path(tmp) / "b.db")
        summary = BillingRun(store=store).bill(
            cloudrate.rate(PLAN, USAGE), taxes=TaxRate(percent="19")
        )
        assert [d.total for d in summary.documents] == [i.total.amount for i in INVOICES]
        number = summary.documents[0].number
        pay_now(store, number, key="k", on=date(2026, 11, 5))
        succeed_payment(store, "k", on=date(2026, 11, 5))
        assert load_invoice(store, number).status == "paid"
        store.close()


def test_ecb_rates_are_the_published_ones_in_a_hostile_context() -> None:
    """currencyconverter computes in the current context: a rate read under precision 2
    with every rounding trapped is the published rate, not 1.0 or a raw decimal.Inexact,
    whether the rates were loaded before or under that context."""
    from cloudrate.fx import EcbRates

    day = date(2024, 12, 27)
    loaded = EcbRates()
    expected = [loaded.rate("EUR", c, day).rate for c in ("USD", "JPY")]
    cross = loaded.rate("USD", "JPY", day).rate
    assert expected == [decimal.Decimal("1.0435"), decimal.Decimal("164.65")]
    for context in HOSTILE:
        with decimal.localcontext(context):
            for source in (loaded, EcbRates()):
                assert [source.rate("EUR", c, day).rate for c in ("USD", "JPY")] == expected
                assert source.rate("USD", "JPY", day).rate == cross
