"""The document store protocol: one database for documents, numbers, payments and events.

Everything a billing step changes is written in one :meth:`DocumentStore.transaction`:
the number taken from a sequence, the document that holds it, the amounts it bills and the
events that report it. Either all of it is stored or none of it, so a number without its
document cannot exist and a rerun after a crash finds exactly what was committed.

Two stores implement the protocol and run one shared test suite
(``tests/billing/test_store_contract.py``): :class:`~cloudrate.billing.SQLiteDocumentStore`,
the embedded default, and :class:`~cloudrate.billing.PostgresDocumentStore` for portals that
bill from several processes or hosts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from ._events import Event
from ._stored import (
    BilledRow,
    DocumentRow,
    EventRow,
    PaymentAttempt,
    PeriodBilled,
    StoredDocument,
)

__all__ = ["DocumentStore", "StoreTransaction"]


class StoreTransaction(Protocol):
    """The writes and reads of one transaction; see :meth:`DocumentStore.transaction`."""

    tenant: str

    def next_number(self, sequence: str) -> int:
        """The next number of *sequence* (1, 2, 3... without gaps): taken for good only if
        the transaction commits."""
        ...

    def next_numbers(self, sequence: str, count: int) -> int:
        """Take *count* (>= 1) consecutive numbers of *sequence* at once and return the
        first; like :meth:`next_number`, taken for good only if the transaction commits."""
        ...

    def documents(self, customer: str, period: str) -> tuple[StoredDocument, ...]:
        """The customer's documents for *period*, by revision."""
        ...

    def customers_with_documents(self, period: str, customers: Sequence[str]) -> set[str]:
        """Those of *customers* that have a document for *period*."""
        ...

    def document(self, number: str) -> StoredDocument | None:
        """The document numbered *number*, or ``None``."""
        ...

    def by_draft(self, draft: str) -> StoredDocument | None:
        """The document issued for *draft*, or ``None``."""
        ...

    def insert_document(self, document: StoredDocument) -> None:
        """Store *document* and its billed amounts."""
        ...

    def insert_batch(
        self,
        documents: Sequence[DocumentRow],
        billed: Sequence[BilledRow],
        events: Sequence[EventRow],
    ) -> None:
        """Store many documents, their billed amounts and their events as rows (one
        statement each, run for every row): what :meth:`insert_document` and
        :meth:`add_event` store, for a whole batch. Events already in the outbox are
        kept as they are."""
        ...

    def add_event(self, event: Event) -> bool:
        """Put *event* in the outbox; ``False`` when an event with its id is there already."""
        ...

    def attempt(self, key: str) -> PaymentAttempt | None:
        """The payment attempt with idempotency key *key*, or ``None``."""
        ...

    def attempts(self, number: str) -> tuple[PaymentAttempt, ...]:
        """The payment attempts on document *number*, in the order they were started."""
        ...

    def save_attempt(self, attempt: PaymentAttempt) -> None:
        """Insert *attempt*, or update the stored attempt with its key."""
        ...


@runtime_checkable
class DocumentStore(Protocol):
    """Documents, number sequences, billed amounts, payment attempts and the event outbox."""

    def transaction(
        self, tenant: str, lock: str | Sequence[str]
    ) -> AbstractContextManager[StoreTransaction]:
        """One all-or-nothing unit of work for *tenant*. *lock* names what it changes (a
        customer's period), or several such names (a batch of customers, taken in sorted
        order): two transactions holding one name never run at once, so each sees what
        the other committed. Raises
        :class:`~cloudrate.exceptions.StoreError` when the database fails (nothing of the
        transaction is kept); any other exception rolls back and propagates."""
        ...

    def document(self, number: str, *, tenant: str = "default") -> StoredDocument | None:
        """The document numbered *number*, or ``None``."""
        ...

    def documents(
        self,
        *,
        tenant: str = "default",
        customer: str | None = None,
        period: str | None = None,
    ) -> tuple[StoredDocument, ...]:
        """Documents (of *customer*, of *period*), by customer, period and revision."""
        ...

    def attempts(self, number: str, *, tenant: str = "default") -> tuple[PaymentAttempt, ...]:
        """The payment attempts on document *number*, in the order they were started."""
        ...

    def period_billed(self, period: str, *, tenant: str = "default") -> PeriodBilled:
        """What the documents of *period* bill, every customer's, in one read."""
        ...

    def attempt(self, key: str, *, tenant: str = "default") -> PaymentAttempt | None:
        """The payment attempt with idempotency key *key*, or ``None``."""
        ...

    def sequences(self) -> dict[str, int]:
        """The last number taken in every sequence."""
        ...

    def events(self, *, tenant: str | None = None) -> tuple[Event, ...]:
        """Every event in the outbox, delivered or not, in the order written."""
        ...

    def pending_events(self, limit: int = 100, *, tenant: str | None = None) -> Sequence[Event]:
        """Events not yet acknowledged, oldest first."""
        ...

    def acknowledge(self, ids: Iterable[str]) -> int:
        """Mark events delivered; unknown or acknowledged ids are ignored. Returns how many
        changed."""
        ...

    def close(self) -> None:
        """Release the store's connection."""
        ...
