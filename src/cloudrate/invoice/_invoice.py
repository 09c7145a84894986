"""The :class:`Invoice` and :class:`CreditNote` value objects.

An invoice checks its own sums when built: *subtotal* is the sum of the rounded lines,
*tax_total* the sum of the rounded tax lines and *total* their sum, so no invoice whose
figures disagree can exist. Lifecycle steps (:meth:`Invoice.finalise`, :meth:`Invoice.pay`,
:meth:`Invoice.void`, :meth:`Invoice.credit`) return new objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from moneyed import Money

from cloudrate._money import RoundingPolicy
from cloudrate.exceptions import InvoiceError
from cloudrate.fx import ExchangeRate
from cloudrate.period import BillingPeriod

from ._model import Customer, InvoiceLine, Payment, TaxLine, TimelineEvent

if TYPE_CHECKING:
    from ._numbering import Numbering, SequenceStore
    from ._terms import PaymentTerms

__all__ = ["STATES", "CreditNote", "Invoice"]

#: Stored states. ``paid`` and ``overdue`` are derived: see :meth:`Invoice.status_at`.
STATES = ("draft", "issued", "void")


def zero(rounding: RoundingPolicy, currency: str) -> Decimal:
    """0 with the settled number of decimals (``0.00`` for EUR), so sums print alike."""
    return Decimal(0).scaleb(-rounding.digits_for(currency))


def _sum(amounts: Iterable[Money], currency: str, start: Decimal = Decimal(0)) -> Money:
    return Money(sum((m.amount for m in amounts), start), currency)


def _check_sums(doc: Any, kind: str) -> None:
    cur = doc.currency
    for where, value in (
        ("subtotal", doc.subtotal),
        ("tax_total", doc.tax_total),
        ("total", doc.total),
    ):
        if value.currency.code != cur:
            raise InvoiceError(f"{kind} {where} is in {value.currency.code}, not {cur}")
    for i, line in enumerate(doc.lines):
        if line.amount.currency.code != cur:
            raise InvoiceError(
                f"{kind} lines[{i}] ({line.charge!r}) is in "
                f"{line.amount.currency.code}, not the invoice currency {cur}"
            )
    if doc.subtotal != _sum((x.amount for x in doc.lines), cur):
        raise InvoiceError(
            f"{kind} subtotal {doc.subtotal.amount} is not the sum of its "
            "rounded lines; build invoices with assemble()"
        )
    if doc.tax_total != _sum((t.amount for t in doc.taxes), cur):
        raise InvoiceError(
            f"{kind} tax_total {doc.tax_total.amount} is not the sum of its tax lines"
        )
    if doc.total.amount != doc.subtotal.amount + doc.tax_total.amount:
        raise InvoiceError(f"{kind} total {doc.total.amount} is not subtotal + tax_total")


def _check_display(_inst: object, _attr: object, value: int | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 12
    ):
        raise InvoiceError(
            "display_decimals: must be a whole number from 0 to 12, or None for the "
            f"currency's minor units (got {value!r})"
        )


@attrs.frozen(kw_only=True)
class CreditNote:
    """A document that gives back all or part of an invoice, numbered in its own sequence.

    Amounts on a credit note are positive: they are what is given back. *lines* are the
    reversed lines (amounts as credited), *taxes* the tax given back per rate.
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
        _check_sums(self, "credit note")

    def to_dict(self) -> dict[str, Any]:
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


@attrs.frozen(kw_only=True)
class Invoice:
    """An invoice: customer, period, lines, taxes and totals, plus its lifecycle.

    Build one with :func:`cloudrate.invoice.assemble`. A draft has no number;
    :meth:`finalise` gives it one and issues it. *state* is stored (``draft``, ``issued``,
    ``void``); whether it is paid or overdue is derived (:meth:`status_at`).

    Attributes:
        id: the draft's identity, ``"<customer id>/<period label>"`` unless given.
        lines: charges and adjustments (discounts, credits, fees), in bill order.
        subtotal: the sum of the rounded lines (net of discounts).
        taxes: one :class:`TaxLine` per rate; *tax_total* their sum.
        total: ``subtotal + tax_total``.
        exchange_rate: a rate fixed on the invoice to show the total in another currency.
        display_decimals: decimals a renderer shows (the portal's "cost decimal points");
            ``None`` for the currency's minor units. Amounts themselves are not changed.
    """

    id: str
    customer: Customer
    period: BillingPeriod
    currency: str
    lines: tuple[InvoiceLine, ...]
    taxes: tuple[TaxLine, ...] = ()
    subtotal: Money
    tax_total: Money
    total: Money
    tax_method: str = "total"
    notes: tuple[str, ...] = ()
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    exchange_rate: ExchangeRate | None = None
    display_decimals: int | None = attrs.field(default=None, validator=_check_display)
    state: str = "draft"
    number: str | None = None
    issued_on: date | None = None
    due_on: date | None = None
    terms: str | None = None
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    voided_on: date | None = None
    void_reason: str | None = None

    def __attrs_post_init__(self) -> None:
        _check_sums(self, "invoice")
        if self.state not in STATES:
            raise InvoiceError(f"invoice state: one of {', '.join(STATES)} (got {self.state!r})")
        if (self.state == "draft" and self.number is not None) or (
            self.state == "issued" and self.number is None
        ):
            raise InvoiceError(
                "a draft has no number and an issued invoice has one "
                f"(state {self.state!r}, number {self.number!r})"
            )
        if self.exchange_rate is not None and self.exchange_rate.base != self.currency:
            raise InvoiceError(
                f"exchange_rate converts from {self.exchange_rate.base}, but the invoice is "
                f"in {self.currency}; give a rate whose base is {self.currency}"
            )

    # --- figures -------------------------------------------------------------------------

    @property
    def _zero(self) -> Decimal:
        return zero(self.rounding, self.currency)

    @property
    def charges(self) -> tuple[InvoiceLine, ...]:
        """The usage and fee lines (``kind == "charge"``)."""
        return tuple(x for x in self.lines if x.kind == "charge")

    @property
    def discounts(self) -> tuple[InvoiceLine, ...]:
        """The adjustment lines rules added (discounts, credits, fees): ``kind != "charge"``."""
        return tuple(x for x in self.lines if x.kind != "charge")

    @property
    def discount_total(self) -> Money:
        """The sum of the adjustment lines (negative for discounts)."""
        return _sum((x.amount for x in self.discounts), self.currency, self._zero)

    @property
    def paid(self) -> Money:
        """The sum of the payments received."""
        return _sum((p.amount for p in self.payments), self.currency, self._zero)

    @property
    def credited(self) -> Money:
        """The sum of the credit notes issued against this invoice."""
        return _sum((c.total for c in self.credit_notes), self.currency, self._zero)

    @property
    def amount_due(self) -> Money:
        """What is still to pay: total minus payments and credit notes, never below zero."""
        due = self.total.amount - self.paid.amount - self.credited.amount
        return Money(max(due, self._zero), self.currency)

    @property
    def credit_balance(self) -> Money:
        """What was received or credited beyond the total: owed back to the customer."""
        extra = self.paid.amount + self.credited.amount - self.total.amount
        return Money(max(extra, self._zero), self.currency)

    @property
    def converted_total(self) -> Money | None:
        """The total in the exchange rate's quote currency, rounded; None without a rate."""
        if self.exchange_rate is None:
            return None
        return self.exchange_rate.convert(self.total, self.rounding)

    # --- status --------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``draft``, ``unpaid``, ``paid`` (nothing left due) or ``void``; see
        :meth:`status_at` for overdue."""
        if self.state != "issued":
            return self.state
        return "paid" if self.amount_due.amount == 0 else "unpaid"

    def status_at(self, now: date | datetime) -> str:
        """:attr:`status`, with ``overdue`` for an unpaid invoice whose due date has passed
        on *now*'s date in the period's timezone."""
        from ._lifecycle import today

        status = self.status
        if status == "unpaid" and self.due_on is not None and today(now, self) > self.due_on:
            return "overdue"
        return status

    def badge(self, now: date | datetime) -> str:
        """The status badge: ``paid`` (green), ``unpaid`` (yellow), ``overdue`` (red), or
        ``draft``/``void`` for invoices a portal does not list as payable."""
        return self.status_at(now)

    @property
    def paid_on(self) -> date | None:
        """The date of the payment that settled the invoice, if it is settled by payments."""
        from ._lifecycle import paid_on

        return paid_on(self)

    def timeline(self) -> tuple[TimelineEvent, ...]:
        """Key dates in order: issued, due, each payment and credit note, paid, voided."""
        from ._lifecycle import timeline

        return timeline(self)

    # --- lifecycle -----------------------------------------------------------------------

    def finalise(
        self,
        numbering: Numbering,
        store: SequenceStore,
        *,
        issued_on: date,
        terms: PaymentTerms,
        tenant: str = "default",
    ) -> Invoice:
        """Issue the draft: take the next number of *numbering* from *store* and set the
        issue and due dates. Raises :class:`InvoiceStateError` (taking no number) when the
        invoice is not a draft."""
        from ._lifecycle import finalise

        return finalise(self, numbering, store, issued_on=issued_on, terms=terms, tenant=tenant)

    def pay(
        self,
        amount: Money | Decimal | str,
        on: date,
        *,
        reference: str | None = None,
        method: str | None = None,
    ) -> Invoice:
        """Record a payment (full or partial); beyond the amount due it becomes a credit
        balance. Paying a draft, a void or a settled invoice is an error."""
        from ._lifecycle import pay

        return pay(self, amount, on, reference=reference, method=method)

    def pay_now(
        self, now: date | datetime, *, reference: str | None = None, method: str | None = None
    ) -> Invoice:
        """Record the portal's "Pay Now": a payment of the whole amount due on *now*."""
        from ._lifecycle import today

        return self.pay(self.amount_due, today(now, self), reference=reference, method=method)

    def void(self, on: date, reason: str | None = None) -> Invoice:
        """Cancel the invoice; it keeps its number. Refused once money was received."""
        from ._lifecycle import void

        return void(self, on, reason)

    def credit(
        self,
        numbering: Numbering,
        store: SequenceStore,
        *,
        issued_on: date,
        amounts: Mapping[str, Money | Decimal | str] | None = None,
        reason: str | None = None,
        tenant: str = "default",
    ) -> tuple[CreditNote, Invoice]:
        """Issue a credit note for the whole invoice, or for *amounts* (charge name to net
        amount given back); returns the note and the invoice with the note recorded."""
        from ._credit import credit

        return credit(
            self,
            numbering,
            store,
            issued_on=issued_on,
            amounts=amounts,
            reason=reason,
            tenant=tenant,
        )

    # --- export --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The stable machine-readable form, schema ``cloudrate.invoice/1`` (docs/invoices.md)."""
        from ._export import invoice_to_dict

        return invoice_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON (amounts as decimal strings)."""
        from ._export import to_json

        return to_json(self, indent)

    def to_pandas(self) -> Any:
        """The lines as a pandas DataFrame (needs ``pip install cloudrate[pandas]``)."""
        from ._frame import to_pandas

        return to_pandas(self)

    to_dataframe = to_pandas

    def _repr_html_(self) -> str:
        from ._frame import repr_html

        return repr_html(self)
