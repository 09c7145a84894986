"""account.suspended / account.reactivated from the policy's decision, once per change, and
events looked up in the outbox, on both stores."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from moneyed import Money

from cloudrate.accounts import Ledger, NegativeBalance, OpenInvoice, SuspensionPolicy
from cloudrate.billing import (
    DocumentLedgerStore,
    DocumentStore,
    find_event,
    record_account_state,
    record_event,
)
from cloudrate.exceptions import BillingError

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
POLICY = SuspensionPolicy(enabled=True, grace_days=15, warning_days=3)


def _invoice(due: date, owed: str) -> OpenInvoice:
    return OpenInvoice("INV-2026-0042", due, Money(owed, "EUR"))


def _types(store: DocumentStore) -> list[tuple[str, str]]:
    return [(e.type, e.subject) for e in store.events()]


class TestRecordAccountState:
    def test_entering_and_leaving_suspension_write_one_event_each(self, store):
        """Active (nothing), warning (nothing), suspended (event), suspended again
        (nothing), paid (reactivated), suspended again later (a new event)."""
        steps = [
            (NOW, _invoice(date(2026, 11, 18), "120.00")),  # 2 days: active
            (NOW + timedelta(days=2), _invoice(date(2026, 11, 18), "120.00")),  # warning
            (NOW + timedelta(days=20), _invoice(date(2026, 11, 18), "120.00")),  # suspended
            (NOW + timedelta(days=21), _invoice(date(2026, 11, 18), "120.00")),  # still
            (NOW + timedelta(days=22), _invoice(date(2026, 11, 18), "0.00")),  # paid
            (NOW + timedelta(days=60), _invoice(date(2026, 12, 20), "30.00")),  # again
        ]
        written = [
            record_account_state(store, "acme", POLICY.evaluate([inv], now), at=now)
            for now, inv in steps
        ]
        assert [None if e is None else e.type for e in written] == [
            None,
            None,
            "account.suspended",
            None,
            "account.reactivated",
            "account.suspended",
        ]
        assert _types(store) == [
            ("account.suspended", f"acme/{(NOW + timedelta(days=20)).isoformat()}"),
            ("account.reactivated", f"acme/{(NOW + timedelta(days=22)).isoformat()}"),
            ("account.suspended", f"acme/{(NOW + timedelta(days=60)).isoformat()}"),
        ]
        first = store.events()[0]
        assert first.at == (NOW + timedelta(days=20)).isoformat()
        assert first.data == {
            "account": "acme",
            "state": "suspended",
            "reason": POLICY.evaluate([steps[2][1]], steps[2][0]).reason,
            "invoice": "INV-2026-0042",
            "days_overdue": 22,
        }

    def test_the_same_call_again_writes_nothing(self, store):
        """A rerun with the same decision and time is a no-op (the id is the same too)."""
        assert record_account_state(store, "acme", "suspended", at="2026-11-20") is not None
        assert record_account_state(store, "acme", "suspended", at="2026-11-20") is None
        assert len(store.events()) == 1

    def test_leaving_a_state_never_entered_writes_nothing(self, store):
        """An account the outbox never reported suspended is not reactivated."""
        assert record_account_state(store, "acme", "active", at="2026-11-20") is None
        assert record_account_state(store, "acme", "warning", at="2026-11-21") is None
        assert store.events() == ()

    def test_accounts_and_tenants_are_apart(self, store):
        """Names that look alike to LIKE (a prefix, _ and %) and other tenants do not
        count as the account's own state."""
        for name in ("acme/eu", "ac_e", "acm%", "ACME"):
            record_account_state(store, name, "suspended", at="2026-11-20")
        record_account_state(store, "acme", "suspended", at="2026-11-20", tenant="other")
        assert record_account_state(store, "acme", "active", at="2026-11-21") is None
        assert record_account_state(store, "acme", "suspended", at="2026-11-22") is not None
        assert record_account_state(store, "ac_e", "active", at="2026-11-22") is not None

    def test_the_wallet_floor_decision_is_reported_too(self, store):
        """Ledger.state gives a state name: a wallet at its floor is suspended."""
        ledger = Ledger(DocumentLedgerStore(store), negative_balance=NegativeBalance())
        ledger.open("acme", "EUR", at=NOW)
        ledger.recharge("acme", Money("1.00", "EUR"), key="pay-1", at=NOW)
        ledger.deduct("acme", Money("1.00", "EUR"), key="d1", at=NOW)
        event = record_account_state(store, "acme", ledger.state("acme"), at=NOW)
        assert event is not None and event.data == {"account": "acme", "state": "suspended"}
        assert [t for t, _s in _types(store)] == ["wallet.depleted", "account.suspended"]

    def test_in_the_callers_transaction_it_rolls_back_with_it(self, store):
        """With tx= the event is part of the caller's transaction: a failure keeps nothing."""

        def host_change_that_fails() -> None:
            with store.transaction("default", "account\x1facme") as tx:
                assert record_account_state(store, "acme", "suspended", at=NOW, tx=tx)
                raise RuntimeError("host failed")

        with pytest.raises(RuntimeError, match="host failed"):
            host_change_that_fails()
        assert store.events() == ()
        with store.transaction("default", "account\x1facme") as tx:
            record_account_state(store, "acme", "suspended", at=NOW, tx=tx)
        assert [t for t, _s in _types(store)] == ["account.suspended"]

    def test_workers_at_once_write_one_event(self, open_new: Callable[[], DocumentStore]):
        """Eight workers deciding at once (each its own store, time and thread): the lock
        on the account lets one write account.suspended; the others see it."""
        stores = [open_new() for _ in range(8)]
        barrier, written = threading.Barrier(len(stores)), []

        def work(n: int) -> None:
            barrier.wait()
            at = NOW + timedelta(minutes=n)
            written.append(record_account_state(stores[n], "acme", "suspended", at=at))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(e is not None for e in written) == 1
        assert [t for t, _s in _types(stores[0])] == ["account.suspended"]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"account": "", "state": "suspended", "at": NOW}, "account: expected a non-empty"),
            ({"account": "acme", "state": 3, "at": NOW}, "state: expected an AccountState"),
            (
                {"account": "acme", "state": "suspended", "at": datetime(2026, 11, 20)},
                "has no timezone",
            ),
            ({"account": "acme", "state": "suspended", "at": ""}, "at: expected an aware"),
        ],
    )
    def test_bad_arguments_say_what_to_pass(self, store, kwargs, message):
        with pytest.raises(BillingError, match=message):
            record_account_state(store, **kwargs)
        assert store.events() == ()

    def test_a_transaction_of_another_tenant_is_refused(self, store):
        with (
            store.transaction("other", "account\x1facme") as tx,
            pytest.raises(BillingError, match="tx: expected a transaction of this store"),
        ):
            record_account_state(store, "acme", "suspended", at=NOW, tx=tx)

    def test_a_date_is_a_valid_time(self, store):
        event = record_account_state(store, "acme", "suspended", at=date(2026, 11, 20))
        assert event is not None and event.subject == "acme/2026-11-20"


class TestFindEvent:
    def test_finds_by_type_subject_and_tenant(self, store):
        """Delivered or not, an event is found by what identifies it, and only that."""
        assert find_event(store, "wallet.low", "acme/d1") is None
        written = record_event(store, "wallet.low", "acme/d1", at="2026-11-01", data={"a": 1})
        store.acknowledge([written.id])
        found = find_event(store, "wallet.low", "acme/d1")
        assert found is not None and found.id == written.id and found.data == {"a": 1}
        assert find_event(store, "wallet.depleted", "acme/d1") is None
        assert find_event(store, "wallet.low", "acme/d1", tenant="other") is None

    def test_any_document_store_can_be_searched(self, store):
        """A store that is not one of the SQL stores is read through its events()."""

        class Wrapped:
            def __init__(self, inner: DocumentStore) -> None:
                self.events = inner.events

        record_event(store, "wallet.low", "acme/d1", at="2026-11-01")
        assert find_event(Wrapped(store), "wallet.low", "acme/d1") is not None  # type: ignore[arg-type]
        assert find_event(Wrapped(store), "wallet.low", "acme/d2") is None  # type: ignore[arg-type]
