"""The JSON of many invoices from templates: the same bytes as ``Invoice.to_json``.

A template is the JSON the object path writes for one real invoice (or line, or event),
split where the values that differ from one document to the next stand. Filling it
with the text of those values gives, byte for byte, what
``Invoice.to_json(indent=None)`` writes for that document; the tests compare both on
generated plans and usage. Only the object path decides what a document says: a new
field of the invoice schema appears in the templates by itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from moneyed import Money

from cloudrate._money import RoundingPolicy
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Invoice,
    InvoiceLine,
    Numbering,
    PaymentTerms,
    TaxMethod,
    TaxRate,
    assemble,
)
from cloudrate.period import BillingPeriod
from cloudrate.rating import AccountBill, RatedLine

__all__ = ["EventTemplate", "InvoiceTemplate", "LineTemplate", "customer_json"]


def _mark(name: str) -> str:
    return f"\x00cloudrate-{name}\x00"


def _split(text: str, names: Sequence[str]) -> list[str]:
    """*text* cut at the markers of *names*, in that order: ``len(names) + 1`` pieces.
    A name starting with ``~`` stands for a whole JSON value (its quotes are cut away),
    any other for text inside a JSON string."""
    pieces: list[str] = []
    rest = text
    for name in names:
        encoded = json.dumps(_mark(name))
        marker = encoded if name.startswith("~") else encoded[1:-1]
        head, found, rest = rest.partition(marker)
        if not found:
            raise AssertionError(f"template: no {name!r} in {text!r}")
        pieces.append(head)
    pieces.append(rest)
    return pieces


_LINE_FIELDS = ("quantity", "amount", "exact_amount", "~explanation", "~tax_rate", "~tax")


class LineTemplate:
    """The JSON of one charge's invoice lines (:meth:`InvoiceLine.to_dict`)."""

    def __init__(self, line: InvoiceLine) -> None:
        data = line.to_dict()
        for name in _LINE_FIELDS:
            data[name.lstrip("~")] = _mark(name)
        self._p = _split(json.dumps(data, ensure_ascii=False), _LINE_FIELDS)

    def render(
        self, quantity: str, amount: str, exact: str, explanation: str, rate: str, tax: str
    ) -> str:
        """A line: decimal texts, the explanation (plain text) and the tax rate and tax
        as JSON values."""
        p = self._p
        return (
            f"{p[0]}{quantity}{p[1]}{amount}{p[2]}{exact}{p[3]}{encode_basestring(explanation)}"
            f"{p[4]}{rate}{p[5]}{tax}{p[6]}"
        )


_INVOICE_FIELDS = (
    "~id",
    "number",
    "~customer",
    "~lines",
    "subtotal",
    "~taxes",
    "tax_total",
    "total",
    "~notes",
    "amount_due",
    "timeline_total",
    "timeline_number",
)


class _Numbers:
    """A sequence store that hands out one given number (for the template invoice)."""

    def allocate(self, key: str, document: str) -> int:  # noqa: ARG002
        return 1

    def held(self, key: str, document: str) -> int | None:  # noqa: ARG002  # pragma: no cover
        return None

    def last(self, key: str) -> int:  # noqa: ARG002  # pragma: no cover
        return 0


def _template_invoice(
    period: BillingPeriod,
    currency: str,
    rounding: RoundingPolicy,
    tax_method: TaxMethod,
    issued: tuple[Numbering, PaymentTerms, date, str],
    amount: Decimal,
) -> Invoice:
    numbering, terms, issued_on, tenant = issued
    customer = Customer(id="template", name="template")
    lines: tuple[RatedLine, ...] = ()
    if amount:
        money = Money(amount, currency)
        line = RatedLine.adjustment(
            account="template",
            charge="t",
            description="t",
            amount=money,
            rounded=money,
            kind="charge",
        )
        lines = (line,)
    bill = AccountBill(
        account="template", lines=(), total=Money(0, currency), exact_total=Money(0, currency)
    ).with_lines(lines)
    draft = assemble(bill, customer, period, tax_method=tax_method, rounding=rounding)
    return draft.finalise(
        numbering, InMemorySequenceStore(), issued_on=issued_on, terms=terms, tenant=tenant
    )


class InvoiceTemplate:
    """The JSON of a run's invoices (``Invoice.to_json(indent=None)``), for one period,
    currency, rounding, tax method, numbering, terms and issue date: one template for
    invoices with a total above zero (unpaid), one for zero (settled on issue)."""

    def __init__(
        self,
        period: BillingPeriod,
        currency: str,
        rounding: RoundingPolicy,
        tax_method: TaxMethod,
        issued: tuple[Numbering, PaymentTerms, date, str],
    ) -> None:
        quantum = rounding.quantum(currency)
        self._unpaid = self._pieces(
            _template_invoice(period, currency, rounding, tax_method, issued, quantum)
        )
        self._paid = self._pieces(
            _template_invoice(period, currency, rounding, tax_method, issued, Decimal(0))
        )
        invoice = _template_invoice(period, currency, rounding, tax_method, issued, Decimal(0))
        assert invoice.due_on is not None and invoice.issued_on is not None
        self.issued_on, self.due_on = invoice.issued_on, invoice.due_on
        self.zero = str(invoice.total.amount)

    @staticmethod
    def _pieces(invoice: Invoice) -> list[str]:
        data = invoice.to_dict()
        for name in _INVOICE_FIELDS:
            if not name.startswith("timeline"):
                data[name.lstrip("~")] = _mark(name)
        issued = data["timeline"][0]
        assert issued["kind"] == "issued"
        issued["amount"], issued["reference"] = _mark("timeline_total"), _mark("timeline_number")
        return _split(json.dumps(data, ensure_ascii=False), _INVOICE_FIELDS)

    def render(self, *, number: str, **fields: Any) -> str:
        """An invoice with its *number*; *fields* are those of :meth:`render_parts`."""
        head, between, tail = self.render_parts(**fields)
        return f"{head}{number}{between}{number}{tail}"

    def render_parts(
        self,
        *,
        invoice_id: str,
        customer: str,
        lines: str,
        subtotal: str,
        taxes: str,
        tax_total: str,
        total: str,
        notes: str,
        paid: bool,
    ) -> tuple[str, str, str]:
        """An invoice cut where its number goes (twice: the number and the timeline's
        reference): *invoice_id*, *customer*, *lines*, *taxes* and *notes* as JSON, the
        rest as text; *paid* when the total is zero (nothing due on issue)."""
        p = self._paid if paid else self._unpaid
        due = self.zero if paid else total
        between = (
            f"{p[2]}{customer}{p[3]}{lines}{p[4]}{subtotal}{p[5]}{taxes}{p[6]}{tax_total}"
            f"{p[7]}{total}{p[8]}{notes}{p[9]}{due}{p[10]}{total}{p[11]}"
        )
        return f"{p[0]}{invoice_id}{p[1]}", between, p[12]


def customer_json(customer: Customer | None, account: str, template: list[str]) -> str:
    """The JSON of a customer (:meth:`Customer.to_dict`); *template* for the customer
    named after its account (:func:`default_customer`)."""
    if customer is None:
        name = encode_basestring(account)
        return f"{template[0]}{name}{template[1]}{name}{template[2]}"
    return json.dumps(customer.to_dict(), ensure_ascii=False)


def default_customer() -> list[str]:
    """The template of a customer named after its account."""
    data = Customer(id="x", name="x").to_dict()
    data["id"], data["name"] = _mark("~id"), _mark("~name")
    return _split(json.dumps(data, ensure_ascii=False), ("~id", "~name"))


class EventTemplate:
    """The data of an ``invoice.finalised`` event of a run, as the store writes it
    (compact, sorted keys, ASCII)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        marked = dict(data)
        marked["customer"], marked["total"] = _mark("~customer"), _mark("total")
        text = json.dumps(marked, sort_keys=True, separators=(",", ":"))
        self._p = _split(text, sorted(["~customer", "total"], key=lambda n: n.lstrip("~")))

    def render(self, customer: str, total: str) -> str:
        p = self._p
        return f"{p[0]}{encode_basestring_ascii(customer)}{p[1]}{total}{p[2]}"


def rate_json(rate: TaxRate | None) -> str:
    """A line's tax rate as JSON."""
    return "null" if rate is None else json.dumps(rate.to_dict(), ensure_ascii=False)
