"""The seller (BG-4) and the buyer (BG-7): from Seller and Customer, and the details given."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cloudrate.invoice import CreditNote, Invoice

from ._details import Contact, ElectronicAddress, PartyDetails, PostalAddress
from ._edoc import EParty, Problems
from ._options import EInvoiceOptions

__all__ = ["VAT_ID", "buyer_party", "seller_party"]

#: A VAT identifier with its ISO 3166 country prefix (BR-CO-09; Greece as "EL").
VAT_ID = re.compile(r"[A-Z]{2}[0-9A-Za-z+*.]{2,13}")


def _country_of_vat_id(vat_id: str | None) -> str | None:
    if vat_id is None or not VAT_ID.fullmatch(vat_id):
        return None
    prefix = vat_id[:2]
    return "GR" if prefix == "EL" else prefix


def _lines_address(lines: Sequence[str], country: str | None) -> PostalAddress | None:
    if country is None or len(lines) > 3:
        return None
    return PostalAddress(street=tuple(x for x in lines if x.strip()), country=country)


def seller_party(options: EInvoiceOptions, problems: Problems) -> EParty:
    seller, details = options.seller, options.seller_details
    vat_id = seller.tax_id.replace(" ", "") if seller.tax_id else None
    address = details.address or _lines_address(seller.address, _country_of_vat_id(vat_id))
    if address is None:
        problems.missing(
            "seller_details.address",
            "the seller's postal address needs a country code (BT-40); pass "
            'seller_details=PartyDetails(address=PostalAddress(..., country="DE"))',
        )
        address = PostalAddress(country="ZZ")
    email = seller.email
    endpoint = details.electronic_address or (ElectronicAddress.email(email) if email else None)
    contact = details.contact or (Contact(email=email) if email else None)
    return EParty(
        name=seller.name,
        vat_id=vat_id,
        legal_id=details.legal_id,
        address=address,
        electronic_address=endpoint,
        contact=contact,
    )


def buyer_party(
    document: Invoice | CreditNote, details: PartyDetails, problems: Problems
) -> EParty:
    customer = document.customer
    address = details.address or _lines_address(customer.address, customer.country)
    if address is None:
        why = "more than 3 address lines" if len(customer.address) > 3 else "no country"
        problems.missing(
            "buyer_details.address",
            f"the buyer's postal address needs a country code (BT-55) and at most 3 street "
            f"lines; customer {customer.id!r} has {why}: set Customer.country or pass "
            "buyer_details=PartyDetails(address=PostalAddress(...))",
        )
        address = PostalAddress(country="ZZ")
    vat_id = customer.tax_id.replace(" ", "") if customer.tax_id else None
    email = customer.email
    endpoint = details.electronic_address or (ElectronicAddress.email(email) if email else None)
    contact = details.contact or (Contact(email=email) if email else None)
    return EParty(
        name=customer.name,
        vat_id=vat_id if vat_id and VAT_ID.fullmatch(vat_id) else None,
        legal_id=details.legal_id,
        address=address,
        electronic_address=endpoint,
        contact=contact,
    )
