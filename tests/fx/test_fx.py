"""Exchange rates (``cloudrate.fx``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from moneyed import Money

from cloudrate import CurrencyMismatchError, FloatNotAllowedError, PlanError, RoundingPolicy
from cloudrate.fx import ExchangeRate


def _fx(**kw) -> ExchangeRate:
    fields = {"base": "EUR", "quote": "JPY", "rate": "162.35", "on": date(2026, 10, 30)}
    return ExchangeRate(**{**fields, **kw})


class TestExchangeRate:
    def test_convert_exact_and_rounded(self):
        """Conversion is exact; rounding is explicit and uses the quote's minor units."""
        fx = _fx()
        assert fx.convert(Money("10.01", "EUR")).amount == Decimal("10.01") * Decimal("162.35")
        assert fx.convert(Money("10.01", "EUR"), RoundingPolicy()) == Money(1625, "JPY")

    def test_wrong_currency(self):
        """Converting an amount not in the base currency raises."""
        with pytest.raises(CurrencyMismatchError):
            _fx().convert(Money(1, "USD"))

    @pytest.mark.parametrize(
        ("rate", "error"), [("0", PlanError), ("-1", PlanError), (1.1, FloatNotAllowedError)]
    )
    def test_bad_rates(self, rate, error):
        """Rates are positive exact numbers."""
        with pytest.raises(error):
            _fx(rate=rate)

    @pytest.mark.parametrize("on", ["2026-10-30", datetime(2026, 10, 30, tzinfo=UTC), None])
    def test_the_day_published_is_a_date(self, on):
        """A text or a datetime was taken, then failed when the invoice was written out."""
        with pytest.raises(PlanError, match=r"a datetime\.date such as date"):
            _fx(on=on)

    def test_to_dict(self):
        """Plain data, rate as a string."""
        assert _fx().to_dict() == {
            "base": "EUR",
            "quote": "JPY",
            "rate": "162.35",
            "on": "2026-10-30",
            "source": "unspecified",
        }
