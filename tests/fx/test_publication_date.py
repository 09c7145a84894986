"""The ECB rate of a day without a publication records the day it was published."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod
from cloudrate.fx import EcbRates, ExchangeRate, FixedRates, RateNotFoundError
from cloudrate.invoice import Customer, assemble
from cloudrate.rules import convert_bill

pytest.importorskip("currency_converter")
_SHARED = EcbRates()  # one loaded copy of the rates for the property test

FRIDAY, SATURDAY, SUNDAY = date(2024, 12, 27), date(2024, 12, 28), date(2024, 12, 29)
CHRISTMAS_EVE, CHRISTMAS, BOXING_DAY = date(2024, 12, 24), date(2024, 12, 25), date(2024, 12, 26)
GOOD_FRIDAY, EASTER_MONDAY, MAUNDY_THURSDAY = (
    date(2025, 4, 18),
    date(2025, 4, 21),
    date(2025, 4, 17),
)


@pytest.fixture(name="ecb", scope="module")
def _ecb() -> EcbRates:
    return EcbRates()


class TestPublishedOn:
    @pytest.mark.parametrize(
        ("asked", "published"),
        [
            (SATURDAY, FRIDAY),
            (SUNDAY, FRIDAY),
            (CHRISTMAS, CHRISTMAS_EVE),
            (BOXING_DAY, CHRISTMAS_EVE),
            (GOOD_FRIDAY, MAUNDY_THURSDAY),
            (EASTER_MONDAY, MAUNDY_THURSDAY),
        ],
    )
    def test_weekend_and_holiday_take_the_last_publication(self, ecb, asked, published):
        """A Saturday, a Sunday and a TARGET holiday get the rate of the last day the ECB
        published, dated that day; the source names the day asked."""
        fx = ecb.rate("EUR", "USD", asked)
        assert fx.published_on == fx.on == published
        assert fx.rate == ecb.rate("EUR", "USD", published).rate
        assert fx.source.endswith(f"last rate on or before {published}, asked for {asked}")

    def test_a_publication_day_is_its_own(self, ecb):
        """A day with a publication is recorded as that day, with no note."""
        fx = ecb.rate("EUR", "USD", FRIDAY)
        assert fx.published_on == FRIDAY and fx.source == EcbRates.source

    def test_cross_rate_on_a_holiday(self, ecb):
        """A rate between two non-euro currencies is dated by its older publication."""
        fx = ecb.rate("USD", "GBP", CHRISTMAS)
        assert fx.published_on == CHRISTMAS_EVE

    @given(st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 10, 30)))
    def test_published_on_is_a_weekday_up_to_the_day_asked(self, day):
        """Any day's rate was published on a weekday on or before it, at most a week earlier,
        and is that day's own published rate."""
        ecb = _SHARED
        fx = ecb.rate("EUR", "USD", day)
        assert fx.published_on <= day and day - fx.published_on <= timedelta(days=7)
        assert fx.published_on.weekday() < 5
        again = ecb.rate("EUR", "USD", fx.published_on)
        assert again.published_on == fx.published_on and again.rate == fx.rate

    def test_too_old_a_publication_is_refused(self):
        """With max_age_days=0 a Saturday has no rate: the error says so and the fix."""
        with pytest.raises(RateNotFoundError, match="no rate for USD in the 0 days up to"):
            EcbRates(max_age_days=0).rate("EUR", "USD", SATURDAY)

    def test_fixed_rates_are_dated_as_given(self):
        """Host rates keep the date the host gives, the day asked without one."""
        src = FixedRates("EUR", {"USD": "1.08"}, on=FRIDAY)
        assert src.rate("EUR", "USD", SATURDAY).published_on == FRIDAY
        assert FixedRates("EUR", {"USD": "1.08"}).rate("EUR", "USD", SUNDAY).on == SUNDAY


class TestDocumentsShowThePublicationDate:
    def test_explanation_note_names_the_friday(self, ecb):
        """The converted bill's note dates the rate by its publication, not the Saturday."""
        bill = AccountBill(
            account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
        )
        note = convert_bill(bill, ecb.rate("EUR", "USD", SATURDAY)).note()
        assert note is not None and "rate of 2024-12-27" in note and "2024-12-28)" not in note

    def test_invoice_shows_the_publication_date(self, ecb):
        """The invoice's rate sentence gives the publication date."""
        render = pytest.importorskip("cloudrate.invoice.render")
        bill = AccountBill(
            account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
        )
        customer = Customer(id="acme", name="ACME", country="DE")
        inv = assemble(
            bill,
            customer,
            BillingPeriod.month(2024, 12, "UTC"),
            exchange_rate=ecb.rate("EUR", "USD", SATURDAY),
        )
        html = render.render_html(inv, locale="en_GB")
        assert "27 Dec 2024" in html and "28 Dec 2024" not in html

    def test_exchange_rate_published_on_is_on(self):
        """published_on is the date the rate was fixed with."""
        fx = ExchangeRate(base="EUR", quote="USD", rate=Decimal("1.1"), on=FRIDAY)
        assert fx.published_on == FRIDAY
