"""HTML and PDF invoices: localised figures, escaping, fonts for every script, determinism."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import AccountBill, BillingPeriod, RatedLine
from cloudrate.cli._render_demo import DEMO_LOCALES, DEMO_SELLER, demo_invoices
from cloudrate.fx import ExchangeRate
from cloudrate.invoice import Customer, Payment, TaxRate, assemble
from cloudrate.invoice.render import (
    Figure,
    LocaleError,
    RenderError,
    Seller,
    invoice_context,
    render_html,
    render_pdf,
)

NBSP = "\xa0"


def _bill(*amounts: str) -> AccountBill:
    lines = [
        RatedLine.adjustment(
            account="c1",
            charge=f"c{i}",
            description=f"Service {i}",
            amount=Money(a, "EUR"),
            rounded=Money(a, "EUR"),
            kind="charge",
        )
        for i, a in enumerate(amounts)
    ]
    return AccountBill(
        account="c1", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    ).with_lines(lines)


def issued(customer_name: str = "Client", *amounts: str, **changes) -> cloudrate.invoice.Invoice:
    draft = assemble(
        _bill(*(amounts or ("100.00",))),
        Customer(id="c1", name=customer_name),
        BillingPeriod.month(2026, 10, "Europe/Berlin"),
        taxes=TaxRate(percent="19"),
    )
    fields = {
        "state": "issued",
        "number": "INV-2026-0042",
        "issued_on": date(2026, 11, 1),
        "due_on": date(2026, 11, 15),
    }
    fields.update(changes)
    return attrs.evolve(draft, **fields)


@pytest.fixture(scope="module", name="demo")
def _demo():
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    return demo_invoices(cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path())))


class TestHtml:
    def test_customer_text_is_escaped(self):
        """Customer-provided text never becomes markup."""
        evil = '<script>alert("x")</script> & Co'
        page = render_html(issued(evil), locale="en_US")
        assert "<script>" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in page

    def test_localised_figures(self):
        page = render_html(issued("Kunde"), locale="de_DE")
        assert "Rechnung" in page and f"119,00{NBSP}€" in page and "15.11.2026" in page
        assert f"VAT 19{NBSP}% auf 100,00{NBSP}€" in page

    def test_host_template_dir_overrides(self, tmp_path):
        """A host's invoice.html replaces the shipped one; autoescape stays on."""
        (tmp_path / "invoice.html").write_text(
            "<p>{{ number }} for {{ customer.name }}: {{ total }}</p>", encoding="utf-8"
        )
        page = render_html(issued("A<B"), locale="en_US", template_dir=tmp_path)
        assert page == "<p>INV-2026-0042 for A&lt;B: €119.00</p>"

    def test_host_template_extends_the_shipped_layout(self, tmp_path):
        """Overriding one block keeps the rest of the shipped invoice."""
        (tmp_path / "invoice.html").write_text(
            '{% extends "cloudrate_invoice.html" %}{% block footer %}<footer>Thanks, '
            "{{ customer.name }}!</footer>{% endblock %}",
            encoding="utf-8",
        )
        page = render_html(issued("A&B"), locale="en_US", template_dir=tmp_path)
        assert "<footer>Thanks, A&amp;B!</footer>" in page and "€119.00" in page

    def test_host_template_errors_are_named(self, tmp_path):
        (tmp_path / "invoice.html").write_text("{{ no_such_value }}", encoding="utf-8")
        with pytest.raises(RenderError, match=r"template 'invoice\.html' failed"):
            render_html(issued(), locale="en_US", template_dir=tmp_path)

    def test_unknown_locale(self):
        with pytest.raises(LocaleError, match="unknown locale 'xx_YY'"):
            render_html(issued(), locale="xx_YY")

    def test_locale_defaults_to_the_customers(self):
        inv = issued()
        french = attrs.evolve(inv, customer=attrs.evolve(inv.customer, locale="fr_FR"))
        assert "Facture" in render_html(french)
        with pytest.raises(LocaleError, match="no locale for invoice INV-2026-0042"):
            render_html(inv)

    def test_overdue_badge_depends_on_now(self):
        inv = issued()
        assert "badge-unpaid" in render_html(inv, locale="en_US", now=date(2026, 11, 15))
        assert "badge-overdue" in render_html(inv, locale="en_US", now=date(2026, 11, 16))
        late = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # already Nov 16 in Berlin
        assert "badge-overdue" in render_html(inv, locale="en_US", now=late)

    def test_payments_and_amount_due(self):
        inv = issued(payments=(Payment(amount=Money("19.00", "EUR"), on=date(2026, 11, 5)),))
        page = render_html(inv, locale="en_US")
        assert "Paid" in page and "€19.00" in page and "Amount due" in page
        assert "Please pay €100.00 by Nov 15, 2026." in page

    def test_cost_decimal_points(self):
        page = render_html(issued("X", "0.1234", display_decimals=4), locale="en_US")
        assert "€0.1234" in page  # the line
        # tax 19% of 0.1234 rounds to the currency's 0.02; shown padded to 4 decimals
        assert "€0.0200" in page and "€0.1434" in page

    def test_exchange_rate_shown(self):
        fx = ExchangeRate(
            base="EUR", quote="USD", rate="1.0842", on=date(2026, 10, 30), source="ECB"
        )
        page = render_html(issued(exchange_rate=fx), locale="en_US")
        assert "Total in USD at 1.0842 (ECB, Oct 30, 2026)" in page and "$129.02" in page

    def test_any_figure_embeds(self):
        """A chart is anything with a title and an SVG: the renderers need no portal."""

        @attrs.frozen
        class Dot:
            title: str = "Dot <1>"

            def svg(self) -> bytes:
                return b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>'

        assert isinstance(Dot(), Figure)
        page = render_html(issued(), locale="en_US", charts=[Dot()])
        assert "Dot &lt;1&gt;" in page and 'src="data:image/svg+xml;base64,' in page

    def test_portal_charts_are_figures(self):
        from cloudrate.portal.charts import Chart

        assert isinstance(Chart(spec_json="{}", title="Usage"), Figure)

    def test_charts_embed(self):
        pytest.importorskip("vl_convert")
        from cloudrate.portal.charts import billing_status_chart

        page = render_html(issued(), locale="en_US", charts=[billing_status_chart({"paid": 1})])
        assert 'src="data:image/svg+xml;base64,' in page


class TestContext:
    def test_keys(self):
        """The context holds every key docs/rendering.md lists, and no other."""
        assert set(invoice_context(issued(), locale="en_US")) == {
            *("locale", "labels", "currency", "title", "number", "draft", "issued", "due"),
            *("terms", "period", "status", "status_label", "seller", "customer", "lines"),
            *("taxes", "subtotal", "tax_total", "total", "paid", "credited", "amount_due"),
            *("credit_balance", "notes", "please_pay", "exchange", "converted_total", "charts"),
        }

    def test_figures_of_a_paid_in_part_invoice(self):
        """Paid and credit balance are empty until there is something to show; the payment
        request names what is left and the due date."""
        inv = issued(payments=(Payment(amount=Money("19.00", "EUR"), on=date(2026, 11, 5)),))
        ctx = invoice_context(inv, locale="en_US", now=date(2026, 11, 16))
        assert (ctx["paid"], ctx["credited"], ctx["credit_balance"]) == ("€19.00", "", "")
        assert ctx["amount_due"] == "€100.00" and ctx["status"] == "overdue"
        assert ctx["please_pay"] == "Please pay €100.00 by Nov 15, 2026."
        assert (ctx["exchange"], ctx["converted_total"]) == ("", "")
        assert ctx["period"] == "Oct 1, 2026 \u2013 Oct 31, 2026"
        assert (ctx["title"], ctx["number"], ctx["draft"]) == ("Invoice", "INV-2026-0042", False)

    def test_void_and_overpaid_invoices_ask_for_nothing(self):
        over = issued(payments=(Payment(amount=Money("120.00", "EUR"), on=date(2026, 11, 5)),))
        ctx = invoice_context(over, locale="en_US")
        assert ctx["please_pay"] == "" and ctx["credit_balance"] == "€1.00"
        void = attrs.evolve(issued(), state="void")
        assert invoice_context(void, locale="en_US")["please_pay"] == ""

    def test_draft_heading(self):
        draft = attrs.evolve(issued(), state="draft", number=None)
        ctx = invoice_context(draft, locale="de_DE")
        assert (ctx["title"], ctx["number"], ctx["draft"]) == ("Rechnung (Entwurf)", "", True)


pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst")


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


class TestPdf:
    def test_demo_invoices_hold_what_an_invoice_must(self, demo):
        """Seller, customer, number, dates, lines, tax per rate, total and due date are
        in the PDF text, in each customer's locale; CJK included."""
        for account, invoice in demo.items():
            pdf = render_pdf(invoice, DEMO_LOCALES[account], seller=DEMO_SELLER)
            assert pdf.startswith(b"%PDF-")
            text = text_of(pdf)
            assert "Example Cloud GmbH" in text and invoice.number in text
            assert invoice.customer.name in text
            assert "vCPU" in text and "Platform fee" in text
        ja = text_of(render_pdf(demo["initech"], "ja_JP", seller=DEMO_SELLER))
        assert "株式会社イニテック" in ja and "東京都千代田区丸の内" in ja and "請求書" in ja
        de = text_of(render_pdf(demo["acme"], "de_DE", seller=DEMO_SELLER))
        assert "280,71 €" in de.replace(NBSP, " ") and "15.11.2026" in de
        assert "VAT 19 % auf 235,89 €" in de.replace(NBSP, " ")

    def test_every_script_prints(self):
        """Names in Latin, Greek, Cyrillic, Chinese, Japanese and Korean come out as text
        (a missing glyph would drop out of the extracted text)."""
        names = [
            "Ελληνική Εταιρεία",
            "ООО Ромашка",  # noqa: RUF001 - Cyrillic on purpose: the test is that it prints
            "北京云计算有限公司",
            "株式会社テスト",
            "삼성전자 주식회사",
        ]
        for name in names:
            text = text_of(render_pdf(issued(name), "en_US"))
            assert name in text, name

    @pytest.mark.parametrize(
        ("name", "font"),
        [
            ("شركة الحوسبة السحابية", "NotoSansArabic"),
            ("บริษัท คลาวด์ จำกัด", "NotoSansThai"),
            ("株式会社テスト", "NotoSansCJK"),
            ("ACME", "NotoSans-"),
        ],
    )
    def test_fallback_fonts_are_embedded(self, name, font):
        """Scripts whose shaping text extraction cannot undo are checked by the font that
        typeset them: each script falls back to its Noto font."""
        reader = pypdf.PdfReader(io.BytesIO(render_pdf(issued(name), "en_US")))
        fonts = {
            str(f.get_object()["/BaseFont"])
            for f in reader.pages[0]["/Resources"]["/Font"].values()
        }
        assert any(font in f for f in fonts), fonts

    def test_markup_in_names_is_text(self):
        """Typst markup in customer text is printed, not interpreted."""
        name = "#set page(width: 1cm) *bold* $x$ _u_ @ref <lbl> \\"
        text = " ".join(text_of(render_pdf(issued(name), "en_US")).split())
        assert name in text

    def test_deterministic(self):
        inv = issued("Ünïcødé GmbH")
        assert render_pdf(inv, "fr_FR") == render_pdf(inv, "fr_FR")

    def test_locales(self):
        for locale, total in [
            ("en_US", "€119.00"),
            ("fr_FR", "119,00 €"),
            ("ja_JP", "€119.00"),
            ("en_IN", "€119.00"),
            ("de_DE", "119,00 €"),
        ]:
            text = text_of(render_pdf(issued(), locale)).replace(NBSP, " ").replace("\u202f", " ")
            assert total in text, locale

    def test_unknown_locale(self):
        with pytest.raises(LocaleError, match="unknown locale"):
            render_pdf(issued(), "klingon")

    def test_a_hyphenated_locale(self):
        """``de-DE`` gives the PDF of ``de_DE`` (it raised Babel's ValueError before)."""
        assert render_pdf(issued(), "de-DE") == render_pdf(issued(), "de_DE")

    def test_broken_template(self, tmp_path):
        bad = tmp_path / "bad.typ"
        bad.write_text("#let x = (", encoding="utf-8")
        with pytest.raises(RenderError, match="Typst could not typeset"):
            render_pdf(issued(), "en_US", template=bad)

    def test_draft_has_no_number(self):
        draft = attrs.evolve(issued(), state="draft", number=None, issued_on=None, due_on=None)
        text = text_of(render_pdf(draft, "en_US"))
        assert "Invoice (Draft)" in text and "INV-" not in text

    def test_seller_type(self):
        assert Seller(name="S", payment_details="IBAN X\nBIC Y").payment_details == (
            "IBAN X",
            "BIC Y",
        )

    def test_total_figure_matches_the_invoice(self, demo):
        """The total printed is the invoice total (sum of rounded lines plus tax)."""
        inv = demo["globex"]
        assert (
            inv.total.amount
            == sum((x.amount.amount for x in inv.lines), Decimal(0)) + inv.tax_total.amount
        )
        assert "526,94 €" in text_of(render_pdf(inv, "fr_FR")).replace(NBSP, " ")


class TestProperties:
    @settings(max_examples=25)
    @given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
    def test_any_customer_name_is_escaped_in_html(self, name):
        """Whatever a customer calls itself, the HTML holds it escaped, never as markup."""
        page = render_html(issued(name), locale="en_US")
        escaped = (
            name.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&#34;")
            .replace("'", "&#39;")
        )
        assert escaped in page

    @settings(max_examples=15)
    @given(
        st.text(
            alphabet=st.sampled_from(
                list("ABCdefÄöüßçñ")
                + list("ΑβγДжЯ")
                + list("株式会社東京テストかな")
                + list("한국어")
            ),
            min_size=1,
            max_size=12,
        )
    )
    def test_names_in_many_scripts_print(self, name):
        """Short names mixing Latin, Greek, Cyrillic, Han, kana and Hangul all come out of
        the PDF as text: no glyph is missing."""
        text = "".join(text_of(render_pdf(issued(name), "en_US")).split())
        assert name in text
