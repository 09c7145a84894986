"""What XRechnung and Peppol BIS 3.0 require beyond EN 16931, checked before writing."""

from __future__ import annotations

from ._details import Contact
from ._edoc import EDocument, Problems

__all__ = ["check_profile"]


def check_profile(doc: EDocument, problems: Problems) -> None:
    profile = doc.profile
    strict = profile == "xrechnung" or (
        profile == "peppol" and doc.seller.address.country == doc.buyer.address.country == "DE"
    )
    name = {"xrechnung": "XRechnung", "peppol": "Peppol BIS 3.0"}.get(profile, profile)
    if profile in {"xrechnung", "peppol"}:
        if not doc.buyer_reference:
            problems.missing(
                "buyer_reference",
                f"{name} needs the buyer reference (BT-10; BR-DE-15, PEPPOL-EN16931-R003), "
                "for German public buyers the Leitweg-ID: pass "
                "EInvoiceOptions(buyer_reference=...)",
            )
        for role, party in (("seller", doc.seller), ("buyer", doc.buyer)):
            endpoint = party.electronic_address
            bt = "BT-34" if role == "seller" else "BT-49"
            if endpoint is None:
                problems.missing(
                    f"{role}_details.electronic_address",
                    f"{name} needs the {role}'s electronic address ({bt}): pass "
                    f"{role}_details=PartyDetails(electronic_address=ElectronicAddress(...))",
                )
            elif profile == "peppol" and endpoint.scheme == "EM":
                problems.add(
                    f"{role}_details.electronic_address",
                    "einvoice_missing",
                    f"Peppol needs the {role}'s Peppol participant identifier ({bt}) with an "
                    "EAS scheme such as '0088' or '9930', not an e-mail address",
                    endpoint.value,
                )
    if strict:
        _check_german(doc, name, problems)


def _check_german(doc: EDocument, name: str, problems: Problems) -> None:
    """XRechnung's rules (and Peppol's DE-R rules between German parties)."""
    contact = doc.seller.contact or Contact()
    for field, bt in (("name", "BT-41"), ("phone", "BT-42"), ("email", "BT-43")):
        if getattr(contact, field) is None:
            problems.missing(
                f"seller_details.contact.{field}",
                f"{name} needs the seller's contact {field} ({bt}; BR-DE-2, BR-DE-5..7): "
                "pass seller_details=PartyDetails(contact=Contact(name=..., phone=..., email=...))",
            )
    for role, party in (("seller", doc.seller), ("buyer", doc.buyer)):
        for field in ("city", "postcode"):
            if getattr(party.address, field) is None:
                problems.missing(
                    f"{role}_details.address.{field}",
                    f"{name} needs the {role}'s {field} (BR-DE-3/4, BR-DE-8/9): pass "
                    f"{role}_details=PartyDetails(address=PostalAddress(..., {field}=...))",
                )
    payment = doc.payment
    if payment is None:
        problems.missing(
            "payment",
            f"{name} needs payment instructions (BG-16, BR-DE-1): pass "
            "EInvoiceOptions(payment=PaymentInstructions(iban=...)) or give the seller an "
            "'IBAN ...' payment_details line",
        )
    elif payment.code in {"30", "58"} and payment.iban is None:
        problems.missing(
            "payment.iban", f"{name}: a credit transfer needs the IBAN (BT-84, BR-DE-23)"
        )
