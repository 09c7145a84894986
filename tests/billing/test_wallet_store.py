"""The wallet ledger in the document store (SQLite and a real PostgreSQL): the shared ledger
suite, and wallet.low / wallet.depleted written in the transaction of the entry that
crossed, exactly once, also with four processes deducting at once."""

from __future__ import annotations

import json
import os
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money
from tests.accounts import test_ledger as suite

from cloudrate.accounts import (
    Account,
    Ledger,
    LedgerEntry,
    MemoryLedgerStore,
    NegativeBalance,
)
from cloudrate.billing import (
    DocumentLedgerStore,
    DocumentStore,
    Event,
    SQLiteDocumentStore,
    open_store,
)
from cloudrate.billing._sql import _Transaction
from cloudrate.exceptions import (
    IdempotencyConflictError,
    InsufficientFundsError,
    UnknownAccountError,
    WalletError,
)

AT = datetime(2026, 11, 1, 8, tzinfo=UTC)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


# --- the shared LedgerStore suite (tests/accounts/test_ledger.py) on this store ------------


@pytest.fixture(name="store")
def _wallet_store(open_new: Callable[[], DocumentStore]) -> DocumentLedgerStore:
    """The suite's ``store``: a DocumentLedgerStore on a fresh document store."""
    return DocumentLedgerStore(open_new())


@pytest.fixture(name="ledger")
def _ledger(store: DocumentLedgerStore) -> Ledger:
    ledger = Ledger(store)
    ledger.open("acme", "EUR", at=AT)
    ledger.recharge("acme", eur("20.00"), key="pay-1", at=AT)
    return ledger


class TestLedger(suite.TestLedger):
    """Balances, idempotency, all-or-nothing batches: the suite every ledger store runs."""


class TestFloor(suite.TestFloor):
    """Floors and partial deductions: the suite every ledger store runs."""


class TestRechargeLimits(suite.TestRechargeLimits):
    """Recharge limits through the Ledger facade: the suite every ledger store runs."""


# --- this store's own behaviour -----------------------------------------------------------


@pytest.fixture(name="documents")
def _documents(open_new: Callable[[], DocumentStore]) -> DocumentStore:
    return open_new()


def _wallet(documents: DocumentStore, **low: str) -> Ledger:
    """A ledger on *documents* with acme (and globex) open; *low* gives thresholds."""
    store = DocumentLedgerStore(documents, low_balance={k: eur(v) for k, v in low.items()})
    ledger = Ledger(store, negative_balance=NegativeBalance(allowed=True, floor=eur("-5.00")))
    ledger.open("acme", "EUR", at=AT)
    ledger.open("globex", "EUR", at=AT)
    return ledger


def _events(documents: DocumentStore) -> list[tuple[str, str, str, str]]:
    return [
        (e.type, e.subject, e.data["balance_before"], e.data["balance_after"])
        for e in documents.events()
    ]


class TestWalletEvents:
    def test_low_and_depleted_are_written_at_the_crossing_entry(self, documents):
        """wallet.low when a balance goes below its threshold, wallet.depleted when it
        reaches zero; staying below writes nothing, a recharge above re-arms wallet.low."""
        ledger = _wallet(documents, acme="5.00")
        ledger.recharge("acme", eur("10.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("4.00"), key="d1", at=AT)  # 6.00: above
        ledger.deduct("acme", eur("1.00"), key="d2", at=AT)  # 5.00: at the threshold
        ledger.deduct("acme", eur("0.01"), key="d3", at=AT + timedelta(hours=1))  # 4.99: low
        ledger.deduct("acme", eur("1.00"), key="d4", at=AT)  # 3.99: still low
        ledger.recharge("acme", eur("10.00"), key="pay-2", at=AT)  # 13.99
        ledger.deduct("acme", eur("9.00"), key="d5", at=AT)  # 4.99: low again
        ledger.deduct("acme", eur("4.99"), key="d6", at=AT)  # 0.00: depleted
        ledger.deduct("acme", eur("1.00"), key="d7", at=AT)  # -1.00: still depleted
        assert _events(documents) == [
            ("wallet.low", "acme/d3", "5.00", "4.99"),
            ("wallet.low", "acme/d5", "13.99", "4.99"),
            ("wallet.depleted", "acme/d6", "4.99", "0.00"),
        ]
        low = documents.events()[0]
        assert low.at == (AT + timedelta(hours=1)).isoformat()
        assert low.data == {
            "account": "acme",
            "entry": "d3",
            "balance_before": "5.00",
            "balance_after": "4.99",
            "threshold": "5.00",
            "currency": "EUR",
        }
        assert documents.events()[2].data["threshold"] == "0"

    def test_one_entry_can_cross_both(self, documents):
        """From above the threshold straight to zero or below: both events, one subject."""
        ledger = _wallet(documents, acme="5.00")
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("7.00"), key="big", at=AT)
        assert _events(documents) == [
            ("wallet.low", "acme/big", "6.00", "-1.00"),
            ("wallet.depleted", "acme/big", "6.00", "-1.00"),
        ]

    def test_re_appending_the_same_batch_writes_no_new_event(self, documents):
        """A retried batch is a no-op: no entry, no event (and the ids would match anyway)."""
        ledger = _wallet(documents, acme="5.00")
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=AT)
        batch = [LedgerEntry.deduction("acme", eur("6.00"), key="d1", at=AT)]
        first = ledger.post(batch)
        again = ledger.post(batch)
        assert len(first.written) == 1 and again.written == () and len(again.existing) == 1
        assert [e.type for e in documents.events()] == ["wallet.low", "wallet.depleted"]
        assert len(documents.pending_events()) == 2

    def test_a_partial_deduction_crosses_with_what_it_took(self, documents):
        """A deduction cut at the floor reports the balance it really left, once."""
        store = DocumentLedgerStore(documents, low_balance=eur("2.00"))
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("3.00"), key="pay-1", at=AT)
        entry = LedgerEntry.deduction("acme", eur("5.00"), key="h1", at=AT)
        assert ledger.post([entry], partial=True).written[0].amount == eur("-3.00")
        assert ledger.post([entry], partial=True).written == ()
        assert _events(documents) == [
            ("wallet.low", "acme/h1", "3.00", "0.00"),
            ("wallet.depleted", "acme/h1", "3.00", "0.00"),
        ]

    def test_a_batch_on_two_accounts_reports_each(self, documents):
        """Per-account thresholds: globex has none, so it only reports depletion; each
        event names its own account and entry."""
        ledger = _wallet(documents, acme="5.00")
        ledger.post(
            [
                LedgerEntry(account="acme", kind="recharge", amount=eur("6"), key="r1", at=AT),
                LedgerEntry(account="globex", kind="recharge", amount=eur("6"), key="r2", at=AT),
            ]
        )
        ledger.post(
            [
                LedgerEntry.deduction("globex", eur("6"), key="g1", at=AT),
                LedgerEntry.deduction("acme", eur("2"), key="a1", at=AT),
            ]
        )
        assert _events(documents) == [
            ("wallet.depleted", "globex/g1", "6", "0"),
            ("wallet.low", "acme/a1", "6", "4"),
        ]

    def test_one_threshold_for_every_account_in_its_currency(self, documents):
        """A single Money is every account's threshold; an account in another currency is
        refused when it is opened, before anything is written."""
        store = DocumentLedgerStore(documents, low_balance=eur("5.00"))
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        with pytest.raises(WalletError, match=r"low_balance for 'initech' is in EUR but the"):
            ledger.open("initech", "USD", at=AT)
        assert store.account("initech") is None
        ledger.recharge("acme", eur("5.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("0.01"), key="d1", at=AT)
        assert [e.subject for e in documents.events()] == ["acme/d1"]

    def test_no_threshold_writes_only_depletion(self, documents):
        ledger = Ledger(DocumentLedgerStore(documents))
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("1.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("1.00"), key="d1", at=AT)
        assert [e.type for e in documents.events()] == ["wallet.depleted"]

    @pytest.mark.parametrize(
        ("low", "message"),
        [
            (eur("0"), r"low_balance: must be above zero \(got 0 EUR\)"),
            ({"acme": eur("-1")}, r"low_balance\['acme'\]: must be above zero"),
            ({"acme": "5.00"}, r"low_balance\['acme'\]: expected Money"),
            (Decimal("5"), "low_balance: expected Money such as"),
        ],
    )
    def test_bad_thresholds_are_refused(self, documents, low, message):
        with pytest.raises(WalletError, match=message):
            DocumentLedgerStore(documents, low_balance=low)

    def test_only_an_sql_document_store_holds_a_wallet(self):
        with pytest.raises(WalletError, match="pass a SQLiteDocumentStore or Postgres"):
            DocumentLedgerStore(MemoryLedgerStore())  # type: ignore[arg-type]


class BoomError(Exception):
    pass


class TestAllOrNothing:
    def test_a_failed_event_write_keeps_neither_entry_nor_event(self, documents, monkeypatch):
        """The entry, the balance and its event are one transaction: a failure while the
        event is written leaves the wallet and the outbox as they were."""
        ledger = _wallet(documents, acme="5.00")
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=AT)

        def boom(self: _Transaction, event: Event) -> bool:
            raise BoomError

        monkeypatch.setattr(_Transaction, "add_event", boom)
        with pytest.raises(BoomError):
            ledger.deduct("acme", eur("2.00"), key="d1", at=AT)
        monkeypatch.undo()
        assert ledger.store.entry("d1") is None
        assert ledger.balance("acme") == eur("6.00")
        assert documents.events() == ()
        ledger.deduct("acme", eur("2.00"), key="d1", at=AT)  # the retry writes both
        assert _events(documents) == [("wallet.low", "acme/d1", "6.00", "4.00")]

    def test_a_refused_batch_keeps_neither_entries_nor_events(self, documents):
        """An InsufficientFundsError late in a batch: its first entry, which crossed the
        threshold, is not written and neither is its event."""
        ledger = _wallet(documents, acme="5.00")
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=AT)
        batch = [
            LedgerEntry.deduction("acme", eur("2.00"), key="d1", at=AT),
            LedgerEntry.deduction("acme", eur("9.01"), key="d2", at=AT),
        ]
        with pytest.raises(
            InsufficientFundsError, match=r"from 4\.00 to -5\.01, below the floor of -5\.00"
        ):
            ledger.post(batch)
        assert [e.key for e in ledger.entries("acme")] == ["pay-1"]
        assert ledger.balance("acme") == eur("6.00")
        assert documents.events() == ()

    def test_an_idempotency_conflict_writes_nothing(self, documents):
        ledger = _wallet(documents, acme="5.00")
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=AT)
        batch = [
            LedgerEntry.deduction("acme", eur("2.00"), key="d1", at=AT),
            LedgerEntry.deduction("acme", eur("1.00"), key="pay-1", at=AT),
        ]
        with pytest.raises(IdempotencyConflictError, match="'pay-1' is already used"):
            ledger.post(batch)
        assert ledger.store.entry("d1") is None and documents.events() == ()


class TestStorage:
    def test_stored_in_the_document_store_and_read_back_by_another_object(self, open_new):
        """Another store object on the same database (another process) reads the same
        accounts, entries and balances, exactly."""
        first = DocumentLedgerStore(open_new())
        Ledger(first).open("acme", "EUR", at=AT)
        # an adjustment keeps every digit (a recharge must be in cents: docs/wallet.md)
        Ledger(first).adjust(
            "acme", eur("0.000125"), key="tiny", at=AT, memo="exact", reference="pi_1"
        )
        other = DocumentLedgerStore(open_new())
        assert other.accounts() == (Account("acme", "EUR", AT),)
        assert other.entry("tiny") == first.entry("tiny")
        assert other.entry("tiny").reference == "pi_1"
        assert other.balance("acme") == eur("0.000125")

    def test_tenants_keep_their_own_wallets(self, documents):
        """The same account and key in two tenants are two wallets; events carry the tenant."""
        a = Ledger(DocumentLedgerStore(documents, tenant="a"))
        b = Ledger(DocumentLedgerStore(documents, tenant="b"))
        a.open("acme", "EUR", at=AT)
        with pytest.raises(UnknownAccountError):
            b.balance("acme")
        b.open("acme", "USD", at=AT)
        a.recharge("acme", eur("1.00"), key="k", at=AT)
        b.recharge("acme", Money("2.00", "USD"), key="k", at=AT)
        a.deduct("acme", eur("1.00"), key="d", at=AT)
        assert (a.balance("acme"), b.balance("acme")) == (eur("0.00"), Money("2.00", "USD"))
        assert [(e.tenant, e.subject) for e in documents.events()] == [("a", "acme/d")]

    def test_audit_finds_a_kept_balance_edited_by_hand(self, documents):
        ledger = _wallet(documents)
        for i in range(5):
            ledger.deduct("acme", eur("0.33"), key=f"d{i}", at=AT)
        store = ledger.store
        assert isinstance(store, DocumentLedgerStore)
        assert store.audit() == {}
        with documents.transaction("default", "test") as tx:
            tx._run("UPDATE cloudrate_wallet_account SET balance = '9' WHERE name = 'acme'", [])
        assert store.audit() == {"acme": (eur("9"), eur("-1.65"))}

    def test_ledger_state_follows_the_floor(self, documents):
        """The Ledger facade works unchanged: the floor suspends, a recharge reactivates."""
        ledger = _wallet(documents)
        ledger.deduct("acme", eur("5.00"), key="d1", at=AT)
        assert ledger.state("acme") == "suspended"
        ledger.recharge("acme", eur("5.01"), key="pay", at=AT)
        assert ledger.state("acme") == "active"


# --- any sequence of operations: the same as the memory store, events where they cross -----

_ops = st.lists(
    st.tuples(
        st.sampled_from(["recharge", "deduction", "refund"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9"), places=2),
        st.integers(0, 8),
    ),
    max_size=15,
)


def _crossings(entries: tuple[LedgerEntry, ...], low: Decimal) -> list[tuple[str, str]]:
    """The events a replay of one account's *entries* calls for: (type, subject) in order."""
    out, balance = [], Decimal(0)
    for e in entries:
        after = balance + e.amount.amount
        if balance >= low > after:
            out.append(("wallet.low", f"{e.account}/{e.key}"))
        if balance > 0 >= after:
            out.append(("wallet.depleted", f"{e.account}/{e.key}"))
        balance = after
    return out


@settings(max_examples=20)
@given(ops=_ops)
def test_any_operations_agree_with_the_memory_store_and_cross_once(ops):
    """Retries and refusals included, the SQLite wallet ends like the memory store, and its
    events are exactly the crossings a replay of its entries finds."""
    with tempfile.TemporaryDirectory() as tmp:
        documents = SQLiteDocumentStore(Path(tmp) / "billing.db")
        stores = [MemoryLedgerStore(), DocumentLedgerStore(documents, low_balance=eur("5"))]
        seen = []
        for store in stores:
            ledger = Ledger(store)
            ledger.open("acme", "EUR", at=AT)
            outcome = []
            for kind, amount, n in ops:
                key = f"{kind}{n}"
                entry = (
                    LedgerEntry.deduction("acme", Money(amount, "EUR"), key=key, at=AT)
                    if kind == "deduction"
                    else LedgerEntry(
                        account="acme", kind=kind, amount=Money(amount, "EUR"), key=key, at=AT
                    )
                )
                try:
                    outcome.append(len(ledger.post([entry]).written))
                except (InsufficientFundsError, IdempotencyConflictError) as error:
                    outcome.append(type(error).__name__)
            seen.append((outcome, store.entries(), store.balance("acme")))
        assert seen[0] == seen[1]
        events = [(e.type, e.subject) for e in documents.events()]
        assert events == _crossings(seen[1][1], Decimal(5))
        documents.close()


# --- four processes deducting at once -------------------------------------------------------

ROUNDS = 20


def _child(location: str, who: str, out: str) -> None:
    """Run in a forked child: deduct in single and two-account batches, report what it
    wrote, then leave without pytest's teardown."""
    code = 1
    try:
        documents = open_store(location)
        ledger = Ledger(
            DocumentLedgerStore(documents, low_balance={"acme": eur("10"), "globex": eur("2")}),
            negative_balance=NegativeBalance(allowed=True, floor=eur("-5.00")),
        )
        written: list[tuple[str, str, str]] = []
        refused = 0
        for i in range(ROUNDS):
            for batch in (
                [LedgerEntry.deduction("acme", eur("1.00"), key=f"{who}-{i}", at=AT)],
                [
                    LedgerEntry.deduction("acme", eur("0.50"), key=f"{who}-{i}-a", at=AT),
                    LedgerEntry.deduction("globex", eur("0.50"), key=f"{who}-{i}-g", at=AT),
                ],
                [LedgerEntry.deduction("acme", eur("0.25"), key=f"shared-{i}", at=AT)],
            ):
                try:
                    result = ledger.post(batch)
                except InsufficientFundsError:
                    refused += 1
                    continue
                written += [(e.account, e.key, str(-e.amount.amount)) for e in result.written]
        Path(out).write_text(json.dumps({"written": written, "refused": refused}))
        documents.close()
        code = 0
    except BaseException:
        Path(out + ".err").write_text(traceback.format_exc())
        raise
    finally:
        os._exit(code)


@pytest.fixture(name="setup_wallet")
def _setup_wallet(store_location: str) -> str:
    documents = open_store(store_location)
    ledger = Ledger(DocumentLedgerStore(documents))
    for name, amount in (("acme", "30.00"), ("globex", "4.00")):
        ledger.open(name, "EUR", at=AT)
        ledger.recharge(name, eur(amount), key=f"pay-{name}", at=AT)
    documents.close()  # the children open their own; none is open across the fork
    return store_location


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_four_processes_never_overspend_and_cross_once(setup_wallet, tmp_path):
    """Four processes racing over two accounts, with single and two-account batches: the
    floors hold, no update is lost (kept balances equal the entries), what the processes
    report taken is what left each balance, every key is written once, and each account's
    wallet.low and wallet.depleted are written once, at the entry that crossed."""
    outs = [str(tmp_path / f"p{n}.json") for n in range(4)]
    pids = []
    for n, out in enumerate(outs):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(setup_wallet, f"p{n}", out)
        pids.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in pids]
    errors = [Path(o + ".err").read_text() for o in outs if Path(o + ".err").exists()]
    assert all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses), errors
    reports = [json.loads(Path(out).read_text()) for out in outs]
    documents = open_store(setup_wallet)
    try:
        store = DocumentLedgerStore(documents)
        assert store.audit() == {}
        keys = [e.key for e in store.entries()]
        assert len(keys) == len(set(keys))
        reported = [tuple(w) for r in reports for w in r["written"]]
        assert len(reported) == len(keys) - 2  # every written entry reported by one process
        assert sum(r["refused"] for r in reports) > 0  # demand was above what floors allow
        for name, start, low in (("acme", "30.00", "10"), ("globex", "4.00", "2")):
            taken = sum((Decimal(a) for acct, _k, a in reported if acct == name), Decimal(0))
            balance = store.balance(name).amount
            assert balance == Decimal(start) - taken
            assert balance >= Decimal("-5.00")  # the floor held
            crossings = _crossings(store.entries(name), Decimal(low))
            events = [(e.type, e.subject) for e in documents.events() if e.data["account"] == name]
            assert events == crossings
            assert [t for t, _s in events] == ["wallet.low", "wallet.depleted"]
    finally:
        documents.close()
