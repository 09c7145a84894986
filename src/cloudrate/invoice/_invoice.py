"""The :class:`Invoice` value object: figures, status, and its lifecycle as new objects.

An invoice checks its own sums when built (:func:`._sums.check_sums`), so no invoice whose
figures disagree can exist. The lifecycle steps (:meth:`Invoice.finalise`,
:meth:`Invoice.pay`, :meth:`Invoice.void`, :meth:`Invoice.credit`), the derived dates and
the exports live in their own modules; the methods here hand over to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from moneyed import Money

from cloudrate._money import RoundingPolicy, exact_class
from cloudrate.fx import ExchangeRate
from cloudrate.period import BillingPeriod

from . import _credit, _export, _frames, _lifecycle, _notebook, _timeline
from ._checks import check_display_decimals, check_exchange_rate, check_state
from ._credit_note import CreditNote
from ._dates import local_date
from ._model import Customer, InvoiceLine, Payment, TaxLine, TimelineEvent
from ._states import InvoiceState, InvoiceStatus
from ._sums import add_up, check_sums, zero
from ._taxes import TaxMethod

if TYPE_CHECKING:
    from ._numbering import Numbering, SequenceStore
    from ._terms import PaymentTerms

__all__ = ["Invoice"]


@exact_class
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
        supplements: on a supplementary invoice (late or corrected usage billed after the
            period's invoice was issued), the number of that original invoice.
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
    tax_method: TaxMethod = "total"
    notes: tuple[str, ...] = ()
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    exchange_rate: ExchangeRate | None = None
    display_decimals: int | None = attrs.field(default=None, validator=check_display_decimals)
    state: InvoiceState = "draft"
    number: str | None = None
    issued_on: date | None = None
    due_on: date | None = None
    terms: str | None = None
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    voided_on: date | None = None
    void_reason: str | None = None
    supplements: str | None = None

    def __attrs_post_init__(self) -> None:
        check_sums(self, "invoice")
        check_state(self)
        check_exchange_rate(self)

    # --- figures -------------------------------------------------------------------------

    def _sum(self, amounts: Iterable[Money]) -> Money:
        return add_up(amounts, self.currency, zero(self.rounding, self.currency))

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
        return self._sum(x.amount for x in self.discounts)

    @property
    def paid(self) -> Money:
        """The sum of the payments received."""
        return self._sum(p.amount for p in self.payments)

    @property
    def credited(self) -> Money:
        """The sum of the credit notes issued against this invoice."""
        return self._sum(c.total for c in self.credit_notes)

    @property
    def amount_due(self) -> Money:
        """What is still to pay: total minus payments and credit notes, never below zero."""
        due = self.total.amount - self.paid.amount - self.credited.amount
        return Money(max(due, zero(self.rounding, self.currency)), self.currency)

    @property
    def credit_balance(self) -> Money:
        """What was received or credited beyond the total: owed back to the customer."""
        extra = self.paid.amount + self.credited.amount - self.total.amount
        return Money(max(extra, zero(self.rounding, self.currency)), self.currency)

    @property
    def converted_total(self) -> Money | None:
        """The total in the exchange rate's quote currency, rounded; None without a rate."""
        if self.exchange_rate is None:
            return None
        return self.exchange_rate.convert(self.total, self.rounding)

    # --- status --------------------------------------------------------------------------

    @property
    def status(self) -> InvoiceStatus:
        """``draft``, ``unpaid``, ``paid`` (nothing left due) or ``void``; see
        :meth:`status_at` for overdue."""
        if self.state != "issued":
            return self.state
        return "paid" if self.amount_due.amount == 0 else "unpaid"

    def status_at(self, now: date | datetime) -> InvoiceStatus:
        """:attr:`status`, with ``overdue`` for an unpaid invoice whose due date has passed
        on *now*'s date in the period's timezone."""
        return _timeline.status_at(self, now)

    def badge(self, now: date | datetime) -> InvoiceStatus:
        """The status badge: ``paid`` (green), ``unpaid`` (yellow), ``overdue`` (red), or
        ``draft``/``void`` for invoices a portal does not list as payable."""
        return self.status_at(now)

    @property
    def paid_on(self) -> date | None:
        """The date of the payment that settled the invoice, if it is settled by payments."""
        return _timeline.paid_on(self)

    def timeline(self) -> tuple[TimelineEvent, ...]:
        """Key dates in order: issued, due, each payment and credit note, paid, voided."""
        return _timeline.timeline(self)

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
        return _lifecycle.finalise(
            self, numbering, store, issued_on=issued_on, terms=terms, tenant=tenant
        )

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
        return _lifecycle.pay(self, amount, on, reference=reference, method=method)

    def pay_now(
        self, now: date | datetime, *, reference: str | None = None, method: str | None = None
    ) -> Invoice:
        """Record the portal's "Pay Now": a payment of the whole amount due on *now*."""
        on = local_date(now, self.period.tz)
        return self.pay(self.amount_due, on, reference=reference, method=method)

    def void(self, on: date, reason: str | None = None) -> Invoice:
        """Cancel the invoice; it keeps its number. Refused once money was received."""
        return _lifecycle.void(self, on, reason)

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
        return _credit.credit(
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
        return _export.invoice_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON (amounts as decimal strings)."""
        return _export.to_json(self, indent)

    def to_pandas(self) -> Any:
        """The lines as a pandas DataFrame: float columns to plot and aggregate, the exact
        Decimals in ``*_exact`` columns (docs/notebooks.md; ``pip install cloudrate[pandas]``)."""
        return _frames.invoice_frame(self)

    to_dataframe = to_pandas

    def _repr_html_(self) -> str:
        return _notebook.repr_html(self)
