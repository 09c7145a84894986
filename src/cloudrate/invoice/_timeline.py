"""What is derived from an invoice's dates: overdue on a day, the day it was settled, and
its timeline of events. The *now* a status depends on is always passed in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from ._dates import local_date
from ._model import TimelineEvent
from ._states import InvoiceStatus

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["paid_on", "status_at", "timeline"]


def status_at(invoice: Invoice, now: date | datetime) -> InvoiceStatus:
    """The invoice's status, ``overdue`` when it is unpaid and *now*'s date (in the
    period's timezone) is past its due date."""
    status = invoice.status
    if (
        status == "unpaid"
        and invoice.due_on is not None
        and local_date(now, invoice.period.tz) > invoice.due_on
    ):
        return "overdue"
    return status


def paid_on(invoice: Invoice) -> date | None:
    """The date payments and credit notes together first covered the total."""
    if invoice.state != "issued":
        return None
    events = sorted(
        [(p.on, p.amount.amount) for p in invoice.payments]
        + [(c.issued_on, c.total.amount) for c in invoice.credit_notes],
        key=lambda e: e[0],
    )
    running = Decimal(0)
    for on, amount in events:
        running += amount
        if running >= invoice.total.amount:
            return on
    return invoice.issued_on if invoice.total.amount <= 0 else None


def _issue_events(invoice: Invoice) -> list[TimelineEvent]:
    events = []
    if invoice.issued_on is not None:
        events.append(
            TimelineEvent(
                kind="issued", on=invoice.issued_on, amount=invoice.total, reference=invoice.number
            )
        )
    if invoice.due_on is not None:
        events.append(TimelineEvent(kind="due", on=invoice.due_on, amount=None))
    return events


def _money_events(invoice: Invoice) -> list[TimelineEvent]:
    events = [
        TimelineEvent(kind="payment", on=p.on, amount=p.amount, reference=p.reference)
        for p in invoice.payments
    ]
    events.extend(
        TimelineEvent(kind="credit_note", on=c.issued_on, amount=c.total, reference=c.number)
        for c in invoice.credit_notes
    )
    return events


def _closing_events(invoice: Invoice) -> list[TimelineEvent]:
    events = []
    settled = paid_on(invoice)
    if settled is not None:
        events.append(TimelineEvent(kind="paid", on=settled, amount=None))
    if invoice.voided_on is not None:
        events.append(
            TimelineEvent(
                kind="voided", on=invoice.voided_on, amount=None, reference=invoice.void_reason
            )
        )
    return events


def timeline(invoice: Invoice) -> tuple[TimelineEvent, ...]:
    """Issued, due, payments, credit notes, paid and voided, by date (stable)."""
    events = [*_issue_events(invoice), *_money_events(invoice), *_closing_events(invoice)]
    return tuple(sorted(events, key=lambda e: e.on))
