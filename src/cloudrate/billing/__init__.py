"""Billing runs that can be repeated, crash and correct themselves; the document store;
events for the host.

>>> import tempfile, pathlib
>>> from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
>>> from cloudrate.billing import BillingRun, SQLiteDocumentStore
>>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
>>> result = rate(load_plan(sample_plan_path()), read_usage(sample_usage_path()))
>>> summary = BillingRun(store=store).bill(result)
>>> [d.number for d in summary.documents][:2]
['INV-2026-0001', 'INV-2026-0002']
>>> store.close()
"""

from ._account_events import find_event, record_account_state
from ._delta import Delta, billed_lines, delta, line_key
from ._distributed import bill_dask, bill_spark
from ._documents import customer_invoices, customer_statistics, live_invoice, load_invoice
from ._dunning import run_dunning
from ._events import EVENT_TYPES, Event, EventType, event_id, new_event
from ._load_customers import load_billing_customers
from ._notices import HOST_EVENTS, mark_overdue, record_event
from ._open import open_store
from ._payments import fail_payment, pay_now, start_payment, succeed_payment
from ._postgres import PostgresDocumentStore
from ._run import CREDIT_NOTE_SCHEMA, BillingRun, issue_date
from ._sqlite import SQLiteDocumentStore
from ._store import DocumentStore, StoreTransaction
from ._stored import (
    ATTEMPT_STATES,
    DOCUMENT_KINDS,
    AttemptState,
    BilledLine,
    DocumentKind,
    PaymentAttempt,
    StoredDocument,
    credit_note_from_json,
)
from ._subscribed import CustomerBill, rate_customer, split_usage
from ._subscriptions import (
    ANCHORS,
    INTERVALS,
    Anchor,
    BillingCustomer,
    Interval,
    Segment,
    Subscription,
    customer_periods,
    periods_of,
    segments,
)
from ._summary import OUTCOMES, CustomerOutcome, Outcome, RunSummary
from ._wallet import DocumentLedgerStore, record_topup_request
from ._webhook import Delivery, DeliveryReport, Outbox, WebhookDeliverer, verify_signature

__all__ = [
    "ANCHORS",
    "ATTEMPT_STATES",
    "CREDIT_NOTE_SCHEMA",
    "DOCUMENT_KINDS",
    "EVENT_TYPES",
    "HOST_EVENTS",
    "INTERVALS",
    "OUTCOMES",
    "Anchor",
    "AttemptState",
    "BilledLine",
    "BillingCustomer",
    "BillingRun",
    "CustomerBill",
    "CustomerOutcome",
    "Delivery",
    "DeliveryReport",
    "Delta",
    "DocumentKind",
    "DocumentLedgerStore",
    "DocumentStore",
    "Event",
    "EventType",
    "Interval",
    "Outbox",
    "Outcome",
    "PaymentAttempt",
    "PostgresDocumentStore",
    "RunSummary",
    "SQLiteDocumentStore",
    "Segment",
    "StoreTransaction",
    "StoredDocument",
    "Subscription",
    "WebhookDeliverer",
    "bill_dask",
    "bill_spark",
    "billed_lines",
    "credit_note_from_json",
    "customer_invoices",
    "customer_periods",
    "customer_statistics",
    "delta",
    "event_id",
    "fail_payment",
    "find_event",
    "issue_date",
    "line_key",
    "live_invoice",
    "load_billing_customers",
    "load_invoice",
    "mark_overdue",
    "new_event",
    "open_store",
    "pay_now",
    "periods_of",
    "rate_customer",
    "record_account_state",
    "record_event",
    "record_topup_request",
    "run_dunning",
    "segments",
    "split_usage",
    "start_payment",
    "succeed_payment",
    "verify_signature",
]
