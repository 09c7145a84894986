"""Endpoints on the document store, each for the request's tenant only: the billing run,
a customer's documents and statistics, one document as JSON or PDF, Pay Now and the
provider's answer, and the event outbox."""

from __future__ import annotations

import importlib
import json
from typing import Any, cast

from cloudrate.billing import (
    BillingRun,
    DocumentStore,
    PaymentAttempt,
    StoredDocument,
    customer_invoices,
    customer_statistics,
    fail_payment,
    load_invoice,
    pay_now,
    succeed_payment,
)
from cloudrate.exceptions import InvoiceError, MissingExtraError, NotFoundError
from cloudrate.invoice import FILTERS, InvoiceFilter, TaxRate
from cloudrate.period import BillingPeriod
from cloudrate.rating import rate

from ._input import Fields
from ._rating import TAX_METHODS, read_customers
from ._service import Call, Reply, read_plan, read_usage

__all__ = [
    "acknowledge_events",
    "billing_run",
    "customer_documents",
    "document_json",
    "document_pdf",
    "fail",
    "pending_events",
    "start_pay_now",
    "statistics",
    "succeed",
]


def _document(call: Call, store: DocumentStore) -> StoredDocument:
    number = call.params["number"]
    found = store.document(number, tenant=call.tenant)
    if found is None:
        raise NotFoundError(f"no document numbered {number!r}", path="number", value=number)
    return found


def _attempt(attempt: PaymentAttempt) -> dict[str, Any]:
    return {
        "key": attempt.key,
        "number": attempt.number,
        "amount": str(attempt.amount),
        "currency": attempt.currency,
        "state": attempt.state,
        "started_on": attempt.started_on.isoformat(),
        "settled_on": None if attempt.settled_on is None else attempt.settled_on.isoformat(),
        "reference": attempt.reference,
        "method": attempt.method,
        "failure": attempt.failure,
    }


def billing_run(call: Call) -> Reply:
    """``POST /v1/billing-runs``: bill a period exactly once (``cloudrate bill``): the
    period's invoices, then supplementary invoices and credit notes for what changed."""
    body = call.body
    store = call.service.needs_store()
    plan = read_plan(body, call.service.plans)
    period = body.text("period", required=True)
    issued_on = body.day("issued_on")
    tax_rate = body.number("tax_rate")
    tax_method = body.choice("tax_method", TAX_METHODS, "total")
    customers = read_customers(body)
    usage = read_usage(body)
    body.done(
        ("plan", "plan_name", "usage", "period", "issued_on", "customers", "tax_rate", "tax_method")
    )
    assert plan is not None and period is not None
    result = rate(plan, usage, BillingPeriod.parse(period, plan.timezone))
    summary = BillingRun(store=store, tenant=call.tenant).bill(
        result,
        issued_on=issued_on,
        customers=customers,
        taxes=None if tax_rate is None else TaxRate(percent=tax_rate),
        tax_method=tax_method,  # type: ignore[arg-type]  # one of TAX_METHODS
    )
    return Reply(data=summary.to_dict())


def customer_documents(call: Call) -> Reply:
    """``GET /v1/customers/{customer}/documents``: the invoice list tabs (All / Unpaid /
    Paid) as they stand on *on*, and, under All, the customer's credit notes."""
    store, query = call.service.needs_store(), call.query
    which = query.choice("filter", FILTERS, "all")
    on = call.today(query, "on")
    period = query.text("period")
    query.done(("filter", "on", "period"))
    assert on is not None
    customer = call.params["customer"]
    invoices = customer_invoices(
        store,
        customer,
        cast(InvoiceFilter, which),  # one of FILTERS
        now=on,
        period=period,
        tenant=call.tenant,
    )
    notes = [
        json.loads(d.body)
        for d in store.documents(tenant=call.tenant, customer=customer, period=period)
        if d.kind == "credit_note" and which == "all"
    ]
    return Reply(
        data={
            "customer": customer,
            "filter": which,
            "on": on.isoformat(),
            "invoices": [i.to_dict() for i in invoices],
            "credit_notes": notes,
        }
    )


def statistics(call: Call) -> Reply:
    """``GET /v1/customers/{customer}/statistics``: the invoice cards on *on*."""
    store, query = call.service.needs_store(), call.query
    on = call.today(query, "on")
    currency = query.text("currency")
    query.done(("on", "currency"))
    assert on is not None
    customer = call.params["customer"]
    if currency is None:
        documents = store.documents(tenant=call.tenant, customer=customer)
        if not documents:
            raise NotFoundError(
                f"customer {customer!r} has no documents; give currency= for empty cards",
                path="customer",
                value=customer,
            )
        currency = documents[0].currency
    stats = customer_statistics(store, customer, now=on, currency=currency, tenant=call.tenant)
    return Reply(
        data={
            "customer": customer,
            "currency": stats.currency,
            "outstanding": str(stats.outstanding.amount),
            "total_paid": str(stats.total_paid.amount),
            "overdue_count": stats.overdue_count,
            "total_invoices": stats.total_invoices,
            "unpaid_count": stats.unpaid_count,
            "paid_count": stats.paid_count,
            "credit_balance": str(stats.credit_balance.amount),
        }
    )


def document_json(call: Call) -> Reply:
    """``GET /v1/documents/{number}``: an invoice as it stands today (payments and credit
    notes joined in), or a credit note as issued."""
    store = call.service.needs_store()
    call.query.done(())
    document = _document(call, store)
    if document.kind == "credit_note":
        return Reply(data=json.loads(document.body))
    return Reply(data=load_invoice(store, document.number, tenant=call.tenant).to_dict())


def document_pdf(call: Call) -> Reply:
    """``GET /v1/documents/{number}/pdf``: the invoice as PDF (needs ``cloudrate[pdf]``)."""
    store = call.service.needs_store()
    locale = call.query.text("locale")
    call.query.done(("locale",))
    document = _document(call, store)
    if document.kind == "credit_note":
        raise InvoiceError(
            f"{document.number} is a credit note, which is kept as JSON only; "
            f"GET /v1/documents/{document.number} gives it",
            path="number",
            value=document.number,
        )
    try:
        render = importlib.import_module("cloudrate.invoice.render")
    except ImportError as exc:  # pragma: no cover - the pdf extra is installed in tests
        raise MissingExtraError("PDF invoices", "typst and fonts", "pdf") from exc
    invoice = load_invoice(store, document.number, tenant=call.tenant)
    kwargs = {"locale": locale} if locale else {}
    pdf: bytes = render.render_pdf(invoice, **kwargs)
    return Reply(data=pdf, media_type="application/pdf")


def start_pay_now(call: Call) -> Reply:
    """``POST /v1/documents/{number}/pay-now``: start a payment attempt for the amount due;
    the same *key* again changes nothing."""
    store, body = call.service.needs_store(), call.body
    key = body.text("key", required=True)
    on = call.today(body, "on")
    body.done(("key", "on"))
    assert key is not None and on is not None
    document = _document(call, store)
    attempt = pay_now(store, document.number, key=key, on=on, tenant=call.tenant)
    return Reply(data=_attempt(attempt), status=201 if attempt.state == "pending" else 200)


def _settle(call: Call, known: tuple[str, ...]) -> tuple[DocumentStore, Fields, str]:
    store, body = call.service.needs_store(), call.body
    key = call.params["key"]
    if store.attempt(key, tenant=call.tenant) is None:
        raise NotFoundError(f"no payment attempt with key {key!r}", path="key", value=key)
    body.unknown(known)
    return store, body, key


def succeed(call: Call) -> Reply:
    """``POST /v1/payments/{key}/succeed``: the provider took the money."""
    store, body, key = _settle(call, ("on", "reference"))
    on, reference = call.today(body, "on"), body.text("reference")
    body.done()
    assert on is not None
    attempt = succeed_payment(store, key, on=on, reference=reference, tenant=call.tenant)
    return Reply(data=_attempt(attempt))


def fail(call: Call) -> Reply:
    """``POST /v1/payments/{key}/fail``: the provider refused."""
    store, body, key = _settle(call, ("on", "reason"))
    on, reason = call.today(body, "on"), body.text("reason", required=True)
    body.done()
    assert on is not None and reason is not None
    attempt = fail_payment(store, key, on=on, reason=reason, tenant=call.tenant)
    return Reply(data=_attempt(attempt))


def pending_events(call: Call) -> Reply:
    """``GET /v1/events``: this tenant's events not yet acknowledged, oldest first."""
    store, query = call.service.needs_store(), call.query
    limit = query.whole("limit", low=1, high=1000, default=100)
    query.done(("limit",))
    events = store.pending_events(limit, tenant=call.tenant)
    return Reply(data={"events": [e.to_dict() for e in events]})


def acknowledge_events(call: Call) -> Reply:
    """``POST /v1/events/acknowledge``: mark this tenant's events delivered; ids of other
    tenants' events, unknown or already acknowledged ids change nothing."""
    store, body = call.service.needs_store(), call.body
    ids = body.names("ids")
    body.done(("ids",))
    wanted = set(ids)
    own = [e.id for e in store.events(tenant=call.tenant) if e.id in wanted]
    return Reply(data={"acknowledged": store.acknowledge(own) if own else 0})
