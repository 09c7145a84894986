"""What a rendered invoice shows, as plain strings: one context for HTML and PDF alike.

Every amount, quantity and date is formatted here (:class:`Formatter`), so the HTML and
the PDF of an invoice show the same figures. Customer-provided text is passed on as
data, never as markup: Jinja2 escapes it and the Typst template reads it as strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._figure import Figure
from ._format import Formatter
from ._labels import labels_for
from ._seller import Seller

if TYPE_CHECKING:
    from cloudrate.invoice import Customer, Invoice, InvoiceLine, InvoiceStatus

__all__ = ["invoice_context"]


def _status(invoice: Invoice, now: date | datetime | None) -> InvoiceStatus:
    """The badge: the stored status, or :meth:`Invoice.status_at` *now* (overdue)."""
    return invoice.status if now is None else invoice.status_at(now)


def _period(invoice: Invoice, fmt: Formatter) -> str:
    """First and last day of the period, in its timezone (the end is exclusive)."""
    period = invoice.period
    first = period.start.astimezone(period.tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    return f"{fmt.date(first)} \u2013 {fmt.date(last)}"


def _exact(value: Decimal) -> str:
    """*value* exactly, in plain digits (no exponent).

    >>> _exact(Decimal("1E+3")), _exact(Decimal("0.50"))
    ('1000', '0.50')
    """
    return f"{value:f}"


def _lines(lines: Sequence[InvoiceLine], fmt: Formatter) -> list[dict[str, str]]:
    """The display strings of *lines* (an invoice's or a credit note's)."""
    return [
        {
            "description": x.description,
            "service": x.service or "",
            "kind": x.kind,
            "quantity": fmt.number(x.quantity),
            # the exact quantity (the HTML cell's tooltip): the display above is rounded
            "quantity_exact": _exact(x.quantity),
            "unit": x.unit,
            "unit_price": "" if x.unit_price is None else fmt.unit_price(x.unit_price.amount),
            "amount": fmt.money(x.amount.amount),
            "tax_rate": "" if x.tax_rate is None else fmt.percent(x.tax_rate.percent),
            "explanation": x.explanation,
        }
        for x in lines
    ]


def _taxes(invoice: Invoice, fmt: Formatter) -> list[dict[str, str]]:
    return [
        {
            "label": f"{t.rate.name} {fmt.percent(t.rate.percent)}",
            "base": fmt.money(t.base.amount),
            "amount": fmt.money(t.amount.amount),
        }
        for t in invoice.taxes
    ]


def _customer(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "address": list(customer.address),
        "tax_id": customer.tax_id or "",
        "email": customer.email or "",
    }


def _amounts(invoice: Invoice, fmt: Formatter) -> dict[str, str]:
    """The totals; paid, credited and credit balance are empty when they are zero."""
    paid, credited = invoice.paid.amount, invoice.credited.amount
    balance = invoice.credit_balance.amount
    return {
        "subtotal": fmt.money(invoice.subtotal.amount),
        "tax_total": fmt.money(invoice.tax_total.amount),
        "total": fmt.money(invoice.total.amount),
        "paid": fmt.money(paid) if paid else "",
        "credited": fmt.money(credited) if credited else "",
        "amount_due": fmt.money(invoice.amount_due.amount),
        "credit_balance": fmt.money(balance) if balance else "",
    }


def _please_pay(
    invoice: Invoice, fmt: Formatter, words: Mapping[str, str], status: InvoiceStatus
) -> str:
    """The payment request sentence, when something is due by a due date."""
    due = fmt.date(invoice.due_on)
    if not due or invoice.amount_due.amount <= 0 or status == "void":
        return ""
    return words["please_pay"].format(amount=fmt.money(invoice.amount_due.amount), due=due)


def _exchange(invoice: Invoice, fmt: Formatter, words: Mapping[str, str]) -> dict[str, str]:
    """The rate sentence and the converted total, empty without a rate."""
    fx, converted = invoice.exchange_rate, invoice.converted_total
    if fx is None or converted is None:
        return {"exchange": "", "converted_total": ""}
    quote = Formatter(fmt.locale, fx.quote, None, invoice.rounding)
    exchange = words["exchange"].format(
        currency=fx.quote,
        rate=fmt.number(fx.rate, 6),
        source=fx.source,
        on=fmt.date(fx.published_on),
    )
    return {"exchange": exchange, "converted_total": quote.money(converted.amount)}


def _heading(invoice: Invoice, words: Mapping[str, str]) -> dict[str, Any]:
    draft = invoice.number is None
    return {
        "title": f"{words['invoice']} ({words['draft']})" if draft else words["invoice"],
        "number": invoice.number or "",
        "draft": draft,
    }


def invoice_context(
    invoice: Invoice,
    *,
    locale: str,
    seller: Seller | None = None,
    now: date | datetime | None = None,
    labels: Mapping[str, str] | None = None,
    charts: Sequence[Figure] = (),
) -> dict[str, Any]:
    """The invoice as a dict of display strings for templates (JSON-ready).

    *now* decides whether an unpaid invoice shows as overdue; without it the stored
    status is shown. *charts* (any :class:`Figure`) are embedded as SVG.

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
    status = _status(invoice, now)
    return {
        "locale": locale,
        "labels": words,
        "currency": invoice.currency,
        **_heading(invoice, words),
        "issued": fmt.date(invoice.issued_on),
        "due": fmt.date(invoice.due_on),
        "terms": invoice.terms or "",
        "period": _period(invoice, fmt),
        "status": status,
        "status_label": words.get(f"status_{status}", status),
        "seller": None if seller is None else seller.to_dict(),
        "customer": _customer(invoice.customer),
        "lines": _lines(invoice.lines, fmt),
        "taxes": _taxes(invoice, fmt),
        **_amounts(invoice, fmt),
        "notes": list(invoice.notes),
        "please_pay": _please_pay(invoice, fmt, words, status),
        **_exchange(invoice, fmt, words),
        "charts": [{"title": c.title, "svg": c.svg().decode("utf-8")} for c in charts],
    }
