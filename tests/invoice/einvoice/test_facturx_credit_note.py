"""Factur-X credit notes: cloudrate's credit-note PDF, PDF/A-3b, with the CII (381) inside."""

from __future__ import annotations

import io

import attrs
import pytest

from cloudrate.cli._einvoice_demo import DEMO_SELLER
from cloudrate.invoice.einvoice import to_cii, to_facturx, write_einvoice
from cloudrate.invoice.render import credit_note_context

from .conftest import options_for

facturx = pytest.importorskip("facturx", reason="Factur-X needs cloudrate[einvoice]")
pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst", reason="the credit note PDF needs cloudrate[pdf]")


@pytest.fixture(name="note_pdf", scope="module")
def _note_pdf(credit_note) -> bytes:
    return to_facturx(credit_note, options_for("acme"), locale="de_DE")


class TestFacturXCreditNote:
    def test_opens_as_a_pdf_with_the_same_xml_which_validates(
        self, credit_note, note_pdf, validator
    ):
        """A normal PDF (the credit note's own page), its attachment byte for byte the CII
        XML, type code 381, and that XML passes the CII XSD, the CEN EN 16931 rules and
        the Factur-X XSD and schematron with no finding."""
        reader = pypdf.PdfReader(io.BytesIO(note_pdf))
        text = reader.pages[0].extract_text()
        ctx = credit_note_context(credit_note, locale="de_DE")
        for shown in (credit_note.number, credit_note.invoice_number, DEMO_SELLER.name):
            assert shown in text
        assert ctx["total"] in text
        name, xml = facturx.get_xml_from_pdf(note_pdf, check_xsd=False)
        assert name == "factur-x.xml"
        assert xml == to_cii(credit_note, options_for("acme"), "facturx")
        assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
        assert [str(f) for f in validator.validate(xml, "facturx", "credit_note")] == []
        assert "/AF" in reader.trailer["/Root"]

    def test_pdf_a_3b_metadata_says_factur_x_credit_note(self, note_pdf):
        reader = pypdf.PdfReader(io.BytesIO(note_pdf))
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
        assert b"<pdfaid:part>3</pdfaid:part>" in xmp
        assert b"<pdfaid:conformance>B</pdfaid:conformance>" in xmp
        assert b"<fx:DocumentType>" in xmp
        assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
        assert reader.metadata["/CreationDate"] == "D:20261120000000+00'00'"  # the issue date
        assert list(reader.trailer["/Root"]["/OutputIntents"])  # sRGB intent kept

    def test_same_note_same_bytes(self, credit_note, note_pdf):
        assert to_facturx(credit_note, options_for("acme"), locale="de_DE") == note_pdf

    def test_the_customers_locale_by_default(self, credit_note, note_pdf):
        assert credit_note.customer.locale == "de_DE"
        assert to_facturx(credit_note, options_for("acme")) != b""
        text = pypdf.PdfReader(io.BytesIO(note_pdf)).pages[0].extract_text()
        assert "Gutschrift" in text

    def test_a_japanese_customers_note_validates(self, demo, credit_note, validator):
        note = attrs.evolve(credit_note, customer=demo["initech"].customer)
        pdf = to_facturx(note, options_for("initech"), locale="ja_JP")
        assert (
            demo["initech"].customer.name
            in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        )
        _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
        assert [str(f) for f in validator.validate(xml, "facturx", "credit_note")] == []

    def test_written_as_pdf(self, credit_note, note_pdf, tmp_path):
        path = write_einvoice(credit_note, "facturx", tmp_path, options_for("acme"), locale="de_DE")
        assert path.name == f"{credit_note.number}.pdf"
        assert path.read_bytes() == note_pdf
