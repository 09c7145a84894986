"""The sums of an invoice or credit note, and the check that its figures agree.

*subtotal* is the sum of the rounded lines, *tax_total* the sum of the rounded tax lines
and *total* their sum; :func:`check_sums` refuses a document whose figures disagree, so no
such invoice or credit note can be built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol

from moneyed import Money

from cloudrate._money import RoundingPolicy, exact
from cloudrate.exceptions import InvoiceError

from ._model import InvoiceLine, TaxLine

__all__ = ["Document", "add_up", "check_sums", "zero"]


@exact
def zero(rounding: RoundingPolicy, currency: str) -> Decimal:
    """0 with the settled number of decimals (``0.00`` for EUR), so sums print alike.

    >>> zero(RoundingPolicy(), "EUR"), zero(RoundingPolicy(), "JPY")
    (Decimal('0.00'), Decimal('0'))
    """
    return Decimal(0).scaleb(-rounding.digits_for(currency))


@exact
def add_up(amounts: Iterable[Money], currency: str, start: Decimal = Decimal(0)) -> Money:
    """The sum of *amounts* in *currency*, starting from *start* (``sum([])`` is *start*).

    >>> add_up([Money("1.10", "EUR"), Money("2.05", "EUR")], "EUR")
    Money('3.15', 'EUR')
    >>> add_up([], "EUR", zero(RoundingPolicy(), "EUR"))
    Money('0.00', 'EUR')
    """
    return Money(sum((m.amount for m in amounts), start), currency)


class Document(Protocol):
    """What :func:`check_sums` reads: an invoice or a credit note."""

    @property
    def currency(self) -> str: ...
    @property
    def lines(self) -> Sequence[InvoiceLine]: ...
    @property
    def taxes(self) -> Sequence[TaxLine]: ...
    @property
    def subtotal(self) -> Money: ...
    @property
    def tax_total(self) -> Money: ...
    @property
    def total(self) -> Money: ...


@exact
def check_sums(doc: Document, kind: str) -> None:
    """Raise :class:`InvoiceError` unless every amount of *doc* is in its currency and
    subtotal, tax total and total add up; *kind* names the document in the message."""
    _check_currencies(doc, kind)
    _check_totals(doc, kind)


def _check_currencies(doc: Document, kind: str) -> None:
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


def _check_totals(doc: Document, kind: str) -> None:
    cur = doc.currency
    if doc.subtotal != add_up((x.amount for x in doc.lines), cur):
        raise InvoiceError(
            f"{kind} subtotal {doc.subtotal.amount} is not the sum of its "
            "rounded lines; build invoices with assemble()"
        )
    if doc.tax_total != add_up((t.amount for t in doc.taxes), cur):
        raise InvoiceError(
            f"{kind} tax_total {doc.tax_total.amount} is not the sum of its tax lines"
        )
    if doc.total.amount != doc.subtotal.amount + doc.tax_total.amount:
        raise InvoiceError(f"{kind} total {doc.total.amount} is not subtotal + tax_total")
