"""JSON: the stable ``cloudrate.invoice/1`` schema, and reading it back.

Every amount and quantity is a decimal string (``"18.01"``), every date ISO 8601, keys in
a fixed order; see docs/invoices.md for the field list. :func:`invoice_from_dict` reads the
same form back into an equal :class:`Invoice`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from moneyed import Money

from cloudrate._money import RoundingPolicy
from cloudrate.exceptions import InvoiceError
from cloudrate.fx import ExchangeRate
from cloudrate.period import BillingPeriod

from ._invoice import CreditNote, Invoice
from ._model import Customer, InvoiceLine, Payment, TaxLine, TaxRate

__all__ = ["SCHEMA", "invoice_from_dict", "invoice_from_json", "invoice_to_dict", "to_json"]

SCHEMA = "cloudrate.invoice/1"


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def invoice_to_dict(invoice: Invoice) -> dict[str, Any]:
    """The invoice as plain data (schema ``cloudrate.invoice/1``)."""
    converted = invoice.converted_total
    return {
        "schema": SCHEMA,
        "id": invoice.id,
        "number": invoice.number,
        "state": invoice.state,
        "status": invoice.status,
        "customer": invoice.customer.to_dict(),
        "period": invoice.period.to_dict(),
        "currency": invoice.currency,
        "issued_on": _iso(invoice.issued_on),
        "due_on": _iso(invoice.due_on),
        "terms": invoice.terms,
        "lines": [x.to_dict() for x in invoice.lines],
        "subtotal": str(invoice.subtotal.amount),
        "discount_total": str(invoice.discount_total.amount),
        "tax_method": invoice.tax_method,
        "taxes": [t.to_dict() for t in invoice.taxes],
        "tax_total": str(invoice.tax_total.amount),
        "total": str(invoice.total.amount),
        "notes": list(invoice.notes),
        "paid": str(invoice.paid.amount),
        "credited": str(invoice.credited.amount),
        "amount_due": str(invoice.amount_due.amount),
        "credit_balance": str(invoice.credit_balance.amount),
        "payments": [p.to_dict() for p in invoice.payments],
        "credit_notes": [c.to_dict() for c in invoice.credit_notes],
        "timeline": [e.to_dict() for e in invoice.timeline()],
        "exchange_rate": None if invoice.exchange_rate is None else invoice.exchange_rate.to_dict(),
        "converted_total": None
        if converted is None
        else {"amount": str(converted.amount), "currency": str(converted.currency.code)},
        "display_decimals": invoice.display_decimals,
        "rounding": invoice.rounding.to_dict(),
        "voided_on": _iso(invoice.voided_on),
        "void_reason": invoice.void_reason,
    }


def to_json(invoice: Invoice, indent: int | None = 2) -> str:
    return json.dumps(invoice_to_dict(invoice), indent=indent, ensure_ascii=False)


# --- reading back ----------------------------------------------------------------------------


def _m(value: str | None, currency: str) -> Money | None:
    return None if value is None else Money(Decimal(value), currency)


def _d(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _rate(data: dict[str, Any] | None) -> TaxRate | None:
    return (
        None
        if data is None
        else TaxRate(
            name=data["name"], percent=data["percent"], category=data["category"], note=data["note"]
        )
    )


def _line(data: dict[str, Any], cur: str) -> InvoiceLine:
    return InvoiceLine(
        charge=data["charge"],
        kind=data["kind"],
        description=data["description"],
        service=data["service"],
        metric=data["metric"],
        quantity=Decimal(data["quantity"]),
        unit=data["unit"],
        unit_price=_m(data["unit_price"], cur),
        amount=Money(Decimal(data["amount"]), cur),
        exact_amount=Money(Decimal(data["exact_amount"]), cur),
        explanation=data["explanation"],
        tax_rate=_rate(data["tax_rate"]),
        tax=_m(data["tax"], cur),
    )


def _tax(data: dict[str, Any], cur: str) -> TaxLine:
    rate = _rate(data["rate"])
    assert rate is not None
    return TaxLine(
        rate=rate,
        base=Money(Decimal(data["base"]), cur),
        amount=Money(Decimal(data["amount"]), cur),
        exact_amount=Money(Decimal(data["exact_amount"]), cur),
    )


def _customer(data: dict[str, Any]) -> Customer:
    return Customer(**data)


def invoice_from_dict(data: dict[str, Any]) -> Invoice:
    """Rebuild an :class:`Invoice` from :func:`invoice_to_dict`'s output; the sums are
    checked again, so an edited document whose figures disagree is refused."""
    if data.get("schema") != SCHEMA:
        raise InvoiceError(f"schema: expected {SCHEMA!r} (got {data.get('schema')!r})")
    try:
        cur = data["currency"]
        customer = _customer(data["customer"])
        p = data["period"]
        period = BillingPeriod(
            datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]), p["timezone"]
        )
        fx = data["exchange_rate"]
        notes = tuple(
            CreditNote(
                number=c["number"],
                invoice_number=c["invoice_number"],
                customer=customer,
                period=period,
                currency=c["currency"],
                issued_on=date.fromisoformat(c["issued_on"]),
                lines=tuple(_line(x, cur) for x in c["lines"]),
                taxes=tuple(_tax(t, cur) for t in c["taxes"]),
                subtotal=Money(Decimal(c["subtotal"]), cur),
                tax_total=Money(Decimal(c["tax_total"]), cur),
                total=Money(Decimal(c["total"]), cur),
                reason=c["reason"],
            )
            for c in data["credit_notes"]
        )
        return Invoice(
            id=data["id"],
            customer=customer,
            period=period,
            currency=cur,
            lines=tuple(_line(x, cur) for x in data["lines"]),
            taxes=tuple(_tax(t, cur) for t in data["taxes"]),
            subtotal=Money(Decimal(data["subtotal"]), cur),
            tax_total=Money(Decimal(data["tax_total"]), cur),
            total=Money(Decimal(data["total"]), cur),
            tax_method=data["tax_method"],
            notes=tuple(data["notes"]),
            rounding=RoundingPolicy(**data["rounding"]),
            exchange_rate=None
            if fx is None
            else ExchangeRate(
                base=fx["base"],
                quote=fx["quote"],
                rate=fx["rate"],
                on=date.fromisoformat(fx["on"]),
                source=fx["source"],
            ),
            display_decimals=data["display_decimals"],
            state=data["state"],
            number=data["number"],
            issued_on=_d(data["issued_on"]),
            due_on=_d(data["due_on"]),
            terms=data["terms"],
            payments=tuple(
                Payment(
                    amount=Money(Decimal(x["amount"]), cur),
                    on=date.fromisoformat(x["on"]),
                    reference=x["reference"],
                    method=x["method"],
                )
                for x in data["payments"]
            ),
            credit_notes=notes,
            voided_on=_d(data["voided_on"]),
            void_reason=data["void_reason"],
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, InvoiceError):
            raise
        raise InvoiceError(f"not a {SCHEMA} document: {type(exc).__name__}: {exc}") from None


def invoice_from_json(text: str) -> Invoice:
    """:func:`invoice_from_dict` of JSON text."""
    return invoice_from_dict(json.loads(text))
