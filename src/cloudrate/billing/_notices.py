"""Events the host reports, and the overdue sweep: written to the outbox exactly once.

Billing runs and payment attempts write their own events. What happens elsewhere in the
portal (a wallet running low, a budget threshold, an account suspended) is recorded with
:func:`record_event`, in the same store transaction as the host's own change when the host
passes its transaction (*tx*). :func:`mark_overdue` writes ``invoice.overdue`` once per
invoice that is unpaid after its due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from cloudrate._money import exact
from cloudrate.exceptions import BillingError

from ._documents import live_invoice
from ._events import EVENT_TYPES, Event, EventType, new_event
from ._store import DocumentStore, StoreTransaction

__all__ = ["HOST_EVENTS", "mark_overdue", "record_event"]

#: The event types a host records itself (the others are written by runs and payments).
HOST_EVENTS: tuple[EventType, ...] = tuple(
    t for t in EVENT_TYPES if t.split(".")[0] in ("wallet", "budget", "account")
)


def record_event(
    store: DocumentStore,
    type: EventType,  # noqa: A002 - the event's field
    subject: str,
    *,
    at: str,
    data: Mapping[str, Any] | None = None,
    tenant: str = "default",
    tx: StoreTransaction | None = None,
) -> Event | None:
    """Put a host event in the outbox (``wallet.low`` for account ``acme``...).

    *subject* with *type* identifies the event: recording it again is a no-op (returns
    ``None``), so include what makes it new, e.g. ``"acme/2026-10/80%"`` for a budget
    threshold. Pass *tx* to write it in a transaction the caller holds.
    """
    if type not in HOST_EVENTS:
        raise BillingError(
            f"event type {type!r}: the host records {', '.join(HOST_EVENTS)}; invoice, "
            "credit note and payment events are written by billing runs and payments"
        )
    event = new_event(tenant, type, subject, at, data)
    if tx is not None:
        return event if tx.add_event(event) else None
    with store.transaction(tenant, f"event\x1f{subject}") as own:
        return event if own.add_event(event) else None


@exact
def mark_overdue(store: DocumentStore, on: date, *, tenant: str = "default") -> tuple[Event, ...]:
    """Write ``invoice.overdue`` for every invoice still unpaid after its due date on *on*
    (once per invoice, however often the sweep runs). Returns the events written now."""
    written = []
    documents = store.documents(tenant=tenant)
    for d in documents:
        if d.kind == "credit_note" or d.due_on is None or d.due_on >= on:
            continue
        with store.transaction(tenant, f"{d.customer}\x1f{d.period}") as tx:
            notes = [
                n
                for n in tx.documents(d.customer, d.period)
                if n.kind == "credit_note" and n.refers_to == d.number
            ]
            invoice = live_invoice(d, tx.attempts(d.number), notes)
            if invoice.status_at(on) != "overdue":
                continue
            event = new_event(
                tenant,
                "invoice.overdue",
                d.number,
                on.isoformat(),
                {
                    "customer": d.customer,
                    "due_on": d.due_on.isoformat(),
                    "amount_due": str(invoice.amount_due.amount),
                    "currency": d.currency,
                },
            )
            if tx.add_event(event):
                written.append(event)
    return tuple(written)
