"""Credit notes as PDF and HTML: the figures of the note, its invoice, fonts, determinism."""

from __future__ import annotations

import io

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.cli._einvoice_demo import demo_credit_note
from cloudrate.cli._render_demo import DEMO_SELLER, demo_invoices
from cloudrate.exceptions import NotFoundError, OptionError
from cloudrate.invoice import CreditNote, Customer
from cloudrate.invoice.render import (
    Formatter,
    LocaleError,
    credit_note_context,
    credit_note_labels,
    labels_for,
    render_credit_note_html,
    render_credit_note_pdf,
)

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst", reason="PDFs need cloudrate[pdf]")


@pytest.fixture(name="demo", scope="module")
def _demo():
    result = cloudrate.rate(
        cloudrate.load_plan(cloudrate.sample_plan_path()),
        cloudrate.read_usage(cloudrate.sample_usage_path()),
    )
    return demo_invoices(result)


@pytest.fixture(name="note", scope="module")
def _note(demo) -> CreditNote:
    """The demo's partial credit note on ACME's invoice (de_DE)."""
    return demo_credit_note(demo["acme"])


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(p.extract_text() for p in reader.pages)


def _fonts(pdf: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return {
        str(f.get_object()["/BaseFont"])
        for p in reader.pages
        for f in p["/Resources"]["/Font"].values()
    }


class TestContext:
    @pytest.mark.parametrize("locale", ["de_DE", "fr_FR", "ja_JP", "en_US"])
    def test_figures_are_the_notes_formatted_like_an_invoice(self, note, locale):
        """Every amount is the note's own, formatted by the invoices' Formatter."""
        fmt = Formatter(locale, note.currency)
        ctx = credit_note_context(note, locale=locale)
        assert ctx["number"] == note.number
        assert ctx["invoice_number"] == note.invoice_number
        assert ctx["reason"] == note.reason
        assert ctx["total"] == fmt.money(note.total.amount)
        assert ctx["subtotal"] == fmt.money(note.subtotal.amount)
        assert [x["amount"] for x in ctx["lines"]] == [
            fmt.money(x.amount.amount) for x in note.lines
        ]
        assert [t["amount"] for t in ctx["taxes"]] == [
            fmt.money(t.amount.amount) for t in note.taxes
        ]
        assert ctx["title"] == credit_note_labels(locale)["credit_note"]

    def test_labels_keep_the_invoice_words_and_take_overrides(self):
        words = credit_note_labels("de_DE", {"reason": "Anlass", "total": "Summe"})
        assert words["reason"] == "Anlass" and words["total"] == "Summe"
        assert words["description"] == labels_for("de_DE")["description"]
        with pytest.raises(NotFoundError, match="credit note label"):
            credit_note_labels("de_DE", {"no_such_label": "x"})


class TestPdf:
    def test_prints_the_seller_customer_number_invoice_lines_total_and_reason(self, note):
        ctx = credit_note_context(note, locale="de_DE")
        text = _text(render_credit_note_pdf(note, "de_DE", seller=DEMO_SELLER))
        for shown in (
            DEMO_SELLER.name,
            note.customer.name,
            note.number,
            note.invoice_number,
            "Gutschrift",
            ctx["total"],
            ctx["taxes"][0]["amount"],
            *(x.description for x in note.lines),
            note.reason,
        ):
            assert shown in text, shown

    def test_same_note_same_bytes(self, note):
        first = render_credit_note_pdf(note, "de_DE", seller=DEMO_SELLER)
        assert first[:8] == b"%PDF-1.7"
        assert render_credit_note_pdf(note, "de_DE", seller=DEMO_SELLER) == first
        a3b = render_credit_note_pdf(note, "de_DE", seller=DEMO_SELLER, pdf_standard="a-3b")
        assert a3b == render_credit_note_pdf(note, "de_DE", seller=DEMO_SELLER, pdf_standard="a-3b")
        assert a3b != first and b"<pdfaid:part>3</pdfaid:part>" in a3b
        other = attrs.evolve(note, reason="Another reason")
        assert render_credit_note_pdf(other, "de_DE", seller=DEMO_SELLER) != first

    def test_a_japanese_customer_prints_with_the_cjk_font(self, demo, note):
        japanese = attrs.evolve(note, customer=demo["initech"].customer)
        pdf = render_credit_note_pdf(japanese, "ja_JP", seller=DEMO_SELLER)
        assert demo["initech"].customer.name in _text(pdf)
        assert "クレジットノート" in _text(pdf)
        assert any("NotoSansCJK" in f for f in _fonts(pdf)), _fonts(pdf)

    @settings(max_examples=15, deadline=None)
    @given(reason=st.text(min_size=1, max_size=80).filter(lambda s: s.strip() == s and s))
    def test_any_reason_is_text_not_markup(self, note, reason):
        """Typst markup or odd characters in the reason never break the PDF."""
        pdf = render_credit_note_pdf(attrs.evolve(note, reason=reason), "en_US")
        assert pdf.startswith(b"%PDF-")

    def test_markup_in_the_reason_is_printed(self, note):
        text = _text(render_credit_note_pdf(attrs.evolve(note, reason="#pagebreak() *x*"), "en_US"))
        assert "#pagebreak() *x*" in text

    def test_no_locale_is_refused(self, note):
        bare = attrs.evolve(note, customer=Customer(id="acme", name="ACME"))
        with pytest.raises(LocaleError, match="no locale for credit note CN-2026-0001"):
            render_credit_note_pdf(bare)

    def test_an_unknown_pdf_standard_is_refused(self, note):
        with pytest.raises(OptionError, match="pdf_standard"):
            render_credit_note_pdf(note, "de_DE", pdf_standard="a-1a")  # type: ignore[arg-type]


class TestHtml:
    def test_escaped_and_with_the_figures(self, note):
        tricky = attrs.evolve(note, reason="<script>x</script>")
        page = render_credit_note_html(tricky, "fr_FR", seller=DEMO_SELLER)
        assert "&lt;script&gt;" in page and "<script>" not in page
        ctx = credit_note_context(note, locale="fr_FR")
        assert ctx["total"] in page and "Avoir" in page and note.invoice_number in page
