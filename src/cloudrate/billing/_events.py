"""Events the host reads from the outbox: what happened, to which document, when.

An event is written in the same transaction as the change it reports, so the outbox never
tells of a document that does not exist and never misses one that does. Its id is derived
from what it reports (tenant, type and subject), so writing the same event twice, as a rerun
does, stores it once; hosts deliver at least once and de-duplicate by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

import attrs

__all__ = ["EVENT_TYPES", "Event", "EventType", "event_id", "new_event"]

#: Every event type the store writes. ``wallet.*`` come from the wallet ledger kept in the
#: document store (:class:`~cloudrate.billing.DocumentLedgerStore`), ``budget.*`` from its
#: alert store, ``account.*`` from :func:`~cloudrate.billing.record_account_state`; a host
#: may also record them with :func:`~cloudrate.billing.record_event`.
EventType = Literal[
    "invoice.finalised",
    "invoice.paid",
    "invoice.overdue",
    "invoice.reminder",
    "credit_note.issued",
    "payment.failed",
    "wallet.low",
    "wallet.depleted",
    "wallet.credit_expired",
    "wallet.topup_requested",
    "budget.threshold_reached",
    "account.suspended",
    "account.reactivated",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


def event_id(tenant: str, type: str, subject: str) -> str:  # noqa: A002 - the field's name
    """The id of the event of *type* about *subject*: the same inputs give the same id.

    >>> event_id("default", "invoice.finalised", "INV-2026-0001")
    'evt_e7b143e8552e896643dff4f0'
    """
    digest = hashlib.sha256(f"{tenant}\x1f{type}\x1f{subject}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


@attrs.frozen(kw_only=True)
class Event:
    """One entry of the outbox.

    Attributes:
        id: unique, derived from tenant, type and subject (:func:`event_id`).
        type: one of :data:`EVENT_TYPES`.
        subject: what it is about: a document number, an account, a budget.
        at: when it happened, as the caller passed it (ISO date or datetime text).
        data: the details, JSON-ready (amounts as decimal strings).
        seq: its place in the outbox, in the order events were written.
    """

    id: str
    type: EventType
    tenant: str
    subject: str
    at: str
    data: Mapping[str, Any] = attrs.field(factory=dict)
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The event as the JSON body a webhook receives (schema ``cloudrate.event/1``)."""
        return {
            "schema": "cloudrate.event/1",
            "id": self.id,
            "type": self.type,
            "tenant": self.tenant,
            "subject": self.subject,
            "at": self.at,
            "data": dict(self.data),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON with sorted keys: the same event, the same bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def new_event(
    tenant: str,
    type: EventType,  # noqa: A002 - the field's name
    subject: str,
    at: str,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """An event whose id is derived from *tenant*, *type* and *subject*."""
    return Event(
        id=event_id(tenant, type, subject),
        type=type,
        tenant=tenant,
        subject=subject,
        at=at,
        data=dict(data or {}),
    )
