"""One syntax-neutral e-invoice, built from an invoice or a credit note and checked first.

:func:`build` maps cloudrate's documents onto EN 16931's business terms (BT-n) and groups
(BG-n), and collects every problem the norm or the profile would reject before anything is
written: the UBL and CII writers only serialise what it returns.
"""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal

from cloudrate._money import EXACT, currency_digits
from cloudrate.exceptions import ConfigError
from cloudrate.invoice import CreditNote, Invoice

from ._codes import CUSTOMIZATION, PEPPOL_PROCESS, Profile
from ._edoc import EDocument, Problems
from ._lines import invoice_lines
from ._options import EInvoiceOptions
from ._parties import buyer_party, seller_party
from ._requirements import check_profile
from ._vat import check_vat_ids, vat_breakdown

__all__ = ["build"]


def _period(document: Invoice | CreditNote) -> tuple[date, date]:
    period = document.period
    start = period.start.astimezone(period.tz).date()
    end = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    return start, end


def _check_decimals(document: Invoice | CreditNote, digits: int, problems: Problems) -> None:
    if digits > 2:
        problems.add(
            "currency",
            "einvoice_decimals",
            f"{document.currency} has {digits} minor-unit digits; EN 16931 allows at most 2 "
            "decimals in amounts (BR-DEC-*): invoice in another currency",
            document.currency,
        )
        return
    step = Decimal(1).scaleb(-digits)
    for i, line in enumerate(document.lines):
        if line.amount.amount != line.amount.amount.quantize(step):
            problems.add(
                f"lines[{i}].amount",
                "einvoice_decimals",
                f"amounts must have at most {digits} decimals in {document.currency} "
                "(BR-DEC-23); rate with RoundingPolicy(digits=None)",
                str(line.amount.amount),
            )
            return


def build(document: Invoice | CreditNote, options: EInvoiceOptions, profile: Profile) -> EDocument:
    """*document* as EN 16931 business terms for *profile*, or a :class:`ConfigError`
    listing every problem at once (codes ``einvoice_*``)."""
    problems = Problems()
    with decimal.localcontext(EXACT):
        return _build(document, options, profile, problems)


def _build(
    document: Invoice | CreditNote,
    options: EInvoiceOptions,
    profile: Profile,
    problems: Problems,
) -> EDocument:
    is_invoice = isinstance(document, Invoice)
    if is_invoice and (document.number is None or document.issued_on is None):
        problems.add(
            "number",
            "einvoice_not_issued",
            f"invoice {document.id!r} is a draft; finalise it first (an e-invoice needs its "
            "number BT-1 and issue date BT-2)",
        )
    digits = currency_digits(document.currency)
    _check_decimals(document, digits, problems)
    seller = seller_party(options, problems)
    buyer = buyer_party(document, options.buyer_details, problems)
    lines = invoice_lines(document, digits, problems)
    vat = vat_breakdown(document, lines, options, digits, problems)
    categories = {v.category for v in vat}
    seller, buyer = check_vat_ids(seller, buyer, categories, problems)
    line_total = sum((x.net_amount for x in lines), Decimal(0))
    tax_total = sum((v.tax for v in vat), Decimal(0))
    if isinstance(document, Invoice):
        number, issued_on, due_on = document.number or "", document.issued_on, document.due_on
        preceding, terms = document.supplements, document.terms
        notes = document.notes
    else:
        number, issued_on, due_on = document.number, document.issued_on, None
        preceding = document.invoice_number
        terms = f"Credit note for invoice {document.invoice_number}"
        notes = (*((document.reason,) if document.reason else ()),)
    doc = EDocument(
        kind="invoice" if is_invoice else "credit_note",
        profile=profile,
        customization=CUSTOMIZATION[profile],
        process=PEPPOL_PROCESS if profile == "peppol" else None,
        number=number,
        type_code="380" if is_invoice else "381",
        issued_on=issued_on or date.min,
        due_on=due_on,
        currency=document.currency,
        digits=digits,
        notes=tuple(notes),
        buyer_reference=options.buyer_reference,
        period=_period(document),
        preceding=preceding,
        seller=seller,
        buyer=buyer,
        delivery_country=buyer.address.country if "K" in categories else None,
        payment=options.payment_instructions,
        terms=terms,
        lines=lines,
        vat=vat,
        line_total=line_total,
        tax_exclusive=line_total,
        tax_total=tax_total,
        tax_inclusive=line_total + tax_total,
        payable=line_total + tax_total,
    )
    check_profile(doc, problems)
    if problems.items:
        raise ConfigError(
            problems.items, source=f"e-invoice {number or document.customer.id} ({profile})"
        )
    return doc
