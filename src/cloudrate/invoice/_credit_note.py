"""The :class:`CreditNote` value object: what an issued invoice gives back."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import exact_class
from cloudrate.period import BillingPeriod

from ._model import Customer, InvoiceLine, TaxLine
from ._sums import check_sums

__all__ = ["CreditNote"]


@exact_class
@attrs.frozen(kw_only=True)
class CreditNote:
    """A document that gives back all or part of an invoice, numbered in its own sequence.

    Amounts on a credit note are positive: they are what is given back. *lines* are the
    reversed lines (amounts as credited), *taxes* the tax given back per rate. Issue one
    with :meth:`Invoice.credit`; its figures are checked like an invoice's.
    """

    number: str
    invoice_number: str
    customer: Customer
    period: BillingPeriod
    currency: str
    issued_on: date
    lines: tuple[InvoiceLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Money
    tax_total: Money
    total: Money
    reason: str | None = None

    def __attrs_post_init__(self) -> None:
        check_sums(self, "credit note")

    def to_dict(self) -> dict[str, Any]:
        """The credit note as plain data, as the ``credit_notes`` of ``cloudrate.invoice/1``."""
        return {
            "number": self.number,
            "invoice_number": self.invoice_number,
            "customer": self.customer.id,
            "currency": self.currency,
            "issued_on": self.issued_on.isoformat(),
            "reason": self.reason,
            "lines": [x.to_dict() for x in self.lines],
            "taxes": [t.to_dict() for t in self.taxes],
            "subtotal": str(self.subtotal.amount),
            "tax_total": str(self.tax_total.amount),
            "total": str(self.total.amount),
        }
