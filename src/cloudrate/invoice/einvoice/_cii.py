"""Serialise an :class:`EDocument` as a UN/CEFACT Cross Industry Invoice (CII D16B).

Element order follows the D16B schemas (the SCRDM subset EN 16931 names); the same XML is
what Factur-X / ZUGFeRD embeds at its EN 16931 profile.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ._edoc import EDocument, ELine, EParty, EVat, decimal_text
from ._xml import etree

__all__ = ["cii_xml"]

_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"


class _Writer:
    def __init__(self, doc: EDocument) -> None:
        self.doc = doc
        self.et = etree()

    def el(
        self, parent: Any, name: str, text: str | None = None, ns: str = _RAM, **attrs: str
    ) -> Any:
        el = self.et.SubElement(parent, f"{{{ns}}}{name}", attrs)
        if text is not None:
            el.text = text
        return el

    def opt(self, parent: Any, name: str, text: str | None, **attrs: str) -> None:
        if text is not None:
            self.el(parent, name, text, **attrs)

    def when(self, parent: Any, name: str, day: date) -> None:
        wrapper = self.el(parent, name)
        self.el(wrapper, "DateTimeString", day.strftime("%Y%m%d"), ns=_UDT, format="102")

    def money(self, parent: Any, name: str, value: Decimal, **attrs: str) -> None:
        self.el(parent, name, self.doc.amount(value), **attrs)

    # --- parties -----------------------------------------------------------------------

    def party(self, parent: Any, name: str, party: EParty) -> None:
        el = self.el(parent, name)
        self.el(el, "Name", party.name)
        if party.legal_id is not None:
            self.el(self.el(el, "SpecifiedLegalOrganization"), "ID", party.legal_id)
        contact = party.contact
        if contact is not None and (contact.name or contact.phone or contact.email):
            c = self.el(el, "DefinedTradeContact")
            self.opt(c, "PersonName", contact.name)
            if contact.phone is not None:
                self.el(
                    self.el(c, "TelephoneUniversalCommunication"), "CompleteNumber", contact.phone
                )
            if contact.email is not None:
                self.el(self.el(c, "EmailURIUniversalCommunication"), "URIID", contact.email)
        address = self.el(el, "PostalTradeAddress")
        street = party.address.street
        self.opt(address, "PostcodeCode", party.address.postcode)
        for tag, line in zip(("LineOne", "LineTwo", "LineThree"), street, strict=False):
            self.el(address, tag, line)
        self.opt(address, "CityName", party.address.city)
        self.el(address, "CountryID", party.address.country)
        self.opt(address, "CountrySubDivisionName", party.address.subdivision)
        if party.electronic_address is not None:
            self.el(
                self.el(el, "URIUniversalCommunication"),
                "URIID",
                party.electronic_address.value,
                schemeID=party.electronic_address.scheme,
            )
        if party.vat_id is not None:
            self.el(self.el(el, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA")

    # --- VAT and lines -----------------------------------------------------------------

    def tax(
        self, parent: Any, category: str, percent: Decimal | None, vat: EVat | None = None
    ) -> None:
        el = self.el(parent, "ApplicableTradeTax")
        if vat is not None:
            self.money(el, "CalculatedAmount", vat.tax)
        self.el(el, "TypeCode", "VAT")
        if vat is not None:
            self.opt(el, "ExemptionReason", vat.reason)
            self.money(el, "BasisAmount", vat.base)
        self.el(el, "CategoryCode", category)
        if vat is not None:
            self.opt(el, "ExemptionReasonCode", vat.reason_code)
        if percent is not None:
            self.el(el, "RateApplicablePercent", decimal_text(percent))

    def line(self, parent: Any, line: ELine) -> None:
        el = self.el(parent, "IncludedSupplyChainTradeLineItem")
        self.el(self.el(el, "AssociatedDocumentLineDocument"), "LineID", line.id)
        product = self.el(el, "SpecifiedTradeProduct")
        self.el(product, "Name", line.name)
        self.opt(product, "Description", line.description)
        agreement = self.el(el, "SpecifiedLineTradeAgreement")
        price = self.el(agreement, "NetPriceProductTradePrice")
        self.el(price, "ChargeAmount", decimal_text(line.price))
        if line.base_quantity is not None:
            self.el(
                price, "BasisQuantity", decimal_text(line.base_quantity), unitCode=line.unit_code
            )
        delivery = self.el(el, "SpecifiedLineTradeDelivery")
        self.el(delivery, "BilledQuantity", decimal_text(line.quantity), unitCode=line.unit_code)
        settlement = self.el(el, "SpecifiedLineTradeSettlement")
        self.tax(settlement, line.category, line.percent)
        total = self.el(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        self.money(total, "LineTotalAmount", line.net_amount)

    # --- the document ------------------------------------------------------------------

    def header(self, root: Any) -> None:
        doc = self.doc
        context = self.el(root, "ExchangedDocumentContext", ns=_RSM)
        if doc.process is not None:
            self.el(
                self.el(context, "BusinessProcessSpecifiedDocumentContextParameter"),
                "ID",
                doc.process,
            )
        self.el(
            self.el(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", doc.customization
        )
        exchanged = self.el(root, "ExchangedDocument", ns=_RSM)
        self.el(exchanged, "ID", doc.number)
        self.el(exchanged, "TypeCode", doc.type_code)
        self.when(exchanged, "IssueDateTime", doc.issued_on)
        for note in doc.notes:
            self.el(self.el(exchanged, "IncludedNote"), "Content", note)

    def settlement(self, parent: Any) -> None:
        doc, payment = self.doc, self.doc.payment
        el = self.el(parent, "ApplicableHeaderTradeSettlement")
        if payment is not None:
            self.el(el, "PaymentReference", payment.remittance or doc.number)
        self.el(el, "InvoiceCurrencyCode", doc.currency)
        if payment is not None:
            means = self.el(el, "SpecifiedTradeSettlementPaymentMeans")
            self.el(means, "TypeCode", payment.code)
            if payment.iban is not None:
                account = self.el(means, "PayeePartyCreditorFinancialAccount")
                self.el(account, "IBANID", payment.iban)
                self.opt(account, "AccountName", payment.account_name)
                if payment.bic is not None:
                    bank = self.el(means, "PayeeSpecifiedCreditorFinancialInstitution")
                    self.el(bank, "BICID", payment.bic)
        for vat in doc.vat:
            self.tax(el, vat.category, vat.percent, vat)
        period = self.el(el, "BillingSpecifiedPeriod")
        self.when(period, "StartDateTime", doc.period[0])
        self.when(period, "EndDateTime", doc.period[1])
        if doc.terms is not None or doc.due_on is not None:
            terms = self.el(el, "SpecifiedTradePaymentTerms")
            self.opt(terms, "Description", doc.terms)
            if doc.due_on is not None:
                self.when(terms, "DueDateDateTime", doc.due_on)
        sums = self.el(el, "SpecifiedTradeSettlementHeaderMonetarySummation")
        self.money(sums, "LineTotalAmount", doc.line_total)
        self.money(sums, "TaxBasisTotalAmount", doc.tax_exclusive)
        self.money(sums, "TaxTotalAmount", doc.tax_total, currencyID=doc.currency)
        self.money(sums, "GrandTotalAmount", doc.tax_inclusive)
        self.money(sums, "DuePayableAmount", doc.payable)
        if doc.preceding is not None:
            self.el(self.el(el, "InvoiceReferencedDocument"), "IssuerAssignedID", doc.preceding)

    def document(self) -> bytes:
        doc = self.doc
        nsmap = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}
        root = self.et.Element(f"{{{_RSM}}}CrossIndustryInvoice", nsmap=nsmap)
        self.header(root)
        transaction = self.el(root, "SupplyChainTradeTransaction", ns=_RSM)
        for line in doc.lines:
            self.line(transaction, line)
        agreement = self.el(transaction, "ApplicableHeaderTradeAgreement")
        self.opt(agreement, "BuyerReference", doc.buyer_reference)
        self.party(agreement, "SellerTradeParty", doc.seller)
        self.party(agreement, "BuyerTradeParty", doc.buyer)
        delivery = self.el(transaction, "ApplicableHeaderTradeDelivery")
        if doc.delivery_country is not None:
            ship = self.el(delivery, "ShipToTradeParty")
            self.el(self.el(ship, "PostalTradeAddress"), "CountryID", doc.delivery_country)
        event = self.el(delivery, "ActualDeliverySupplyChainEvent")
        self.when(event, "OccurrenceDateTime", doc.period[1])
        self.settlement(transaction)
        data: bytes = self.et.tostring(
            root, xml_declaration=True, encoding="UTF-8", pretty_print=True
        )
        return data


def cii_xml(doc: EDocument) -> bytes:
    """*doc* as CII D16B XML bytes (UTF-8, with an XML declaration)."""
    return _Writer(doc).document()
