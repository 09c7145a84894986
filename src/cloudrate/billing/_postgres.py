"""The shared document store: PostgreSQL through psycopg 3, for several processes or hosts.

Needs ``pip install cloudrate[postgres]``. A write transaction first takes a transaction-
level advisory lock on its lock name (a customer's period), so two workers billing the
same customer queue while workers on different customers run side by side; sequences are
rows updated in the same transaction, so a number is taken for good only with the document
that holds it (no gaps, unlike ``CREATE SEQUENCE``).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloudrate.exceptions import StoreError

from ._sql import SQLStore

__all__ = ["PostgresDocumentStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cloudrate_sequence (
    key TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS cloudrate_document (
    tenant TEXT NOT NULL,
    number TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'supplementary', 'credit_note')),
    draft TEXT NOT NULL,
    sequence TEXT NOT NULL,
    seq BIGINT NOT NULL,
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
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

#: The advisory lock every store holds while it creates the tables (a constant key).
_SCHEMA_LOCK = 0x636C6F75


def _psycopg() -> Any:
    try:
        return importlib.import_module("psycopg")
    except ModuleNotFoundError:
        raise StoreError(
            "PostgresDocumentStore needs psycopg 3, which is not installed; "
            "pip install 'cloudrate[postgres]'"
        ) from None


class PostgresDocumentStore(SQLStore):
    """A :class:`~cloudrate.billing.DocumentStore` in a PostgreSQL database.

    *dsn* is a libpq connection string (``postgresql://user@host:5432/billing``). One
    connection per store object, shared by its threads one transaction at a time; give
    each process its own store.
    """

    def __init__(self, dsn: str, *, connect_timeout: int = 30) -> None:
        psycopg = _psycopg()
        self.dsn = dsn
        self.name = "PostgreSQL document store"
        self._errors = (psycopg.Error,)
        self._lock = threading.RLock()
        try:
            self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
            with self._conn.transaction(), self._conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cursor.execute(statement)
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.name}: cannot connect or create its tables "
                f"({type(exc).__name__}: {exc}); check the DSN and that the server runs"
            ) from None

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s")

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._lock, self._conn.cursor() as cursor:
            yield cursor

    @contextmanager
    def _writing(self, lock: str) -> Iterator[Any]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [lock])
            yield cursor

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return "PostgresDocumentStore(...)"
