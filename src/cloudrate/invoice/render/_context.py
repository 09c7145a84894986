"""What a rendered invoice shows, as plain strings: one context for HTML and PDF alike.

Every amount, quantity and date is formatted here (:class:`Formatter`), so the HTML and
the PDF of an invoice show the same figures. Customer-provided text is passed on as
data, never as markup: Jinja2 escapes it and the Typst template reads it as strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from cloudrate.invoice._invoice import Invoice

from ._format import Formatter
from ._labels import labels_for

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate.portal.charts import Chart

__all__ = ["Seller", "invoice_context"]


def _lines(value: Sequence[str] | str) -> tuple[str, ...]:
    return tuple(value.splitlines()) if isinstance(value, str) else tuple(str(v) for v in value)


@attrs.frozen(kw_only=True)
class Seller:
    """Who issues the invoice: printed at the top, in the footer and in the payment box.

    >>> Seller(name="Example Cloud GmbH", address="Cloudweg 1\\n10115 Berlin").address
    ('Cloudweg 1', '10115 Berlin')
    """

    name: str
    address: tuple[str, ...] = attrs.field(default=(), converter=_lines)
    tax_id: str | None = None
    email: str | None = None
    website: str | None = None
    payment_details: tuple[str, ...] = attrs.field(default=(), converter=_lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": list(self.address),
            "tax_id": self.tax_id,
            "email": self.email,
            "website": self.website,
            "payment_details": list(self.payment_details),
        }


def _status(invoice: Invoice, now: date | datetime | None) -> str:
    """The badge: the stored status, or :meth:`Invoice.status_at` *now* (overdue)."""
    return invoice.status if now is None else invoice.status_at(now)


def invoice_context(
    invoice: Invoice,
    *,
    locale: str,
    seller: Seller | None = None,
    now: date | datetime | None = None,
    labels: Mapping[str, str] | None = None,
    charts: Sequence[Chart] = (),
) -> dict[str, Any]:
    """The invoice as a dict of display strings for templates (JSON-ready).

    *now* decides whether an unpaid invoice shows as overdue; without it the stored
    status is shown. *charts* are embedded as SVG.

    >>> from cloudrate import BillingPeriod, AccountBill, RatedLine
    >>> from cloudrate.invoice import Customer, TaxRate, assemble
    >>> from moneyed import Money
    >>> line = RatedLine.adjustment(account="acme", charge="setup", description="Setup",
    ...     amount=Money("1234.5", "EUR"), rounded=Money("1234.50", "EUR"), kind="charge")
    >>> bill = AccountBill(account="acme", lines=(), total=Money(0, "EUR"),
    ...                    exact_total=Money(0, "EUR")).with_lines([line])
    >>> inv = assemble(bill, Customer(id="acme", name="ACME"), BillingPeriod.month(2026, 10),
    ...                taxes=TaxRate(percent="19"))
    >>> ctx = invoice_context(inv, locale="de_DE")
    >>> ctx["total"], ctx["taxes"][0]["label"], ctx["period"].split()[0]
    ('1.469,06\\xa0€', 'VAT 19\\xa0%', '01.10.2026')
    """
    fmt = Formatter(locale, invoice.currency, invoice.display_decimals, invoice.rounding)
    words = labels_for(locale, labels)
    period = invoice.period
    first = period.start.astimezone(period.tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    status = _status(invoice, now)
    lines = [
        {
            "description": x.description,
            "service": x.service or "",
            "kind": x.kind,
            "quantity": fmt.number(x.quantity),
            "unit": x.unit,
            "unit_price": "" if x.unit_price is None else fmt.unit_price(x.unit_price.amount),
            "amount": fmt.money(x.amount.amount),
            "tax_rate": "" if x.tax_rate is None else fmt.percent(x.tax_rate.percent),
            "explanation": x.explanation,
        }
        for x in invoice.lines
    ]
    taxes = [
        {
            "label": f"{t.rate.name} {fmt.percent(t.rate.percent)}",
            "base": fmt.money(t.base.amount),
            "amount": fmt.money(t.amount.amount),
        }
        for t in invoice.taxes
    ]
    customer = invoice.customer
    paid, credited = invoice.paid.amount, invoice.credited.amount
    due = fmt.date(invoice.due_on)
    context: dict[str, Any] = {
        "locale": locale,
        "labels": words,
        "currency": invoice.currency,
        "title": words["invoice"] if invoice.number else f"{words['invoice']} ({words['draft']})",
        "number": invoice.number or "",
        "draft": invoice.number is None,
        "issued": fmt.date(invoice.issued_on),
        "due": due,
        "terms": invoice.terms or "",
        "period": f"{fmt.date(first)} \u2013 {fmt.date(last)}",
        "status": status,
        "status_label": words.get(f"status_{status}", status),
        "seller": None if seller is None else seller.to_dict(),
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "address": list(customer.address),
            "tax_id": customer.tax_id or "",
            "email": customer.email or "",
        },
        "lines": lines,
        "taxes": taxes,
        "subtotal": fmt.money(invoice.subtotal.amount),
        "tax_total": fmt.money(invoice.tax_total.amount),
        "total": fmt.money(invoice.total.amount),
        "paid": fmt.money(paid) if paid else "",
        "credited": fmt.money(credited) if credited else "",
        "amount_due": fmt.money(invoice.amount_due.amount),
        "credit_balance": (
            fmt.money(invoice.credit_balance.amount) if invoice.credit_balance.amount else ""
        ),
        "notes": list(invoice.notes),
        "please_pay": (
            words["please_pay"].format(amount=fmt.money(invoice.amount_due.amount), due=due)
            if due and invoice.amount_due.amount > 0 and status != "void"
            else ""
        ),
        "exchange": "",
        "converted_total": "",
        "charts": [{"title": c.title, "svg": c.svg().decode("utf-8")} for c in charts],
    }
    fx = invoice.exchange_rate
    converted = invoice.converted_total
    if fx is not None and converted is not None:
        quote = Formatter(locale, fx.quote, None, invoice.rounding)
        context["exchange"] = words["exchange"].format(
            currency=fx.quote, rate=fmt.number(fx.rate, 6), source=fx.source, on=fmt.date(fx.on)
        )
        context["converted_total"] = quote.money(converted.amount)
    return context
