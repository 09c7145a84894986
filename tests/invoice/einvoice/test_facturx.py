"""Factur-X / ZUGFeRD: the rendered PDF with the EN 16931 CII XML attached."""

from __future__ import annotations

import io

import pytest

from cloudrate.cli._render_demo import DEMO_LOCALES
from cloudrate.invoice.einvoice import to_cii, to_facturx, write_einvoice

from .conftest import options_for

facturx = pytest.importorskip("facturx", reason="Factur-X needs cloudrate[einvoice]")
pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst", reason="the invoice PDF needs cloudrate[pdf]")


def _blank_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(name="facturx_files", scope="module")
def _facturx_files(demo):
    return {a: to_facturx(inv, options_for(a), locale=DEMO_LOCALES[a]) for a, inv in demo.items()}


class TestFacturX:
    @pytest.mark.parametrize("account", ["acme", "globex", "initech"])
    def test_opens_as_a_pdf_with_the_same_xml(self, demo, facturx_files, validator, account):
        """The file is a normal PDF (pages, text), its attachment is byte for byte the CII
        XML, and that XML validates (CII XSD, CEN, Factur-X XSD and schematron)."""
        pdf = facturx_files[account]
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) >= 1
        assert demo[account].number in reader.pages[0].extract_text()
        name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
        assert name == "factur-x.xml"
        assert xml == to_cii(demo[account], options_for(account), "facturx")
        assert [str(f) for f in validator.validate(xml, "facturx", "invoice")] == []
        assert "/AF" in reader.trailer["/Root"]

    def test_metadata_says_factur_x_en16931(self, facturx_files):
        reader = pypdf.PdfReader(io.BytesIO(facturx_files["acme"]))
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
        assert b"<pdfaid:part>3</pdfaid:part>" in xmp
        assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
        assert reader.metadata["/CreationDate"] == "D:20261101000000+00'00'"

    def test_same_invoice_same_bytes(self, demo, facturx_files):
        """The clock is not stamped in: the issue date is."""
        again = to_facturx(demo["acme"], options_for("acme"), locale="de_DE")
        assert again == facturx_files["acme"]

    def test_credit_note_with_its_own_pdf(self, credit_note, validator, tmp_path):
        """A credit note needs its PDF passed; the attachment validates as type 381."""
        path = write_einvoice(
            credit_note, "facturx", tmp_path, options_for("acme"), pdf=_blank_pdf()
        )
        assert path.name == f"{credit_note.number}.pdf"
        _, xml = facturx.get_xml_from_pdf(path.read_bytes(), check_xsd=False)
        assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
        assert [str(f) for f in validator.validate(xml, "facturx", "credit_note")] == []
