"""The SQL both document stores share: tables, queries and row mapping.

The stores differ only in how they connect, start a write transaction and lock (SQLite
takes the database's writer lock with ``BEGIN IMMEDIATE``; PostgreSQL takes an advisory
lock per customer period). Amounts are stored as decimal text and summed in Python, so
they stay exact whatever the database's numeric types do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from itertools import chain, groupby
from operator import itemgetter
from typing import Any, Protocol

from cloudrate.exceptions import BillingError, StoreError

from ._events import Event, EventType
from ._stored import (
    AttemptState,
    BilledLine,
    BilledRow,
    DocumentKind,
    DocumentRow,
    EventRow,
    PaymentAttempt,
    PeriodBilled,
    StoredDocument,
    billed_entries,
    billed_json,
    billed_lines,
)

__all__ = ["TABLES", "SQLStore", "move_billed_rows", "schema"]

#: The tables, in the order they are created (docs/billing-runs.md describes each).
TABLES = (
    "cloudrate_sequence",
    "cloudrate_document",
    "cloudrate_billed_lines",
    "cloudrate_payment_attempt",
    "cloudrate_event",
    "cloudrate_wallet_account",
    "cloudrate_wallet_entry",
)

#: The tables both stores create; *{serial}* is the database's auto-numbered key and
#: *{keyed}* what a table keyed by its primary key alone is declared with (SQLite's
#: ``WITHOUT ROWID``: the billed amounts are stored in their key's tree, one tree to
#: insert into instead of two). A document's billed amounts are one row, its lines in
#: one JSON column: stores created before 2 December 2026 kept a row per line in
#: ``cloudrate_billed``, which opening them moves over (:func:`move_billed_rows`).
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
CREATE TABLE IF NOT EXISTS cloudrate_billed_lines (
    tenant TEXT NOT NULL,
    number TEXT NOT NULL,
    customer TEXT NOT NULL,
    period TEXT NOT NULL,
    lines TEXT NOT NULL,
    PRIMARY KEY (tenant, number),
    FOREIGN KEY (tenant, number) REFERENCES cloudrate_document (tenant, number)
){keyed};
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
    seq {serial},
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    at TEXT NOT NULL,
    data TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cloudrate_event_pending ON cloudrate_event (delivered, seq);
CREATE TABLE IF NOT EXISTS cloudrate_wallet_account (
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    balance TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (tenant, name)
);
CREATE TABLE IF NOT EXISTS cloudrate_wallet_entry (
    seq {serial},
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind IN ('recharge', 'deduction', 'refund', 'promo_credit', 'adjustment')),
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    at TEXT NOT NULL,
    memo TEXT NOT NULL,
    reference TEXT,
    UNIQUE (tenant, key),
    FOREIGN KEY (tenant, account) REFERENCES cloudrate_wallet_account (tenant, name)
);
CREATE INDEX IF NOT EXISTS cloudrate_wallet_entry_account
    ON cloudrate_wallet_entry (tenant, account, seq);
"""


def schema(serial: str, keyed: str = "") -> list[str]:
    """The CREATE statements of :data:`TABLES`, with *serial* the auto-numbered key type
    and *keyed* the options of a table stored by its primary key (see ``_SCHEMA``)."""
    text = _SCHEMA.replace("{serial}", serial).replace("{keyed}", keyed)
    return [s.strip() for s in text.split(";") if s.strip()]


def move_billed_rows(cursor: Any, sql: Callable[[str], str]) -> int:
    """Move the billed amounts of a store made before 2 December 2026 (a row per line in
    ``cloudrate_billed``) to ``cloudrate_billed_lines`` (a row per document), then drop
    the old table; the number of documents moved. Run in the transaction that opens the
    store, holding its schema lock, when the old table is there."""
    cursor.execute(
        "SELECT tenant, number, customer, period, line, amount, quantity "
        "FROM cloudrate_billed ORDER BY tenant, number"
    )
    rows: list[BilledRow] = []
    for (tenant, number), group in groupby(cursor.fetchall(), key=itemgetter(0, 1)):
        lines = sorted(group, key=itemgetter(4))  # by key, whatever the collation
        customer, period = lines[0][2], lines[0][3]
        rows.append((tenant, number, customer, period, billed_json(r[4:] for r in lines)))
    if rows:
        _INSERT_BILLED.run(cursor, sql, rows)
    cursor.execute("DROP TABLE cloudrate_billed")
    return len(rows)


_DOCUMENT_COLUMNS = (
    "tenant, number, kind, draft, sequence, seq, customer, period, revision, refers_to, "
    "currency, issued_on, due_on, total, body"
)
_ATTEMPT_COLUMNS = (
    "tenant, key, number, amount, currency, state, started_on, settled_on, reference, "
    "method, failure"
)
_EVENT_COLUMNS = "seq, id, type, tenant, subject, at, data"
#: Customers or numbers named in one ``IN (...)`` list (SQLite's default build allows
#: 32,766 parameters a statement, PostgreSQL 65,535).
_IN_LIST = 500


class _Insert:
    """An INSERT of rows of one table: *head* ``VALUES`` *row* ... *tail*, one row or
    :data:`_ROWS_AT_ONCE` rows a statement."""

    def __init__(self, head: str, row: str, tail: str = "") -> None:
        self.head, self.row, self.tail = head, row, tail
        self.one = self.statement(1)
        self.many = self.statement(_ROWS_AT_ONCE)

    def statement(self, count: int) -> str:
        """The INSERT of *count* rows."""
        return f"{self.head} VALUES {', '.join([self.row] * count)}{self.tail}"

    def run(self, cursor: Any, sql: Callable[[str], str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert *rows*: a statement per :data:`_ROWS_AT_ONCE` rows, one for the rest."""
        flat = chain.from_iterable
        whole = len(rows) - len(rows) % _ROWS_AT_ONCE
        if whole:
            cursor.executemany(
                sql(self.many),
                (list(flat(rows[i : i + _ROWS_AT_ONCE])) for i in range(0, whole, _ROWS_AT_ONCE)),
            )
        if whole < len(rows):
            rest = rows[whole:]
            cursor.execute(sql(self.statement(len(rest))), list(flat(rest)))


#: Rows one INSERT of a batch carries: SQLite runs a statement without Python's lock, so
#: a writing thread takes that lock back once per statement, not once per row (and the
#: widest row, a document's 15 columns, stays far below SQLite's 32,766 parameters).
_ROWS_AT_ONCE = 200

_INSERT_DOCUMENT = _Insert(
    f"INSERT INTO cloudrate_document ({_DOCUMENT_COLUMNS})",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
)
_INSERT_BILLED = _Insert(
    "INSERT INTO cloudrate_billed_lines (tenant, number, customer, period, lines)",
    "(?, ?, ?, ?, ?)",
)
_INSERT_EVENT = _Insert(
    "INSERT INTO cloudrate_event (id, type, tenant, subject, at, data, delivered)",
    "(?, ?, ?, ?, ?, ?, 0)",
    " ON CONFLICT (id) DO NOTHING",
)


class Cursor(Protocol):
    def execute(self, sql: Any, params: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: Any, params: Iterable[Sequence[Any]], /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _document(row: Sequence[Any], billed: tuple[BilledLine, ...]) -> StoredDocument:
    kind: DocumentKind = row[2]
    issued = _date(row[11])
    assert issued is not None  # a stored document is issued
    return StoredDocument(
        tenant=row[0],
        number=row[1],
        kind=kind,
        draft=row[3],
        sequence=row[4],
        seq=int(row[5]),
        customer=row[6],
        period=row[7],
        revision=int(row[8]),
        refers_to=row[9],
        currency=row[10],
        issued_on=issued,
        due_on=_date(row[12]),
        total=Decimal(row[13]),
        body=row[14],
        billed=billed,
    )


def _attempt(row: Sequence[Any]) -> PaymentAttempt:
    state: AttemptState = row[5]
    started = _date(row[6])
    assert started is not None
    return PaymentAttempt(
        tenant=row[0],
        key=row[1],
        number=row[2],
        amount=Decimal(row[3]),
        currency=row[4],
        state=state,
        started_on=started,
        settled_on=_date(row[7]),
        reference=row[8],
        method=row[9],
        failure=row[10],
    )


def _event(row: Sequence[Any]) -> Event:
    kind: EventType = row[2]
    return Event(
        seq=int(row[0]),
        id=row[1],
        type=kind,
        tenant=row[3],
        subject=row[4],
        at=row[5],
        data=json.loads(row[6]),
    )


class _Reads:
    """Queries run on a cursor, inside or outside a write transaction."""

    def __init__(self, cursor: Cursor, sql: Callable[[str], str]) -> None:
        self._cur, self._sql = cursor, sql

    def _all(self, query: str, params: Sequence[Any]) -> list[Any]:
        self._cur.execute(self._sql(query), params)
        return self._cur.fetchall()

    def _billed(self, tenant: str, numbers: Sequence[str]) -> dict[str, list[BilledLine]]:
        out: dict[str, list[BilledLine]] = {n: [] for n in numbers}
        for start in range(0, len(numbers), _IN_LIST):  # SQLite caps a statement's parameters
            part = numbers[start : start + _IN_LIST]
            marks = ", ".join("?" for _ in part)
            rows = self._all(
                f"SELECT number, lines FROM cloudrate_billed_lines WHERE tenant = ? "
                f"AND number IN ({marks})",
                [tenant, *part],
            )
            for number, lines in rows:
                out[number] = billed_lines(lines, number)
        return out

    def documents_where(
        self, tenant: str, where: str, params: Sequence[Any]
    ) -> tuple[StoredDocument, ...]:
        rows = self._all(
            f"SELECT {_DOCUMENT_COLUMNS} FROM cloudrate_document WHERE tenant = ?{where} "
            "ORDER BY customer, period, revision",
            [tenant, *params],
        )
        billed = self._billed(tenant, [r[1] for r in rows])
        return tuple(_document(r, tuple(billed[r[1]])) for r in rows)

    def customers_with_documents(
        self, tenant: str, period: str, customers: Sequence[str] | None
    ) -> set[str]:
        """The customers with a document for *period* (of *customers*, or all)."""
        query = "SELECT DISTINCT customer FROM cloudrate_document WHERE tenant = ? AND period = ?"
        if customers is None:
            return {r[0] for r in self._all(query, [tenant, period])}
        found: set[str] = set()
        wanted = list(customers)
        for start in range(0, len(wanted), _IN_LIST):
            part = wanted[start : start + _IN_LIST]
            marks = ", ".join("?" for _ in part)
            rows = self._all(f"{query} AND customer IN ({marks})", [tenant, period, *part])
            found.update(r[0] for r in rows)
        return found

    def period_billed(self, tenant: str, period: str) -> PeriodBilled:
        customers = self.customers_with_documents(tenant, period, None)
        names = {c: c for c in customers}
        keys: dict[str, str] = {}
        customer: list[str] = []
        line: list[str] = []
        amount: list[str] = []
        # a scan of one small row a document: no index on the billed amounts to keep up
        self._cur.execute(
            self._sql(
                "SELECT number, customer, lines FROM cloudrate_billed_lines "
                "WHERE tenant = ? AND period = ?"
            ),
            [tenant, period],
        )
        while rows := self._cur.fetchmany(10_000):
            for number, c, text in rows:  # one string object per name: a period has many rows
                c = names.setdefault(c, c)
                for k, a, _ in billed_entries(text, number):
                    customer.append(c)
                    line.append(keys.setdefault(k, k))
                    amount.append(a)
        return PeriodBilled(frozenset(customers), tuple(customer), tuple(line), tuple(amount))

    def attempts(self, tenant: str, number: str) -> tuple[PaymentAttempt, ...]:
        rows = self._all(
            f"SELECT {_ATTEMPT_COLUMNS} FROM cloudrate_payment_attempt "
            "WHERE tenant = ? AND number = ? ORDER BY ordinal",
            [tenant, number],
        )
        return tuple(_attempt(r) for r in rows)


class _Transaction:
    """:class:`~cloudrate.billing.StoreTransaction` on one cursor of an open transaction."""

    def __init__(self, tenant: str, cursor: Cursor, sql: Callable[[str], str]) -> None:
        self.tenant = tenant
        self._cur, self._sql = cursor, sql
        self._reads = _Reads(cursor, sql)

    def _run(self, query: str, params: Sequence[Any]) -> Any:
        self._cur.execute(self._sql(query), params)
        return self._cur

    def next_number(self, sequence: str) -> int:
        row = self._run(
            "INSERT INTO cloudrate_sequence (key, last) VALUES (?, 1) ON CONFLICT (key) "
            "DO UPDATE SET last = cloudrate_sequence.last + 1 RETURNING last",
            [sequence],
        ).fetchone()
        return int(row[0])

    def next_numbers(self, sequence: str, count: int) -> int:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise BillingError(f"next_numbers: count must be a whole number >= 1 (got {count!r})")
        row = self._run(
            "INSERT INTO cloudrate_sequence (key, last) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET last = cloudrate_sequence.last + ? RETURNING last",
            [sequence, count, count],
        ).fetchone()
        return int(row[0]) - count + 1

    def customers_with_documents(self, period: str, customers: Sequence[str]) -> set[str]:
        return self._reads.customers_with_documents(self.tenant, period, customers)

    def insert_batch(
        self,
        documents: Sequence[DocumentRow],
        billed: Sequence[BilledRow],
        events: Sequence[EventRow],
    ) -> None:
        for what, rows in (("documents", documents), ("billed amounts", billed)):
            wrong = next((r for r in rows if r[0] != self.tenant), None)
            if wrong is not None:
                raise BillingError(
                    f"insert_batch: {what} of tenant {wrong[0]!r} in a transaction of "
                    f"{self.tenant!r}; write each tenant's rows in its own transaction"
                )
        if documents:
            _INSERT_DOCUMENT.run(self._cur, self._sql, documents)
        if billed:
            _INSERT_BILLED.run(self._cur, self._sql, billed)
        if events:
            _INSERT_EVENT.run(self._cur, self._sql, events)

    def documents(self, customer: str, period: str) -> tuple[StoredDocument, ...]:
        return self._reads.documents_where(
            self.tenant, " AND customer = ? AND period = ?", [customer, period]
        )

    def document(self, number: str) -> StoredDocument | None:
        found = self._reads.documents_where(self.tenant, " AND number = ?", [number])
        return found[0] if found else None

    def by_draft(self, draft: str) -> StoredDocument | None:
        found = self._reads.documents_where(self.tenant, " AND draft = ?", [draft])
        return found[0] if found else None

    def insert_document(self, document: StoredDocument) -> None:
        d = document
        self._run(
            f"INSERT INTO cloudrate_document ({_DOCUMENT_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.tenant,
                d.number,
                d.kind,
                d.draft,
                d.sequence,
                d.seq,
                d.customer,
                d.period,
                d.revision,
                d.refers_to,
                d.currency,
                d.issued_on.isoformat(),
                None if d.due_on is None else d.due_on.isoformat(),
                str(d.total),
                d.body,
            ],
        )
        if d.billed:
            lines = billed_json((b.line, str(b.amount), str(b.quantity)) for b in d.billed)
            self._run(_INSERT_BILLED.one, [self.tenant, d.number, d.customer, d.period, lines])

    def add_event(self, event: Event) -> bool:
        cur = self._run(
            "INSERT INTO cloudrate_event (id, type, tenant, subject, at, data, delivered) "
            "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO NOTHING",
            [
                event.id,
                event.type,
                event.tenant,
                event.subject,
                event.at,
                json.dumps(dict(event.data), sort_keys=True, separators=(",", ":")),
            ],
        )
        return bool(cur.rowcount == 1)

    def attempt(self, key: str) -> PaymentAttempt | None:
        row = self._run(
            f"SELECT {_ATTEMPT_COLUMNS} FROM cloudrate_payment_attempt "
            "WHERE tenant = ? AND key = ?",
            [self.tenant, key],
        ).fetchone()
        return None if row is None else _attempt(row)

    def attempts(self, number: str) -> tuple[PaymentAttempt, ...]:
        return self._reads.attempts(self.tenant, number)

    def save_attempt(self, attempt: PaymentAttempt) -> None:
        a = attempt
        values = [
            a.number,
            str(a.amount),
            a.currency,
            a.state,
            a.started_on.isoformat(),
            None if a.settled_on is None else a.settled_on.isoformat(),
            a.reference,
            a.method,
            a.failure,
        ]
        if self.attempt(a.key) is None:
            ordinal = self._run(
                "SELECT COUNT(*) FROM cloudrate_payment_attempt WHERE tenant = ?", [self.tenant]
            ).fetchone()[0]
            self._run(
                f"INSERT INTO cloudrate_payment_attempt ({_ATTEMPT_COLUMNS}, ordinal) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.tenant, a.key, *values, int(ordinal) + 1],
            )
            return
        self._run(
            "UPDATE cloudrate_payment_attempt SET number = ?, amount = ?, currency = ?, "
            "state = ?, started_on = ?, settled_on = ?, reference = ?, method = ?, failure = ? "
            "WHERE tenant = ? AND key = ?",
            [*values, self.tenant, a.key],
        )


class SQLStore:
    """The shared part of the SQL document stores; subclasses connect and lock.

    Subclasses provide :meth:`_connection` (a context manager giving a cursor outside any
    write transaction), :meth:`_writing` (a context manager giving a cursor inside a write
    transaction holding *locks*, in the order given, committing on success),
    :attr:`_errors` (the driver's error classes) and :meth:`_sql` (the driver's form of a
    query written with ``?``).
    """

    name = "store"
    _errors: tuple[type[BaseException], ...] = ()

    def _sql(self, query: str) -> str:
        return query

    def _connection(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _writing(self, locks: Sequence[str]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fail(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(
            f"{self.name}: {what} failed ({type(exc).__name__}: {exc}); the transaction "
            "was rolled back, nothing of it was written; retry the step"
        )

    @contextmanager
    def transaction(self, tenant: str, lock: str | Sequence[str]) -> Iterator[_Transaction]:
        names = [lock] if isinstance(lock, str) else sorted(set(lock))
        try:
            with self._writing([f"{tenant}\x1f{name}" for name in names]) as cursor:
                yield _Transaction(tenant, cursor, self._sql)
        except self._errors as exc:
            what = names[0] if len(names) == 1 else f"{len(names)} locks"
            raise self._fail(f"the transaction on {what!r}", exc) from None

    @contextmanager
    def _reading(self, what: str) -> Iterator[_Reads]:
        try:
            with self._connection() as cursor:
                yield _Reads(cursor, self._sql)
        except self._errors as exc:
            raise self._fail(what, exc) from None

    def document(self, number: str, *, tenant: str = "default") -> StoredDocument | None:
        with self._reading(f"reading {number!r}") as reads:
            found = reads.documents_where(tenant, " AND number = ?", [number])
        return found[0] if found else None

    def documents(
        self,
        *,
        tenant: str = "default",
        customer: str | None = None,
        period: str | None = None,
    ) -> tuple[StoredDocument, ...]:
        where, params = "", list[str]()
        if customer is not None:
            where, params = where + " AND customer = ?", [*params, customer]
        if period is not None:
            where, params = where + " AND period = ?", [*params, period]
        with self._reading("listing documents") as reads:
            return reads.documents_where(tenant, where, params)

    def attempts(self, number: str, *, tenant: str = "default") -> tuple[PaymentAttempt, ...]:
        with self._reading(f"reading the payment attempts of {number!r}") as reads:
            return reads.attempts(tenant, number)

    def period_billed(self, period: str, *, tenant: str = "default") -> PeriodBilled:
        with self._reading(f"reading what {period!r} billed") as reads:
            return reads.period_billed(tenant, period)

    def attempt(self, key: str, *, tenant: str = "default") -> PaymentAttempt | None:
        with self._reading(f"reading payment attempt {key!r}") as reads:
            rows = reads._all(
                f"SELECT {_ATTEMPT_COLUMNS} FROM cloudrate_payment_attempt "
                "WHERE tenant = ? AND key = ?",
                [tenant, key],
            )
        return _attempt(rows[0]) if rows else None

    def sequences(self) -> dict[str, int]:
        with self._reading("reading the sequences") as reads:
            rows = reads._all("SELECT key, last FROM cloudrate_sequence ORDER BY key", [])
        return {str(k): int(v) for k, v in rows}

    def _events(self, where: str, params: Sequence[Any], limit: int | None) -> tuple[Event, ...]:
        query = f"SELECT {_EVENT_COLUMNS} FROM cloudrate_event WHERE 1 = 1{where} ORDER BY seq"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self._reading("reading the outbox") as reads:
            return tuple(_event(r) for r in reads._all(query, params))

    def events(self, *, tenant: str | None = None) -> tuple[Event, ...]:
        if tenant is None:
            return self._events("", [], None)
        return self._events(" AND tenant = ?", [tenant], None)

    def pending_events(self, limit: int = 100, *, tenant: str | None = None) -> Sequence[Event]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise BillingError(f"limit: a whole number above 0 (got {limit!r})")
        if tenant is None:
            return self._events(" AND delivered = 0", [], limit)
        return self._events(" AND delivered = 0 AND tenant = ?", [tenant], limit)

    def acknowledge(self, ids: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(str(i) for i in ids))
        changed = 0
        with self.transaction("*", "outbox") as tx:
            for event_id in wanted:
                cur = tx._run(
                    "UPDATE cloudrate_event SET delivered = 1 WHERE id = ? AND delivered = 0",
                    [event_id],
                )
                changed += int(cur.rowcount == 1)
        return changed
