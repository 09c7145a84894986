"""Serialise an :class:`EDocument` as an OASIS UBL 2.1 Invoice or CreditNote.

Element order follows the UBL 2.1 schemas; only EN 16931's business terms are written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._edoc import EDocument, ELine, EParty, EVat, decimal_text
from ._xml import etree

__all__ = ["ubl_xml"]

_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_ROOT = {
    "invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "credit_note": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}


class _Writer:
    def __init__(self, doc: EDocument) -> None:
        self.doc = doc
        self.et = etree()

    def cbc(self, parent: Any, name: str, text: str | None, **attrs: str) -> Any:
        if text is None:
            return None
        el = self.et.SubElement(parent, f"{{{_CBC}}}{name}", attrs)
        el.text = text
        return el

    def cac(self, parent: Any, name: str) -> Any:
        return self.et.SubElement(parent, f"{{{_CAC}}}{name}")

    def money(self, parent: Any, name: str, value: Decimal) -> None:
        self.cbc(parent, name, self.doc.amount(value), currencyID=self.doc.currency)

    # --- parties -----------------------------------------------------------------------

    def party(self, parent: Any, wrapper: str, party: EParty) -> None:
        el = self.cac(self.cac(parent, wrapper), "Party")
        if party.electronic_address is not None:
            self.cbc(
                el,
                "EndpointID",
                party.electronic_address.value,
                schemeID=party.electronic_address.scheme,
            )
        address = self.cac(el, "PostalAddress")
        street = party.address.street
        self.cbc(address, "StreetName", street[0] if street else None)
        self.cbc(address, "AdditionalStreetName", street[1] if len(street) > 1 else None)
        self.cbc(address, "CityName", party.address.city)
        self.cbc(address, "PostalZone", party.address.postcode)
        self.cbc(address, "CountrySubentity", party.address.subdivision)
        if len(street) > 2:
            self.cbc(self.cac(address, "AddressLine"), "Line", street[2])
        self.cbc(self.cac(address, "Country"), "IdentificationCode", party.address.country)
        if party.vat_id is not None:
            scheme = self.cac(el, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", party.vat_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        legal = self.cac(el, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", party.name)
        self.cbc(legal, "CompanyID", party.legal_id)
        contact = party.contact
        if contact is not None and (contact.name or contact.phone or contact.email):
            c = self.cac(el, "Contact")
            self.cbc(c, "Name", contact.name)
            self.cbc(c, "Telephone", contact.phone)
            self.cbc(c, "ElectronicMail", contact.email)

    # --- VAT and lines -----------------------------------------------------------------

    def category(
        self,
        parent: Any,
        name: str,
        category: str,
        percent: Decimal | None,
        vat: EVat | None = None,
    ) -> None:
        el = self.cac(parent, name)
        self.cbc(el, "ID", category)
        self.cbc(el, "Percent", None if percent is None else decimal_text(percent))
        if vat is not None:
            self.cbc(el, "TaxExemptionReasonCode", vat.reason_code)
            self.cbc(el, "TaxExemptionReason", vat.reason)
        self.cbc(self.cac(el, "TaxScheme"), "ID", "VAT")

    def line(self, root: Any, line: ELine) -> None:
        credit = self.doc.kind == "credit_note"
        el = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        self.cbc(el, "ID", line.id)
        self.cbc(
            el,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            decimal_text(line.quantity),
            unitCode=line.unit_code,
        )
        self.money(el, "LineExtensionAmount", line.net_amount)
        item = self.cac(el, "Item")
        self.cbc(item, "Description", line.description)
        self.cbc(item, "Name", line.name)
        self.category(item, "ClassifiedTaxCategory", line.category, line.percent)
        price = self.cac(el, "Price")
        self.cbc(price, "PriceAmount", decimal_text(line.price), currencyID=self.doc.currency)
        if line.base_quantity is not None:
            self.cbc(
                price, "BaseQuantity", decimal_text(line.base_quantity), unitCode=line.unit_code
            )

    # --- the document ------------------------------------------------------------------

    def header(self, root: Any) -> None:
        doc = self.doc
        self.cbc(root, "CustomizationID", doc.customization)
        self.cbc(root, "ProfileID", doc.process)
        self.cbc(root, "ID", doc.number)
        self.cbc(root, "IssueDate", doc.issued_on.isoformat())
        if doc.kind == "invoice":
            self.cbc(root, "DueDate", None if doc.due_on is None else doc.due_on.isoformat())
            self.cbc(root, "InvoiceTypeCode", doc.type_code)
        else:
            self.cbc(root, "CreditNoteTypeCode", doc.type_code)
        for note in doc.notes:
            self.cbc(root, "Note", note)
        self.cbc(root, "DocumentCurrencyCode", doc.currency)
        self.cbc(root, "BuyerReference", doc.buyer_reference)
        period = self.cac(root, "InvoicePeriod")
        self.cbc(period, "StartDate", doc.period[0].isoformat())
        self.cbc(period, "EndDate", doc.period[1].isoformat())
        if doc.preceding is not None:
            ref = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(ref, "ID", doc.preceding)

    def payment(self, root: Any) -> None:
        doc, payment = self.doc, self.doc.payment
        if payment is not None:
            means = self.cac(root, "PaymentMeans")
            self.cbc(means, "PaymentMeansCode", payment.code)
            if doc.kind == "credit_note" and doc.due_on is not None:
                self.cbc(means, "PaymentDueDate", doc.due_on.isoformat())
            self.cbc(means, "PaymentID", payment.remittance or doc.number)
            if payment.iban is not None:
                account = self.cac(means, "PayeeFinancialAccount")
                self.cbc(account, "ID", payment.iban)
                self.cbc(account, "Name", payment.account_name)
                if payment.bic is not None:
                    self.cbc(self.cac(account, "FinancialInstitutionBranch"), "ID", payment.bic)
        if doc.terms is not None:
            self.cbc(self.cac(root, "PaymentTerms"), "Note", doc.terms)

    def totals(self, root: Any) -> None:
        doc = self.doc
        total = self.cac(root, "TaxTotal")
        self.money(total, "TaxAmount", doc.tax_total)
        for vat in doc.vat:
            sub = self.cac(total, "TaxSubtotal")
            self.money(sub, "TaxableAmount", vat.base)
            self.money(sub, "TaxAmount", vat.tax)
            self.category(sub, "TaxCategory", vat.category, vat.percent, vat)
        legal = self.cac(root, "LegalMonetaryTotal")
        self.money(legal, "LineExtensionAmount", doc.line_total)
        self.money(legal, "TaxExclusiveAmount", doc.tax_exclusive)
        self.money(legal, "TaxInclusiveAmount", doc.tax_inclusive)
        self.money(legal, "PayableAmount", doc.payable)

    def document(self) -> bytes:
        doc = self.doc
        root_ns = _ROOT[doc.kind]
        nsmap = {None: root_ns, "cac": _CAC, "cbc": _CBC}
        root = self.et.Element(
            f"{{{root_ns}}}{'Invoice' if doc.kind == 'invoice' else 'CreditNote'}", nsmap=nsmap
        )
        self.header(root)
        self.party(root, "AccountingSupplierParty", doc.seller)
        self.party(root, "AccountingCustomerParty", doc.buyer)
        delivery = self.cac(root, "Delivery")
        self.cbc(delivery, "ActualDeliveryDate", doc.period[1].isoformat())
        if doc.delivery_country is not None:
            location = self.cac(delivery, "DeliveryLocation")
            country = self.cac(self.cac(location, "Address"), "Country")
            self.cbc(country, "IdentificationCode", doc.delivery_country)
        self.payment(root)
        self.totals(root)
        for line in doc.lines:
            self.line(root, line)
        data: bytes = self.et.tostring(
            root, xml_declaration=True, encoding="UTF-8", pretty_print=True
        )
        return data


def ubl_xml(doc: EDocument) -> bytes:
    """*doc* as UBL 2.1 XML bytes (UTF-8, with an XML declaration)."""
    return _Writer(doc).document()
