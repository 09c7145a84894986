"""Reading documents back as the portal shows them: live invoices, lists, statistics.

A stored invoice is the document as issued; :func:`load_invoice` joins in what happened
since (succeeded payment attempts as payments, credit notes referring to it), so its status,
amount due and timeline are today's. Nothing stored is edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import BillingError, DocumentNotFoundError
from cloudrate.invoice import (
    FILTERS,
    CreditNote,
    Invoice,
    InvoiceFilter,
    InvoiceStats,
    Payment,
    invoice_stats,
)

from ._store import DocumentStore
from ._stored import PaymentAttempt, StoredDocument, credit_note_from_json

__all__ = ["customer_invoices", "customer_statistics", "live_invoice", "load_invoice"]

_UNPAID = ("unpaid", "overdue")


def _payments(attempts: Iterable[PaymentAttempt], currency: str) -> tuple[Payment, ...]:
    return tuple(
        Payment(
            amount=Money(a.amount, currency),
            on=a.settled_on or a.started_on,
            reference=a.reference or a.key,
            method=a.method,
        )
        for a in attempts
        if a.state == "succeeded"
    )


@exact
def live_invoice(
    document: StoredDocument,
    attempts: Iterable[PaymentAttempt],
    credit_notes: Iterable[StoredDocument],
) -> Invoice:
    """*document*'s invoice with its succeeded *attempts* as payments and the
    *credit_notes* referring to it."""
    invoice = document.invoice()
    notes: list[CreditNote] = [
        credit_note_from_json(d.body, invoice.customer, invoice) for d in credit_notes
    ]
    return attrs.evolve(
        invoice,
        payments=(*invoice.payments, *_payments(attempts, invoice.currency)),
        credit_notes=(*invoice.credit_notes, *notes),
    )


@exact
def load_invoice(store: DocumentStore, number: str, *, tenant: str = "default") -> Invoice:
    """The invoice or supplementary invoice numbered *number*, as it stands today."""
    document = store.document(number, tenant=tenant)
    if document is None:
        raise DocumentNotFoundError(
            f"no document numbered {number!r} in tenant {tenant!r}", path="number", value=number
        )
    if document.kind == "credit_note":
        raise BillingError(
            f"{number} is a credit note, not an invoice; read it with store.document()"
        )
    notes = [
        d
        for d in store.documents(tenant=tenant, customer=document.customer, period=document.period)
        if d.kind == "credit_note" and d.refers_to == number
    ]
    return live_invoice(document, store.attempts(number, tenant=tenant), notes)


@exact
def customer_invoices(
    store: DocumentStore,
    customer: str,
    which: InvoiceFilter = "all",
    *,
    now: date | datetime,
    period: str | None = None,
    tenant: str = "default",
) -> tuple[Invoice, ...]:
    """The customer's invoices (supplementary ones included) for the portal's All / Unpaid
    / Paid tabs, as they stand on *now*, in period and revision order. ``unpaid`` includes
    overdue invoices."""
    if which not in FILTERS:
        raise BillingError(f"filter: one of {', '.join(FILTERS)} (got {which!r})")
    documents = store.documents(tenant=tenant, customer=customer, period=period)
    out = []
    for d in documents:
        if d.kind == "credit_note":
            continue
        notes = [n for n in documents if n.kind == "credit_note" and n.refers_to == d.number]
        invoice = live_invoice(d, store.attempts(d.number, tenant=tenant), notes)
        status = invoice.status_at(now)
        listed = {"all": True, "paid": status == "paid", "unpaid": status in _UNPAID}
        if listed[which]:
            out.append(invoice)
    return tuple(out)


@exact
def customer_statistics(
    store: DocumentStore,
    customer: str,
    *,
    now: date | datetime,
    currency: str,
    tenant: str = "default",
) -> InvoiceStats:
    """The portal's invoice cards for *customer* on *now* (outstanding, paid, overdue...)."""
    invoices = customer_invoices(store, customer, "all", now=now, tenant=tenant)
    return invoice_stats(invoices, now, currency=currency)
