"""Errors as ``application/problem+json`` (RFC 9457), with cloudrate's stable codes.

Every library error becomes one problem document: ``type``, ``title``, ``status``,
``detail`` (the error's message), ``instance`` (the request path), then its ``code`` and
fields (``path``, ``value``, ``expected``, ``fix``) and, for a document with several
problems, ``problems``. The status of each code is the "HTTP" column of docs/errors.md,
kept here as one mapping (tests/server/test_errors.py reads the table against it).

>>> from cloudrate.exceptions import ConfigError, Problem
>>> error = ConfigError([Problem("currency", "unknown_currency", "not ISO 4217", "EURO")])
>>> doc = problem(error, "/v1/rate")
>>> doc["status"], doc["code"], doc["problems"][0]["code"]
(422, 'invalid_document', 'unknown_currency')
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from cloudrate.exceptions import CloudrateError

__all__ = ["MEDIA_TYPE", "SERVICE_CODES", "STATUS", "problem", "service_problem", "status_of"]

MEDIA_TYPE = "application/problem+json"

#: The HTTP status of every error code (docs/errors.md, "Error classes", column "HTTP").
STATUS: dict[str, int] = {
    "cloudrate_error": 500,
    "float_not_allowed": 422,
    "missing_extra": 501,
    "invalid_option": 422,
    "wrong_type": 422,
    "not_found": 404,
    "plan_invalid": 422,
    "currency_mismatch": 422,
    "invalid_document": 422,
    "usage_invalid": 422,
    "usage_duplicate_conflict": 409,
    "row": 422,
    "fixed_point_range": 422,
    "rating_refused": 422,
    "unpriced_usage": 422,
    "wallet_refused": 422,
    "wallet_unknown_account": 404,
    "idempotency_conflict": 409,
    "insufficient_funds": 402,
    "recharge_limit": 422,
    "invoice_refused": 422,
    "invoice_state": 409,
    "sequence_unavailable": 503,
    "billing_refused": 422,
    "document_not_found": 404,
    "store_unavailable": 503,
    "delivery_failed": 502,
    "rate_not_found": 422,
    "promo": 422,
    "locale": 422,
    "render": 500,
    "usage_view": 422,
}

#: Codes of the service itself, for what is not a library error (docs/server.md).
SERVICE_CODES: dict[str, tuple[int, str]] = {
    "request_too_large": (413, "The request body is larger than the service accepts"),
    "unsupported_media_type": (415, "The request body must be JSON"),
    "route_not_found": (404, "No such endpoint"),
    "method_not_allowed": (405, "The endpoint does not take this method"),
    "internal_error": (500, "A bug in cloudrate: please report it"),
}

_TYPE = "urn:cloudrate:error:"


def status_of(exc: CloudrateError) -> int:
    """The HTTP status of *exc*: its code's, else that of the nearest class in its MRO
    whose code is listed (a raise site's finer code keeps its class's status).

    >>> from cloudrate.exceptions import BillingError, NotFoundError
    >>> status_of(NotFoundError("no such invoice")), status_of(BillingError("x", code="y"))
    (404, 422)
    """
    if exc.code in STATUS:
        return STATUS[exc.code]
    for cls in type(exc).__mro__:
        code = vars(cls).get("code")
        if isinstance(code, str) and code in STATUS:
            return STATUS[code]
    return 500


def _title(exc: CloudrateError) -> str:
    """The class's one-line summary: the same for every error of the class."""
    for cls in type(exc).__mro__:
        doc = vars(cls).get("__doc__")
        if doc:
            first = str(doc).strip().split("\n\n")[0].replace("\n", " ").replace("*", "")
            return first.split(". ")[0].rstrip(".")
    return HTTPStatus(status_of(exc)).phrase  # pragma: no cover - every class has a docstring


def problem(exc: CloudrateError, instance: str | None = None) -> dict[str, Any]:
    """The problem document of the library error *exc*."""
    fields = exc.to_dict()
    status = status_of(exc)
    out: dict[str, Any] = {
        "type": _TYPE + exc.code,
        "title": _title(exc),
        "status": status,
        "detail": str(fields.pop("message")),
    }
    if instance is not None:
        out["instance"] = instance
    out.update(fields)
    return out


def service_problem(
    code: str, detail: str, instance: str | None = None, *, status: int | None = None
) -> dict[str, Any]:
    """A problem document of the service's own *code* (:data:`SERVICE_CODES`).

    >>> service_problem("request_too_large", "over 10 bytes")["status"]
    413
    """
    known, title = SERVICE_CODES.get(code, (status or 500, HTTPStatus(status or 500).phrase))
    out: dict[str, Any] = {
        "type": _TYPE + code,
        "title": title,
        "status": status or known,
        "detail": detail,
    }
    if instance is not None:
        out["instance"] = instance
    out["code"] = code
    return out
