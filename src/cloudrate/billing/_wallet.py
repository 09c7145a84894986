"""The prepaid wallet in the document store's database, with its events in the same commit.

:class:`DocumentLedgerStore` is a :class:`~cloudrate.accounts.LedgerStore` on two tables of
an SQL document store (``cloudrate_wallet_account``, ``cloudrate_wallet_entry``), so a
:class:`~cloudrate.accounts.Ledger` on it writes each batch of entries and the
``wallet.low`` / ``wallet.depleted`` / ``wallet.credit_expired`` events the batch causes in
one transaction: the outbox never reports a balance that was not committed, and never misses
one that was. :func:`record_topup_request` writes a top-up request as
``wallet.topup_requested``.

Each batch is one ``store.transaction(tenant, "wallet\\x1f<accounts>")``, the accounts'
names sorted and joined by ``\\x1f``. On PostgreSQL that advisory lock queues batches on the
same accounts; a batch on several accounts also locks their rows, in name order, before it
reads a balance, so it never decides on a balance another batch is changing. SQLite has one
writer at a time. Amounts are decimal text, added in Python; each account row keeps its
balance (the sum of its entries), updated with the entries; :meth:`DocumentLedgerStore.audit`
adds them again. Entries are only ever inserted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from moneyed import Money

from cloudrate._money import exact, exact_class
from cloudrate.accounts import (
    Account,
    AppendResult,
    LedgerEntry,
    NegativeBalance,
    TopUpRequest,
    expired_credit,
    plan_batch,
)
from cloudrate.exceptions import UnknownAccountError, WalletError

from ._events import Event, EventType, new_event
from ._notices import record_event
from ._sql import SQLStore, _Transaction
from ._store import DocumentStore, StoreTransaction

__all__ = ["DocumentLedgerStore", "record_topup_request"]

T = TypeVar("T")
#: Runs a query written with ``?`` placeholders and returns its rows.
_Rows = Callable[[str, Sequence[Any]], list[Any]]

_ACCOUNT = "name, currency, opened_at"
_ENTRY = "seq, key, account, kind, amount, currency, at, memo, reference"


def _low(value: object, where: str) -> Money:
    if not isinstance(value, Money):
        raise WalletError(f"{where}: expected Money such as Money('5.00', 'EUR') (got {value!r})")
    if value.amount <= 0:
        raise WalletError(
            f"{where}: must be above zero (got {value.amount} {value.currency.code}); "
            "wallet.depleted already reports a balance reaching zero"
        )
    return value


def _lows(value: object) -> Money | dict[str, Money] | None:
    if value is None:
        return None
    if isinstance(value, Money):
        return _low(value, "low_balance")
    if isinstance(value, Mapping):
        return {str(k): _low(v, f"low_balance[{k!r}]") for k, v in value.items()}
    raise WalletError(
        "low_balance: expected Money such as Money('5.00', 'EUR') for every account, a "
        f"mapping of account name to Money, or None (got {value!r})"
    )


def _account_row(row: Sequence[Any]) -> Account:
    return Account(row[0], row[1], datetime.fromisoformat(row[2]))


def _entry_row(row: Sequence[Any]) -> LedgerEntry:
    seq, key, account, kind, amount, currency, at, memo, reference = row
    return LedgerEntry(
        account=account,
        kind=kind,
        amount=Money(Decimal(amount), currency),
        key=key,
        at=datetime.fromisoformat(at),
        memo=memo,
        reference=reference,
        seq=int(seq),
    )


def _not_open(name: str) -> UnknownAccountError:
    return UnknownAccountError(
        f"account {name!r} is not open; open it with Ledger.open({name!r}, currency, at=...) first"
    )


@exact_class
class DocumentLedgerStore:
    """A :class:`~cloudrate.accounts.LedgerStore` in the document store's database.

    *store* is a :class:`~cloudrate.billing.SQLiteDocumentStore` or
    :class:`~cloudrate.billing.PostgresDocumentStore`; *tenant* keeps one portal's wallets
    apart from another's. *low_balance* is the threshold of ``wallet.low``: one Money for
    every account (in its currency), a mapping of account name to Money, or ``None`` for no
    ``wallet.low`` events. In the transaction of each batch it writes

    - ``wallet.low`` when an entry takes a balance from at or above the account's threshold
      to below it,
    - ``wallet.depleted`` when an entry takes a balance from above zero to zero or below,

    with the subject ``"<account>/<entry key>"`` of the entry that crossed and the balance
    before and after, the threshold and the currency as data; and
    ``wallet.credit_expired`` (subject ``"<account>/<credit key>"``) for the expiry entry of
    a credit (:func:`~cloudrate.accounts.expire_credits`), with the credit, the amount that
    expired and the balance before and after. Appending the same batch again
    writes no entry, so no event either.

    >>> import tempfile, pathlib
    >>> from datetime import datetime, timezone
    >>> from cloudrate.accounts import Ledger
    >>> from cloudrate.billing import SQLiteDocumentStore
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> ledger = Ledger(DocumentLedgerStore(store, low_balance=Money("5.00", "EUR")))
    >>> at = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    >>> _ = ledger.open("acme", "EUR", at=at)
    >>> _ = ledger.recharge("acme", Money("8.00", "EUR"), key="pay-1", at=at)
    >>> _ = ledger.deduct("acme", Money("4.00", "EUR"), key="usage:08", at=at)
    >>> _ = ledger.deduct("acme", Money("4.00", "EUR"), key="usage:09", at=at)
    >>> [(e.type, e.subject, e.data["balance_after"]) for e in store.events()]
    [('wallet.low', 'acme/usage:08', '4.00'), ('wallet.depleted', 'acme/usage:09', '0.00')]
    >>> store.close()
    """

    def __init__(
        self,
        store: DocumentStore,
        *,
        low_balance: Mapping[str, Money] | Money | None = None,
        tenant: str = "default",
    ) -> None:
        if not isinstance(store, SQLStore):
            raise WalletError(
                f"store: the wallet lives in an SQL document store (got {store!r}); pass a "
                "SQLiteDocumentStore or PostgresDocumentStore, e.g. open_store('billing.db')"
            )
        if not isinstance(tenant, str) or not tenant.strip():
            raise WalletError(f"tenant: expected a non-empty string (got {tenant!r})")
        self.store: DocumentStore = store
        self._sql: SQLStore = store
        self.tenant = tenant
        self.low_balance = _lows(low_balance)

    def __repr__(self) -> str:
        return f"DocumentLedgerStore({self.store!r}, tenant={self.tenant!r})"

    # --- reading ---------------------------------------------------------------------------

    def _read(self, what: str, work: Callable[[_Rows], T]) -> T:
        with self._sql._reading(what) as reads:
            return work(reads._all)

    def _account(self, rows: _Rows, name: str) -> Account | None:
        found = rows(
            f"SELECT {_ACCOUNT} FROM cloudrate_wallet_account WHERE tenant = ? AND name = ?",
            [self.tenant, name],
        )
        return _account_row(found[0]) if found else None

    def _entry(self, rows: _Rows, key: str) -> LedgerEntry | None:
        found = rows(
            f"SELECT {_ENTRY} FROM cloudrate_wallet_entry WHERE tenant = ? AND key = ?",
            [self.tenant, key],
        )
        return _entry_row(found[0]) if found else None

    def _balance(self, rows: _Rows, name: str) -> Decimal:
        found = rows(
            "SELECT balance FROM cloudrate_wallet_account WHERE tenant = ? AND name = ?",
            [self.tenant, name],
        )
        return Decimal(found[0][0]) if found else Decimal(0)

    def account(self, name: str) -> Account | None:
        return self._read(f"reading wallet {name!r}", lambda rows: self._account(rows, name))

    def accounts(self) -> tuple[Account, ...]:
        found = self._read(
            "listing the wallets",
            lambda rows: rows(
                f"SELECT {_ACCOUNT} FROM cloudrate_wallet_account WHERE tenant = ?", [self.tenant]
            ),
        )
        return tuple(sorted((_account_row(r) for r in found), key=lambda a: a.name))

    def entry(self, key: str) -> LedgerEntry | None:
        return self._read(f"reading wallet entry {key!r}", lambda rows: self._entry(rows, key))

    def entries(self, account: str | None = None) -> tuple[LedgerEntry, ...]:
        where, params = (
            ("", [self.tenant]) if account is None else (" AND account = ?", [self.tenant, account])
        )
        query = f"SELECT {_ENTRY} FROM cloudrate_wallet_entry WHERE tenant = ?{where} ORDER BY seq"
        found = self._read("reading wallet entries", lambda rows: rows(query, params))
        return tuple(_entry_row(r) for r in found)

    def balance(self, account: str) -> Money:
        found = self._read(
            f"reading the balance of {account!r}",
            lambda rows: rows(
                "SELECT currency, balance FROM cloudrate_wallet_account "
                "WHERE tenant = ? AND name = ?",
                [self.tenant, account],
            ),
        )
        if not found:
            raise _not_open(account)
        return Money(Decimal(found[0][1]), found[0][0])

    @exact
    def audit(self) -> dict[str, tuple[Money, Money]]:
        """Accounts whose kept balance differs from the sum of their entries, with both
        (kept, summed); empty when the wallet is consistent. One query, so one snapshot."""
        found = self._read(
            "auditing the wallets",
            lambda rows: rows(
                "SELECT a.name, a.currency, a.balance, e.amount FROM cloudrate_wallet_account a "
                "LEFT JOIN cloudrate_wallet_entry e ON e.tenant = a.tenant AND e.account = a.name "
                "WHERE a.tenant = ?",
                [self.tenant],
            ),
        )
        kept: dict[str, Money] = {}
        summed: dict[str, Decimal] = {}
        for name, currency, balance, amount in found:
            kept[name] = Money(Decimal(balance), currency)
            summed[name] = summed.get(name, Decimal(0)) + Decimal(amount or 0)
        return {
            name: (kept[name], Money(summed[name], kept[name].currency.code))
            for name in sorted(kept)
            if kept[name].amount != summed[name]
        }

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def _writing(self, names: Sequence[str]) -> Iterator[tuple[_Transaction, _Rows]]:
        with self._sql.transaction(self.tenant, "wallet\x1f" + "\x1f".join(names)) as tx:
            yield tx, lambda query, params: tx._run(query, params).fetchall()

    def _threshold(self, account: Account) -> Decimal | None:
        low = self.low_balance
        if isinstance(low, dict):
            low = low.get(account.name)
        if low is None:
            return None
        if low.currency.code != account.currency:
            raise WalletError(
                f"low_balance for {account.name!r} is in {low.currency.code} but the account "
                f"is in {account.currency}; give the account a threshold in its currency "
                f"(low_balance={{{account.name!r}: Money('5.00', {account.currency!r})}})"
            )
        return low.amount

    def open_account(self, account: Account) -> Account:
        if not isinstance(account, Account):
            raise WalletError(
                f"expected an Account such as Account('acme', 'EUR', at), got {account!r}"
            )
        self._threshold(account)  # a threshold in another currency is refused before opening
        with self._writing([account.name]) as (tx, rows):
            before = self._account(rows, account.name)
            if before is None:
                tx._run(
                    "INSERT INTO cloudrate_wallet_account (tenant, name, currency, opened_at, "
                    "balance) VALUES (?, ?, ?, ?, '0')",
                    [self.tenant, account.name, account.currency, account.opened_at.isoformat()],
                )
                return account
        if before.currency != account.currency:
            raise WalletError(
                f"account {account.name!r} is already open in {before.currency}; "
                f"it cannot be reopened in {account.currency}"
            )
        return before

    @exact
    def append(
        self,
        entries: Sequence[LedgerEntry],
        *,
        negative: NegativeBalance | None = None,
        partial: bool = False,
    ) -> AppendResult:
        batch = list(entries)
        names = sorted({e.account for e in batch if isinstance(e, LedgerEntry)})
        with self._writing(names) as (tx, rows):
            for name in names:  # row locks in name order (PostgreSQL), before any balance read
                tx._run(
                    "UPDATE cloudrate_wallet_account SET balance = balance "
                    "WHERE tenant = ? AND name = ?",
                    [self.tenant, name],
                )
            result = plan_batch(
                batch,
                account=lambda name: self._account(rows, name),
                existing=lambda key: self._entry(rows, key),
                balance=lambda name: self._balance(rows, name),
                negative=negative,
                partial=partial,
            )
            written = self._write(tx, rows, result.written)
        return attrs.evolve(result, written=written)

    def _write(
        self, tx: _Transaction, rows: _Rows, entries: Sequence[LedgerEntry]
    ) -> tuple[LedgerEntry, ...]:
        """Insert *entries* (checked by plan_batch), their events and the new balances."""
        lows: dict[str, Decimal | None] = {}
        balances: dict[str, Decimal] = {}
        for name in dict.fromkeys(e.account for e in entries):  # checked before any write
            acct = self._account(rows, name)
            assert acct is not None  # plan_batch refuses entries of accounts not open
            lows[name], balances[name] = self._threshold(acct), self._balance(rows, name)
        stored = []
        for e in entries:
            seq = tx._run(
                "INSERT INTO cloudrate_wallet_entry (tenant, key, account, kind, amount, "
                "currency, at, memo, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                [
                    self.tenant,
                    e.key,
                    e.account,
                    e.kind,
                    str(e.amount.amount),
                    e.currency,
                    e.at.isoformat(),
                    e.memo,
                    e.reference,
                ],
            ).fetchone()[0]
            entry = attrs.evolve(e, seq=int(seq))
            before = balances[e.account]
            balances[e.account] = before + e.amount.amount
            expired = self._expired(rows, entry, before, balances[e.account])
            for event in (
                *expired,
                *self._crossings(entry, before, balances[e.account], lows[e.account]),
            ):
                tx.add_event(event)
            stored.append(entry)
        for name, balance in balances.items():
            tx._run(
                "UPDATE cloudrate_wallet_account SET balance = ? WHERE tenant = ? AND name = ?",
                [str(balance), self.tenant, name],
            )
        return tuple(stored)

    def _expired(
        self, rows: _Rows, entry: LedgerEntry, before: Decimal, after: Decimal
    ) -> tuple[Event, ...]:
        """``wallet.credit_expired`` when *entry* is the expiry entry of a credit."""
        credit = expired_credit(entry)
        if credit is None:
            return ()
        granted = self._entry(rows, credit)
        return (
            new_event(
                self.tenant,
                "wallet.credit_expired",
                f"{entry.account}/{credit}",
                entry.at.isoformat(),
                {
                    "account": entry.account,
                    "credit": credit,
                    "entry": entry.key,
                    "kind": None if granted is None else granted.kind,
                    "granted": None if granted is None else str(granted.amount.amount),
                    "expired": str(-entry.amount.amount),
                    "expires_at": entry.at.isoformat(),
                    "balance_before": str(before),
                    "balance_after": str(after),
                    "currency": entry.currency,
                },
            ),
        )

    def _crossings(
        self, entry: LedgerEntry, before: Decimal, after: Decimal, low: Decimal | None
    ) -> tuple[Event, ...]:
        """The events of *entry* taking a balance from *before* to *after*."""
        crossed: list[tuple[EventType, Decimal]] = []
        if low is not None and before >= low > after:
            crossed.append(("wallet.low", low))
        if before > 0 >= after:
            crossed.append(("wallet.depleted", Decimal(0)))
        return tuple(
            new_event(
                self.tenant,
                kind,
                f"{entry.account}/{entry.key}",
                entry.at.isoformat(),
                {
                    "account": entry.account,
                    "entry": entry.key,
                    "balance_before": str(before),
                    "balance_after": str(after),
                    "threshold": str(threshold),
                    "currency": entry.currency,
                },
            )
            for kind, threshold in crossed
        )


def record_topup_request(
    store: DocumentStore,
    request: TopUpRequest,
    *,
    tenant: str = "default",
    tx: StoreTransaction | None = None,
) -> Event | None:
    """Write *request* (from :func:`~cloudrate.accounts.topup_requests`) to the outbox as
    ``wallet.topup_requested``: the event written, or ``None`` when it is there already.

    The subject is the request's ``"<account>/<rule>/<trigger>"`` and the data its
    :meth:`~cloudrate.accounts.TopUpRequest.to_dict` (with the recharge key to post once
    the card is charged), so asking again and recording again writes one event per
    request. Pass *tx* to write it in a transaction of this store the caller holds.

    >>> import tempfile, pathlib
    >>> from datetime import datetime, timezone
    >>> from cloudrate.billing import SQLiteDocumentStore
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> request = TopUpRequest(account="acme", amount=Money("20.00", "EUR"),
    ...                        requested=Money("20.00", "EUR"), rule="low", trigger="use-9",
    ...                        at=datetime(2026, 11, 1, 9, tzinfo=timezone.utc), reason="low")
    >>> record_topup_request(store, request).subject
    'acme/low/use-9'
    >>> record_topup_request(store, request) is None
    True
    >>> store.close()

    .. versionadded:: 0.2
    """
    if not isinstance(request, TopUpRequest):
        raise WalletError(
            "request: expected a TopUpRequest from cloudrate.accounts.topup_requests "
            f"(got {request!r})"
        )
    return record_event(
        store,
        "wallet.topup_requested",
        request.subject,
        at=request.at.isoformat(),
        data=request.to_dict(),
        tenant=tenant,
        tx=tx,
    )
