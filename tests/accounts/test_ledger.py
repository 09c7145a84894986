"""The prepaid ledger on both stores: idempotency, all-or-nothing batches, floors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate.accounts import (
    Account,
    Ledger,
    LedgerEntry,
    MemoryLedgerStore,
    NegativeBalance,
    RechargeLimits,
    SQLiteLedgerStore,
)
from cloudrate.exceptions import (
    IdempotencyConflictError,
    InsufficientFundsError,
    RechargeLimitError,
    UnknownAccountError,
    WalletError,
)

AT = datetime(2026, 11, 1, 8, tzinfo=UTC)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


@pytest.fixture(name="store", params=["memory", "sqlite"])
def _store(request, tmp_path):
    if request.param == "memory":
        yield MemoryLedgerStore()
    else:
        store = SQLiteLedgerStore(tmp_path / "ledger.db")
        yield store
        store.close()


@pytest.fixture(name="ledger")
def _ledger(store):
    ledger = Ledger(store)
    ledger.open("acme", "EUR", at=AT)
    ledger.recharge("acme", eur("20.00"), key="pay-1", at=AT)
    return ledger


class TestLedger:
    def test_balance_is_sum_of_entries(self, ledger):
        """Every kind of entry moves the balance by its signed amount."""
        ledger.deduct("acme", eur("3.25"), key="d1", at=AT)
        ledger.refund("acme", eur("1.00"), key="r1", at=AT)
        ledger.promo_credit("acme", eur("5.00"), key="p1", at=AT, memo="NEWUSER-7F3K9Q")
        ledger.adjust("acme", eur("-0.75"), key="a1", at=AT, memo="goodwill reversal")
        # 20.00 - 3.25 + 1.00 + 5.00 - 0.75
        assert ledger.balance("acme") == eur("22.00")
        entries = ledger.entries("acme")
        assert [e.kind for e in entries] == [
            "recharge",
            "deduction",
            "refund",
            "promo_credit",
            "adjustment",
        ]
        assert [e.seq for e in entries] == sorted(e.seq for e in entries)
        assert sum((e.amount.amount for e in entries), Decimal(0)) == Decimal("22.00")

    def test_same_key_twice_is_a_no_op(self, ledger):
        """The same usage deducted twice is taken once."""
        first = ledger.deduct("acme", eur("2.00"), key="usage:acme:08", at=AT)
        again = ledger.deduct("acme", eur("2.00"), key="usage:acme:08", at=AT)
        assert again == first and again.seq == first.seq
        assert ledger.balance("acme") == eur("18.00")
        assert len(ledger.entries("acme")) == 2

    def test_same_key_other_content_is_refused(self, ledger):
        """Reusing a key for another amount is an error naming both events."""
        ledger.deduct("acme", eur("2.00"), key="usage:acme:08", at=AT)
        with pytest.raises(IdempotencyConflictError, match=r"usage:acme:08.*already used"):
            ledger.deduct("acme", eur("2.50"), key="usage:acme:08", at=AT)
        assert ledger.balance("acme") == eur("18.00")

    def test_exact_amounts_round_trip(self, ledger):
        """Amounts keep every digit (micro-cents) through the store."""
        ledger.deduct("acme", eur("0.000125"), key="tiny", at=AT)
        assert ledger.store.entry("tiny").amount == eur("-0.000125")
        assert str(ledger.balance("acme").amount) == "19.999875"

    def test_exact_whatever_the_global_decimal_context(self, ledger):
        """Amounts beyond 28 digits stay exact even with a 5-digit global context."""
        import decimal

        with decimal.localcontext(decimal.Context(prec=5)):
            ledger.recharge("acme", eur("1000000000000000000000000000000.01"), key="big", at=AT)
            ledger.deduct("acme", eur("0.000001"), key="small", at=AT)
            assert str(ledger.balance("acme").amount) == "1000000000000000000000000000020.009999"

    def test_kept_balance_matches_the_entries(self, ledger):
        """SQLite keeps each balance beside the entries; an audit re-adds them."""
        for i in range(20):
            ledger.deduct("acme", eur("0.33"), key=f"d{i}", at=AT)
        total = sum((e.amount.amount for e in ledger.entries("acme")), Decimal(0))
        assert ledger.balance("acme").amount == total == Decimal("13.40")
        if isinstance(ledger.store, SQLiteLedgerStore):
            assert ledger.store.audit() == {}
            ledger.store._db.execute("UPDATE accounts SET balance = '99' WHERE name = 'acme'")
            assert ledger.store.audit() == {"acme": (eur("99"), eur("13.40"))}

    def test_unknown_account_is_a_clear_error(self, ledger):
        """Accounts are opened explicitly; posting to another writes nothing."""
        with pytest.raises(UnknownAccountError, match="'ghost' is not open"):
            ledger.deduct("ghost", eur("1.00"), key="g1", at=AT)
        assert ledger.store.entry("g1") is None
        with pytest.raises(LookupError):
            ledger.balance("ghost")

    def test_batch_is_all_or_nothing(self, ledger):
        """One bad entry in a batch leaves the ledger as it was."""
        good = LedgerEntry.deduction("acme", eur("1.00"), key="b1", at=AT)
        bad = LedgerEntry.deduction("nobody", eur("1.00"), key="b2", at=AT)
        with pytest.raises(UnknownAccountError):
            ledger.post([good, bad])
        assert ledger.store.entry("b1") is None
        assert ledger.balance("acme") == eur("20.00")
        overdraw = LedgerEntry.deduction("acme", eur("19.01"), key="b3", at=AT)
        with pytest.raises(InsufficientFundsError, match=re.escape("from 19.00 to -0.01")):
            ledger.post([good, overdraw])
        assert ledger.store.entry("b1") is None
        assert ledger.balance("acme") == eur("20.00")

    def test_batch_checks_running_balance(self, ledger):
        """Floors apply to the balance after each entry of a batch, not only the first."""
        batch = [LedgerEntry.deduction("acme", eur("15.00"), key=f"k{i}", at=AT) for i in (1, 2)]
        with pytest.raises(InsufficientFundsError, match="below the floor of 0"):
            ledger.post(batch)
        assert ledger.balance("acme") == eur("20.00")

    def test_duplicate_key_inside_a_batch(self, ledger):
        """A key repeated inside one batch is written once (same) or refused (different)."""
        e = LedgerEntry.deduction("acme", eur("1.00"), key="dup", at=AT)
        result = ledger.post([e, e])
        assert len(result.written) == 1 and len(result.existing) == 1
        other = LedgerEntry.deduction("acme", eur("2.00"), key="dup2", at=AT)
        with pytest.raises(IdempotencyConflictError):
            ledger.post([other, LedgerEntry.deduction("acme", eur("3.00"), key="dup2", at=AT)])
        assert ledger.store.entry("dup2") is None

    def test_currency_must_match_account(self, ledger):
        with pytest.raises(WalletError, match="is in USD but account 'acme' is in EUR"):
            ledger.deduct("acme", Money("1.00", "USD"), key="usd", at=AT)

    def test_reopen_same_currency_is_a_no_op_other_currency_refused(self, ledger):
        assert ledger.open("acme", "EUR", at=AT + timedelta(days=1)).opened_at == AT
        with pytest.raises(WalletError, match="already open in EUR"):
            ledger.open("acme", "USD", at=AT)

    def test_sqlite_refuses_update_and_delete(self, ledger):
        """The SQLite ledger is append-only even to raw SQL."""
        store = ledger.store
        if not isinstance(store, SQLiteLedgerStore):
            pytest.skip("SQLite only")
        import sqlite3

        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store._db.execute("UPDATE entries SET amount = '0'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store._db.execute("DELETE FROM entries")


class TestFloor:
    def test_not_allowed_stops_at_zero_and_suspends(self, store):
        """Negative balance disabled: deductions stop at zero, reaching zero suspends."""
        ledger = Ledger(store, negative_balance=NegativeBalance(allowed=False))
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("5.00"), key="pay", at=AT)
        with pytest.raises(InsufficientFundsError, match=re.escape("from 5.00 to -0.01")):
            ledger.deduct("acme", eur("5.01"), key="d1", at=AT)
        assert ledger.state("acme") == "active"
        ledger.deduct("acme", eur("5.00"), key="d2", at=AT)
        assert ledger.balance("acme") == eur("0.00")
        assert ledger.state("acme") == "suspended"

    def test_allowed_goes_down_to_the_floor(self, store):
        """Negative balance enabled with a floor of -10: -10 is reached, not passed."""
        rule = NegativeBalance(allowed=True, floor=eur("-10.00"), display=True)
        ledger = Ledger(store, negative_balance=rule)
        ledger.open("acme", "EUR", at=AT)
        ledger.deduct("acme", eur("9.99"), key="d1", at=AT)
        assert ledger.state("acme") == "active"
        assert ledger.view("acme").amount == eur("-9.99")
        with pytest.raises(InsufficientFundsError):
            ledger.deduct("acme", eur("0.02"), key="d2", at=AT)
        ledger.deduct("acme", eur("0.01"), key="d3", at=AT)
        assert ledger.state("acme") == "suspended"
        ledger.recharge("acme", eur("10.01"), key="pay", at=AT)
        assert ledger.state("acme") == "active"

    def test_partial_deduction_takes_what_the_floor_leaves(self, store):
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("3.00"), key="pay", at=AT)
        e = LedgerEntry.deduction("acme", eur("5.00"), key="h1", at=AT)
        result = ledger.post([e], partial=True)
        assert result.written[0].amount == eur("-3.00")
        assert result.shortfalls[0].missing == eur("2.00")
        again = ledger.post([e], partial=True)  # a retried run: same event, no-op
        assert again.written == () and len(again.existing) == 1
        nothing = ledger.post(
            [LedgerEntry.deduction("acme", eur("1.00"), key="h2", at=AT)], partial=True
        )
        assert nothing.written == () and nothing.shortfalls[0].taken == eur("0")
        assert ledger.balance("acme") == eur("0.00")

    def test_adjustments_are_not_held_to_the_floor(self, store):
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.adjust("acme", eur("-4.00"), key="a", at=AT, memo="chargeback")
        assert ledger.balance("acme") == eur("-4.00")

    def test_partial_batch_cuts_each_deduction_to_the_running_balance(self, store):
        """In one partial batch, a later deduction sees what the earlier ones took."""
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("3.00"), key="pay", at=AT)
        batch = [
            LedgerEntry.deduction("acme", eur("2.00"), key="h1", at=AT),
            LedgerEntry.deduction("acme", eur("2.00"), key="h2", at=AT),
            LedgerEntry.deduction("acme", eur("2.00"), key="h3", at=AT),
        ]
        result = ledger.post(batch, partial=True)
        assert [e.amount for e in result.written] == [eur("-2.00"), eur("-1.00")]
        assert [(s.key, s.taken, s.missing) for s in result.shortfalls] == [
            ("h2", eur("1.00"), eur("1.00")),
            ("h3", eur("0"), eur("2.00")),
        ]
        assert ledger.balance("acme") == eur("0.00")

    def test_no_floor_takes_every_deduction_whole(self, store):
        """Negative balances allowed without a floor: nothing is cut, nothing is short."""
        ledger = Ledger(store, negative_balance=NegativeBalance(allowed=True, floor=None))
        ledger.open("acme", "EUR", at=AT)
        result = ledger.post(
            [LedgerEntry.deduction("acme", eur("7.00"), key="h1", at=AT)], partial=True
        )
        assert result.shortfalls == () and ledger.balance("acme") == eur("-7.00")

    def test_only_ledger_entries_are_posted(self, store):
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        with pytest.raises(WalletError, match="expected LedgerEntry objects"):
            store.append([{"account": "acme"}])


class TestRechargeLimits:
    def test_ledger_refuses_out_of_bounds_recharge(self, store):
        """Setting on: a recharge outside the bounds is refused and nothing is written."""
        limits = RechargeLimits(minimum=eur("10.00"), maximum=eur("500.00"))
        ledger = Ledger(store, recharge_limits=limits)
        ledger.open("acme", "EUR", at=AT)
        with pytest.raises(RechargeLimitError, match=re.escape("minimum prepaid recharge of 10")):
            ledger.recharge("acme", eur("9.99"), key="r1", at=AT)
        with pytest.raises(RechargeLimitError, match=re.escape("maximum prepaid recharge of 5")):
            ledger.recharge("acme", eur("500.01"), key="r2", at=AT)
        ledger.recharge("acme", eur("10.00"), key="r3", at=AT)
        ledger.recharge("acme", eur("500.00"), key="r4", at=AT)
        assert ledger.balance("acme") == eur("510.00")
        assert [e.key for e in ledger.entries()] == ["r3", "r4"]

    def test_no_limits_accepts_any_positive_recharge(self, store):
        """Setting off: any amount above zero is accepted."""
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("0.01"), key="r1", at=AT)
        ledger.recharge("acme", eur("1000000"), key="r2", at=AT)
        assert ledger.balance("acme") == eur("1000000.01")


class TestEntry:
    @pytest.mark.parametrize(
        ("kind", "amount"),
        [
            ("recharge", "-1"),
            ("deduction", "1"),
            ("refund", "-1"),
            ("promo_credit", "0"),
            ("adjustment", "0"),
        ],
    )
    def test_sign_is_checked(self, kind, amount):
        with pytest.raises(WalletError, match=f"a {kind} amount must be"):
            LedgerEntry(account="a", kind=kind, amount=eur(amount), key="k", at=AT)

    def test_naive_time_and_unknown_kind_are_refused(self):
        with pytest.raises(WalletError, match="has no timezone"):
            LedgerEntry(
                account="a", kind="refund", amount=eur("1"), key="k", at=datetime(2026, 11, 1)
            )
        with pytest.raises(WalletError, match="'topup' is not an entry kind"):
            LedgerEntry(account="a", kind="topup", amount=eur("1"), key="k", at=AT)

    def test_account_open_time_is_stored_in_utc(self):
        from zoneinfo import ZoneInfo

        local = datetime(2026, 11, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))
        assert Account("a", "EUR", local).opened_at == AT


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)


@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["recharge", "deduction", "refund"]), amounts, st.integers(0, 15)
        ),
        max_size=40,
    )
)
def test_memory_and_sqlite_agree(ops):
    """Any sequence of operations, retries included, leaves both stores identical, the
    balance equal to the sum of entries and never below the floor."""
    stores = [MemoryLedgerStore(), SQLiteLedgerStore(":memory:")]
    ledgers = [Ledger(s) for s in stores]
    outcomes = []
    for ledger in ledgers:
        ledger.open("acme", "EUR", at=AT)
        seen = []
        for kind, amount, n in ops:
            entry = (
                LedgerEntry.deduction("acme", eur(str(amount)), key=f"{kind}{n}", at=AT)
                if kind == "deduction"
                else LedgerEntry(
                    account="acme", kind=kind, amount=eur(str(amount)), key=f"{kind}{n}", at=AT
                )
            )
            try:
                ledger.post([entry])
                seen.append("ok")
            except (InsufficientFundsError, IdempotencyConflictError) as error:
                seen.append(type(error).__name__)
            assert ledger.balance("acme").amount >= 0
        entries = ledger.entries("acme")
        assert ledger.balance("acme").amount == sum((e.amount.amount for e in entries), Decimal(0))
        assert len({e.key for e in entries}) == len(entries)
        outcomes.append((seen, entries))
    assert outcomes[0] == outcomes[1]
    stores[1].close()
