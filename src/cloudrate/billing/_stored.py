"""What the document store keeps: issued documents, as issued, and payment attempts.

A stored document is the JSON of an invoice, a supplementary invoice or a credit note
exactly as it was issued, with the columns the portal pages query by. Documents are never
edited: payments and later corrections are rows and documents of their own, joined in when
a document is read (:meth:`DocumentStore.invoice`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal, get_args

import attrs

from cloudrate.exceptions import StoreError, WrongTypeError
from cloudrate.invoice import CreditNote, Invoice, credit_note_from_dict, invoice_from_json

if TYPE_CHECKING:
    from cloudrate.invoice import Customer

__all__ = [
    "ATTEMPT_STATES",
    "DOCUMENT_KINDS",
    "AttemptState",
    "BilledLine",
    "BilledRow",
    "DocumentKind",
    "DocumentRow",
    "EventRow",
    "PaymentAttempt",
    "PeriodBilled",
    "StoredDocument",
    "billed_entries",
    "billed_json",
    "billed_lines",
    "credit_note_from_json",
]

#: A document as a row of ``cloudrate_document``, in its column order: tenant, number,
#: kind, draft, sequence, seq, customer, period, revision, refers_to, currency,
#: issued_on, due_on (ISO dates), total (decimal text), body (the JSON).
DocumentRow = tuple[
    str, str, str, str, str, int, str, str, int, "str | None", str, str, "str | None", str, str
]
#: A document's billed amounts as a row of ``cloudrate_billed_lines``: tenant, number,
#: customer, period, and its lines as :func:`billed_json` writes them.
BilledRow = tuple[str, str, str, str, str]
#: An event as a row of the outbox: id, type, tenant, subject, at, data (the compact JSON
#: :meth:`~cloudrate.billing.Event.to_json` writes of its data: sorted keys, ASCII).
EventRow = tuple[str, str, str, str, str, str]

#: ``invoice`` (the first document of a customer's period), ``supplementary`` (more to
#: pay after late or corrected usage) and ``credit_note`` (less to pay).
DocumentKind = Literal["invoice", "supplementary", "credit_note"]
DOCUMENT_KINDS: tuple[DocumentKind, ...] = get_args(DocumentKind)

#: A payment attempt is ``pending`` until the provider answers, then ``succeeded`` or
#: ``failed``; it never changes again.
AttemptState = Literal["pending", "succeeded", "failed"]
ATTEMPT_STATES: tuple[AttemptState, ...] = get_args(AttemptState)


@attrs.frozen
class BilledLine:
    """What one document bills on one line key: net *amount* and *quantity* (signed)."""

    line: str
    amount: Decimal
    quantity: Decimal


def billed_json(lines: Iterable[tuple[str, str, str]]) -> str:
    """The ``lines`` column of a document's billed amounts: a compact JSON array of
    ``[line key, amount, quantity]`` (decimal texts), in the order given.

    >>> billed_json([("charge:vcpu", "10.00", "100.5"), ("charge:ram", "-1.5", "-3")])
    '[["charge:vcpu","10.00","100.5"],["charge:ram","-1.5","-3"]]'
    """
    return json.dumps([list(line) for line in lines], ensure_ascii=False, separators=(",", ":"))


def billed_entries(text: str, number: str) -> list[tuple[str, str, str]]:
    """The ``[line key, amount, quantity]`` entries of document *number*'s ``lines``
    column (:func:`billed_json`), as written; :class:`StoreError` if it is not that.

    >>> billed_entries('[["charge:vcpu","10.00","100.5"]]', "INV-1")
    [('charge:vcpu', '10.00', '100.5')]
    >>> billed_entries('[["charge:vcpu",10]]', "INV-1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cloudrate.exceptions.StoreError: the billed amounts of INV-1 ... (got '[["charge:vcpu",10]]')...
    """
    try:
        entries = json.loads(text)
    except ValueError:
        entries = None
    if type(entries) is list:  # every entry a list of three texts (one pass: reruns read many)
        found = [
            (line, amount, quantity)
            for entry in entries
            if type(entry) is list and len(entry) == 3
            for line, amount, quantity in (entry,)
            if type(line) is str and type(amount) is str and type(quantity) is str
        ]
        if len(found) == len(entries):
            return found
    raise StoreError(
        f"the billed amounts of {number} in cloudrate_billed_lines are not a JSON array of "
        f"[line key, amount, quantity] texts (got {text[:80]!r}); the row was changed "
        "outside cloudrate: restore it from a backup of the store"
    )


def billed_lines(text: str, number: str) -> list[BilledLine]:
    """The :class:`BilledLine` s of document *number*'s ``lines`` column, by line key.

    >>> billed_lines('[["charge:vcpu","10.00","100.5"],["charge:ram","-1.5","-3"]]', "INV-1")[0]
    BilledLine(line='charge:ram', amount=Decimal('-1.5'), quantity=Decimal('-3'))
    """
    found = []
    for line, amount, quantity in billed_entries(text, number):
        try:
            found.append(BilledLine(line, Decimal(amount), Decimal(quantity)))
        except InvalidOperation:
            raise StoreError(
                f"the billed amounts of {number} in cloudrate_billed_lines hold "
                f"{amount!r} / {quantity!r} for {line!r}, not decimal numbers; the row was "
                "changed outside cloudrate: restore it from a backup of the store"
            ) from None
    found.sort(key=lambda b: b.line)  # by key in Python: the same order whatever was written
    return found


@attrs.frozen(kw_only=True)
class StoredDocument:
    """An issued document and the columns it is found by.

    Attributes:
        number: the document number (``INV-2026-0001``, ``CN-2026-0001``), unique per tenant.
        draft: the identity that holds the number: ``<customer>/<period>/<revision>``.
        revision: 1 for the period's invoice, then 2, 3... for each later document.
        refers_to: on a supplementary invoice, the number of the period's invoice; on a
            credit note, the invoice (the period's or a supplementary one) it credits.
        billed: what this document adds to the customer's period, per line key
            (``kind:charge``): net amount and quantity, negative on a credit note.
        body: the document's JSON (``cloudrate.invoice/1``, or the credit note form).
    """

    tenant: str
    number: str
    kind: DocumentKind
    draft: str
    sequence: str
    seq: int
    customer: str
    period: str
    revision: int
    refers_to: str | None
    currency: str
    issued_on: date
    due_on: date | None
    total: Decimal
    body: str
    billed: tuple[BilledLine, ...] = ()

    def invoice(self) -> Invoice:
        """The invoice as issued (no payments); refused for a credit note."""
        if self.kind == "credit_note":
            raise WrongTypeError(f"{self.number} is a credit note; read it with credit_note()")
        return invoice_from_json(self.body)

    def credit_note(self, customer: Customer, invoice: Invoice) -> CreditNote:
        """The credit note as issued, for the *customer* and period of *invoice*."""
        return credit_note_from_json(self.body, customer, invoice)


def credit_note_from_json(text: str, customer: Customer, invoice: Invoice) -> CreditNote:
    """A credit note from the JSON the store keeps, for the *customer* and period of the
    *invoice* it refers to."""
    return credit_note_from_dict(json.loads(text), customer, invoice.period)


@attrs.frozen(kw_only=True)
class PaymentAttempt:
    """One try to collect money for an invoice (the portal's Pay Now).

    *key* is the idempotency key the host gives each attempt: starting an attempt again
    with the same key returns this one instead of charging twice.
    """

    tenant: str
    key: str
    number: str
    amount: Decimal
    currency: str
    state: AttemptState
    started_on: date
    settled_on: date | None = None
    reference: str | None = None
    method: str | None = None
    failure: str | None = None


@attrs.frozen
class PeriodBilled:
    """What a tenant's documents bill for one period: the *customers* with a document,
    and every billed row as three columns, *customer*, *line* key and *amount* (signed,
    decimal text); repeated names are one string object each."""

    customers: frozenset[str]
    customer: tuple[str, ...] = ()
    line: tuple[str, ...] = ()
    amount: tuple[str, ...] = ()

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """The billed rows as ``(customer, line, amount)``."""
        return list(zip(self.customer, self.line, self.amount, strict=True))
