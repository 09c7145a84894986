"""JSON Schemas (draft 2020-12) of every document cloudrate emits.

Each schema ships as ``cloudrate/schemas/<name>.json``; docs/schemas.md says which
function, command or endpoint emits which. Only the standard library is imported.

>>> from cloudrate import schemas
>>> schemas.schema("rating")["properties"]["schema"]
{'const': 'cloudrate.rating/1'}
>>> "invoice" in schemas.NAMES
True
>>> schemas.for_document({"schema": "cloudrate.invoice/1"})["$id"]
'urn:cloudrate:schema:invoice'

.. versionadded:: 0.2
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from cloudrate.exceptions import NotFoundError

__all__ = ["DOCUMENT_SCHEMAS", "NAMES", "for_document", "schema"]

#: The name of every schema shipped, sorted.
NAMES: tuple[str, ...] = (
    "billing_overview",
    "billing_run",
    "check",
    "cli_error",
    "credit_note",
    "estimate",
    "event",
    "invoice",
    "invoice_statistics",
    "payment_attempt",
    "problem",
    "rating",
    "usage_view",
)

#: The schema of each document that names itself with a ``schema`` key.
DOCUMENT_SCHEMAS: dict[str, str] = {
    "cloudrate.billing_overview/1": "billing_overview",
    "cloudrate.billing_run/1": "billing_run",
    "cloudrate.credit_note/1": "credit_note",
    "cloudrate.event/1": "event",
    "cloudrate.invoice/1": "invoice",
    "cloudrate.rating/1": "rating",
    "cloudrate.usage_view/1": "usage_view",
}


@functools.cache
def _text(name: str) -> str:
    return (resources.files(__name__) / f"{name}.json").read_text(encoding="utf-8")


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema named *name* (one of :data:`NAMES`), a fresh copy to keep or change.

    >>> schema("event")["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    >>> schema("invoices")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.NotFoundError: no schema 'invoices'; the schemas are billing_overview, \
billing_run, check, cli_error, credit_note, estimate, event, invoice, invoice_statistics, \
payment_attempt, problem, rating, usage_view
    """
    if name not in NAMES:
        raise NotFoundError(f"no schema {name!r}; the schemas are {', '.join(NAMES)}")
    loaded: dict[str, Any] = json.loads(_text(name))
    return copy.deepcopy(loaded)


def for_document(document: dict[str, Any]) -> dict[str, Any]:
    """The schema of *document*, found by its ``schema`` key (``cloudrate.rating/1``...)."""
    name = DOCUMENT_SCHEMAS.get(str(document.get("schema")))
    if name is None:
        known = ", ".join(DOCUMENT_SCHEMAS)
        raise NotFoundError(
            f"no schema for {document.get('schema')!r}; documents name one of {known}"
        )
    return schema(name)
