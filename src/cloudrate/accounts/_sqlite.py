"""A ledger store in SQLite (standard library :mod:`sqlite3`), safe across processes.

Amounts are stored as exact decimal TEXT and summed in Python, never by SQLite (whose
SUM would go through floats). Each account row keeps its balance, the sum of its
entries, updated in the same transaction as the entries (so reading a balance does not
re-add a year of hourly deductions); :meth:`SQLiteLedgerStore.audit` re-adds them.

Every batch runs in one ``BEGIN IMMEDIATE`` transaction: the write lock is taken before
the balance is read, so two processes cannot both spend the same money, and a process
killed mid-batch leaves nothing of it behind. The idempotency key is UNIQUE; triggers
refuse UPDATE and DELETE on entries. A read-only, full, locked or corrupted file raises
:class:`~cloudrate.exceptions.StoreError` naming the file, the cause and the fix.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from os import PathLike
from typing import Any, TypeVar

import attrs
from moneyed import Money

from cloudrate._connections import closes_forgotten, storage_faults
from cloudrate._money import exact

from ._balance import NegativeBalance
from ._entry import KINDS, Account, LedgerEntry
from ._store import AppendResult, _known, _open, plan_batch

__all__ = ["SQLiteLedgerStore"]

T = TypeVar("T")

_KIND_LIST = ", ".join(f"'{k}'" for k in KINDS)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    balance TEXT NOT NULL DEFAULT '0'
);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL REFERENCES accounts(name),
    kind TEXT NOT NULL CHECK (kind IN ({_KIND_LIST})),
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    at TEXT NOT NULL,
    memo TEXT NOT NULL,
    reference TEXT
);
CREATE INDEX IF NOT EXISTS entries_account ON entries(account, seq);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
"""
_COLUMNS = "seq, key, account, kind, amount, currency, at, memo, reference"
_WALLET = "wallet store"


class SQLiteLedgerStore:
    """Accounts and entries in the SQLite database at *path* (WAL journal, full sync).

    Each process opens its own store on the same file; *timeout* is how many seconds
    a writer waits for another's transaction to finish. The store holds one connection
    until :meth:`close` (or the end of a ``with`` block); a store dropped unclosed has its
    connection closed when it is collected, with a :class:`ResourceWarning` naming it.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> with SQLiteLedgerStore(":memory:") as store:
    ...     _ = store.open_account(Account("acme", "EUR", at))
    ...     _ = store.append([LedgerEntry(account="acme", kind="recharge",
    ...                                   amount=Money("20.00", "EUR"), key="r1", at=at)])
    ...     store.balance("acme"), store.entry("r1").seq
    (Money('20.00', 'EUR'), 1)
    """

    @storage_faults(_WALLET, "open the database or create its tables")
    def __init__(self, path: str | PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = path
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        self._forgotten = closes_forgotten(self, self._db)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteLedgerStore({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection; closing again does nothing.

        A store never closed has its connection closed when it is collected, with a
        :class:`ResourceWarning` naming it:

        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     forgotten = SQLiteLedgerStore(":memory:")
        ...     del forgotten
        >>> print(caught[0].message)
        SQLiteLedgerStore(':memory:') was never closed; call close() or open it with `with`
        """
        self._forgotten.detach()
        self._db.close()

    def __enter__(self) -> SQLiteLedgerStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _read(self, work: Callable[[], T]) -> T:
        self._db.execute("BEGIN")
        try:
            return work()
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")

    def _account(self, name: str) -> Account | None:
        row = self._db.execute(
            "SELECT name, currency, opened_at FROM accounts WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Account(row[0], row[1], datetime.fromisoformat(row[2]))

    def _entry(self, key: str) -> LedgerEntry | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM entries WHERE key = ?", (key,)).fetchone()
        return None if row is None else _row(row)

    @exact
    def _sum(self, name: str) -> Decimal:
        rows = self._db.execute("SELECT amount FROM entries WHERE account = ?", (name,))
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    def _balance(self, name: str) -> Decimal:
        row = self._db.execute("SELECT balance FROM accounts WHERE name = ?", (name,)).fetchone()
        return Decimal(0) if row is None else Decimal(row[0])

    @storage_faults(_WALLET, "read the balances")
    def audit(self) -> dict[str, tuple[Money, Money]]:
        """Accounts whose kept balance differs from the sum of their entries, with both
        (kept, summed); empty when the ledger is consistent."""

        def work() -> dict[str, tuple[Money, Money]]:
            out = {}
            for acct in self.accounts():
                kept, summed = self._balance(acct.name), self._sum(acct.name)
                if kept != summed:
                    out[acct.name] = (Money(kept, acct.currency), Money(summed, acct.currency))
            return out

        return self._read(work)

    @storage_faults(_WALLET, "open the account")
    def open_account(self, account: Account) -> Account:
        with self._write() as db:
            return _open(
                self._account(account.name),
                account,
                lambda: db.execute(
                    "INSERT INTO accounts (name, currency, opened_at) VALUES (?, ?, ?)",
                    (account.name, account.currency, account.opened_at.isoformat()),
                ),
            )

    @storage_faults(_WALLET, "read the account")
    def account(self, name: str) -> Account | None:
        return self._read(lambda: self._account(name))

    @storage_faults(_WALLET, "read the accounts")
    def accounts(self) -> tuple[Account, ...]:
        rows = self._db.execute("SELECT name, currency, opened_at FROM accounts ORDER BY name")
        return tuple(Account(r[0], r[1], datetime.fromisoformat(r[2])) for r in rows)

    @storage_faults(_WALLET, "record the entries")
    @exact
    def append(
        self,
        entries: Sequence[LedgerEntry],
        *,
        negative: NegativeBalance | None = None,
        partial: bool = False,
    ) -> AppendResult:
        with self._write() as db:
            result = plan_batch(
                entries,
                account=self._account,
                existing=self._entry,
                balance=self._balance,
                negative=negative,
                partial=partial,
            )
            stored = []
            moved: dict[str, Decimal] = {}
            for e in result.written:
                moved[e.account] = moved.get(e.account, Decimal(0)) + e.amount.amount
                cursor = db.execute(
                    "INSERT INTO entries (key, account, kind, amount, currency, at, memo, "
                    "reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        e.key,
                        e.account,
                        e.kind,
                        str(e.amount.amount),
                        e.currency,
                        e.at.isoformat(),
                        e.memo,
                        e.reference,
                    ),
                )
                stored.append(_with_seq(e, cursor.lastrowid))
            for name, change in moved.items():
                db.execute(
                    "UPDATE accounts SET balance = ? WHERE name = ?",
                    (str(self._balance(name) + change), name),
                )
        return AppendResult(tuple(stored), result.existing, result.shortfalls)

    @storage_faults(_WALLET, "read the entry")
    def entry(self, key: str) -> LedgerEntry | None:
        return self._read(lambda: self._entry(key))

    @storage_faults(_WALLET, "read the entries")
    def entries(self, account: str | None = None) -> tuple[LedgerEntry, ...]:
        if account is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY seq")
        else:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE account = ? ORDER BY seq", (account,)
            )
        return tuple(_row(r) for r in rows)

    @storage_faults(_WALLET, "read the balance")
    def balance(self, account: str) -> Money:
        def work() -> Money:
            acct = _known(self._account(account), account)
            return Money(self._balance(account), acct.currency)

        return self._read(work)


def _with_seq(entry: LedgerEntry, seq: Any) -> LedgerEntry:
    return attrs.evolve(entry, seq=int(seq))


def _row(row: tuple[Any, ...]) -> LedgerEntry:
    seq, key, account, kind, amount, currency, at, memo, reference = row
    return LedgerEntry(
        account=account,
        kind=kind,
        amount=Money(Decimal(amount), currency),
        key=key,
        at=datetime.fromisoformat(at),
        memo=memo,
        reference=reference,
        seq=seq,
    )
