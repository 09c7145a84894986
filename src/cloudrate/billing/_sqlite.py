"""The embedded document store: one SQLite file, durable on commit.

Write transactions take the database's writer lock (``BEGIN IMMEDIATE``) before reading,
so processes sharing the file queue instead of deciding on stale reads. The journal is
WAL with ``synchronous=FULL``: a committed transaction survives a crash of the process or
of the machine.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cloudrate.exceptions import StoreError

from ._sql import SQLStore

__all__ = ["SQLiteDocumentStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cloudrate_sequence (
    key TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cloudrate_document (
    tenant TEXT NOT NULL,
    number TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'supplementary', 'credit_note')),
    draft TEXT NOT NULL,
    sequence TEXT NOT NULL,
    seq INTEGER NOT NULL,
    customer TEXT NOT NULL,
    period TEXT NOT NULL,
    revision INTEGER NOT NULL,
    refers_to TEXT,
    currency TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT,
    total TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant, number),
    UNIQUE (tenant, draft),
    UNIQUE (sequence, seq),
    UNIQUE (tenant, customer, period, revision)
);
CREATE TABLE IF NOT EXISTS cloudrate_billed (
    tenant TEXT NOT NULL,
    number TEXT NOT NULL,
    customer TEXT NOT NULL,
    period TEXT NOT NULL,
    line TEXT NOT NULL,
    amount TEXT NOT NULL,
    quantity TEXT NOT NULL,
    PRIMARY KEY (tenant, number, line),
    FOREIGN KEY (tenant, number) REFERENCES cloudrate_document (tenant, number)
);
CREATE INDEX IF NOT EXISTS cloudrate_billed_period
    ON cloudrate_billed (tenant, customer, period);
CREATE TABLE IF NOT EXISTS cloudrate_payment_attempt (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    number TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    started_on TEXT NOT NULL,
    settled_on TEXT,
    reference TEXT,
    method TEXT,
    failure TEXT,
    ordinal INTEGER NOT NULL,
    PRIMARY KEY (tenant, key),
    FOREIGN KEY (tenant, number) REFERENCES cloudrate_document (tenant, number)
);
CREATE TABLE IF NOT EXISTS cloudrate_event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    at TEXT NOT NULL,
    data TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cloudrate_event_pending ON cloudrate_event (delivered, seq);
"""


class SQLiteDocumentStore(SQLStore):
    """A :class:`~cloudrate.billing.DocumentStore` in one SQLite file.

    Safe to share between threads and processes; *timeout* is how long (seconds) a writer
    waits for another's transaction before :class:`~cloudrate.exceptions.StoreError`.

    >>> import tempfile, pathlib
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> store.documents(), store.sequences()
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
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            with self._writing("schema") as cursor:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cursor.execute(statement)
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.name}: cannot open or create its tables ({exc}); check the path "
                "is a writable SQLite file"
            ) from None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cursor = self._conn.cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    @contextmanager
    def _writing(self, lock: str) -> Iterator[sqlite3.Cursor]:  # noqa: ARG002
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
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteDocumentStore({str(self.path)!r})"
