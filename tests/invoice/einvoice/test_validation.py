"""Every format validates against the official artefacts: XSD, CEN EN 16931 schematron,
and the XRechnung and Peppol rules for those profiles (conftest.Validator).

The demo's three invoices (German VAT, French reverse charge, an export to a Japanese
customer), a credit note and a supplementary invoice must give no error and no warning.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine
from cloudrate.invoice import (
    REVERSE_CHARGE,
    Customer,
    InMemorySequenceStore,
    Net,
    Numbering,
    TaxRate,
    assemble,
)
from cloudrate.invoice.einvoice import EInvoiceOptions, einvoice_bytes, to_cii, to_ubl

from .conftest import DEMO_SELLER, SELLER_DETAILS, options_for

XML_FORMATS = ["ubl", "cii", "xrechnung", "xrechnung-cii", "peppol"]
ACCOUNTS = ["acme", "globex", "initech"]


class TestDemoValidates:
    @pytest.mark.parametrize("fmt", XML_FORMATS)
    @pytest.mark.parametrize("account", ACCOUNTS)
    def test_demo_invoice(self, demo, validator, account, fmt):
        """Each demo invoice in each XML format: no error, no warning."""
        xml = einvoice_bytes(demo[account], fmt, options_for(account))
        assert [str(f) for f in validator.validate(xml, fmt, "invoice")] == []

    @pytest.mark.parametrize("fmt", XML_FORMATS)
    def test_credit_note(self, credit_note, validator, fmt):
        """A credit note (UBL CreditNote, CII type 381) in each XML format."""
        xml = einvoice_bytes(credit_note, fmt, options_for("acme"))
        assert [str(f) for f in validator.validate(xml, fmt, "credit_note")] == []

    @pytest.mark.parametrize("fmt", XML_FORMATS)
    def test_supplementary_invoice(self, supplementary, validator, fmt):
        """A supplementary invoice, which references the original, in each XML format."""
        xml = einvoice_bytes(supplementary, fmt, options_for("acme"))
        assert [str(f) for f in validator.validate(xml, fmt, "invoice")] == []


class TestValidatorCanFail:
    """The validation is real: a document the rules reject gives findings."""

    def test_wrong_payable_amount(self, demo, validator):
        xml = to_ubl(demo["acme"], options_for("acme"))
        total = demo["acme"].total.amount
        bad = xml.replace(
            f'<cbc:PayableAmount currencyID="EUR">{total}<'.encode(),
            f'<cbc:PayableAmount currencyID="EUR">{total + Decimal("0.01")}<'.encode(),
        )
        assert bad != xml
        assert "BR-CO-16" in {f.id for f in validator.validate(bad, "ubl", "invoice")}

    def test_unknown_element(self, demo, validator):
        xml = to_cii(demo["acme"], options_for("acme"))
        bad = xml.replace(b"<ram:LineID>1</ram:LineID>", b"<ram:LineNumber>1</ram:LineNumber>")
        assert "XSD" in {f.id for f in validator.validate(bad, "cii", "invoice")}

    def test_xrechnung_rules_run(self, demo, validator):
        """Without a buyer reference XRechnung's BR-DE-15 fires (written as plain EN 16931
        with XRechnung's identifier, which only the XRechnung rules reject)."""
        xml = to_ubl(demo["acme"], options_for("acme"), "xrechnung")
        bad = xml.replace(b"<cbc:BuyerReference>04011000-12345-34</cbc:BuyerReference>", b"")
        assert "BR-DE-15" in {f.id for f in validator.validate(bad, "xrechnung", "invoice")}

    def test_peppol_rules_run(self, demo, validator):
        xml = to_ubl(demo["globex"], options_for("globex"), "peppol")
        bad = xml.replace(b'schemeID="9957"', b'schemeID="EM"')
        ids = {f.id for f in validator.validate(bad, "peppol", "invoice")}
        assert ids & {"PEPPOL-EN16931-CL008", "PEPPOL-EN16931-R020", "PEPPOL-EN16931-R010"}


_CUSTOMERS = {
    "S": Customer(
        id="de",
        name="Kunde GmbH",
        country="DE",
        tax_id="DE811128135",
        address=["Hauptstraße 5", "80331 München"],
    ),
    "AE": Customer(
        id="fr",
        name="Client SARL",
        country="FR",
        tax_id="FR40303265045",
        address=["12 rue de la Paix", "75002 Paris"],
    ),
    "G": Customer(id="jp", name="株式会社テスト", country="JP", address=["東京都", "100-0005"]),
}
_RATES = {
    "S": st.sampled_from([TaxRate(percent="19"), TaxRate(percent="7"), TaxRate(percent="20")]),
    "AE": st.just(REVERSE_CHARGE),
    "G": st.just(TaxRate(percent="0", category="G", note="Export outside the EU")),
}
_amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=2)


@st.composite
def invoices(draw):
    """Issued invoices of 1-12 lines (some negative: discounts) in one VAT category."""
    category = draw(st.sampled_from(sorted(_RATES)))
    account = _CUSTOMERS[category].id
    amounts = draw(st.lists(_amounts, min_size=1, max_size=12))
    lines = [
        RatedLine.adjustment(
            account=account,
            charge=f"c{i}",
            description=f"Line {i}",
            amount=Money(a, "EUR"),
            rounded=Money(a, "EUR"),
            kind="charge" if a >= 0 else "discount",
        )
        for i, a in enumerate(amounts)
    ]
    bill = AccountBill(
        account=account, lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    ).with_lines(lines)
    draft = assemble(
        bill,
        _CUSTOMERS[category],
        BillingPeriod.month(2026, 10, "Europe/Berlin"),
        taxes=draw(_RATES[category]),
    )
    return draft.finalise(
        Numbering("INV-{year}-{seq:04}"),
        InMemorySequenceStore(),
        issued_on=date(2026, 11, 1),
        terms=Net(30),
    )


class TestAssembledInvoicesValidate:
    @settings(
        max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(invoice=invoices(), fmt=st.sampled_from(["ubl", "cii"]))
    def test_any_invoice(self, validator, invoice, fmt):
        """An invoice cloudrate assembles (tax_method='total') meets EN 16931 as issued,
        whatever its lines, rates and discounts."""
        options = EInvoiceOptions(seller=DEMO_SELLER, seller_details=SELLER_DETAILS)
        xml = einvoice_bytes(invoice, fmt, options)
        assert [str(f) for f in validator.validate(xml, fmt, "invoice")] == []


def test_yen_invoice_has_whole_amounts(validator):
    """A JPY invoice (no minor units) is written with whole amounts and validates."""
    customer = _CUSTOMERS["S"]
    lines = [
        RatedLine.adjustment(
            account=customer.id,
            charge=f"c{i}",
            description=f"Line {i}",
            amount=Money(a, "JPY"),
            rounded=Money(a, "JPY"),
            kind="charge",
        )
        for i, a in enumerate(["1001", "333", "20"])
    ]
    bill = AccountBill(
        account=customer.id, lines=(), total=Money(0, "JPY"), exact_total=Money(0, "JPY")
    ).with_lines(lines)
    invoice = assemble(
        bill, customer, BillingPeriod.month(2026, 10), taxes=TaxRate(percent="10")
    ).finalise(
        Numbering("INV-{year}-{seq:04}"),
        InMemorySequenceStore(),
        issued_on=date(2026, 11, 1),
        terms=Net(30),
    )
    options = EInvoiceOptions(seller=DEMO_SELLER, seller_details=SELLER_DETAILS)
    for fmt in ("ubl", "cii"):
        xml = einvoice_bytes(invoice, fmt, options)
        assert f">{invoice.total.amount}<".encode() in xml
        assert [str(f) for f in validator.validate(xml, fmt, "invoice")] == []
