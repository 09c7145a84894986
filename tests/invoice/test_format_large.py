"""Large amounts on rendered invoices: every amount below MAX_AMOUNT formats exactly,
whatever the caller's decimal context (issue 12)."""

from __future__ import annotations

import decimal
import io
import re
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine, RoundingPolicy
from cloudrate._money import MAX_AMOUNT, currency_digits
from cloudrate.invoice import Customer, Invoice, assemble
from cloudrate.invoice.render import Formatter, render_html, render_pdf

#: A caller's context that would round to 4 digits and hide every error.
HOSTILE = decimal.Context(prec=4, rounding=decimal.ROUND_DOWN, traps=[])
LARGEST = Decimal("9" * 36 + ".99")  # MAX_AMOUNT - 0.01, written out (28-digit contexts)


def _digits(text: str) -> str:
    """The digits of a formatted amount and its sign, without grouping or symbol."""
    sign = "-" if "-" in text else ""
    return sign + re.sub(r"\D", "", text)


def _expected(amount: Decimal, places: int) -> str:
    """The amount's digits written with exactly *places* decimals (no context used)."""
    sign, coefficient, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, coefficient)) + "0" * (exponent + places)
    digits = digits.lstrip("0").rjust(places + 1, "0")
    return ("-" if sign else "") + digits  # a rounded -0.4 shows as -0, as Babel writes it


def amounts(currency: str) -> st.SearchStrategy[Decimal]:
    """Amounts below MAX_AMOUNT in size, with the currency's minor units, many of them huge."""
    places = currency_digits(currency)
    quantum = Decimal(1).scaleb(-places)
    units = st.integers(min_value=-(int(MAX_AMOUNT) * 10**places - 1), max_value=-1) | st.integers(
        min_value=0, max_value=int(MAX_AMOUNT) * 10**places - 1
    )
    return units.map(lambda n: Decimal(n).scaleb(-places) if n else Decimal(0).quantize(quantum))


class TestFormatterMoney:
    def test_the_reported_amount(self):
        """10**26 + 0.01 crashed with a raw InvalidOperation in Babel's rounding."""
        text = Formatter("en_US", "EUR").money(Decimal("1" + "0" * 26 + ".01"))
        assert text == "€100,000,000,000,000,000,000,000,000.01"

    @pytest.mark.parametrize(
        ("locale", "currency"),
        [("en_US", "EUR"), ("de_DE", "EUR"), ("ja_JP", "JPY"), ("ar_BH", "BHD"), ("en_IN", "INR")],
    )
    @given(data=st.data())
    def test_digits_are_the_amounts(self, locale, currency, data):
        """Any amount below MAX_AMOUNT with the currency's digits shows exactly its digits."""
        amount = data.draw(amounts(currency))
        expected = _expected(amount, currency_digits(currency))
        fmt = Formatter(locale, currency)
        assert _digits(fmt.money(amount)) == expected
        with decimal.localcontext(HOSTILE):
            assert _digits(fmt.money(amount)) == expected

    @given(amount=amounts("EUR"), decimals=st.integers(min_value=0, max_value=24))
    def test_cost_decimals_pad_exactly(self, amount, decimals):
        """More decimals than the currency's pad zeros; fewer round with the policy, for
        the largest amounts too and in a hostile context."""
        fmt = Formatter("en_US", "EUR", decimals=decimals)
        expected = _expected(RoundingPolicy(digits=decimals).round(amount, "EUR"), decimals)
        with decimal.localcontext(HOSTILE):
            assert _digits(fmt.money(amount)) == expected

    def test_unit_price_in_a_hostile_context(self):
        price = Decimal("123456789012345678901234567890.0125")
        with decimal.localcontext(HOSTILE):
            text = Formatter("en_US", "EUR").unit_price(price)
        assert text == "€123,456,789,012,345,678,901,234,567,890.0125"

    def test_percent_in_a_hostile_context(self):
        with decimal.localcontext(HOSTILE):
            assert Formatter("en_US", "EUR").percent(Decimal("19.123456")) == "19.123456%"

    def test_number_in_a_hostile_context(self):
        with decimal.localcontext(HOSTILE):
            assert Formatter("en_US", "EUR").number(Decimal("12345.67891")) == "12,345.6789"


def _invoice(*amounts: str) -> Invoice:
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
    bill = AccountBill(
        account="c1", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    ).with_lines(lines)
    draft = assemble(bill, Customer(id="c1", name="Big"), BillingPeriod.month(2026, 10, "UTC"))
    return attrs.evolve(
        draft,
        state="issued",
        number="INV-2026-0001",
        issued_on=date(2026, 11, 1),
        due_on=date(2026, 11, 15),
    )


class TestRenderedInvoices:
    def test_html_shows_the_largest_amount_exactly(self):
        """An invoice of 10**36 - 0.01 EUR renders, its total written out digit for digit,
        in the caller's hostile context too."""
        invoice = _invoice(str(LARGEST))
        shown = "€999,999,999,999,999,999,999,999,999,999,999,999.99"
        assert shown in render_html(invoice, locale="en_US")
        with decimal.localcontext(HOSTILE):
            assert shown in render_html(invoice, locale="en_US")

    def test_pdf_renders_the_largest_amount(self):
        pypdf = pytest.importorskip("pypdf")
        invoice = _invoice("9" * 35 + "8.99", "1.00")
        with decimal.localcontext(HOSTILE):
            pdf = render_pdf(invoice, locale="de_DE")
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        text = "".join(page.extract_text() for page in reader.pages)
        assert "999.999.999.999.999.999.999.999.999.999.999.999,99" in re.sub(r"\s", "", text)
