"""Payment attempts: Pay Now starts one, the provider's answer settles it.

An attempt is ``pending`` from the moment the portal sends the customer to the payment
provider; it then ``succeeded`` (the invoice counts it as paid) or ``failed`` (an event; the
invoice stays unpaid). Every attempt has the idempotency key the host gives it: starting or
settling it again with the same key and the same content changes nothing, with other
content it is refused. Each step, with its event, is one store transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
from moneyed import Money

from cloudrate._money import check_money, check_payable, currency_digits, exact, to_decimal
from cloudrate.exceptions import BillingError, DocumentNotFoundError
from cloudrate.invoice import Invoice

from ._documents import live_invoice
from ._events import new_event
from ._store import DocumentStore, StoreTransaction
from ._stored import AttemptState, PaymentAttempt

__all__ = ["fail_payment", "pay_now", "start_payment", "succeed_payment"]


def _key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise BillingError(
            f"idempotency key: a non-empty string per attempt (got {key!r}); use the "
            "payment provider's id or a UUID the portal keeps with the click"
        )
    return key


def _lock(store: DocumentStore, number: str, tenant: str) -> str:
    """The lock of the customer period *number* belongs to: the one billing runs take, so a
    payment and a correction of the same period never decide on each other's stale state."""
    document = store.document(number, tenant=tenant)
    if document is None:
        raise DocumentNotFoundError(
            f"no invoice numbered {number!r} in tenant {tenant!r}", path="number", value=number
        )
    if document.kind == "credit_note":
        raise BillingError(f"{number} is a credit note; only invoices are paid")
    return f"{document.customer}\x1f{document.period}"


def _live(tx: StoreTransaction, number: str) -> Invoice:
    document = tx.document(number)
    assert document is not None  # checked by _lock; documents are never deleted
    notes = [
        d
        for d in tx.documents(document.customer, document.period)
        if d.kind == "credit_note" and d.refers_to == number
    ]
    return live_invoice(document, tx.attempts(number), notes)


def _amount(value: Money | Decimal | str | None, invoice: Invoice) -> Decimal:
    """The amount of an attempt: what is due by default, else *value*; either way in
    whole minor units of the currency (a provider can charge nothing finer)."""
    due, currency = invoice.amount_due.amount, invoice.currency
    if value is None:
        if due != due.quantize(Decimal(1).scaleb(-currency_digits(currency))):
            raise BillingError(
                f"invoice {invoice.number}: the {due} {currency} due has more decimals than "
                f"the {currency_digits(currency)} minor units of {currency}, so no provider "
                "can charge it; credit it and issue it again rated with the currency's "
                "minor units (RoundingPolicy(digits=None))"
            )
        return due
    if isinstance(value, Money):
        if value.currency.code != currency:
            raise BillingError(f"payment amount is in {value.currency.code}, not {currency}")
        amount = check_money(value, "payment amount", error=BillingError).amount
    else:
        amount = to_decimal(value, "payment amount")
    if not Decimal(0) < amount <= due:
        raise BillingError(
            f"payment amount {amount} {currency}: must be above 0 and at most the {due} "
            f"{currency} due"
        )
    return check_payable(amount, currency, "payment amount", BillingError)


@exact
def start_payment(
    store: DocumentStore,
    number: str,
    *,
    key: str,
    on: date,
    amount: Money | Decimal | str | None = None,
    method: str | None = None,
    tenant: str = "default",
) -> PaymentAttempt:
    """Start a payment attempt of *amount* (default: all that is due) on invoice *number*.

    Refused when nothing is due or another attempt on the invoice is still pending, so a
    double click never charges twice; the same *key* again returns the attempt started.
    """
    key = _key(key)
    with store.transaction(tenant, _lock(store, number, tenant)) as tx:
        known = tx.attempt(key)
        if known is not None:
            if known.number != number:
                raise BillingError(
                    f"idempotency key {key!r} was used for {known.number}, not {number}; "
                    "give each attempt its own key"
                )
            return known
        invoice = _live(tx, number)
        pending = [a for a in tx.attempts(number) if a.state == "pending"]
        if pending:
            raise BillingError(
                f"invoice {number} has a pending payment attempt ({pending[0].key!r}); "
                "settle it (succeeded or failed) before starting another"
            )
        if invoice.amount_due.amount == 0:
            raise BillingError(f"invoice {number} is settled; nothing is due")
        attempt = PaymentAttempt(
            tenant=tenant,
            key=key,
            number=number,
            amount=_amount(amount, invoice),
            currency=invoice.currency,
            state="pending",
            started_on=on,
            method=method,
        )
        tx.save_attempt(attempt)
        return attempt


def pay_now(
    store: DocumentStore,
    number: str,
    *,
    key: str,
    on: date,
    method: str | None = None,
    tenant: str = "default",
) -> PaymentAttempt:
    """The portal's Pay Now: an attempt for the whole amount due."""
    return start_payment(store, number, key=key, on=on, method=method, tenant=tenant)


def _attempt(store: DocumentStore, key: str, tenant: str) -> PaymentAttempt:
    found = store.attempt(_key(key), tenant=tenant)
    if found is None:
        raise BillingError(f"no payment attempt with key {key!r} in tenant {tenant!r}")
    return found


def _still_pending(tx: StoreTransaction, key: str, outcome: AttemptState) -> PaymentAttempt | None:
    """The attempt *key* if it is still pending; ``None`` when it already has *outcome*."""
    attempt = tx.attempt(key)
    assert attempt is not None  # attempts are never deleted
    if attempt.state == "pending":
        return attempt
    if attempt.state == outcome:
        return None
    raise BillingError(
        f"payment attempt {key!r} already {attempt.state}; an attempt is settled once "
        "(start a new attempt to try again)"
    )


@exact
def succeed_payment(
    store: DocumentStore,
    key: str,
    *,
    on: date,
    reference: str | None = None,
    tenant: str = "default",
) -> PaymentAttempt:
    """The provider took the money: the attempt counts as a payment; when nothing is left
    due an ``invoice.paid`` event is written in the same transaction. Again with the same
    key: the stored attempt, nothing changed."""
    number = _attempt(store, key, tenant).number
    with store.transaction(tenant, _lock(store, number, tenant)) as tx:
        attempt = _still_pending(tx, key, "succeeded")
        if attempt is None:
            return _attempt_in(tx, key)
        done = attrs.evolve(attempt, state="succeeded", settled_on=on, reference=reference)
        tx.save_attempt(done)
        invoice = _live(tx, number)
        if invoice.amount_due.amount == 0:
            tx.add_event(
                new_event(
                    tenant,
                    "invoice.paid",
                    number,
                    on.isoformat(),
                    {
                        "customer": invoice.customer.id,
                        "amount": str(done.amount),
                        "currency": done.currency,
                        "attempt": done.key,
                    },
                )
            )
        return done


@exact
def fail_payment(
    store: DocumentStore,
    key: str,
    *,
    on: date,
    reason: str,
    tenant: str = "default",
) -> PaymentAttempt:
    """The provider refused: the attempt fails with *reason*, a ``payment.failed`` event is
    written in the same transaction, and the invoice stays unpaid."""
    number = _attempt(store, key, tenant).number
    with store.transaction(tenant, _lock(store, number, tenant)) as tx:
        attempt = _still_pending(tx, key, "failed")
        if attempt is None:
            return _attempt_in(tx, key)
        done = attrs.evolve(attempt, state="failed", settled_on=on, failure=reason)
        tx.save_attempt(done)
        tx.add_event(
            new_event(
                tenant,
                "payment.failed",
                done.key,
                on.isoformat(),
                {
                    "number": number,
                    "amount": str(done.amount),
                    "currency": done.currency,
                    "reason": reason,
                },
            )
        )
        return done


def _attempt_in(tx: StoreTransaction, key: str) -> PaymentAttempt:
    found = tx.attempt(key)
    assert found is not None
    return found
