"""Exchange rates cloudrate cannot apply exactly are refused, with the rate and the bound
(issue 12, group 1): the issue's rate of 1e400 used to crash with a raw decimal error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate._money import MAX_RATE, MIN_RATE, RoundingPolicy
from cloudrate.exceptions import PlanError, RatingError
from cloudrate.fx import ExchangeRate, FixedRates

ON = date(2026, 10, 30)


def rate(value: object) -> ExchangeRate:
    return ExchangeRate(base="EUR", quote="USD", rate=value, on=ON)


@given(st.integers(19, 1000))
def test_rates_beyond_the_bounds_are_refused(exponent):
    for value in (Decimal(1).scaleb(exponent), Decimal(1).scaleb(-exponent)):
        with pytest.raises(PlanError, match=r"rate: .* is outside the exchange rates"):
            rate(value)
        with pytest.raises(PlanError, match=r"rates\.USD: .* is outside"):
            FixedRates("EUR", {"USD": value})


@given(st.integers(-18, 18), st.integers(1, 9))
def test_rates_within_the_bounds_convert(exponent, digit):
    value = Decimal(digit).scaleb(exponent)
    if MIN_RATE <= value <= MAX_RATE:
        converted = rate(value).convert(Money("1.00", "EUR"), RoundingPolicy())
        assert converted.currency.code == "USD"


def test_the_issues_rate():
    with pytest.raises(PlanError, match=r"1E\+400 is outside .*1E-18 to 1E\+18"):
        rate("1e400")


def test_more_significant_digits_than_the_exact_context_are_refused():
    with pytest.raises(PlanError, match="61 significant digits"):
        rate("1." + "1" * 60)
    assert rate("1." + "1" * 59).rate == Decimal("1." + "1" * 59)


def test_a_conversion_beyond_the_largest_amount_is_refused():
    big = rate("1e18")
    assert big.convert(Money("1.00", "EUR")).amount == Decimal("1.00E+18")
    with pytest.raises(RatingError, match=r"beyond the largest amount cloudrate bills"):
        big.convert(Money("1e18", "EUR"))


def test_a_zero_host_rate_is_refused_before_any_division():
    with pytest.raises(PlanError, match=r"rates\.USD"):
        FixedRates("EUR", {"USD": "0"})
