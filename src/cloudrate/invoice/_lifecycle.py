"""Lifecycle steps: finalise (number and dates), pay, void; derived dates and timeline.

States: ``draft`` -> ``issued`` -> (settled: ``paid``), or ``void``. ``paid``, ``unpaid``
and ``overdue`` are derived from payments, credit notes, the due date and the *now* the
caller passes in; nothing here reads a clock.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
from moneyed import Money

from cloudrate._money import to_decimal
from cloudrate.exceptions import InvoiceError, InvoiceStateError

from ._model import Payment, TimelineEvent

if TYPE_CHECKING:
    from ._invoice import Invoice
    from ._numbering import Numbering, SequenceStore
    from ._terms import PaymentTerms

__all__ = ["finalise", "paid_on", "pay", "timeline", "today", "void"]


def today(now: date | datetime, invoice: Invoice) -> date:
    """*now* as a date in the invoice period's timezone (aware datetimes only)."""
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvoiceError(
                f"now: {now.isoformat()} has no timezone; pass an aware "
                "datetime (e.g. datetime.now(timezone.utc)) or a date"
            )
        return now.astimezone(invoice.period.tz).date()
    if isinstance(now, date):
        return now
    raise InvoiceError(f"now: expected a date or an aware datetime (got {now!r})")


def _date(value: object, where: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvoiceError(f"{where}: expected a datetime.date (got {value!r})")
    return value


def _name(invoice: Invoice) -> str:
    return invoice.number or f"draft {invoice.id!r}"


def finalise(
    invoice: Invoice,
    numbering: Numbering,
    store: SequenceStore,
    *,
    issued_on: date,
    terms: PaymentTerms,
    tenant: str = "default",
) -> Invoice:
    """Issue a draft: everything that can fail is checked before the number is taken."""
    if invoice.state != "draft":
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is {invoice.state}, not a draft; finalising twice "
            "would take a second number (none was taken)"
        )
    issued_on = _date(issued_on, "issued_on")
    due_on = terms.due(issued_on)
    label = terms.label
    number = numbering.next(store, on=issued_on, document=invoice.id, tenant=tenant)
    return attrs.evolve(
        invoice, state="issued", number=number, issued_on=issued_on, due_on=due_on, terms=label
    )


def _amount(invoice: Invoice, amount: Money | Decimal | str) -> Money:
    if isinstance(amount, Money):
        if amount.currency.code != invoice.currency:
            raise InvoiceError(
                f"payment is in {amount.currency.code}, but invoice "
                f"{_name(invoice)} is in {invoice.currency}; pay in "
                f"{invoice.currency}"
            )
        value = amount.amount
    else:
        value = to_decimal(amount, "payment amount")
    if value <= 0:
        raise InvoiceError(
            f"payment amount: must be above 0 (got {value}); refunds are credit notes"
        )
    quantum = invoice.rounding.quantum(invoice.currency)
    if value != value.quantize(quantum):
        raise InvoiceError(
            f"payment amount {value} has more decimals than {invoice.currency} "
            f"settles ({quantum}); pass the amount actually received"
        )
    return Money(value, invoice.currency)


def pay(
    invoice: Invoice,
    amount: Money | Decimal | str,
    on: date,
    *,
    reference: str | None = None,
    method: str | None = None,
) -> Invoice:
    """Record a payment; what exceeds the amount due becomes the invoice's credit balance."""
    if invoice.state == "void":
        raise InvoiceStateError(f"invoice {_name(invoice)} is void; nothing can be paid on it")
    if invoice.state == "draft":
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is a draft; finalise it before taking payments"
        )
    if invoice.amount_due.amount == 0:
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is already settled; nothing is due "
            "(record extra money as account credit)"
        )
    received = _amount(invoice, amount)
    on = _date(on, "payment date")
    if invoice.issued_on is not None and on < invoice.issued_on:
        raise InvoiceError(
            f"payment date {on} is before invoice {_name(invoice)} was issued ({invoice.issued_on})"
        )
    payment = Payment(amount=received, on=on, reference=reference, method=method)
    return attrs.evolve(invoice, payments=(*invoice.payments, payment))


def void(invoice: Invoice, on: date, reason: str | None = None) -> Invoice:
    """Cancel an invoice that received nothing; it keeps its number (no gap)."""
    if invoice.state == "void":
        raise InvoiceStateError(f"invoice {_name(invoice)} is already void")
    if invoice.payments or invoice.credit_notes:
        raise InvoiceStateError(
            f"invoice {_name(invoice)} has payments or credit notes; issue a credit note "
            "instead of voiding it"
        )
    return attrs.evolve(invoice, state="void", voided_on=_date(on, "void date"), void_reason=reason)


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


def timeline(invoice: Invoice) -> tuple[TimelineEvent, ...]:
    """Issued, due, payments, credit notes, paid and voided, by date (stable)."""
    events: list[TimelineEvent] = []
    if invoice.issued_on is not None:
        events.append(
            TimelineEvent(
                kind="issued", on=invoice.issued_on, amount=invoice.total, reference=invoice.number
            )
        )
    if invoice.due_on is not None:
        events.append(TimelineEvent(kind="due", on=invoice.due_on, amount=None))
    events.extend(
        TimelineEvent(kind="payment", on=p.on, amount=p.amount, reference=p.reference)
        for p in invoice.payments
    )
    events.extend(
        TimelineEvent(kind="credit_note", on=c.issued_on, amount=c.total, reference=c.number)
        for c in invoice.credit_notes
    )
    settled = paid_on(invoice)
    if settled is not None:
        events.append(TimelineEvent(kind="paid", on=settled, amount=None))
    if invoice.voided_on is not None:
        events.append(
            TimelineEvent(
                kind="voided", on=invoice.voided_on, amount=None, reference=invoice.void_reason
            )
        )
    return tuple(sorted(events, key=lambda e: e.on))
