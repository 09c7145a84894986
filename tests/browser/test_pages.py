"""The HTML invoice and the usage page in a real headless Chromium (issue 15, part 4).

Each page is laid out at a desktop width (1280 CSS pixels) and a phone's (390, with the
phone's viewport rules), then checked as a person would see it: the totals, as the invoice
formats them, are in the page's visible text (``innerText``), nothing is wider than the
page (no horizontal scrolling, no element's box past the right edge), and a PNG of the
whole page is kept in the artefacts folder (``CLOUDRATE_TEST_ARTEFACTS``).
"""

from __future__ import annotations

import functools
import html
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money
from tests.browser import _chromium
from tests.browser._chromium import Chromium, Measured
from tests.browser.conftest import _unavailable

import cloudrate
from cloudrate import AccountBill, BillingPeriod, RatedLine, UsageRecord
from cloudrate.cli._render_demo import DEMO_LOCALES, DEMO_SELLER, demo_invoices
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Invoice,
    Net,
    Numbering,
    assemble,
    render_html,
)
from cloudrate.invoice.render import Formatter
from cloudrate.portal.usage_view import DateRange, UsageView, usage_view

#: (width in CSS pixels, laid out as a phone's screen)
WIDTHS = {"desktop": (1280, False), "phone": (390, True)}

HOSTILE_PLAN = """
name: Hostile
currency: EUR
charges:
  - {name: compute, description: vCPU, service: Compute, metric: vcpu_hours,
     model: per_unit, unit_price: "0.0125"}
  - {name: storage, description: Block storage, service: Storage, metric: volume_gb,
     model: per_unit, unit_price: "0.10"}
  - {name: requests, description: API requests, service: API, metric: requests,
     model: per_unit, unit_price: "1"}
"""
#: Quantities of 60 significant digits (the exact context's precision). Amounts come to
#: about 10**22 (amounts up to 10**36 are formatted exactly: tests/invoice/test_format_large.py).
SIXTY_DIGITS = (
    "1" * 20 + "." + "2" * 40,
    "9" * 22 + "." + "9" * 38,
    "0." + "0" * 20 + "9" * 60,
)


@functools.cache
def _sample() -> cloudrate.RatingResult:
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    return cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))


def _hostile() -> Invoice:
    """An issued invoice to a customer with a 10,000-character name and an unbroken
    300-character address line, for three usages of 60-digit quantities."""
    t0, t1 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)
    metrics = ("vcpu_hours", "volume_gb", "requests")
    usage = [
        UsageRecord(account="hostile", metric=m, quantity=q, start=t0, end=t1)
        for m, q in zip(metrics, SIXTY_DIGITS, strict=True)
    ]
    result = cloudrate.rate(
        cloudrate.load_plan(HOSTILE_PLAN), usage, BillingPeriod.month(2026, 10, "UTC")
    )
    customer = Customer(
        id="hostile", name="N" * 10_000, address=["A" * 300, "10115 Berlin"], country="DE"
    )
    return assemble(result, customer).finalise(
        Numbering("INV-{year}-{seq:04}"),
        InMemorySequenceStore(),
        issued_on=date(2026, 11, 1),
        terms=Net(14),
    )


@functools.cache
def _invoices() -> dict[str, tuple[Invoice, str]]:
    """The pages to check: name -> (invoice, locale)."""
    demo = demo_invoices(_sample())
    pages = {
        f"{account}-{DEMO_LOCALES[account]}": (i, DEMO_LOCALES[account])
        for account, i in demo.items()
    }
    pages.update({f"{account}-en_US": (i, "en_US") for account, i in demo.items()})
    partly_paid = demo["acme"].pay("100.00", date(2026, 11, 10), reference="SEPA-1")
    pages["acme-partly-paid-de_DE"] = (partly_paid, "de_DE")
    hostile = _hostile()
    pages["hostile-en_US"] = (hostile, "en_US")
    pages["hostile-de_DE"] = (hostile, "de_DE")
    return pages


#: The invoice pages, in the order :func:`_invoices` makes them.
INVOICES = (
    *(f"{account}-{locale}" for account, locale in DEMO_LOCALES.items()),
    *(f"{account}-en_US" for account in DEMO_LOCALES),
    "acme-partly-paid-de_DE",
    "hostile-en_US",
    "hostile-de_DE",
)


def assert_fits(page: Measured, name: str) -> None:
    """Nothing is wider than the page: no element's box past the screen's edges, no
    horizontal scrolling, and a phone lays the page out at its own width."""
    wide = ", ".join(
        f"{w['element']} (left {w['left']:.0f}, right {w['right']:.0f})" for w in page.wide[:5]
    )
    more = f" and {len(page.wide) - 5} more" if len(page.wide) > 5 else ""
    assert not page.wide, (
        f"{name} at {page.width} px: {len(page.wide)} elements leave the page: {wide}{more}"
    )
    assert page.scroll_width <= page.inner_width, (
        f"{name} at {page.width} px: the page is {page.scroll_width} px wide, wider than "
        f"the window ({page.inner_width} px)"
    )
    assert page.inner_width == page.width, (
        f"{name}: laid out {page.inner_width} px wide on a {page.width} px screen: "
        "is its <meta name=viewport> missing?"
    )


def _open(chromium: Chromium, artefacts: Path, name: str, page: str, width: str) -> Measured:
    source = artefacts / "pages" / f"{name}.html"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(page, encoding="utf-8")
    pixels, phone = WIDTHS[width]
    return chromium.render(
        source, pixels, screenshot=artefacts / f"{name}-{width}.png", phone=phone
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", INVOICES)
def test_invoice(chromium, artefacts, name, width):
    """The invoice's total and amount due (and paid, when it was) show, formatted as the
    invoice formats them for its locale, and the page fits the screen."""
    invoice, locale = _invoices()[name]
    page = _open(
        chromium,
        artefacts,
        name,
        render_html(invoice, locale, seller=DEMO_SELLER, now=date(2026, 11, 12)),
        width,
    )
    money = Formatter(locale, invoice.currency, invoice.display_decimals, invoice.rounding).money
    expected = [money(invoice.total.amount), money(invoice.amount_due.amount)]
    if invoice.paid.amount:
        expected.append(money(invoice.paid.amount))
    for text in expected:
        assert text in page.text, f"{name} at {width}: {text!r} is not on the page"
    assert invoice.number is not None and invoice.number in page.text
    assert_fits(page, name)


def _usage_page(account: str) -> tuple[UsageView, str]:
    """The usage page as a portal shows it: the usage view's own HTML in a page."""
    view = usage_view(
        _sample().plan,
        cloudrate.read_usage(cloudrate.sample_usage_path()),
        account=account,
        date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 31), "Europe/Berlin"),
    )
    return view, (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Usage of {html.escape(account)}</title></head><body>"
        f"{view._repr_html_()}</body></html>"
    )


#: A number of 16 or more digits as written out: an unrounded quantity.
UNROUNDED = re.compile(r"\d[\d.,]{15,}")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("account", sorted(DEMO_LOCALES))
def test_usage_page(chromium, artefacts, account, width):
    """The Total Estimated Bill and each service's cost show, no quantity is written
    unrounded, and the page fits.

    The usage view's only HTML is its notebook table (``UsageView._repr_html_``), whose
    card quantities are rounded for display as the invoice rounds them (they were written
    unrounded, ``2004.391946308724832214765101``, and ran over a phone's screen)."""
    view, source = _usage_page(account)
    page = _open(chromium, artefacts, f"usage-{account}", source, width)
    assert f"Total Estimated Bill\t{view.shown}" in page.text
    for row in view.services:
        assert f"{row.service}\t{row.shown}" in page.text
    assert not UNROUNDED.findall(page.text)
    assert_fits(page, f"usage page of {account}")


def test_a_page_wider_than_the_screen_is_caught(chromium, artefacts):
    """The check names what runs over: a table of nowrap cells on a phone."""
    cells = "".join(f"<td style='white-space: nowrap'>{'9' * 40}</td>" for _ in range(3))
    page = _open(
        chromium,
        artefacts,
        "too-wide",
        '<!DOCTYPE html><meta name="viewport" content="width=device-width">'
        f'<table class="lines"><tr>{cells}</tr></table>',
        "phone",
    )
    with pytest.raises(
        AssertionError,
        match=r"too-wide at 390 px: \d+ elements leave the page: "
        r"table\.lines \"9{40}",
    ):
        assert_fits(page, "too-wide")
    assert page.scroll_width > 390


#: Words of any script a customer's name may be in, some far longer than a line.
WORDS = st.text(
    st.characters(
        codec="utf-8",
        categories=("L", "N", "P", "S"),
        exclude_characters="\u00ad",  # a soft hyphen is a place to break: not the point
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=12, deadline=None)
@given(
    name=st.lists(WORDS, min_size=1, max_size=6).map(" ".join),
    description=st.lists(WORDS, min_size=1, max_size=6).map(" ".join),
)
def test_any_customer_text_fits_a_phone(chromium, artefacts, name, description):
    """Whatever the customer's name and the line's description (any script, words of up
    to 120 characters), the invoice fits a phone's screen and shows its total."""
    line = RatedLine.adjustment(
        account="a",
        charge="c0",
        description=description,
        amount=Money("1234567.89", "EUR"),
        rounded=Money("1234567.89", "EUR"),
        kind="charge",
    )
    bill = AccountBill(
        account="a", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    ).with_lines([line])
    invoice = assemble(bill, Customer(id="a", name=name), BillingPeriod.month(2026, 10, "UTC"))
    page = _open(chromium, artefacts, "any-text", render_html(invoice, "en_US"), "phone")
    assert Formatter("en_US", "EUR").money(invoice.total.amount) in page.text
    assert_fits(page, f"an invoice to {name!r}")


class TestWithoutChromium:
    """Without a browser the tests skip, unless CI requires one: then they fail."""

    def test_skips(self, monkeypatch):
        monkeypatch.delenv(_chromium.REQUIRE_VARIABLE, raising=False)
        with pytest.raises(pytest.skip.Exception, match="no Chromium"):
            _unavailable("no Chromium here")

    def test_fails_when_required(self, monkeypatch):
        monkeypatch.setenv(_chromium.REQUIRE_VARIABLE, "1")
        with pytest.raises(pytest.fail.Exception, match="CLOUDRATE_REQUIRE_BROWSER=1 requires"):
            _unavailable("no Chromium here")

    def test_finds_the_named_executable(self, monkeypatch, tmp_path):
        monkeypatch.setenv(_chromium.EXECUTABLE_VARIABLE, str(tmp_path / "chrome"))
        assert _chromium.find_executable() == str(tmp_path / "chrome")
