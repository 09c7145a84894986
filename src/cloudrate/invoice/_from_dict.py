"""Reading the ``cloudrate.invoice/1`` form back into an equal :class:`Invoice`.

The sums are checked again as the invoice is built, so an edited document whose figures
disagree is refused; a document with missing or malformed fields is an
:class:`~cloudrate.exceptions.InvoiceError` naming the schema.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from moneyed import Money

from cloudrate._money import RoundingPolicy, check_currency
from cloudrate.exceptions import InvoiceError, PlanError
from cloudrate.fx import ExchangeRate
from cloudrate.period import BillingPeriod

from ._credit_note import CreditNote
from ._export import SCHEMA
from ._invoice import Invoice
from ._model import Customer, InvoiceLine, Payment, TaxLine, TaxRate

__all__ = ["credit_note_from_dict", "invoice_from_dict", "invoice_from_json"]


def _decimal(value: object) -> Decimal:
    """A figure of the form: decimal text, as :meth:`Invoice.to_dict` writes it (a JSON
    number would arrive as a float, which cannot hold money exactly)."""
    if not isinstance(value, str):
        raise InvoiceError(
            f'a figure of a {SCHEMA} document is decimal text such as "12.50" (got '
            f"{type(value).__name__} {value!r}); write amounts and quantities as strings"
        )
    return Decimal(value)


def _m(value: str | None, currency: str) -> Money | None:
    return None if value is None else Money(_decimal(value), currency)


def _money(value: str, currency: str) -> Money:
    return Money(_decimal(value), currency)


def _d(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _rate(data: dict[str, Any] | None) -> TaxRate | None:
    if data is None:
        return None
    return TaxRate(
        name=data["name"], percent=data["percent"], category=data["category"], note=data["note"]
    )


def _line(data: dict[str, Any], cur: str) -> InvoiceLine:
    return InvoiceLine(
        charge=data["charge"],
        kind=data["kind"],
        description=data["description"],
        service=data["service"],
        metric=data["metric"],
        quantity=_decimal(data["quantity"]),
        unit=data["unit"],
        unit_price=_m(data["unit_price"], cur),
        amount=_money(data["amount"], cur),
        exact_amount=_money(data["exact_amount"], cur),
        explanation=data["explanation"],
        tax_rate=_rate(data["tax_rate"]),
        tax=_m(data["tax"], cur),
    )


def _tax(data: dict[str, Any], cur: str) -> TaxLine:
    rate = _rate(data["rate"])
    assert rate is not None
    return TaxLine(
        rate=rate,
        base=_money(data["base"], cur),
        amount=_money(data["amount"], cur),
        exact_amount=_money(data["exact_amount"], cur),
    )


def _period(data: dict[str, Any]) -> BillingPeriod:
    return BillingPeriod(
        datetime.fromisoformat(data["start"]),
        datetime.fromisoformat(data["end"]),
        data["timezone"],
    )


def _exchange_rate(data: dict[str, Any] | None) -> ExchangeRate | None:
    if data is None:
        return None
    return ExchangeRate(
        base=data["base"],
        quote=data["quote"],
        rate=data["rate"],
        on=date.fromisoformat(data["on"]),
        source=data["source"],
    )


def _payment(data: dict[str, Any], cur: str) -> Payment:
    return Payment(
        amount=_money(data["amount"], cur),
        on=date.fromisoformat(data["on"]),
        reference=data["reference"],
        method=data["method"],
    )


def _currency(code: object) -> str:
    try:
        return check_currency(code)
    except PlanError as exc:
        raise InvoiceError(f"not a {SCHEMA} document: {exc}") from None


def _credit_note(
    data: dict[str, Any], customer: Customer, period: BillingPeriod, cur: str
) -> CreditNote:
    cur = _currency(cur)
    return CreditNote(
        number=data["number"],
        invoice_number=data["invoice_number"],
        customer=customer,
        period=period,
        currency=data["currency"],
        issued_on=date.fromisoformat(data["issued_on"]),
        lines=tuple(_line(x, cur) for x in data["lines"]),
        taxes=tuple(_tax(t, cur) for t in data["taxes"]),
        subtotal=_money(data["subtotal"], cur),
        tax_total=_money(data["tax_total"], cur),
        total=_money(data["total"], cur),
        reason=data["reason"],
    )


def _invoice(data: dict[str, Any]) -> Invoice:
    cur = _currency(data["currency"])
    customer = Customer(**data["customer"])
    period = _period(data["period"])
    fx = data["exchange_rate"]
    notes = tuple(_credit_note(c, customer, period, cur) for c in data["credit_notes"])
    return Invoice(
        id=data["id"],
        customer=customer,
        period=period,
        currency=cur,
        lines=tuple(_line(x, cur) for x in data["lines"]),
        taxes=tuple(_tax(t, cur) for t in data["taxes"]),
        subtotal=_money(data["subtotal"], cur),
        tax_total=_money(data["tax_total"], cur),
        total=_money(data["total"], cur),
        tax_method=data["tax_method"],
        notes=tuple(data["notes"]),
        rounding=RoundingPolicy(**data["rounding"]),
        exchange_rate=_exchange_rate(fx),
        display_decimals=data["display_decimals"],
        state=data["state"],
        number=data["number"],
        issued_on=_d(data["issued_on"]),
        due_on=_d(data["due_on"]),
        terms=data["terms"],
        payments=tuple(_payment(x, cur) for x in data["payments"]),
        credit_notes=notes,
        voided_on=_d(data["voided_on"]),
        void_reason=data["void_reason"],
        supplements=data.get("supplements"),
    )


def invoice_from_dict(data: dict[str, Any]) -> Invoice:
    """Rebuild an :class:`Invoice` from :meth:`Invoice.to_dict`'s output; the sums are
    checked again, so an edited document whose figures disagree is refused.

    >>> invoice_from_dict({"schema": "cloudrate.invoice/0"})
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.InvoiceError: schema: expected 'cloudrate.invoice/1' (got ...)
    """
    if not isinstance(data, dict):
        raise InvoiceError(f"a {SCHEMA} document is a JSON object (got {type(data).__name__})")
    if data.get("schema") != SCHEMA:
        raise InvoiceError(f"schema: expected {SCHEMA!r} (got {data.get('schema')!r})")
    try:
        return _invoice(data)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, InvoiceError):
            raise
        raise InvoiceError(f"not a {SCHEMA} document: {type(exc).__name__}: {exc}") from None


def invoice_from_json(text: str) -> Invoice:
    """:func:`invoice_from_dict` of JSON text.

    >>> invoice_from_json('{"schema": "cloudrate.invoice/1"}')
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.InvoiceError: not a cloudrate.invoice/1 document: KeyError: 'currency'
    """
    return invoice_from_dict(json.loads(text))


def credit_note_from_dict(
    data: dict[str, Any], customer: Customer, period: BillingPeriod
) -> CreditNote:
    """Rebuild a :class:`CreditNote` from :meth:`CreditNote.to_dict`'s output, for the
    *customer* and *period* of the invoice it refers to (the form names the customer by id).
    """
    if not isinstance(data, dict):
        raise InvoiceError(f"a credit note document is a JSON object (got {type(data).__name__})")
    data = {k: v for k, v in data.items() if k != "schema"}
    if data.get("customer") != customer.id:
        raise InvoiceError(
            f"credit note {data.get('number')!r} is for customer {data.get('customer')!r}, "
            f"not {customer.id!r}"
        )
    try:
        return _credit_note(data, customer, period, data["currency"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, InvoiceError):
            raise
        raise InvoiceError(f"not a credit note document: {type(exc).__name__}: {exc}") from None
