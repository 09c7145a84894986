"""Where ledger entries live: the :class:`LedgerStore` protocol and the in-memory store.

A store appends batches all-or-nothing: it checks every entry of a batch (account open,
currency, idempotency key, floor) inside one lock or transaction and writes either all
new entries or none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Protocol

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import (
    IdempotencyConflictError,
    InsufficientFundsError,
    UnknownAccountError,
    WalletError,
)

from ._balance import NegativeBalance
from ._entry import Account, LedgerEntry

__all__ = ["AppendResult", "LedgerStore", "MemoryLedgerStore", "Shortfall"]


@attrs.frozen
class Shortfall:
    """A deduction cut short by the floor: *requested* was asked, *taken* deducted."""

    key: str
    account: str
    requested: Money
    taken: Money

    @property
    def missing(self) -> Money:
        return Money(self.requested.amount - self.taken.amount, self.requested.currency.code)


@attrs.frozen
class AppendResult:
    """What a batch did: entries *written*, entries already there (*existing*, no-ops),
    and deductions the floor cut short (*shortfalls*, only with ``partial=True``)."""

    written: tuple[LedgerEntry, ...] = ()
    existing: tuple[LedgerEntry, ...] = ()
    shortfalls: tuple[Shortfall, ...] = ()


class LedgerStore(Protocol):
    """Storage for accounts and ledger entries; see :class:`MemoryLedgerStore` and
    :class:`~cloudrate.accounts.SQLiteLedgerStore`."""

    def open_account(self, account: Account) -> Account:
        """Open *account*; opening it again in the same currency returns the first one."""
        ...

    def account(self, name: str) -> Account | None:
        """The account called *name*, or ``None``."""
        ...

    def accounts(self) -> tuple[Account, ...]:
        """Every account, sorted by name."""
        ...

    def append(
        self,
        entries: Sequence[LedgerEntry],
        *,
        negative: NegativeBalance | None = None,
        partial: bool = False,
    ) -> AppendResult:
        """Append *entries* all-or-nothing (see :func:`plan_batch`)."""
        ...

    def entry(self, key: str) -> LedgerEntry | None:
        """The entry stored under idempotency *key*, or ``None``."""
        ...

    def entries(self, account: str | None = None) -> tuple[LedgerEntry, ...]:
        """Entries of *account* (all when ``None``) in the order they were written."""
        ...

    def balance(self, account: str) -> Money:
        """The exact sum of *account*'s entries."""
        ...


@exact
def plan_batch(
    entries: Sequence[LedgerEntry],
    *,
    account: Callable[[str], Account | None],
    existing: Callable[[str], LedgerEntry | None],
    balance: Callable[[str], Decimal],
    negative: NegativeBalance | None,
    partial: bool,
) -> AppendResult:
    """Decide what a batch writes, raising before anything is written if any entry is wrong.

    Each entry's account must be open and in the entry's currency. A key already stored
    (or earlier in the batch) with the same content is a no-op; with other content it is
    an :class:`IdempotencyConflictError`. Deductions may not take a balance below
    *negative*'s floor: refused with :class:`InsufficientFundsError`, or with *partial*
    cut down to what the floor leaves (nothing written when nothing is left).
    """
    running: dict[str, Decimal] = {}
    seen: dict[str, LedgerEntry] = {}
    written: list[LedgerEntry] = []
    found: list[LedgerEntry] = []
    short: list[Shortfall] = []
    for entry in entries:
        acct = _open_account_of(entry, account)
        before = seen.get(entry.key) or existing(entry.key)
        if before is not None:
            if not _same(before, entry, partial):
                raise _conflict(before, entry)
            found.append(before)
            continue
        now = running[entry.account] if entry.account in running else balance(entry.account)
        if entry.kind == "deduction" and negative is not None:
            fitted, shortfall = _fit_to_floor(
                entry, acct, now, negative.lowest(acct.currency), partial
            )
            if shortfall is not None:
                short.append(shortfall)
            if fitted is None:
                continue
            entry = fitted
        running[entry.account] = now + entry.amount.amount
        seen[entry.key] = entry
        written.append(entry)
    return AppendResult(tuple(written), tuple(found), tuple(short))


def _open_account_of(entry: object, account: Callable[[str], Account | None]) -> Account:
    """The open account *entry* posts to, in the entry's currency, or a clear error."""
    if not isinstance(entry, LedgerEntry):
        raise WalletError(f"expected LedgerEntry objects, got {entry!r}")
    acct = account(entry.account)
    if acct is None:
        raise UnknownAccountError(
            f"entry {entry.key!r}: account {entry.account!r} is not open; open it with "
            f"Ledger.open({entry.account!r}, currency, at=...) before posting to it"
        )
    if acct.currency != entry.currency:
        raise WalletError(
            f"entry {entry.key!r} is in {entry.currency} but account "
            f"{acct.name!r} is in {acct.currency}; convert it first"
        )
    return acct


def _conflict(before: LedgerEntry, entry: LedgerEntry) -> IdempotencyConflictError:
    return IdempotencyConflictError(
        f"idempotency key {entry.key!r} is already used by a {before.kind} of "
        f"{before.amount.amount} {before.currency} for {before.account!r} at "
        f"{before.at.isoformat()}; this {entry.kind} of {entry.amount.amount} "
        f"{entry.currency} for {entry.account!r} differs: use a new key for a new event"
    )


def _fit_to_floor(
    entry: LedgerEntry, acct: Account, now: Decimal, lowest: Decimal | None, partial: bool
) -> tuple[LedgerEntry | None, Shortfall | None]:
    """The deduction *entry* as the floor *lowest* lets it take from the balance *now*.

    Within the floor it is unchanged. Past it, it is refused, or with *partial* cut to
    what the floor leaves (``None`` when nothing is left) with the :class:`Shortfall`.
    """
    after = now + entry.amount.amount
    if lowest is None or after >= lowest:
        return entry, None
    if not partial:
        raise InsufficientFundsError(
            f"deduction {entry.key!r} of {-entry.amount.amount} {acct.currency} "
            f"would take {acct.name!r} from {now} to {after}, below the floor of "
            f"{lowest}; recharge the account first (nothing was written)"
        )
    room = max(Decimal(0), now - lowest)
    requested = Money(-entry.amount.amount, acct.currency)
    shortfall = Shortfall(entry.key, acct.name, requested, Money(room, acct.currency))
    if room == 0:
        return None, shortfall
    return attrs.evolve(entry, amount=Money(-room, acct.currency)), shortfall


def _same(before: LedgerEntry, entry: LedgerEntry, partial: bool) -> bool:
    if before.same_content(entry):
        return True
    # A deduction the floor cut short is the same event when retried in partial mode.
    return (
        partial
        and entry.kind == "deduction"
        and before.currency == entry.currency
        and entry.amount.amount <= before.amount.amount < 0
        and attrs.evolve(before, amount=entry.amount).same_content(entry)
    )


class MemoryLedgerStore:
    """A ledger store in a Python dict, safe across threads of one process.

    >>> from datetime import datetime, timezone
    >>> store = MemoryLedgerStore()
    >>> at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> store.open_account(Account("acme", "EUR", at)).currency
    'EUR'
    >>> result = store.append([LedgerEntry(account="acme", kind="recharge",
    ...                                    amount=Money("20.00", "EUR"), key="r1", at=at)])
    >>> store.balance("acme")
    Money('20.00', 'EUR')
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._entries: list[LedgerEntry] = []
        self._by_key: dict[str, LedgerEntry] = {}
        self._balances: dict[str, Decimal] = {}

    def open_account(self, account: Account) -> Account:
        with self._lock:
            return _open(
                self._accounts.get(account.name),
                account,
                lambda: self._accounts.__setitem__(account.name, account),
            )

    def account(self, name: str) -> Account | None:
        with self._lock:
            return self._accounts.get(name)

    def accounts(self) -> tuple[Account, ...]:
        with self._lock:
            return tuple(sorted(self._accounts.values(), key=lambda a: a.name))

    @exact
    def append(
        self,
        entries: Sequence[LedgerEntry],
        *,
        negative: NegativeBalance | None = None,
        partial: bool = False,
    ) -> AppendResult:
        with self._lock:
            result = plan_batch(
                entries,
                account=self._accounts.get,
                existing=self._by_key.get,
                balance=lambda name: self.balance(name).amount,
                negative=negative,
                partial=partial,
            )
            stored = []
            for entry in result.written:
                entry = attrs.evolve(entry, seq=len(self._entries) + 1)
                self._entries.append(entry)
                self._by_key[entry.key] = entry
                self._balances[entry.account] = (
                    self._balances.get(entry.account, Decimal(0)) + entry.amount.amount
                )
                stored.append(entry)
            return attrs.evolve(result, written=tuple(stored))

    def entry(self, key: str) -> LedgerEntry | None:
        with self._lock:
            return self._by_key.get(key)

    def entries(self, account: str | None = None) -> tuple[LedgerEntry, ...]:
        with self._lock:
            return tuple(e for e in self._entries if account is None or e.account == account)

    def balance(self, account: str) -> Money:
        with self._lock:
            acct = _known(self._accounts.get(account), account)
            return Money(self._balances.get(account, Decimal(0)), acct.currency)


def _known(found: Account | None, name: str) -> Account:
    if found is None:
        raise UnknownAccountError(
            f"account {name!r} is not open; open it with "
            f"Ledger.open({name!r}, currency, at=...) first"
        )
    return found


def _open(before: Account | None, account: Account, write: Callable[[], object]) -> Account:
    if before is None:
        write()
        return account
    if before.currency != account.currency:
        raise WalletError(
            f"account {account.name!r} is already open in {before.currency}; "
            f"it cannot be reopened in {account.currency}"
        )
    return before
