"""Lifecycle steps: finalise (number and dates), pay and void, each giving a new invoice.

States: ``draft`` -> ``issued`` -> (settled: ``paid``), or ``void``. ``paid``, ``unpaid``
and ``overdue`` are derived (see :mod:`._timeline`); every check of a step runs before a
number is taken or anything is recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
from moneyed import Money

from cloudrate._money import EXACT, check_amount, check_money, exact, to_decimal
from cloudrate.exceptions import InvoiceError, InvoiceStateError

from ._dates import checked_date
from ._model import Payment

if TYPE_CHECKING:
    from ._invoice import Invoice
    from ._numbering import Numbering, SequenceStore
    from ._terms import PaymentTerms

__all__ = ["finalise", "pay", "void"]


def _name(invoice: Invoice) -> str:
    return invoice.number or f"draft {invoice.id!r}"


@exact
def finalise(
    invoice: Invoice,
    numbering: Numbering,
    store: SequenceStore,
    *,
    issued_on: date,
    terms: PaymentTerms,
    tenant: str = "default",
) -> Invoice:
    """Issue a draft: everything that can fail is checked before the number is taken.

    The number is the one the draft's id holds in *store*, else the next: finalising the
    same draft again (a retry after a crash before the issued invoice was stored) gives the
    same number and takes none. An invoice that is already issued or void is refused.
    """
    if invoice.state == "void":
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is void, not a draft, and keeps its number (none was "
            "taken); issue a correction as a new draft with its own invoice_id"
        )
    if invoice.state != "draft":
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is {invoice.state}, not a draft; it is finalised "
            "already (no number was taken); store it as it is"
        )
    issued_on = checked_date(issued_on, "issued_on")
    due_on = terms.due(issued_on)
    label = terms.label
    number = numbering.next(store, on=issued_on, document=invoice.id, tenant=tenant)
    return attrs.evolve(
        invoice, state="issued", number=number, issued_on=issued_on, due_on=due_on, terms=label
    )


def _amount(invoice: Invoice, amount: Money | Decimal | str) -> Money:
    if isinstance(amount, Money):
        if amount.currency.code != invoice.currency:
            raise InvoiceError(
                f"payment is in {amount.currency.code}, but invoice "
                f"{_name(invoice)} is in {invoice.currency}; pay in "
                f"{invoice.currency}"
            )
        # a float's noise or an amount beyond the bounds is refused as such
        value = check_money(amount, "payment amount", error=InvoiceError).amount
    else:
        value = check_amount(
            to_decimal(amount, "payment amount"), "payment amount", error=InvoiceError
        )
    if value <= 0:
        raise InvoiceError(
            f"payment amount: must be above 0 (got {value}); refunds are credit notes"
        )
    quantum = invoice.rounding.quantum(invoice.currency)
    if value != EXACT.quantize(value, quantum):  # in the library's context, not the caller's
        raise InvoiceError(
            f"payment amount {value} has more decimals than {invoice.currency} "
            f"settles ({quantum}); pass the amount actually received"
        )
    return Money(value, invoice.currency)


def _check_payable(invoice: Invoice) -> None:
    if invoice.state == "void":
        raise InvoiceStateError(f"invoice {_name(invoice)} is void; nothing can be paid on it")
    if invoice.state == "draft":
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is a draft; finalise it before taking payments"
        )
    if invoice.amount_due.amount == 0:
        raise InvoiceStateError(
            f"invoice {_name(invoice)} is already settled; nothing is due "
            "(record extra money as account credit)"
        )


@exact
def pay(
    invoice: Invoice,
    amount: Money | Decimal | str,
    on: date,
    *,
    reference: str | None = None,
    method: str | None = None,
) -> Invoice:
    """Record a payment; what exceeds the amount due becomes the invoice's credit balance."""
    _check_payable(invoice)
    received = _amount(invoice, amount)
    on = checked_date(on, "payment date")
    if invoice.issued_on is not None and on < invoice.issued_on:
        raise InvoiceError(
            f"payment date {on} is before invoice {_name(invoice)} was issued ({invoice.issued_on})"
        )
    payment = Payment(amount=received, on=on, reference=reference, method=method)
    return attrs.evolve(invoice, payments=(*invoice.payments, payment))


@exact
def void(invoice: Invoice, on: date, reason: str | None = None) -> Invoice:
    """Cancel an invoice that received nothing; it keeps its number (no gap)."""
    if invoice.state == "void":
        raise InvoiceStateError(f"invoice {_name(invoice)} is already void")
    if invoice.payments or invoice.credit_notes:
        raise InvoiceStateError(
            f"invoice {_name(invoice)} has payments or credit notes; issue a credit note "
            "instead of voiding it"
        )
    return attrs.evolve(
        invoice, state="void", voided_on=checked_date(on, "void date"), void_reason=reason
    )
