"""JSON: the stable ``cloudrate.invoice/1`` schema an invoice is written in.

Every amount and quantity is a decimal string (``"18.01"``), every date ISO 8601, keys in
a fixed order; see docs/invoices.md for the field list. :mod:`._from_dict` reads the same
form back.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["SCHEMA", "invoice_to_dict", "to_json"]

SCHEMA = "cloudrate.invoice/1"


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _head(invoice: Invoice) -> dict[str, Any]:
    head = {
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
    }
    if invoice.supplements is not None:  # only supplementary invoices carry the key
        head["supplements"] = invoice.supplements
    return head


def _figures(invoice: Invoice) -> dict[str, Any]:
    return {
        "lines": [x.to_dict() for x in invoice.lines],
        "subtotal": str(invoice.subtotal.amount),
        "discount_total": str(invoice.discount_total.amount),
        "tax_method": invoice.tax_method,
        "taxes": [t.to_dict() for t in invoice.taxes],
        "tax_total": str(invoice.tax_total.amount),
        "total": str(invoice.total.amount),
        "notes": list(invoice.notes),
    }


def _settlement(invoice: Invoice) -> dict[str, Any]:
    return {
        "paid": str(invoice.paid.amount),
        "credited": str(invoice.credited.amount),
        "amount_due": str(invoice.amount_due.amount),
        "credit_balance": str(invoice.credit_balance.amount),
        "payments": [p.to_dict() for p in invoice.payments],
        "credit_notes": [c.to_dict() for c in invoice.credit_notes],
        "timeline": [e.to_dict() for e in invoice.timeline()],
    }


def _display(invoice: Invoice) -> dict[str, Any]:
    fx, converted = invoice.exchange_rate, invoice.converted_total
    return {
        "exchange_rate": None if fx is None else fx.to_dict(),
        "converted_total": None
        if converted is None
        else {"amount": str(converted.amount), "currency": str(converted.currency.code)},
        "display_decimals": invoice.display_decimals,
        "rounding": invoice.rounding.to_dict(),
        "voided_on": _iso(invoice.voided_on),
        "void_reason": invoice.void_reason,
    }


def invoice_to_dict(invoice: Invoice) -> dict[str, Any]:
    """The invoice as plain data (schema ``cloudrate.invoice/1``), keys in schema order."""
    return {**_head(invoice), **_figures(invoice), **_settlement(invoice), **_display(invoice)}


def to_json(invoice: Invoice, indent: int | None = 2) -> str:
    """:func:`invoice_to_dict` as JSON text (non-ASCII characters kept as they are)."""
    return json.dumps(invoice_to_dict(invoice), indent=indent, ensure_ascii=False)
