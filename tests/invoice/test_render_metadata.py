"""HTML and PDF invoices record the Babel release and the CLDR version that formatted them."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import babel
import pytest
from babel.core import get_global
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine
from cloudrate.invoice import Customer, assemble
from cloudrate.invoice.render import invoice_context, render_html

pytest.importorskip("jinja2")


def _invoice():  # type: ignore[no-untyped-def]
    line = RatedLine.adjustment(
        account="acme",
        charge="setup",
        description="Setup",
        amount=Money("1234.5", "EUR"),
        rounded=Money("1234.50", "EUR"),
        kind="charge",
    )
    bill = AccountBill(
        account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    ).with_lines([line])
    return assemble(bill, Customer(id="acme", name="ACME"), BillingPeriod.month(2026, 10))


def _cldr() -> str:
    """The CLDR version read from Babel's global data directly (not the code under test)."""
    return str(get_global("cldr")["version"])


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and found.get("name"):
            self.meta[str(found["name"])] = str(found.get("content"))


class TestHtml:
    def test_meta_names_babel_and_cldr(self):
        """The HTML head carries <meta name="cldr-version"> and <meta name="babel-version">."""
        parser = _Meta()
        parser.feed(render_html(_invoice(), locale="de_DE"))
        assert parser.meta["cldr-version"] == _cldr()
        assert parser.meta["babel-version"] == babel.__version__


class TestPdf:
    def test_keywords_name_babel_and_cldr(self):
        """The PDF's document info and XMP keywords name the CLDR version and Babel."""
        pypdf = pytest.importorskip("pypdf")
        pytest.importorskip("typst")
        from cloudrate.invoice.render import render_pdf

        reader = pypdf.PdfReader(io.BytesIO(render_pdf(_invoice(), locale="de_DE")))
        expected = f"CLDR {_cldr()}, Babel {babel.__version__}"
        assert reader.metadata["/Keywords"] == expected
        xmp = reader.xmp_metadata
        assert xmp is not None
        assert f"<pdf:Keywords>{expected}</pdf:Keywords>" in xmp.stream.get_data().decode()


def test_context_and_json_unchanged():
    """The shared template context and the invoice's JSON do not hold the versions: the
    invoice JSON's bytes do not depend on the Babel installed."""
    invoice = _invoice()
    assert "formatted_with" not in invoice_context(invoice, locale="de_DE")
    assert "CLDR" not in json.dumps(invoice.to_dict(), default=str)
