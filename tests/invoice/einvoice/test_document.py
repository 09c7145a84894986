"""The mapping onto EN 16931: what is checked before writing, the VAT modes, and the
figures both syntaxes carry."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine
from cloudrate.exceptions import ConfigError, InvoiceError
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Net,
    Numbering,
    TaxRate,
    assemble,
)
from cloudrate.invoice.einvoice import (
    FORMATS,
    EInvoiceOptions,
    ElectronicAddress,
    PartyDetails,
    PaymentInstructions,
    check_einvoice,
    einvoice_bytes,
    to_cii,
    to_ubl,
    write_einvoice,
)

from .conftest import DEMO_SELLER, SELLER_DETAILS, options_for

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
}
BARE = EInvoiceOptions(seller=DEMO_SELLER)


def codes(excinfo: pytest.ExceptionInfo[ConfigError]) -> set[tuple[str, str]]:
    return {(p.path, p.code) for p in excinfo.value.problems}


def _issued(amounts, rate, *, method="total", customer=None):
    customer = customer or Customer(
        id="de", name="Kunde GmbH", country="DE", tax_id="DE811128135", address=["Hauptstraße 5"]
    )
    lines = [
        RatedLine.adjustment(
            account=customer.id,
            charge=f"c{i}",
            description=f"Line {i}",
            amount=Money(a, "EUR"),
            rounded=Money(a, "EUR"),
            kind="charge",
        )
        for i, a in enumerate(amounts)
    ]
    bill = AccountBill(
        account=customer.id, lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    ).with_lines(lines)
    draft = assemble(bill, customer, BillingPeriod.month(2026, 10), taxes=rate, tax_method=method)
    return draft.finalise(
        Numbering("INV-{year}-{seq:04}"),
        InMemorySequenceStore(),
        issued_on=date(2026, 11, 1),
        terms=Net(14),
    )


class TestRequirements:
    def test_xrechnung_lists_everything_missing(self, demo):
        """One error names every missing XRechnung requirement, each with its path."""
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(demo["acme"], BARE, "xrechnung")
        assert codes(excinfo) == {
            ("buyer_reference", "einvoice_missing"),
            ("buyer_details.electronic_address", "einvoice_missing"),
            ("seller_details.contact.name", "einvoice_missing"),
            ("seller_details.contact.phone", "einvoice_missing"),
            ("seller_details.address.city", "einvoice_missing"),
            ("seller_details.address.postcode", "einvoice_missing"),
            ("buyer_details.address.city", "einvoice_missing"),
            ("buyer_details.address.postcode", "einvoice_missing"),
        }
        assert "8 problems in e-invoice INV-2026-0042 (xrechnung)" in str(excinfo.value)

    def test_peppol_refuses_email_endpoints(self, demo):
        """Peppol needs participant identifiers; an e-mail address is not one."""
        options = attrs.evolve(
            options_for("globex"), seller_details=PartyDetails(address=SELLER_DETAILS.address)
        )
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(demo["globex"], options, "peppol")
        assert codes(excinfo) == {("seller_details.electronic_address", "einvoice_missing")}

    def test_peppol_between_german_parties_needs_german_rules(self, demo):
        """Peppol's DE-R rules apply when seller and buyer are German: contact needed."""
        options = attrs.evolve(
            options_for("acme"), seller_details=attrs.evolve(SELLER_DETAILS, contact=None)
        )
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(demo["acme"], options, "peppol")
        assert ("seller_details.contact.phone", "einvoice_missing") in codes(excinfo)
        to_ubl(
            demo["globex"],
            attrs.evolve(options, buyer_details=options_for("globex").buyer_details),
            "peppol",
        )  # DE to FR: no DE-R rules

    def test_plain_en16931_needs_little(self, demo):
        """Plain EN 16931 is written from the invoice and the seller alone."""
        for account in ("acme", "globex", "initech"):
            assert to_ubl(demo[account], BARE).startswith(b"<?xml")

    def test_draft_is_refused(self):
        rate = TaxRate(percent="19")
        draft = attrs.evolve(
            _issued(["10.00"], rate),
            state="draft",
            number=None,
            issued_on=None,
            due_on=None,
            terms=None,
        )
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(draft, BARE)
        assert ("number", "einvoice_not_issued") in codes(excinfo)

    def test_line_without_tax_rate(self):
        """BR-CO-04: every line has a VAT category."""
        invoice = _issued(["10.00"], None)
        with pytest.raises(ConfigError) as excinfo:
            to_cii(invoice, BARE)
        assert ("lines[0].tax_rate", "einvoice_missing") in codes(excinfo)

    def test_seller_vat_id(self, demo):
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(
                demo["acme"],
                attrs.evolve(options_for("acme"), seller=attrs.evolve(DEMO_SELLER, tax_id=None)),
            )
        assert ("seller.tax_id", "einvoice_missing") in codes(excinfo)

    def test_reverse_charge_needs_buyer_vat_id(self, demo):
        invoice = attrs.evolve(
            demo["globex"], customer=attrs.evolve(demo["globex"].customer, tax_id=None)
        )
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(invoice, BARE)
        assert ("customer.tax_id", "einvoice_missing") in codes(excinfo)

    def test_exempt_needs_reason(self):
        invoice = _issued(["10.00"], TaxRate(percent="0", category="E"))
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(invoice, BARE)
        assert ("taxes[E].note", "einvoice_missing") in codes(excinfo)

    def test_unknown_category(self):
        invoice = _issued(["10.00"], TaxRate(percent="19", category="X"))
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(invoice, BARE)
        assert ("taxes", "einvoice_vat_category") in codes(excinfo)

    def test_unknown_format_and_profile(self, demo):
        with pytest.raises(InvoiceError, match="e-invoice format"):
            einvoice_bytes(demo["acme"], "pdf", BARE)  # type: ignore[arg-type]
        with pytest.raises(InvoiceError, match="e-invoice profile"):
            to_ubl(demo["acme"], BARE, "facturx")


class TestVat:
    """EN 16931 computes a category's VAT once from its taxable amount (BR-CO-17)."""

    AMOUNTS = ["0.03"] * 3  # 19% of each line rounds to 0.01; of the sum, 0.17 to 0.02

    def test_per_line_tax_is_refused_as_issued(self):
        """Per-line VAT that differs from the per-category figure is named, with the fix."""
        invoice = _issued(self.AMOUNTS, TaxRate(percent="19"), method="line")
        assert invoice.tax_total.amount == Decimal("0.03")
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(invoice, BARE)
        assert codes(excinfo) == {("taxes[S 19%]", "einvoice_vat_rounding")}
        assert "vat='per_category'" in str(excinfo.value)

    def test_per_category_recomputes(self, validator):
        invoice = _issued(self.AMOUNTS, TaxRate(percent="19"), method="line")
        xml = to_ubl(invoice, attrs.evolve(BARE, vat="per_category"))
        root = etree.fromstring(xml)
        assert root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == "0.02"
        assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "0.11"
        assert validator.validate(xml, "ubl", "invoice") == []

    def test_credit_notes_against_the_total_are_written_as_issued(self, validator):
        """Credited a line at a time, an invoice taxed on the total gets notes of 0.01,
        0.00 and 0.01 VAT (the tax of all credited so far less the earlier notes'), a
        unit from BR-CO-17's 0.01 at most: each is written as issued and passes the rules
        of both syntaxes, which allow a difference below one unit of the currency."""
        invoice = _issued(self.AMOUNTS, TaxRate(percent="19"))
        store = InMemorySequenceStore()
        for charge, tax in [("c0", "0.01"), ("c1", "0.00"), ("c2", "0.01")]:
            note, invoice = invoice.credit(
                Numbering.credit_notes(),
                store,
                issued_on=date(2026, 11, 2),
                amounts={charge: "0.03"},
            )
            ubl, cii = to_ubl(note, BARE), to_cii(note, BARE)
            assert (
                etree.fromstring(ubl).findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == tax
            )
            assert validator.validate(ubl, "ubl", "credit_note") == []
            assert validator.validate(cii, "cii", "credit_note") == []
        assert invoice.amount_due.amount == 0

    def test_a_credit_note_more_than_a_unit_off_the_norm_is_refused(self):
        """A note whose VAT is two units from BR-CO-17's is still named."""
        invoice = _issued(self.AMOUNTS, TaxRate(percent="19"))
        note, _ = invoice.credit(
            Numbering.credit_notes(),
            InMemorySequenceStore(),
            issued_on=date(2026, 11, 2),
            amounts={"c0": "0.03"},
        )
        off = attrs.evolve(
            note,
            taxes=(attrs.evolve(note.taxes[0], amount=Money("0.03", "EUR")),),
            tax_total=Money("0.03", "EUR"),
            total=Money("0.06", "EUR"),
        )
        with pytest.raises(ConfigError) as excinfo:
            to_ubl(off, BARE)
        assert codes(excinfo) == {("taxes[S 19%]", "einvoice_vat_rounding")}

    def test_two_rates_of_one_category_and_percent_are_one_breakdown(self):
        """Rates that differ only by name are one EN 16931 breakdown (BR-S-08)."""
        invoice = _issued(["10.00"], TaxRate(percent="19"))
        other = attrs.evolve(
            invoice.lines[0], charge="x", tax_rate=TaxRate(name="MwSt", percent="19")
        )
        doc = check_einvoice(
            attrs.evolve(
                invoice,
                lines=(*invoice.lines, other),
                subtotal=Money("20.00", "EUR"),
                taxes=(*invoice.taxes, attrs.evolve(invoice.taxes[0], rate=other.tax_rate)),
                tax_total=Money("3.80", "EUR"),
                total=Money("23.80", "EUR"),
            ),
            BARE,
        )
        assert [(v.category, v.base, v.tax) for v in doc.vat] == [
            ("S", Decimal("20.00"), Decimal("3.80"))
        ]

    @settings(max_examples=40, deadline=None)
    @given(
        amounts=st.lists(
            st.decimals(min_value=0, max_value=10000, places=2), min_size=1, max_size=10
        ),
        percent=st.sampled_from(["19", "7", "20", "5.5", "21"]),
    )
    def test_total_method_meets_the_norm(self, amounts, percent):
        """An invoice taxed per rate (the default) is written as issued, and its VAT is the
        taxable amount times the rate, rounded once, half up."""
        invoice = _issued(amounts, TaxRate(percent=percent))
        doc = check_einvoice(invoice, BARE)
        (vat,) = doc.vat
        assert vat.base == sum(amounts, Decimal(0))
        expected = (vat.base * Decimal(percent) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert vat.tax == expected == invoice.tax_total.amount
        assert doc.payable == invoice.total.amount


class TestSyntaxes:
    @pytest.mark.parametrize("account", ["acme", "globex", "initech"])
    def test_ubl_and_cii_carry_the_same_figures(self, demo, account):
        """UBL and CII agree with each other and with the invoice on every total."""
        invoice = demo[account]
        ubl = etree.fromstring(to_ubl(invoice, BARE))
        cii = etree.fromstring(to_cii(invoice, BARE))
        legal = "cac:LegalMonetaryTotal/cbc:"
        sums = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
        pairs = {
            invoice.subtotal.amount: ("TaxExclusiveAmount", "TaxBasisTotalAmount"),
            invoice.tax_total.amount: (None, "TaxTotalAmount"),
            invoice.total.amount: ("PayableAmount", "DuePayableAmount"),
        }
        for value, (u, c) in pairs.items():
            if u is not None:
                assert Decimal(ubl.findtext(legal + u, namespaces=NS)) == value
            assert Decimal(cii.findtext(sums + c, namespaces=NS)) == value
        ubl_lines = [
            Decimal(x)
            for x in ubl.xpath("cac:InvoiceLine/cbc:LineExtensionAmount/text()", namespaces=NS)
        ]
        cii_lines = [Decimal(x) for x in cii.xpath(".//ram:LineTotalAmount/text()", namespaces=NS)][
            : len(ubl_lines)
        ]
        assert ubl_lines == cii_lines == [x.amount.amount for x in invoice.lines]

    def test_japanese_name_kept(self, demo):
        xml = to_ubl(demo["initech"], BARE)
        assert "株式会社イニテック (Initech K.K.)".encode() in xml

    def test_quantities_are_plain_decimals(self, demo):
        """No exponent (0E-59) and at most 6 decimals in quantities."""
        root = etree.fromstring(to_ubl(demo["initech"], BARE))
        for q in root.xpath("//cbc:InvoicedQuantity/text()", namespaces=NS):
            assert "E" not in q and len(q.partition(".")[2]) <= 6

    def test_supplementary_and_credit_note_reference_the_original(self, supplementary, credit_note):
        ubl = etree.fromstring(to_ubl(supplementary, BARE))
        assert (
            ubl.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
            == "INV-2026-0042"
        )
        note = etree.fromstring(to_ubl(credit_note, BARE))
        assert note.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
        assert (
            note.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
            == credit_note.invoice_number
        )
        cii = etree.fromstring(to_cii(credit_note, BARE))
        assert (
            cii.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS)
            == credit_note.invoice_number
        )
        assert cii.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"


class TestDetails:
    def test_payment_from_seller_lines(self):
        assert BARE.payment_instructions == PaymentInstructions(
            iban="DE89370400440532013000", bic="COBADEFFXXX"
        )

    def test_bad_scheme(self):
        with pytest.raises(InvoiceError, match="EAS code"):
            ElectronicAddress(scheme="mail", value="a@b.example")


class TestWrite:
    @pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "facturx"])
    def test_writes_into_a_directory(self, demo, tmp_path, fmt):
        path = write_einvoice(demo["acme"], fmt, tmp_path, options_for("acme"))
        assert path == tmp_path / "INV-2026-0042.xml"
        assert path.read_bytes() == einvoice_bytes(demo["acme"], fmt, options_for("acme"))

    def test_refused_document_writes_nothing(self, demo, tmp_path):
        with pytest.raises(ConfigError):
            write_einvoice(demo["acme"], "xrechnung", tmp_path, BARE)
        assert list(tmp_path.iterdir()) == []


def test_import_is_light():
    """Importing the e-invoice package loads neither lxml nor factur-x nor saxonche."""
    import subprocess
    import sys

    code = (
        "import sys, cloudrate.invoice.einvoice; "
        "print(sorted(m for m in ('lxml', 'facturx', 'saxonche') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
