"""The endpoints: one table the application routes by and the OpenAPI document is written
from, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from . import _billing, _rating
from ._service import Call, Reply

__all__ = ["ROUTES", "Endpoint"]


@attrs.frozen(kw_only=True)
class Endpoint:
    """One operation: *method* and *path* (under ``/v1``), the function that answers it,
    the JSON Schema of its request body (None: no body) and of its query parameters,
    and the schema its 200/201 answer follows (a component name or a schema)."""

    method: str
    path: str
    handler: Callable[[Call], Reply]
    summary: str
    tag: str
    body: dict[str, Any] | None = None
    query: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    required_query: tuple[str, ...] = ()
    answer: str | dict[str, Any] = "problem"
    media_type: str = "application/json"
    status: int = 200
    errors: tuple[int, ...] = (404, 409, 413, 415, 422)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(required),
        "additionalProperties": False,
    }


_TEXT = {"type": "string", "minLength": 1}
_DATE = {"type": "string", "format": "date"}
_INSTANT = {"type": "string", "format": "date-time"}
_NUMBER = {"anyOf": [{"type": "string"}, {"type": "number"}]}
_PLAN = {
    "plan": {
        "description": "the plan document: YAML text, or its JSON form",
        "anyOf": [{"type": "string"}, {"type": "object"}],
    },
    "plan_name": {"description": "one of the host's plans, by name", **_TEXT},
}
_USAGE = {"usage": {"type": "array", "items": _ref("usage_record")}}
_CUSTOMERS = {
    "customers": {
        "type": "object",
        "description": "account -> details printed on its invoice",
        "additionalProperties": _ref("customer_details"),
    }
}
_TAXES = {"tax_rate": _NUMBER, "tax_method": {"enum": ["total", "line"]}}
_RANGE = {
    "preset": {"enum": ["last_7_days", "last_month", "last_90_days", "month_to_date", "custom"]},
    "first": _DATE,
    "last": _DATE,
    "today": _DATE,
    "now": _INSTANT,
    "timezone": _TEXT,
}
_NUMBER_PARAM = {"number": {"type": "string"}}

#: Components of the request bodies (the answers' components are the shipped schemas).
REQUEST_COMPONENTS: dict[str, dict[str, Any]] = {
    "usage_record": {
        "type": "object",
        "description": "one usage record, as a line of a JSON lines usage file",
        "properties": {
            "account": _TEXT,
            "metric": _TEXT,
            "quantity": _NUMBER,
            "start": _INSTANT,
            "end": _INSTANT,
            "resource_id": {"type": ["string", "null"]},
            "record_id": {"type": ["string", "null"]},
            "revision": {"type": ["integer", "null"]},
            "unit": {"type": ["string", "null"]},
            "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["account", "metric", "quantity", "start", "end"],
    },
    "customer_details": _body(
        {
            "name": _TEXT,
            "address": {"type": "array", "items": _TEXT},
            "tax_id": _TEXT,
            "country": _TEXT,
            "locale": _TEXT,
            "email": _TEXT,
        }
    ),
}


def _list_of(key: str, item: str, **more: Any) -> dict[str, Any]:
    props = {key: {"type": "array", "items": _ref(item)}, **more}
    return {"type": "object", "properties": props, "required": list(props)}


ROUTES: tuple[Endpoint, ...] = (
    Endpoint(
        method="POST",
        path="/rate",
        handler=_rating.rate_usage,
        summary="Rate usage against a plan: the cloudrate.rating/1 document",
        tag="rating",
        body=_body({**_PLAN, **_USAGE, "period": _TEXT, "strict": {"type": "boolean"}}),
        answer="rating",
    ),
    Endpoint(
        method="POST",
        path="/plans/check",
        handler=_rating.check_plan,
        summary="Check a plan: every problem at once, or its description",
        tag="rating",
        body=_body(_PLAN),
        answer="check",
    ),
    Endpoint(
        method="POST",
        path="/estimate",
        handler=_rating.cost_estimate,
        summary="Estimate what a resource used every hour of a period costs",
        tag="rating",
        body=_body(
            {
                **_PLAN,
                "period": _TEXT,
                "instance": _body(
                    {
                        "vcpus": {"type": "integer", "minimum": 0},
                        "memory_gb": _NUMBER,
                        "disk_gb": _NUMBER,
                        "public_ips": {"type": "integer", "minimum": 0},
                    },
                    ("memory_gb",),
                ),
                "resources": {
                    "type": "array",
                    "items": _body(
                        {
                            "metric": _TEXT,
                            "quantity": _NUMBER,
                            "unit": _TEXT,
                            "resource_id": _TEXT,
                            "attributes": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                        },
                        ("metric", "quantity"),
                    ),
                },
            },
            ("period",),
        ),
        answer="estimate",
    ),
    Endpoint(
        method="POST",
        path="/invoices/preview",
        handler=_rating.invoice_preview,
        summary="The draft invoices of a period, numbered and stored nowhere",
        tag="rating",
        body=_body(
            {
                **_PLAN,
                **_USAGE,
                "period": _TEXT,
                **_CUSTOMERS,
                "accounts": {"type": "array", "items": _TEXT},
                **_TAXES,
            }
        ),
        answer=_list_of("invoices", "invoice"),
    ),
    Endpoint(
        method="POST",
        path="/usage-view",
        handler=_rating.usage_page,
        summary="The usage page of an account for a date-range preset",
        tag="portal",
        body=_body(
            {**_PLAN, **_USAGE, "account": _TEXT, **_RANGE, "include_fixed": {"type": "boolean"}},
            ("account",),
        ),
        answer="usage_view",
    ),
    Endpoint(
        method="POST",
        path="/billing-overview",
        handler=_rating.overview,
        summary="The billing overview of an account: the month to date and its invoices",
        tag="portal",
        body=_body(
            {**_PLAN, **_USAGE, "account": _TEXT, "today": _DATE, "timezone": _TEXT},
            ("account",),
        ),
        answer="billing_overview",
    ),
    Endpoint(
        method="POST",
        path="/budget-alerts",
        handler=_rating.budget_alerts,
        summary="Check an account's monthly budget: the alerts new since the last check",
        tag="portal",
        body=_body(
            {
                **_PLAN,
                **_USAGE,
                "account": _TEXT,
                "timezone": _TEXT,
                "now": _INSTANT,
                "month_to_date": _NUMBER,
                "budget": _body(
                    {
                        "amount": _NUMBER,
                        "thresholds": {"type": "array", "items": _NUMBER},
                        "recipients": {"type": "array", "items": _TEXT},
                        "use_forecast": {"type": "boolean"},
                    },
                    ("amount",),
                ),
            },
            ("account", "budget"),
        ),
        answer=_list_of("alerts", "budget_alert"),
    ),
    Endpoint(
        method="POST",
        path="/billing-runs",
        handler=_billing.billing_run,
        summary="Bill a period exactly once into the store: the cloudrate.billing_run/1 summary",
        tag="billing",
        body=_body(
            {**_PLAN, **_USAGE, "period": _TEXT, "issued_on": _DATE, **_CUSTOMERS, **_TAXES},
            ("period",),
        ),
        answer="billing_run",
    ),
    Endpoint(
        method="GET",
        path="/customers/{customer}/documents",
        handler=_billing.customer_documents,
        summary="A customer's invoices (All / Unpaid / Paid) and credit notes",
        tag="billing",
        query={"filter": {"enum": ["all", "unpaid", "paid"]}, "on": _DATE, "period": _TEXT},
        answer="customer_documents",
    ),
    Endpoint(
        method="GET",
        path="/customers/{customer}/statistics",
        handler=_billing.statistics,
        summary="A customer's invoice cards: outstanding, paid, overdue...",
        tag="billing",
        query={"on": _DATE, "currency": _TEXT},
        answer="invoice_statistics",
    ),
    Endpoint(
        method="GET",
        path="/documents/{number}",
        handler=_billing.document_json,
        summary="A document as JSON: an invoice as it stands today, or a credit note",
        tag="billing",
        answer={"anyOf": [_ref("invoice"), _ref("credit_note")]},
    ),
    Endpoint(
        method="GET",
        path="/documents/{number}/pdf",
        handler=_billing.document_pdf,
        summary="An invoice as PDF",
        tag="billing",
        query={"locale": _TEXT},
        answer={"type": "string", "format": "binary"},
        media_type="application/pdf",
        errors=(404, 409, 413, 415, 422, 501),
    ),
    Endpoint(
        method="POST",
        path="/documents/{number}/pay-now",
        handler=_billing.start_pay_now,
        summary="Pay Now: start a payment attempt for the amount due",
        tag="payments",
        body=_body({"key": _TEXT, "on": _DATE}, ("key",)),
        answer="payment_attempt",
        status=201,
    ),
    Endpoint(
        method="POST",
        path="/payments/{key}/succeed",
        handler=_billing.succeed,
        summary="The payment provider took the money",
        tag="payments",
        body=_body({"on": _DATE, "reference": _TEXT}),
        answer="payment_attempt",
    ),
    Endpoint(
        method="POST",
        path="/payments/{key}/fail",
        handler=_billing.fail,
        summary="The payment provider refused",
        tag="payments",
        body=_body({"on": _DATE, "reason": _TEXT}, ("reason",)),
        answer="payment_attempt",
    ),
    Endpoint(
        method="GET",
        path="/events",
        handler=_billing.pending_events,
        summary="The event outbox: events not yet acknowledged, oldest first",
        tag="events",
        query={"limit": {"type": "integer", "minimum": 1, "maximum": 1000}},
        answer=_list_of("events", "event"),
    ),
    Endpoint(
        method="POST",
        path="/events/acknowledge",
        handler=_billing.acknowledge_events,
        summary="Mark events delivered",
        tag="events",
        body=_body({"ids": {"type": "array", "items": _TEXT}}, ("ids",)),
        answer={
            "type": "object",
            "properties": {"acknowledged": {"type": "integer", "minimum": 0}},
            "required": ["acknowledged"],
            "additionalProperties": False,
        },
    ),
)

#: Components of answers that are not documents of their own.
ANSWER_COMPONENTS: dict[str, dict[str, Any]] = {
    "customer_documents": {
        "type": "object",
        "properties": {
            "customer": {"type": "string"},
            "filter": {"enum": ["all", "unpaid", "paid"]},
            "on": {"type": "string", "format": "date"},
            "invoices": {"type": "array", "items": _ref("invoice")},
            "credit_notes": {"type": "array", "items": _ref("credit_note")},
        },
        "required": ["customer", "filter", "on", "invoices", "credit_notes"],
        "additionalProperties": False,
    },
    "budget_alert": {
        "type": "object",
        "properties": {
            "account": {"type": "string"},
            "period": {"type": "string"},
            "threshold": {"type": "string"},
            "basis": {"enum": ["actual", "forecast"]},
            "month_to_date": {"type": "string"},
            "forecast": {"type": "string"},
            "budget": {"type": "string"},
            "currency": {"type": "string"},
            "recipients": {"type": "array", "items": {"type": "string"}},
            "at": {"type": "string"},
            "subject": {"type": "string"},
        },
        "required": [
            "account",
            "period",
            "threshold",
            "basis",
            "month_to_date",
            "forecast",
            "budget",
            "currency",
            "recipients",
            "at",
            "subject",
        ],
        "additionalProperties": False,
    },
}
