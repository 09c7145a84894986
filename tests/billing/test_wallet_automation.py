"""Wallet automation on the document store (SQLite and a real PostgreSQL): the expiring
credits and top-up suites of tests/accounts on DocumentLedgerStore, wallet.credit_expired
written with its expiry entry, and top-up requests recorded once as
wallet.topup_requested."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from moneyed import Money
from tests.accounts import test_grants as grants_suite
from tests.accounts import test_topup as topup_suite

from cloudrate.accounts import (
    Ledger,
    RechargeLimits,
    TopUpBelow,
    expire_credits,
    grant_credit,
    topup_requests,
)
from cloudrate.billing import (
    DocumentLedgerStore,
    DocumentStore,
    find_event,
    record_topup_request,
)
from cloudrate.exceptions import WalletError


def day(n: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, n, hour, tzinfo=UTC)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


# --- the shared suites on this store ------------------------------------------------------


@pytest.fixture(name="store")
def _wallet_store(open_new: Callable[[], DocumentStore]) -> DocumentLedgerStore:
    """The suites' ``store``: a DocumentLedgerStore on a fresh document store."""
    return DocumentLedgerStore(open_new())


class TestGrantEntry(grants_suite.TestGrantEntry):
    """Grants written and read back: the suite every ledger store runs."""


class TestConsumptionOrder(grants_suite.TestConsumptionOrder):
    """Expiring first, then grants, then paid money: the suite every ledger store runs."""


class TestTopUpBelow(topup_suite.TestTopUpBelow):
    """Threshold top-ups: the suite every ledger store runs."""


class TestSchedules(topup_suite.TestSchedules):
    """Scheduled top-ups: the suite every ledger store runs."""


# --- this store's own events --------------------------------------------------------------


@pytest.fixture(name="documents")
def _documents(open_new: Callable[[], DocumentStore]) -> DocumentStore:
    return open_new()


def _wallet(documents: DocumentStore, **kwargs) -> Ledger:
    ledger = Ledger(
        DocumentLedgerStore(documents, low_balance=eur("5.00")),
        **kwargs,
    )
    ledger.open("acme", "EUR", at=day(1))
    return ledger


def _events(documents: DocumentStore) -> list[tuple[str, str]]:
    return [(e.type, e.subject) for e in documents.events()]


class TestCreditExpiredEvent:
    def test_written_with_the_expiry_entry(self, documents):
        """20.00 paid, 10.00 granted until the 15th, 4.00 used from the grant: the expiry
        of its 6.00 takes the balance from 26.00 to 20.00 and writes wallet.credit_expired
        with it; nothing crosses 5.00, so no wallet.low."""
        ledger = _wallet(documents)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("4.00"), key="use-1", at=day(3))
        [entry] = expire_credits(ledger, day(16))
        assert _events(documents) == [("wallet.credit_expired", "acme/g1")]
        event = documents.events()[0]
        assert event.at == "2026-11-15T00:00:00+00:00"
        assert event.data == {
            "account": "acme",
            "credit": "g1",
            "entry": "expiry:g1",
            "kind": "promo_credit",
            "granted": "10.00",
            "expired": "6.00",
            "expires_at": "2026-11-15T00:00:00+00:00",
            "balance_before": "26.00",
            "balance_after": "20.00",
            "currency": "EUR",
        }
        assert entry.seq is not None and ledger.balance("acme") == eur("20.00")

    def test_an_expiry_can_take_the_balance_low(self, documents):
        """3.00 paid and 10.00 granted, 2.00 used from the grant (11.00): the expiry of its
        8.00 takes the balance to 3.00, below 5.00, so wallet.low names the expiry entry."""
        ledger = _wallet(documents)
        ledger.recharge("acme", eur("3.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("2.00"), key="use-1", at=day(3))  # 11.00, grant 8.00
        expire_credits(ledger, day(16))  # 3.00
        assert _events(documents) == [
            ("wallet.credit_expired", "acme/g1"),
            ("wallet.low", "acme/expiry:g1"),
        ]
        assert documents.events()[1].data["balance_after"] == "3.00"

    def test_rerunning_writes_no_second_event(self, documents, open_new):
        """Two runs, and a run from another store object on the same database: one entry,
        one credit_expired (the 10.00 expiring also crosses 5.00 and reaches zero)."""
        ledger = _wallet(documents)
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        assert len(expire_credits(ledger, day(16))) == 1
        assert expire_credits(ledger, day(17)) == ()
        elsewhere = Ledger(DocumentLedgerStore(open_new(), low_balance=eur("5.00")))
        assert expire_credits(elsewhere, day(18)) == ()
        assert [e.key for e in elsewhere.entries("acme")] == ["g1", "expiry:g1"]
        assert _events(documents) == [
            ("wallet.credit_expired", "acme/g1"),
            ("wallet.low", "acme/expiry:g1"),
            ("wallet.depleted", "acme/expiry:g1"),
        ]

    def test_a_used_up_grant_writes_nothing(self, documents):
        """The issue's example: 4.00 and 9.00 used the whole grant; nothing expires."""
        ledger = _wallet(documents)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("4.00"), key="use-1", at=day(3))
        ledger.deduct("acme", eur("9.00"), key="use-2", at=day(5))
        assert expire_credits(ledger, day(16)) == ()
        assert [t for t, _ in _events(documents)] == []
        assert ledger.balance("acme") == eur("17.00")

    def test_an_ordinary_adjustment_is_no_expiry(self, documents):
        """Only an adjustment keyed expiry:<its reference> reports an expiry."""
        ledger = _wallet(documents)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        ledger.adjust("acme", eur("-1.00"), key="fix-1", at=day(2), memo="goodwill", reference="x")
        assert _events(documents) == []


class TestTopUpRequested:
    def test_requests_are_recorded_once(self, documents):
        """12.00 paid, 8.00 used (4.00, below 5.00): the request to top up to 20.00 asks for
        16.00; recorded twice, it is one event; once recharged, nothing more is asked."""
        limits = RechargeLimits(minimum=eur("10.00"))
        ledger = _wallet(documents, recharge_limits=limits)
        ledger.recharge("acme", eur("12.00"), key="pay-1", at=day(1))
        ledger.deduct("acme", eur("8.00"), key="use-1", at=day(2, 9))
        rules = {"acme": TopUpBelow(threshold=eur("5.00"), target=eur("20.00"), label="low")}
        [request] = topup_requests(ledger, rules, day(2, 10))
        event = record_topup_request(documents, request)
        assert event is not None
        assert (event.type, event.subject, event.at) == (
            "wallet.topup_requested",
            "acme/low/use-1",
            "2026-11-02T09:00:00+00:00",
        )
        assert event.data["key"] == "topup:acme/low/use-1"
        assert event.data["amount"] == "16.00" and event.data["currency"] == "EUR"
        [again] = topup_requests(ledger, rules, day(2, 11))
        assert record_topup_request(documents, again) is None
        ledger.recharge("acme", request.amount, key=request.key, at=day(2, 12))
        assert topup_requests(ledger, rules, day(2, 13)) == ()
        assert ledger.balance("acme") == eur("20.00")
        stored = find_event(documents, "wallet.topup_requested", "acme/low/use-1")
        assert stored is not None and (stored.id, stored.data) == (event.id, event.data)
        assert [t for t, _ in _events(documents)] == ["wallet.low", "wallet.topup_requested"]

    def test_recorded_in_a_transaction_the_caller_holds(self, documents):
        """tx= writes the event with the caller's own change, or not at all."""
        ledger = _wallet(documents)
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=day(1))
        ledger.deduct("acme", eur("2.00"), key="use-1", at=day(2))
        rule = TopUpBelow(threshold=eur("5.00"), amount=eur("10.00"))
        [request] = topup_requests(ledger, {"acme": rule}, day(2))

        def fails() -> None:
            with documents.transaction("default", "mine") as tx:
                assert record_topup_request(documents, request, tx=tx) is not None
                raise RuntimeError("the caller's change failed")

        with pytest.raises(RuntimeError, match="the caller's change failed"):
            fails()
        assert find_event(documents, "wallet.topup_requested", request.subject) is None
        with documents.transaction("default", "mine") as tx:
            record_topup_request(documents, request, tx=tx)
        assert find_event(documents, "wallet.topup_requested", request.subject) is not None

    def test_only_requests_are_recorded(self, documents):
        with pytest.raises(WalletError, match="request: expected a TopUpRequest"):
            record_topup_request(documents, "topup:acme")  # type: ignore[arg-type]
