"""Granted credits that expire, and the order a wallet's money is used in: expiring lots
first (soonest expiry first), then grants that do not expire, then paid money; on the
memory and SQLite stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate.accounts import (
    Credits,
    Ledger,
    LedgerEntry,
    MemoryLedgerStore,
    NegativeBalance,
    SQLiteLedgerStore,
    credit_expiry,
    expire_credits,
    expired_credit,
    expiry_key,
    grant_credit,
    grant_entry,
    wallet_credits,
)
from cloudrate.exceptions import UnknownAccountError, WalletError


def day(n: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, 1, hour, tzinfo=UTC) + timedelta(days=n - 1)


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


def _open(store, **kwargs) -> Ledger:
    ledger = Ledger(store, **kwargs)
    ledger.open("acme", "EUR", at=day(1))
    return ledger


def _left(ledger: Ledger, **kwargs) -> dict[str, str]:
    return {
        lot.key: str(lot.remaining.amount) for lot in wallet_credits(ledger, "acme", **kwargs).lots
    }


class TestGrantEntry:
    def test_the_expiry_is_in_the_reference(self):
        """A grant is a promo credit whose reference starts with the expiry instant in UTC,
        followed by the host's own reference."""
        berlin_noon = datetime.fromisoformat("2026-11-15T12:00:00+01:00")
        entry = grant_entry(
            "acme", eur("10.00"), key="g1", at=day(1), expires=berlin_noon, reference="WELCOME"
        )
        assert entry.kind == "promo_credit"
        assert entry.reference == "expires:2026-11-15T11:00:00+00:00 WELCOME"
        assert credit_expiry(entry) == datetime(2026, 11, 15, 11, tzinfo=UTC)

    def test_without_expiry_it_is_a_plain_promo_credit(self):
        """expires=None grants a credit that never expires."""
        entry = grant_entry("acme", eur("10.00"), key="g1", at=day(1), expires=None)
        assert entry.reference is None and credit_expiry(entry) is None

    def test_expiry_must_be_after_the_grant(self):
        """An expiry at or before the grant's time is refused, naming both instants."""
        with pytest.raises(WalletError, match=r"grant 'g1': expires 2026-11-01T00:00:00\+00:00"):
            grant_entry("acme", eur("10.00"), key="g1", at=day(1), expires=day(1))

    def test_a_reference_that_looks_like_an_expiry_is_refused(self):
        """The expiry goes in expires=, never smuggled into the reference."""
        with pytest.raises(WalletError, match="pass the expiry as expires="):
            grant_entry(
                "acme", eur("1.00"), key="g1", at=day(1), expires=None, reference="expires:x"
            )

    def test_a_malformed_expiry_names_the_entry(self):
        """A promo credit written by hand with an unreadable expiry is an error, not zero."""
        bad = LedgerEntry(
            account="acme",
            kind="promo_credit",
            amount=eur("1.00"),
            key="g9",
            at=day(1),
            reference="expires:soon",
        )
        with pytest.raises(WalletError, match="entry 'g9': reference 'expires:soon'"):
            credit_expiry(bad)

    def test_recharges_never_carry_an_expiry(self):
        """Only promo credits are grants; a recharge's reference is the host's own."""
        paid = LedgerEntry(
            account="acme",
            kind="recharge",
            amount=eur("1.00"),
            key="p",
            at=day(1),
            reference="expires:2026-11-02T00:00:00+00:00",
        )
        assert credit_expiry(paid) is None

    def test_grant_credit_is_idempotent(self, store):
        """The same grant posted twice is written once."""
        ledger = _open(store)
        first = grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        again = grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        assert again == first and again.seq == first.seq
        assert ledger.balance("acme") == eur("10.00")


class TestConsumptionOrder:
    def test_the_worked_example_of_the_issue(self, store):
        """10.00 granted until the 15th and 20.00 paid; 4.00 then 9.00 used: the grant pays
        4.00 and 6.00, the paid money 3.00; on the 16th nothing of the grant is left to
        expire and the balance stays 17.00."""
        ledger = _open(store)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("4.00"), key="use-1", at=day(3))
        assert _left(ledger) == {"pay-1": "20.00", "g1": "6.00"}
        ledger.deduct("acme", eur("9.00"), key="use-2", at=day(5))
        assert _left(ledger) == {"pay-1": "17.00", "g1": "0.00"}
        assert expire_credits(ledger, day(16)) == ()
        assert ledger.balance("acme") == eur("17.00")

    def test_the_unused_rest_of_a_grant_expires(self, store):
        """10.00 granted, 20.00 paid, 4.00 and 5.00 used: 1.00 of the grant is left and
        expires on the 16th as an adjustment of -1.00 dated at the expiry; paid money is
        untouched (20.00) and so is the balance's sum rule (30.00 - 9.00 - 1.00)."""
        ledger = _open(store)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("4.00"), key="use-1", at=day(3))
        ledger.deduct("acme", eur("5.00"), key="use-2", at=day(5))
        [entry] = expire_credits(ledger, day(16))
        assert (entry.kind, entry.key, entry.amount, entry.at, entry.reference) == (
            "adjustment",
            "expiry:g1",
            eur("-1.00"),
            day(15),
            "g1",
        )
        assert expired_credit(entry) == "g1"
        assert ledger.balance("acme") == eur("20.00")
        wallet = wallet_credits(ledger, "acme")
        [paid, grant] = wallet.lots
        assert (grant.used, grant.expired, grant.remaining, grant.closed) == (
            eur("9.00"),
            eur("1.00"),
            eur("0.00"),
            True,
        )
        assert paid.used == eur("0.00") and paid.remaining == eur("20.00")

    def test_expiring_again_writes_nothing(self, store):
        """A second run (or the same run twice) writes no second expiry."""
        ledger = _open(store)
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        assert len(expire_credits(ledger, day(16))) == 1
        assert expire_credits(ledger, day(16)) == ()
        assert expire_credits(ledger, day(30)) == ()
        assert [e.key for e in ledger.entries("acme")] == ["g1", "expiry:g1"]
        assert ledger.balance("acme") == eur("0.00")

    def test_nothing_expires_before_its_instant(self, store):
        """At the expiry instant it expires; one microsecond before, it does not."""
        ledger = _open(store)
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        assert expire_credits(ledger, day(15) - timedelta(microseconds=1)) == ()
        assert [e.key for e in expire_credits(ledger, day(15))] == ["expiry:g1"]

    def test_soonest_expiry_first_then_grants_then_paid(self, store):
        """Grants of 5.00 expiring on the 20th (g20) and the 10th (g10), 5.00 that never
        expires (g), 10.00 paid. 7.00 takes g10's 5.00 and 2.00 of g20; 6.00 takes g20's
        3.00 and 3.00 of g; 4.00 takes g's 2.00 and 2.00 of the paid money."""
        ledger = _open(store)
        ledger.recharge("acme", eur("10.00"), key="pay", at=day(1))
        grant_credit(ledger, "acme", eur("5.00"), key="g20", at=day(1), expires=day(20))
        grant_credit(ledger, "acme", eur("5.00"), key="g10", at=day(1), expires=day(10))
        grant_credit(ledger, "acme", eur("5.00"), key="g", at=day(1), expires=None)
        order = wallet_credits(ledger, "acme").order(day(2))
        assert [lot.key for lot in order] == ["g10", "g20", "g", "pay"]
        ledger.deduct("acme", eur("7.00"), key="d1", at=day(2))
        assert _left(ledger) == {"pay": "10.00", "g20": "3.00", "g10": "0.00", "g": "5.00"}
        ledger.deduct("acme", eur("6.00"), key="d2", at=day(3))
        assert _left(ledger) == {"pay": "10.00", "g20": "0.00", "g10": "0.00", "g": "2.00"}
        ledger.deduct("acme", eur("4.00"), key="d3", at=day(4))
        assert _left(ledger) == {"pay": "8.00", "g20": "0.00", "g10": "0.00", "g": "0.00"}
        assert ledger.balance("acme") == eur("8.00")

    def test_grants_without_expiry_and_paid_money_go_first_in_first_out(self, store):
        """Two non-expiring grants: the older one first; two recharges: the older first."""
        ledger = _open(store)
        ledger.recharge("acme", eur("3.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("2.00"), key="g-1", at=day(1), expires=None)
        ledger.recharge("acme", eur("3.00"), key="pay-2", at=day(2))
        grant_credit(ledger, "acme", eur("2.00"), key="g-2", at=day(2), expires=None)
        ledger.deduct("acme", eur("5.00"), key="d", at=day(3))
        assert _left(ledger) == {"pay-1": "2.00", "g-1": "0.00", "pay-2": "3.00", "g-2": "0.00"}

    def test_a_deduction_after_the_expiry_skips_the_grant(self, store):
        """A deduction dated on the 16th, posted before the expiry run, does not use the
        grant that expired on the 15th: it takes 3.00 of the paid 20.00, and the run then
        expires all 10.00 of the grant."""
        ledger = _open(store)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("3.00"), key="late", at=day(16, 1))
        assert _left(ledger) == {"pay-1": "17.00", "g1": "10.00"}
        [entry] = expire_credits(ledger, day(16, 2))
        assert entry.amount == eur("-10.00")
        assert ledger.balance("acme") == eur("17.00")

    def test_late_usage_after_the_expiry_entry_uses_the_next_lot(self, store):
        """Usage dated before the expiry but posted after its expiry entry cannot use the
        expired credit any more: 2.00 comes from the paid money."""
        ledger = _open(store)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        expire_credits(ledger, day(16))
        ledger.deduct("acme", eur("2.00"), key="late", at=day(14))
        assert _left(ledger) == {"pay-1": "18.00", "g1": "0.00"}

    def test_credits_arriving_in_debt_cover_it_first(self, store):
        """With negative balances allowed: 5.00 paid, 8.00 used leaves a debt of 3.00; a
        grant of 10.00 covers it first (7.00 left), and its expiry takes 7.00, back to a
        balance of 0.00."""
        ledger = _open(store, negative_balance=NegativeBalance(allowed=True))
        ledger.recharge("acme", eur("5.00"), key="pay-1", at=day(1))
        ledger.deduct("acme", eur("8.00"), key="d1", at=day(2))
        wallet = wallet_credits(ledger, "acme")
        assert wallet.debt == eur("3.00") and wallet.balance == eur("-3.00")
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(3), expires=day(15))
        wallet = wallet_credits(ledger, "acme")
        assert wallet.debt == eur("0.00") and _left(ledger) == {"pay-1": "0.00", "g1": "7.00"}
        [entry] = expire_credits(ledger, day(16))
        assert entry.amount == eur("-7.00")
        assert ledger.balance("acme") == eur("0.00")

    def test_paid_money_expires_only_when_configured(self, store):
        """With paid_expire_after=30 days the recharge of 1 November expires on 1 December
        and is used first (it is an expiring lot): 5.00 leaves it 15.00, which expires;
        the grant that never expires keeps its 10.00. Without the setting nothing expires."""
        ledger = _open(store)
        ledger.recharge("acme", eur("20.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=None)
        ledger.deduct("acme", eur("5.00"), key="d1", at=day(2))
        assert _left(ledger) == {"pay-1": "20.00", "g1": "5.00"}
        assert expire_credits(ledger, day(40)) == ()
        month = timedelta(days=30)
        assert _left(ledger, paid_expire_after=month) == {"pay-1": "15.00", "g1": "10.00"}
        [entry] = expire_credits(ledger, day(40), paid_expire_after=month)
        assert (entry.key, entry.amount, entry.at) == ("expiry:pay-1", eur("-15.00"), day(31))
        assert ledger.balance("acme") == eur("10.00")

    def test_at_the_same_expiry_grants_go_before_paid_money(self, store):
        """A recharge valid 14 days and a grant, both expiring on the 15th: 4.00 comes from
        the grant, though the recharge was credited first."""
        ledger = _open(store)
        ledger.recharge("acme", eur("10.00"), key="pay-1", at=day(1))
        grant_credit(ledger, "acme", eur("10.00"), key="g1", at=day(1), expires=day(15))
        ledger.deduct("acme", eur("4.00"), key="d1", at=day(2))
        two_weeks = timedelta(days=14)
        assert _left(ledger, paid_expire_after=two_weeks) == {"pay-1": "10.00", "g1": "6.00"}

    def test_only_the_named_accounts_are_expired(self, store):
        """accounts= limits the run; the others keep their expired grants until asked."""
        ledger = _open(store)
        ledger.open("globex", "EUR", at=day(1))
        grant_credit(ledger, "acme", eur("1.00"), key="ga", at=day(1), expires=day(2))
        grant_credit(ledger, "globex", eur("1.00"), key="gg", at=day(1), expires=day(2))
        assert [e.key for e in expire_credits(ledger, day(3), accounts=["globex"])] == ["expiry:gg"]
        assert ledger.balance("acme") == eur("1.00")

    def test_an_unknown_account_is_named(self):
        """Asking for the credits of an account never opened says how to open it."""
        with pytest.raises(UnknownAccountError, match="'ghost' is not open"):
            wallet_credits(Ledger(), "ghost")

    def test_entries_of_another_account_are_refused(self):
        """Credits.of takes one account's entries."""
        other = LedgerEntry(
            account="globex", kind="recharge", amount=eur("1.00"), key="p", at=day(1)
        )
        with pytest.raises(WalletError, match="entry 'p' is of account 'globex', not 'acme'"):
            Credits.of([other], account="acme", currency="EUR")

    def test_paid_expire_after_must_be_positive(self):
        """A zero or negative validity is refused with the fix."""
        with pytest.raises(WalletError, match="paid_expire_after: expected a positive"):
            Credits.of([], account="acme", currency="EUR", paid_expire_after=timedelta(0))

    def test_expiry_key(self):
        assert expiry_key("promo:X:acme") == "expiry:promo:X:acme"


# --- properties -----------------------------------------------------------------------------

_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50), places=2)
_ops = st.lists(
    st.tuples(
        st.sampled_from(["grant", "recharge", "deduct", "expire", "adjust"]),
        _amounts,
        st.one_of(st.none(), st.integers(min_value=0, max_value=6)),  # a grant's days to expiry
        st.integers(min_value=0, max_value=3),  # days the clock moves first
    ),
    max_size=30,
)


def _run(ledger: Ledger, ops, check) -> None:
    now = day(1)
    for i, (op, amount, expires_in, step) in enumerate(ops):
        now += timedelta(days=step, hours=1)
        before = wallet_credits(ledger, "acme")
        if op == "grant":
            expires = None if expires_in is None else now + timedelta(days=expires_in, hours=1)
            grant_credit(ledger, "acme", Money(amount, "EUR"), key=f"g{i}", at=now, expires=expires)
        elif op == "recharge":
            ledger.recharge("acme", Money(amount, "EUR"), key=f"p{i}", at=now)
        elif op == "deduct":
            ledger.post(
                [LedgerEntry.deduction("acme", Money(amount, "EUR"), key=f"d{i}", at=now)],
                partial=True,
            )
        elif op == "adjust":
            ledger.adjust("acme", Money(-amount, "EUR"), key=f"a{i}", at=now, memo="correction")
        else:
            expire_credits(ledger, now)
        check(before, wallet_credits(ledger, "acme"), op, now)


class TestProperties:
    @given(ops=_ops, negative=st.booleans())
    def test_balance_is_the_sum_of_entries_and_of_lots(self, ops, negative):
        """Whatever is granted, paid, used and expired: the balance equals the sum of the
        entries, and the lots' remainders less the debt."""
        ledger = _open(MemoryLedgerStore(), negative_balance=NegativeBalance(allowed=negative))

        def check(_before, after, _op, _now):
            summed = sum((e.amount.amount for e in ledger.entries("acme")), Decimal(0))
            assert ledger.balance("acme").amount == summed == after.balance.amount
            assert after.debt.amount >= 0
            assert all(lot.remaining.amount >= 0 for lot in after.lots)

        _run(ledger, ops, check)

    @given(ops=_ops, negative=st.booleans())
    def test_expiring_first_never_uses_paid_money_while_a_grant_has_money(self, ops, negative):
        """A deduction uses lots in the consumption order: when it takes from a lot, every
        lot before that one in the order is empty afterwards; in particular it never takes
        paid money while a grant it may still use has money left."""
        ledger = _open(MemoryLedgerStore(), negative_balance=NegativeBalance(allowed=negative))

        def check(before, after, op, now):
            if op not in ("deduct", "adjust"):
                return
            lots = {lot.key: lot for lot in after.lots}
            order = before.order(now)
            took = [i for i, lot in enumerate(order) if lots[lot.key].used > lot.used]
            if not took:
                return
            assert all(lots[lot.key].remaining.amount == 0 for lot in order[: took[-1]])
            if any(order[i].source == "paid" for i in took):
                assert all(
                    lots[lot.key].remaining.amount == 0 for lot in order if lot.source == "grant"
                )

        _run(ledger, ops, check)

    @given(ops=_ops)
    def test_after_an_expiry_run_nothing_expired_has_money(self, ops):
        """Once expire_credits ran at *now*, no lot past its expiry keeps money."""
        ledger = _open(MemoryLedgerStore())

        def check(_before, after, op, now):
            if op == "expire":
                assert after.due_to_expire(now) == ()

        _run(ledger, ops, check)
