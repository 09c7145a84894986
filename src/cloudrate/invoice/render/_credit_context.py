"""What a rendered credit note shows, as plain strings (the credit-note twin of
:func:`~cloudrate.invoice.render.invoice_context`).

The figures are formatted by the same :class:`Formatter` as an invoice's, so a credit
note prints its amounts exactly as the invoice it credits printed them. Customer text is
data, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import NotFoundError

from ._context import _customer, _lines
from ._format import Formatter
from ._labels import labels_for
from ._seller import Seller

if TYPE_CHECKING:
    from cloudrate.invoice import CreditNote, TaxLine
    from cloudrate.period import BillingPeriod

__all__ = ["CREDIT_NOTE_LABELS", "credit_note_context", "credit_note_labels"]

_EN = {
    "credit_note": "Credit note",
    "credit_note_number": "Credit note number",
    "credits_invoice": "Invoice credited",
    "reason": "Reason",
    "total_credited": "Total credited",
    "credited_to": "Credited to",
}
_DE = {
    "credit_note": "Gutschrift",
    "credit_note_number": "Gutschriftsnummer",
    "credits_invoice": "Zur Rechnung",
    "reason": "Grund",
    "total_credited": "Gutgeschriebener Betrag",
    "credited_to": "Gutschrift an",
}
_FR = {
    "credit_note": "Avoir",
    "credit_note_number": "Numéro d'avoir",
    "credits_invoice": "Facture d'origine",
    "reason": "Motif",
    "total_credited": "Total de l'avoir",
    "credited_to": "Avoir pour",
}
_JA = {
    "credit_note": "クレジットノート",
    "credit_note_number": "クレジットノート番号",
    "credits_invoice": "対象請求書",
    "reason": "理由",
    "total_credited": "返金合計",
    "credited_to": "宛先",
}

#: The words only a credit note prints, by language code (the rest are the invoice's).
CREDIT_NOTE_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": _EN,
    "de": _DE,
    "fr": _FR,
    "ja": _JA,
}


def credit_note_labels(locale: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The invoice labels for *locale* (:func:`labels_for`) plus the credit note's own,
    with *overrides* (keys of either) on top.

    >>> credit_note_labels("de_DE")["credit_note"], credit_note_labels("en_IN")["reason"]
    ('Gutschrift', 'Reason')
    >>> credit_note_labels("fr_FR", {"credit_note": "Avoir partiel"})["credit_note"]
    'Avoir partiel'
    """
    overrides = dict(overrides or {})
    own = {k: overrides.pop(k) for k in list(overrides) if k in _EN}
    try:
        words = labels_for(locale, overrides)
    except NotFoundError:
        raise NotFoundError(
            f"unknown credit note label(s) {sorted(overrides)}; besides the invoice labels "
            f"a credit note has {', '.join(sorted(_EN))}"
        ) from None
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    words.update(_EN)
    words.update(CREDIT_NOTE_LABELS.get(language, {}))
    words.update(own)
    return words


def _taxes(taxes: Sequence[TaxLine], fmt: Formatter) -> list[dict[str, str]]:
    return [
        {
            "label": f"{t.rate.name} {fmt.percent(t.rate.percent)}",
            "base": fmt.money(t.base.amount),
            "amount": fmt.money(t.amount.amount),
        }
        for t in taxes
    ]


def _period(period: BillingPeriod, fmt: Formatter) -> str:
    """First and last day of the period credited, in its timezone (the end is exclusive)."""
    first = period.start.astimezone(period.tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    return f"{fmt.date(first)} \u2013 {fmt.date(last)}"


def credit_note_context(
    note: CreditNote,
    *,
    locale: str,
    seller: Seller | None = None,
    labels: Mapping[str, str] | None = None,
    decimals: int | None = None,
) -> dict[str, Any]:
    """The credit note as a dict of display strings for templates (JSON-ready).

    Amounts are positive (what is given back) and show *decimals* decimals (default: the
    currency's minor units, as an invoice without ``display_decimals``).

    >>> from cloudrate import AccountBill, BillingPeriod, RatedLine
    >>> from cloudrate.invoice import Customer, InMemorySequenceStore, Net, Numbering
    >>> from cloudrate.invoice import TaxRate, assemble
    >>> from datetime import date
    >>> from moneyed import Money
    >>> line = RatedLine.adjustment(account="acme", charge="setup", description="Setup",
    ...     amount=Money("100", "EUR"), rounded=Money("100.00", "EUR"), kind="charge")
    >>> bill = AccountBill(account="acme", lines=(), total=Money(0, "EUR"),
    ...                    exact_total=Money(0, "EUR")).with_lines([line])
    >>> inv = assemble(bill, Customer(id="acme", name="ACME"), BillingPeriod.month(2026, 10),
    ...                taxes=TaxRate(percent="19"))
    >>> inv = inv.finalise(Numbering("INV-{year}-{seq:04}"), InMemorySequenceStore(),
    ...                    issued_on=date(2026, 11, 1), terms=Net(30))
    >>> note, _ = inv.credit(Numbering("CN-{year}-{seq:04}"), InMemorySequenceStore(),
    ...                      issued_on=date(2026, 11, 20), reason="Outage")
    >>> ctx = credit_note_context(note, locale="de_DE")
    >>> ctx["title"], ctx["number"], ctx["invoice_number"], ctx["total"], ctx["reason"]
    ('Gutschrift', 'CN-2026-0001', 'INV-2026-0001', '119,00\\xa0€', 'Outage')
    """
    fmt = Formatter(locale, note.currency, decimals)
    words = credit_note_labels(locale, labels)
    return {
        "locale": locale,
        "labels": words,
        "currency": note.currency,
        "title": words["credit_note"],
        "number": note.number,
        "invoice_number": note.invoice_number,
        "issued": fmt.date(note.issued_on),
        "period": _period(note.period, fmt),
        "reason": note.reason or "",
        "seller": None if seller is None else seller.to_dict(),
        "customer": _customer(note.customer),
        "lines": _lines(note.lines, fmt),
        "taxes": _taxes(note.taxes, fmt),
        "subtotal": fmt.money(note.subtotal.amount),
        "tax_total": fmt.money(note.tax_total.amount),
        "total": fmt.money(note.total.amount),
    }
