"""The prepaid wallet: :class:`Ledger`, the front door to a :class:`LedgerStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs
from moneyed import Money

from cloudrate._money import check_money, exact_class
from cloudrate.exceptions import WalletError

from ._balance import BalanceView, NegativeBalance
from ._entry import Account, LedgerEntry
from ._recharge import RechargeLimits
from ._store import AppendResult, LedgerStore, MemoryLedgerStore

__all__ = ["PAYABLE_KINDS", "Ledger"]

#: Entry kinds that move money the customer paid or was given as money (a recharge, a
#: promo credit): their amounts are whole minor units of the currency (33.33 EUR, never
#: 33.325). Deductions, refunds and adjustments record usage cost, which a plan may round
#: to more digits (``RoundingPolicy(digits=4)``); they keep their digits.
PAYABLE_KINDS = frozenset({"recharge", "promo_credit"})


def _checked(entry: LedgerEntry) -> None:
    """Refuse an entry whose amount cloudrate would not hold: float noise, beyond the
    bounds, or (for :data:`PAYABLE_KINDS`) finer than the currency's minor units."""
    check_money(
        entry.amount,
        f"entry {entry.key!r}: the {entry.kind} amount",
        payable=entry.kind in PAYABLE_KINDS,
        error=WalletError,
    )


@exact_class
@attrs.frozen
class Ledger:
    """An append-only prepaid ledger: recharges, deductions, refunds, promo credits and
    adjustments, each with an idempotency key; the balance is the sum of the entries.

    *negative_balance* sets the floor deductions may not pass (zero by default);
    *recharge_limits* bounds each recharge.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    >>> ledger = Ledger(MemoryLedgerStore(),
    ...                 recharge_limits=RechargeLimits(Money("10.00", "EUR"), None))
    >>> _ = ledger.open("acme", "EUR", at=at)
    >>> _ = ledger.recharge("acme", Money("25.00", "EUR"), key="pay-981", at=at)
    >>> _ = ledger.deduct("acme", Money("1.50", "EUR"), key="usage:acme:08", at=at)
    >>> _ = ledger.deduct("acme", Money("1.50", "EUR"), key="usage:acme:08", at=at)  # no-op
    >>> ledger.balance("acme")
    Money('23.50', 'EUR')
    """

    store: LedgerStore = attrs.field(factory=MemoryLedgerStore)
    negative_balance: NegativeBalance = attrs.field(factory=NegativeBalance)
    recharge_limits: RechargeLimits = attrs.field(factory=RechargeLimits)

    def open(self, account: str, currency: str, *, at: datetime) -> Account:
        """Open *account*'s wallet in *currency* (again: a no-op in the same currency)."""
        return self.store.open_account(Account(account, currency, at))

    def post(self, entries: Sequence[LedgerEntry], *, partial: bool = False) -> AppendResult:
        """Append *entries* all-or-nothing; recharges are checked against the limits, and
        every amount as :data:`PAYABLE_KINDS` says."""
        for entry in entries:
            _checked(entry)
            if entry.kind == "recharge":
                self.recharge_limits.check(entry.amount)
        return self.store.append(entries, negative=self.negative_balance, partial=partial)

    def _one(self, entry: LedgerEntry, partial: bool = False) -> LedgerEntry:
        result = self.post([entry], partial=partial)
        if result.written:
            return result.written[0]
        if result.existing:
            return result.existing[0]
        return entry  # a partial deduction with nothing left to take: not written

    def recharge(
        self,
        account: str,
        amount: Money,
        *,
        key: str,
        at: datetime,
        memo: str = "",
        reference: str | None = None,
    ) -> LedgerEntry:
        """Add *amount* (within the recharge limits)."""
        return self._one(
            LedgerEntry(
                account=account,
                kind="recharge",
                amount=amount,
                key=key,
                at=at,
                memo=memo,
                reference=reference,
            )
        )

    def deduct(
        self,
        account: str,
        amount: Money,
        *,
        key: str,
        at: datetime,
        memo: str = "",
        reference: str | None = None,
    ) -> LedgerEntry:
        """Take the positive *amount*; refused below the floor
        (:class:`~cloudrate.exceptions.InsufficientFundsError`)."""
        return self._one(
            LedgerEntry.deduction(account, amount, key=key, at=at, memo=memo, reference=reference)
        )

    def refund(
        self,
        account: str,
        amount: Money,
        *,
        key: str,
        at: datetime,
        memo: str = "",
        reference: str | None = None,
    ) -> LedgerEntry:
        """Credit *amount* back to the wallet."""
        return self._one(
            LedgerEntry(
                account=account,
                kind="refund",
                amount=amount,
                key=key,
                at=at,
                memo=memo,
                reference=reference,
            )
        )

    def promo_credit(
        self,
        account: str,
        amount: Money,
        *,
        key: str,
        at: datetime,
        memo: str = "",
        reference: str | None = None,
    ) -> LedgerEntry:
        """Credit *amount* from a promotion."""
        return self._one(
            LedgerEntry(
                account=account,
                kind="promo_credit",
                amount=amount,
                key=key,
                at=at,
                memo=memo,
                reference=reference,
            )
        )

    def adjust(
        self,
        account: str,
        amount: Money,
        *,
        key: str,
        at: datetime,
        memo: str,
        reference: str | None = None,
    ) -> LedgerEntry:
        """Correct the balance by the signed *amount*; *memo* says why. Adjustments are an
        administrator's act and are not held to the floor."""
        return self._one(
            LedgerEntry(
                account=account,
                kind="adjustment",
                amount=amount,
                key=key,
                at=at,
                memo=memo,
                reference=reference,
            )
        )

    def balance(self, account: str) -> Money:
        """The exact sum of *account*'s entries."""
        return self.store.balance(account)

    def entries(self, account: str | None = None) -> tuple[LedgerEntry, ...]:
        """*account*'s entries (all when ``None``) in the order written."""
        return self.store.entries(account)

    def state(self, account: str) -> str:
        """``"suspended"`` once the balance has reached the floor, else ``"active"``."""
        return self.negative_balance.state(self.balance(account))

    def view(self, account: str) -> BalanceView:
        """What the portal shows for *account*'s balance (see :meth:`NegativeBalance.view`)."""
        return self.negative_balance.view(self.balance(account))
