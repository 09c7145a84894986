"""Payment attempts, overdue sweeps, host events and the portal's document queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
from cloudrate.billing import (
    BillingRun,
    DocumentStore,
    customer_invoices,
    customer_statistics,
    fail_payment,
    load_invoice,
    mark_overdue,
    pay_now,
    record_event,
    start_payment,
    succeed_payment,
)
from cloudrate.exceptions import BillingError

PLAN = load_plan(sample_plan_path())
USAGE = tuple(read_usage(sample_usage_path()))
ISSUED = date(2026, 11, 1)


def _first(store: DocumentStore) -> str:
    summary = BillingRun(store=store).bill(rate(PLAN, USAGE), issued_on=ISSUED)
    return summary.documents[0].number


def test_pay_now_then_success_pays_the_invoice_and_tells_the_host(store: DocumentStore) -> None:
    number = _first(store)
    due = load_invoice(store, number).amount_due.amount
    attempt = pay_now(store, number, key="click-1", on=date(2026, 11, 5), method="card")
    assert (attempt.state, attempt.amount) == ("pending", due)
    assert load_invoice(store, number).status == "unpaid"  # pending money is not paid
    done = succeed_payment(store, "click-1", on=date(2026, 11, 6), reference="psp-77")
    assert done.state == "succeeded"
    invoice = load_invoice(store, number)
    assert invoice.status == "paid"
    assert invoice.paid_on == date(2026, 11, 6)
    assert [e.type for e in store.events()].count("invoice.paid") == 1
    # the provider's webhook arrives twice: nothing changes
    assert succeed_payment(store, "click-1", on=date(2026, 11, 7)) == done
    assert [e.type for e in store.events()].count("invoice.paid") == 1
    with pytest.raises(BillingError, match="nothing is due"):
        pay_now(store, number, key="click-2", on=date(2026, 11, 8))


def test_a_failed_attempt_leaves_the_invoice_unpaid_with_an_event(store: DocumentStore) -> None:
    number = _first(store)
    pay_now(store, number, key="a1", on=date(2026, 11, 5))
    failed = fail_payment(store, "a1", on=date(2026, 11, 5), reason="card declined")
    assert (failed.state, failed.failure) == ("failed", "card declined")
    assert load_invoice(store, number).status == "unpaid"
    (event,) = [e for e in store.events() if e.type == "payment.failed"]
    assert event.data["reason"] == "card declined"
    assert event.data["number"] == number
    assert fail_payment(store, "a1", on=date(2026, 11, 6), reason="again") == failed
    with pytest.raises(BillingError, match="already failed"):
        succeed_payment(store, "a1", on=date(2026, 11, 6))
    retry = pay_now(store, number, key="a2", on=date(2026, 11, 6))
    assert retry.state == "pending"


def test_one_key_is_one_attempt_and_one_pending_attempt_at_a_time(store: DocumentStore) -> None:
    number = _first(store)
    first = pay_now(store, number, key="k", on=date(2026, 11, 5))
    assert pay_now(store, number, key="k", on=date(2026, 11, 9)) == first
    with pytest.raises(BillingError, match="pending payment attempt"):
        pay_now(store, number, key="other", on=date(2026, 11, 5))
    other = store.documents()[1].number
    with pytest.raises(BillingError, match="was used for"):
        pay_now(store, other, key="k", on=date(2026, 11, 5))
    assert len(store.attempts(number)) == 1


def test_partial_payments_are_checked_against_the_amount_due(store: DocumentStore) -> None:
    number = _first(store)
    for bad in ("0", "0.001", "100000"):
        with pytest.raises(BillingError, match="payment amount"):
            start_payment(store, number, key=f"bad-{bad}", on=date(2026, 11, 5), amount=bad)
    assert store.attempts(number) == ()
    start_payment(store, number, key="part", on=date(2026, 11, 5), amount="1.00")
    succeed_payment(store, "part", on=date(2026, 11, 5))
    invoice = load_invoice(store, number)
    assert invoice.paid.amount == Decimal("1.00")
    assert invoice.status == "unpaid"
    assert not [e for e in store.events() if e.type == "invoice.paid"]


def test_the_overdue_sweep_writes_one_event_per_invoice(store: DocumentStore) -> None:
    number = _first(store)
    due_on = load_invoice(store, number).due_on
    assert due_on is not None
    assert mark_overdue(store, due_on) == ()  # due today is not overdue
    swept = mark_overdue(store, date(2027, 1, 15))
    assert number in {e.subject for e in swept}
    assert {e.type for e in swept} == {"invoice.overdue"}
    assert mark_overdue(store, date(2027, 1, 16)) == ()
    invoices = customer_invoices(store, "acme", "unpaid", now=date(2027, 1, 15))
    assert [i.status_at(date(2027, 1, 15)) for i in invoices] == ["overdue"]


def test_paid_invoices_are_not_swept(store: DocumentStore) -> None:
    number = _first(store)
    pay_now(store, number, key="k", on=date(2026, 11, 2))
    succeed_payment(store, "k", on=date(2026, 11, 2))
    assert number not in {e.subject for e in mark_overdue(store, date(2027, 1, 15))}


def test_host_events_are_recorded_once_and_only_host_types(store: DocumentStore) -> None:
    first = record_event(store, "wallet.low", "acme/2026-11-03", at="2026-11-03T10:00:00Z")
    assert first is not None
    again = record_event(store, "wallet.low", "acme/2026-11-03", at="2026-11-03T11:00:00Z")
    assert again is None
    assert [e.subject for e in store.pending_events()] == ["acme/2026-11-03"]
    with pytest.raises(BillingError, match="the host records"):
        record_event(store, "invoice.paid", "INV-1", at="2026-11-03")


def test_a_host_event_rides_in_the_hosts_transaction(store: DocumentStore) -> None:
    class BoomError(Exception):
        pass

    def suspend_then_fail() -> None:
        with store.transaction("default", "acme") as tx:
            record_event(store, "account.suspended", "acme/1", at="2026-11-03", tx=tx)
            raise BoomError

    with pytest.raises(BoomError):
        suspend_then_fail()
    assert store.events() == ()


def test_the_portal_tabs_and_cards(store: DocumentStore) -> None:
    number = _first(store)
    now = date(2026, 11, 10)
    assert [i.number for i in customer_invoices(store, "acme", now=now)] == [number]
    assert customer_invoices(store, "acme", "paid", now=now) == ()
    stats = customer_statistics(store, "acme", now=now, currency="EUR")
    assert stats.total_invoices == 1
    assert stats.outstanding == load_invoice(store, number).amount_due
    pay_now(store, number, key="k", on=now)
    succeed_payment(store, "k", on=now)
    assert [i.number for i in customer_invoices(store, "acme", "paid", now=now)] == [number]
    assert customer_statistics(store, "acme", now=now, currency="EUR").paid_count == 1
    with pytest.raises(BillingError, match="filter"):
        customer_invoices(store, "acme", "overdue", now=now)  # type: ignore[arg-type]
    with pytest.raises(BillingError, match="no document"):
        load_invoice(store, "INV-9999")
