"""Statistics and filters over a customer's invoices: the portal's cards and tabs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import RoundingPolicy
from cloudrate.exceptions import InvoiceError

from ._sums import add_up, zero

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["FILTERS", "InvoiceFilter", "InvoiceStats", "filter_invoices", "invoice_stats"]

#: An invoice list tab: every issued invoice, the unpaid ones (overdue included), the paid.
InvoiceFilter = Literal["all", "unpaid", "paid"]

#: The invoice list tabs.
FILTERS: tuple[InvoiceFilter, ...] = get_args(InvoiceFilter)


def filter_invoices(
    invoices: Iterable[Invoice], which: InvoiceFilter = "all", *, customer: str | None = None
) -> tuple[Invoice, ...]:
    """The invoices a tab lists, in the order given. Drafts are never listed (the customer
    has not received them); ``all`` includes void invoices, ``unpaid`` includes overdue ones.

    >>> filter_invoices([], "unpaid")
    ()
    """
    if which not in FILTERS:
        raise InvoiceError(f"filter: one of {', '.join(FILTERS)} (got {which!r})")
    out = []
    for inv in invoices:
        if inv.state == "draft" or (customer is not None and inv.customer.id != customer):
            continue
        if which == "all" or inv.status == which:
            out.append(inv)
    return tuple(out)


@attrs.frozen(kw_only=True)
class InvoiceStats:
    """The summary cards: what is still owed, what was paid, how many are overdue, how many
    invoices were issued, and the credit owed back to the customer."""

    currency: str
    outstanding: Money
    total_paid: Money
    overdue_count: int
    total_invoices: int
    unpaid_count: int
    paid_count: int
    credit_balance: Money


def invoice_stats(
    invoices: Iterable[Invoice], now: date | datetime, *, currency: str, customer: str | None = None
) -> InvoiceStats:
    """Statistics over the issued invoices (of *customer*, if given) on *now*.

    *total_invoices* counts every issued invoice, void ones included; *outstanding* is the
    sum of amounts due of the unpaid ones; *total_paid* sums every payment received.
    Invoices must all be in *currency*.

    >>> invoice_stats([], date(2026, 11, 1), currency="EUR").outstanding
    Money('0.00', 'EUR')
    """
    listed = filter_invoices(invoices, "all", customer=customer)
    for inv in listed:
        if inv.currency != currency:
            raise InvoiceError(
                f"invoice {inv.number} is in {inv.currency}, not {currency}; "
                "compute statistics per currency"
            )
    statuses = [inv.status_at(now) for inv in listed]
    start = zero(RoundingPolicy(), currency)

    def total(values: Iterable[Money]) -> Money:
        return add_up(values, currency, start)

    return InvoiceStats(
        currency=currency,
        outstanding=total(i.amount_due for i in listed if i.state == "issued"),
        total_paid=total(i.paid for i in listed),
        overdue_count=statuses.count("overdue"),
        total_invoices=len(listed),
        unpaid_count=statuses.count("unpaid") + statuses.count("overdue"),
        paid_count=statuses.count("paid"),
        credit_balance=total(i.credit_balance for i in listed),
    )
