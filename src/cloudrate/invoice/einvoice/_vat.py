"""The VAT breakdown (BG-23): one per category and rate, per EN 16931 (BR-CO-17, BR-S-08)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs

from cloudrate.invoice import CreditNote, Invoice, TaxLine

from ._codes import VATEX
from ._edoc import ELine, EParty, EVat, Problems, decimal_text
from ._options import EInvoiceOptions
from ._parties import VAT_ID

__all__ = ["check_vat_ids", "vat_breakdown"]

_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M"})
_ZERO_RATED = frozenset({"Z", "E", "AE", "K", "G"})
_NEEDS_SELLER_VAT = frozenset({"S", "Z", "E", "AE", "K", "G", "L", "M"})


def _norm_tax(base: Decimal, percent: Decimal | None, digits: int) -> Decimal:
    """BR-CO-17: the category's taxable amount times its rate, rounded (half up)."""
    if percent is None:
        return Decimal(0)
    exact = base * percent / 100
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _slack(document: Invoice | CreditNote, digits: int) -> Decimal:
    """How far the issued VAT of a category may be from BR-CO-17's figure: not at all on
    an invoice, one minor unit on a credit note, whose VAT against an invoice taxed on the
    total is the tax of all credited so far less the earlier notes' (the CEN rules allow
    a difference below one unit of the currency)."""
    return Decimal(0) if isinstance(document, Invoice) else Decimal(1).scaleb(-digits)


def _check_rate(category: str, percent: Decimal | None, problems: Problems) -> None:
    if category not in _CATEGORIES:
        problems.add(
            "taxes",
            "einvoice_vat_category",
            f"{category!r} is not an EN 16931 VAT category (UNCL 5305 subset: "
            f"{', '.join(sorted(_CATEGORIES))}); set TaxRate.category",
            category,
        )
    elif category == "S" and not percent:
        problems.add(
            "taxes",
            "einvoice_vat_category",
            "standard rated (S) needs a rate above 0 (BR-S-05)",
            percent,
        )
    elif category in _ZERO_RATED and percent:
        problems.add(
            "taxes",
            "einvoice_vat_category",
            f"category {category} needs a rate of 0 (BR-{category}-05)",
            percent,
        )


def vat_breakdown(
    document: Invoice | CreditNote,
    lines: Sequence[ELine],
    options: EInvoiceOptions,
    digits: int,
    problems: Problems,
) -> tuple[EVat, ...]:
    """One breakdown per (category, rate), with base and tax per the VAT mode."""
    bases: dict[tuple[str, Decimal | None], Decimal] = {}
    for line in lines:
        key = (line.category, line.percent)
        bases[key] = bases.get(key, Decimal(0)) + line.net_amount
    issued: dict[tuple[str, Decimal | None], Decimal] = {}
    notes: dict[str, str] = {}
    for tax_line in document.taxes:
        key = _tax_key(tax_line)
        issued[key] = issued.get(key, Decimal(0)) + tax_line.amount.amount
        if tax_line.rate.note:
            notes.setdefault(tax_line.rate.category, tax_line.rate.note)
    out = []
    slack = _slack(document, digits)
    for (category, percent), base in bases.items():
        _check_rate(category, percent, problems)
        norm = _norm_tax(base, percent, digits)
        tax = issued.get((category, percent), Decimal(0))
        if options.vat == "per_category":
            tax = norm
        elif abs(tax - norm) > slack:
            problems.add(
                f"taxes[{category} {decimal_text(percent or Decimal(0))}%]",
                "einvoice_vat_rounding",
                f"the invoice's VAT {tax} differs from EN 16931's {norm} (the category's "
                f"taxable amount {base} times its rate, rounded once, BR-CO-17); issue "
                "invoices with tax_method='total', or write with vat='per_category'",
                str(tax),
            )
        code, default = VATEX.get(category, (None, None))
        reason = notes.get(category, default) if category in {"E", *VATEX} else None
        if category == "E" and reason is None:
            problems.missing(
                "taxes[E].note",
                "an exempt (E) rate needs an exemption reason (BR-E-10): set TaxRate.note",
            )
        out.append(
            EVat(
                category=category,
                percent=percent,
                base=base,
                tax=tax,
                reason=reason,
                reason_code=code,
            )
        )
    return tuple(out)


def _tax_key(tax: TaxLine) -> tuple[str, Decimal | None]:
    return (tax.rate.category, None if tax.rate.category == "O" else tax.rate.percent)


def check_vat_ids(
    seller: EParty, buyer: EParty, categories: set[str], problems: Problems
) -> tuple[EParty, EParty]:
    if "O" in categories and len(categories) > 1:
        problems.add(
            "taxes",
            "einvoice_vat_category",
            "'not subject to VAT' (O) cannot be mixed with other categories on one "
            "e-invoice (BR-O-11..14); invoice those lines separately",
            sorted(categories),
        )
    if categories == {"O"}:  # BR-O-02, BR-O-03: no VAT identifiers at all
        return attrs.evolve(seller, vat_id=None), attrs.evolve(buyer, vat_id=None)
    needing = sorted(categories & _NEEDS_SELLER_VAT)
    if needing and (seller.vat_id is None or not VAT_ID.fullmatch(seller.vat_id)):
        problems.add(
            "seller.tax_id",
            "einvoice_missing",
            f"VAT categories {', '.join(needing)} need the seller's VAT identifier (BT-31) "
            "with its country prefix, e.g. 'DE123456789' (BR-S-02, BR-CO-09): set "
            "Seller.tax_id",
            seller.vat_id,
        )
    for category in sorted(categories & {"AE", "K"}):
        if buyer.vat_id is None and not (category == "AE" and buyer.legal_id):
            problems.add(
                "customer.tax_id",
                "einvoice_missing",
                f"category {category} needs the buyer's VAT identifier (BT-48) with its "
                f"country prefix (BR-{'AE' if category == 'AE' else 'IC'}-02): set "
                "Customer.tax_id",
            )
    return seller, buyer
