"""The embedded document store: one SQLite file, durable on commit.

Write transactions take the database's writer lock (``BEGIN IMMEDIATE``) before reading,
so processes sharing the file queue instead of deciding on stale reads. The journal is
WAL with ``synchronous=FULL``: a committed transaction survives a crash of the process or
of the machine.

A new file is made with pages of :data:`PAGE_SIZE` bytes, so that an invoice's JSON
document (a few kilobytes) fits in its table's page instead of spilling over a chain of
small ones, and each document's billed amounts in one row of a ``WITHOUT ROWID``
table (docs/billing-runs.md). A file made before keeps its page size (both are read and
written the same way); one made before 2 December 2026, with a row per billed line, has
those rows moved to a row per document when it is opened.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cloudrate._connections import closes_forgotten
from cloudrate.exceptions import StoreError

from ._sql import SQLStore, move_billed_rows, schema

__all__ = ["PAGE_SIZE", "SQLiteDocumentStore"]

#: The page size of a new store's file, in bytes (SQLite's default is 4096; it is fixed
#: when the file is made and cannot change afterwards in WAL mode).
PAGE_SIZE = 32768


class SQLiteDocumentStore(SQLStore):
    """A :class:`~cloudrate.billing.DocumentStore` in one SQLite file.

    Safe to share between threads and processes; *timeout* is how long (seconds) a writer
    waits for another's transaction before :class:`~cloudrate.exceptions.StoreError`.
    The store holds one connection until :meth:`close` (or the end of a ``with`` block);
    a store dropped unclosed has it closed when collected, with a :class:`ResourceWarning`.

    >>> import tempfile, pathlib
    >>> with SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db") as store:
    ...     store.documents(), store.sequences()
    ((), {})
    """

    _errors = (sqlite3.Error,)

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.name = f"document store {self.path}"
        self.timeout = timeout
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.name}: cannot open or create its tables ({exc}); check the path "
                "is a writable SQLite file"
            ) from None
        self._forgotten = closes_forgotten(self, self._conn)
        try:
            self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new file only
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            with self._writing(["schema"]) as cursor:
                for statement in schema("INTEGER PRIMARY KEY AUTOINCREMENT", " WITHOUT ROWID"):
                    cursor.execute(statement)
                cursor.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cloudrate_billed'"
                )
                if cursor.fetchone() is not None:  # a store made before 2 December 2026
                    move_billed_rows(cursor, self._sql)
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(
                f"{self.name}: cannot open or create its tables ({exc}); check the path "
                "is a writable SQLite file"
            ) from None
        except BaseException:
            self.close()
            raise

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cursor = self._conn.cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    @contextmanager
    def _writing(self, locks: Sequence[str]) -> Iterator[sqlite3.Cursor]:  # noqa: ARG002
        # One writer at a time for the whole file: the named lock is implied.
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                cursor.close()

    def close(self) -> None:
        """Close the connection; closing again does nothing.

        A store never closed has its connection closed when it is collected, with a
        :class:`ResourceWarning` naming it:

        >>> import tempfile, pathlib, warnings
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "billing.db"
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     forgotten = SQLiteDocumentStore(path)
        ...     del forgotten
        >>> print(caught[0].message)  # doctest: +ELLIPSIS
        SQLiteDocumentStore('.../billing.db') was never closed; call close() or open it with `with`
        """
        with self._lock:
            self._forgotten.detach()
            self._conn.close()

    def __enter__(self) -> SQLiteDocumentStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteDocumentStore({str(self.path)!r})"
