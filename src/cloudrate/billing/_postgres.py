"""The shared document store: PostgreSQL through psycopg 3, for several processes or hosts.

Needs ``pip install cloudrate[postgres]``. A write transaction first takes a transaction-
level advisory lock on its lock name (a customer's period), so two workers billing the
same customer queue while workers on different customers run side by side; sequences are
rows updated in the same transaction, so a number is taken for good only with the document
that holds it (no gaps, unlike ``CREATE SEQUENCE``).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cloudrate.exceptions import StoreError

from ._sql import SQLStore, move_billed_rows, schema

__all__ = ["PostgresDocumentStore"]


#: The advisory lock every store holds while it creates the tables (a constant key).
_SCHEMA_LOCK = 0x636C6F75


_NAME = re.compile(r"^CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)")


def _all_exist(cursor: Any, statements: list[str]) -> bool:
    """Whether every table and index *statements* create is there already."""
    names = [m.group(1) for s in statements if (m := _NAME.match(s))]
    cursor.execute(
        "SELECT count(*) FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NULL", [names]
    )
    return bool(cursor.fetchone()[0] == 0)


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
            statements = schema("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
            with self._conn.transaction(), self._conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
                # CREATE ... IF NOT EXISTS still locks an existing table, which can deadlock
                # with another process writing to it: create only what is missing.
                if not _all_exist(cursor, statements):
                    for statement in statements:
                        cursor.execute(statement)
                cursor.execute("SELECT to_regclass('cloudrate_billed')")
                if cursor.fetchone()[0] is not None:  # a store made before 2 December 2026
                    move_billed_rows(cursor, self._sql)
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
    def _writing(self, locks: Sequence[str]) -> Iterator[Any]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cursor:
            for lock in locks:  # sorted by the caller, so two transactions never deadlock
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [lock])
            yield cursor

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> PostgresDocumentStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "PostgresDocumentStore(...)"
