"""Invoice numbers: a template, and sequence stores that hand out numbers without gaps.

A number is taken only when a document is finalised, in one transaction that also records
which document got it. A document holds at most one number per sequence, and asking again
for the same document gives back the number it already holds without consuming another:
a process killed after taking a number but before storing its document retries with the
same draft id and gets the same number, so no number is left held by a document nobody has.
Sequences are per tenant, per series (invoices, credit notes) and, by default, per year.
"""

from __future__ import annotations

import os
import sqlite3
import string
import threading
from datetime import date
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from cloudrate.exceptions import InvoiceError, SequenceError

__all__ = ["InMemorySequenceStore", "Numbering", "SQLiteSequenceStore", "SequenceStore"]

_FIELDS = {"year", "month", "seq", "tenant"}


@runtime_checkable
class SequenceStore(Protocol):
    """Hands out gapless numbers 1, 2, 3... per sequence *key*, one per *document*."""

    def allocate(self, key: str, document: str) -> int:
        """The number *document* holds in *key*: the one it already holds (consuming
        nothing), else the next number of *key*, recorded for *document* atomically.

        Idempotent, so a retry of a step that died after allocating gets the same number.
        """
        ...

    def held(self, key: str, document: str) -> int | None:
        """The number *document* holds in *key*, or ``None``; never consumes one."""
        ...

    def last(self, key: str) -> int:
        """The last number handed out in *key* (0 when none)."""
        ...


def _check_template(inst: Numbering, _attr: object, template: str) -> None:
    try:
        names = {
            name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(template)
            if name is not None
        }
        if names - _FIELDS:
            raise InvoiceError(
                f"numbering template {template!r}: unknown field(s) "
                f"{', '.join(sorted(names - _FIELDS))}; use {{year}}, "
                "{month}, {seq} and {tenant}"
            )
        # the values of the types format() passes: {month:d} fails here, not once a
        # number has been taken
        Numbering._fill(template, 1, date(2026, 1, 1), "t")
    except (ValueError, KeyError, IndexError) as exc:
        if isinstance(exc, InvoiceError):
            raise
        raise InvoiceError(
            f"numbering template {template!r}: {exc}; use fields {{year}} (a number), "
            "{month} (the text 01 to 12), {seq} (a number, e.g. {seq:04}) and {tenant} "
            "(text)"
        ) from None
    if "seq" not in names:
        raise InvoiceError(
            f"numbering template {template!r} has no {{seq}}; numbers would "
            "repeat; write e.g. 'INV-{year}-{seq:04}'"
        )
    if inst.per_year and "year" not in names:
        raise InvoiceError(
            f"numbering template {template!r} restarts every year but has no "
            "{year}, so numbers would repeat; add {year} or set per_year=False"
        )


@attrs.frozen
class Numbering:
    """How numbers look and which sequence they come from.

    >>> n = Numbering("INV-{year}-{seq:04}")
    >>> n.format(42, on=date(2026, 11, 1))
    'INV-2026-0042'
    >>> n.key("acme-cloud", date(2026, 11, 1))
    'acme-cloud/invoice/2026'
    >>> Numbering.credit_notes().format(7, on=date(2026, 11, 1))
    'CN-2026-0007'
    """

    template: str = attrs.field(default="INV-{year}-{seq:04}", validator=_check_template)
    series: str = "invoice"
    per_year: bool = True

    @classmethod
    def credit_notes(cls, template: str = "CN-{year}-{seq:04}") -> Numbering:
        """The numbering of credit notes: their own series, ``CN-2026-0001``..."""
        return cls(template, series="credit-note")

    def key(self, tenant: str, on: date) -> str:
        """The sequence a document issued *on* draws from."""
        return f"{tenant}/{self.series}/{on.year if self.per_year else 'all'}"

    def format(self, seq: int, *, on: date, tenant: str = "default") -> str:
        return self._fill(self.template, seq, on, tenant)

    @staticmethod
    def _fill(template: str, seq: int, on: date, tenant: str) -> str:
        return template.format(year=on.year, month=f"{on.month:02d}", seq=seq, tenant=tenant)

    def next(
        self, store: SequenceStore, *, on: date, document: str, tenant: str = "default"
    ) -> str:
        """Format the number *document* holds in *store*: the one it already holds, else the
        next one (see :meth:`SequenceStore.allocate`).

        >>> store = InMemorySequenceStore()
        >>> n = Numbering()
        >>> [n.next(store, on=date(2026, 11, 1), document=d) for d in ("a", "b", "a")]
        ['INV-2026-0001', 'INV-2026-0002', 'INV-2026-0001']
        """
        return self.format(store.allocate(self.key(tenant, on), document), on=on, tenant=tenant)


class InMemorySequenceStore:
    """A :class:`SequenceStore` in a dict, safe across threads of one process (tests, demos).

    >>> store = InMemorySequenceStore()
    >>> store.allocate("t/invoice/2026", "a"), store.allocate("t/invoice/2026", "b")
    (1, 2)
    >>> store.allocate("t/invoice/2026", "a"), store.held("t/invoice/2026", "c")
    (1, None)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}
        self._held: dict[tuple[str, str], int] = {}

    def allocate(self, key: str, document: str) -> int:
        with self._lock:
            if (key, document) in self._held:
                return self._held[key, document]
            seq = self._last.get(key, 0) + 1
            self._last[key] = seq
            self._held[key, document] = seq
            return seq

    def held(self, key: str, document: str) -> int | None:
        with self._lock:
            return self._held.get((key, document))

    def last(self, key: str) -> int:
        with self._lock:
            return self._last.get(key, 0)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS cloudrate_sequence (
    key TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cloudrate_allocation (
    key TEXT NOT NULL, seq INTEGER NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (key, seq), UNIQUE (key, document));
"""


class SQLiteSequenceStore:
    """A :class:`SequenceStore` in an SQLite file, safe across processes.

    Each allocation is one ``BEGIN IMMEDIATE`` transaction (the writer lock is taken before
    reading what the document holds and the last number), so concurrent processes queue
    instead of reading the same number; a failure, or a process killed before ``COMMIT``,
    rolls the whole step back. A committed number stays with its document, and the next
    :meth:`allocate` for that document returns it. *timeout* is how long (seconds) a process
    waits for the lock before :class:`~cloudrate.exceptions.SequenceError`. Each call opens
    and closes its own connection, so nothing stays open between calls; :meth:`close` and
    ``with`` are there so it can be used like the other SQLite stores.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "seq.sqlite"
    >>> store = SQLiteSequenceStore(path)
    >>> store.allocate("t/invoice/2026", "acme/2026-10"), store.last("t/invoice/2026")
    (1, 1)
    >>> store.allocate("t/invoice/2026", "acme/2026-10"), store.held("t/invoice/2026", "x")
    (1, None)
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        conn = self._connect()
        try:
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise SequenceError(
                f"sequence store {self.path}: cannot create tables ({exc})"
            ) from None
        finally:
            conn.close()

    def close(self) -> None:
        """Nothing to release: every call closes the connection it opened."""

    def __enter__(self) -> SQLiteSequenceStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise SequenceError(f"sequence store {self.path}: cannot open ({exc})") from None

    def allocate(self, key: str, document: str) -> int:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                held = conn.execute(
                    "SELECT seq FROM cloudrate_allocation WHERE key = ? AND document = ?",
                    (key, document),
                ).fetchone()
                if held is not None:
                    conn.execute("COMMIT")
                    return int(held[0])
                row = conn.execute(
                    "SELECT last FROM cloudrate_sequence WHERE key = ?", (key,)
                ).fetchone()
                seq = (0 if row is None else row[0]) + 1
                conn.execute(
                    "INSERT INTO cloudrate_sequence (key, last) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET last = excluded.last",
                    (key, seq),
                )
                conn.execute(
                    "INSERT INTO cloudrate_allocation (key, seq, document) VALUES (?, ?, ?)",
                    (key, seq, document),
                )
                conn.execute("COMMIT")
                return seq
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise SequenceError(
                f"sequence store {self.path}: could not take the next number "
                f"of {key!r} ({exc}); nothing was consumed"
            ) from None
        finally:
            conn.close()

    def held(self, key: str, document: str) -> int | None:
        row = self._read(
            "SELECT seq FROM cloudrate_allocation WHERE key = ? AND document = ?",
            (key, document),
            f"the number {document!r} holds in {key!r}",
        )
        return None if row is None else int(row[0])

    def last(self, key: str) -> int:
        row = self._read(
            "SELECT last FROM cloudrate_sequence WHERE key = ?",
            (key,),
            f"the last number of {key!r}",
        )
        return 0 if row is None else int(row[0])

    def _read(self, sql: str, params: tuple[str, ...], what: str) -> tuple[int] | None:
        conn = self._connect()
        try:
            row: tuple[int] | None = conn.execute(sql, params).fetchone()
            return row
        except sqlite3.Error as exc:
            raise SequenceError(
                f"sequence store {self.path}: could not read {what} ({exc})"
            ) from None
        finally:
            conn.close()
