"""A promo code redemption store in SQLite (standard library), safe across processes."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from cloudrate._connections import closes_forgotten, storage_faults
from cloudrate.rules import Redemption

__all__ = ["SQLiteRedemptionStore"]

_PROMO = "promo redemption store"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS promo_redemptions (
    code TEXT NOT NULL,
    account TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS promo_redemptions_code ON promo_redemptions (code, account);
"""


class SQLiteRedemptionStore:
    """Redemptions in a SQLite file. ``add`` checks the limits and inserts in one
    ``BEGIN IMMEDIATE`` transaction, so processes redeeming at once never exceed them.
    The store holds one connection until :meth:`close` (or the end of a ``with`` block);
    a store dropped unclosed has it closed when collected, with a :class:`ResourceWarning`.
    A read-only, full, locked or corrupted file raises
    :class:`~cloudrate.exceptions.StoreError` naming the file, the cause and the fix.

    >>> store = SQLiteRedemptionStore(":memory:")
    >>> from datetime import datetime, timezone
    >>> r = Redemption("NEWUSER-7F3K9Q", "acme", datetime(2026, 11, 1, tzinfo=timezone.utc))
    >>> store.add(r, max_total=1, max_per_account=1), store.add(r, 1, 1)
    (True, False)
    >>> store.count("NEWUSER-7F3K9Q")
    1
    >>> store.close()
    """

    @storage_faults(_PROMO, "open the database or create its table")
    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        self._forgotten = closes_forgotten(self, self._db)
        try:
            self._db.executescript(_SCHEMA)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteRedemptionStore({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection; closing again does nothing.

        A store never closed has its connection closed when it is collected, with a
        :class:`ResourceWarning` naming it:

        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     forgotten = SQLiteRedemptionStore(":memory:")
        ...     del forgotten
        >>> print(caught[0].message)
        SQLiteRedemptionStore(':memory:') was never closed; call close() or open it with `with`
        """
        self._forgotten.detach()
        self._db.close()

    def __enter__(self) -> SQLiteRedemptionStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @storage_faults(_PROMO, "count the redemptions")
    def count(self, code: str, account: str | None = None) -> int:
        if account is None:
            row = self._db.execute(
                "SELECT COUNT(*) FROM promo_redemptions WHERE code = ?", (code,)
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM promo_redemptions WHERE code = ? AND account = ?",
                (code, account),
            ).fetchone()
        return int(row[0])

    @storage_faults(_PROMO, "record the redemption")
    def add(self, redemption: Redemption, max_total: int | None, max_per_account: int) -> bool:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if max_total is not None and self.count(redemption.code) >= max_total:
                self._db.execute("ROLLBACK")
                return False
            if self.count(redemption.code, redemption.account) >= max_per_account:
                self._db.execute("ROLLBACK")
                return False
            self._db.execute(
                "INSERT INTO promo_redemptions (code, account, at) VALUES (?, ?, ?)",
                (redemption.code, redemption.account, redemption.at.isoformat()),
            )
            self._db.execute("COMMIT")
            return True
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                self._db.execute("ROLLBACK")
            raise

    @storage_faults(_PROMO, "read the redemptions")
    def redemptions(self, code: str) -> tuple[Redemption, ...]:
        rows = self._db.execute(
            "SELECT code, account, at FROM promo_redemptions WHERE code = ? ORDER BY rowid", (code,)
        ).fetchall()
        return tuple(Redemption(c, a, datetime.fromisoformat(t)) for c, a, t in rows)
