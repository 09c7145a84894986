"""Formatting for rendered invoices: Babel formats by locale, RoundingPolicy rounds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import CloudrateError, RoundingPolicy
from cloudrate.invoice.render import Formatter, LocaleError, check_locale, labels_for

NBSP, NNBSP = "\xa0", "\u202f"


class TestMoney:
    @pytest.mark.parametrize(
        ("locale", "currency", "expected"),
        [
            ("de_DE", "EUR", f"1.234.567,89{NBSP}€"),
            ("en_US", "USD", "$1,234,567.89"),
            ("fr_FR", "EUR", f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
            ("ja_JP", "JPY", "￥1,234,568"),
            ("en_IN", "INR", "₹12,34,567.89"),
        ],
    )
    def test_locales(self, locale, currency, expected):
        """Grouping, decimal sign, symbol and its place follow the locale; JPY has no
        decimals (1234567.89 rounds half-up to 1234568)."""
        assert Formatter(locale, currency).money(Decimal("1234567.89")) == expected

    @pytest.mark.parametrize("locale", ["de-DE", "en-IN", "ja-JP"])
    def test_a_hyphenated_locale_formats_as_the_underscored_one(self, locale):
        """``de-DE`` (as browsers and BCP 47 write it) formats every figure as ``de_DE``
        does; it was taken by the check and then refused by Babel at the first figure."""
        hyphen, underscore = Formatter(locale, "EUR"), Formatter(locale.replace("-", "_"), "EUR")
        for method, value in [
            ("money", Decimal("1234567.891")),
            ("unit_price", Decimal("0.0125")),
            ("number", Decimal("1234.56789")),
            ("number", Decimal("2.5E+40")),
            ("percent", Decimal("19")),
        ]:
            assert getattr(hyphen, method)(value) == getattr(underscore, method)(value)
        assert hyphen.date(date(2026, 11, 14)) == underscore.date(date(2026, 11, 14))

    def test_policy_rounds_not_babel(self):
        """0.125 EUR shows 0,13 (half-up policy), where Babel alone gives 0,12."""
        assert Formatter("de_DE", "EUR").money(Decimal("0.125")) == f"0,13{NBSP}€"
        even = Formatter("de_DE", "EUR", rounding=RoundingPolicy(mode="half_even"))
        assert even.money(Decimal("0.125")) == f"0,12{NBSP}€"

    @pytest.mark.parametrize(
        ("decimals", "expected"),
        [
            (None, "€12.35"),
            (0, "€12"),
            (2, "€12.35"),
            (4, "€12.3456"),
            (6, "€12.345600"),
        ],
    )
    def test_cost_decimal_points(self, decimals, expected):
        """The display setting is respected: fewer decimals round, more pad zeros."""
        assert Formatter("en_US", "EUR", decimals).money(Decimal("12.3456")) == expected

    def test_unit_price_keeps_its_digits(self):
        f = Formatter("en_US", "EUR")
        assert f.unit_price(Decimal("0.0125")) == "€0.0125"
        assert f.unit_price(Decimal("5")) == "€5.00"

    @given(
        st.decimals(
            min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
        )
    )
    def test_shows_exactly_the_rounded_amount(self, amount):
        """For amounts already at the currency's digits, the digits shown are the amount's."""
        text = Formatter("en_US", "USD").money(amount)
        digits = text.replace("$", "").replace(",", "")
        assert Decimal(digits) == amount

    def test_negative_and_zero(self):
        f = Formatter("de_DE", "EUR")
        assert f.money(Decimal("-5")) == f"-5,00{NBSP}€"
        assert f.money(Decimal("0")) == f"0,00{NBSP}€"


class TestNumbersAndDates:
    def test_quantities(self):
        f = Formatter("de_DE", "EUR")
        assert f.number(Decimal("15800.32")) == "15.800,32"
        assert f.number(Decimal("1228.767606078")) == "1.228,7676"
        assert f.number(Decimal("6.7E+2")) == "670"
        assert Formatter("en_IN", "INR").number(Decimal("1234567")) == "12,34,567"

    def test_percent(self):
        assert Formatter("de_DE", "EUR").percent(Decimal("19")) == f"19{NBSP}%"
        assert Formatter("en_US", "EUR").percent(Decimal("7.5")) == "7.5%"

    @pytest.mark.parametrize(
        ("locale", "expected"),
        [
            ("de_DE", "14.11.2026"),
            ("en_US", "Nov 14, 2026"),
            ("fr_FR", "14 nov. 2026"),
            ("ja_JP", "2026/11/14"),
            ("en_IN", "14 Nov 2026"),
        ],
    )
    def test_dates(self, locale, expected):
        assert Formatter(locale, "EUR").date(date(2026, 11, 14)) == expected
        assert Formatter(locale, "EUR").date(None) == ""


class TestLocale:
    @pytest.mark.parametrize("bad", ["xx_YY", "", "english", None, 42])
    def test_unknown_locale_is_a_clear_error(self, bad):
        with pytest.raises(LocaleError, match="locale"):
            check_locale(bad)
        assert issubclass(LocaleError, CloudrateError) and issubclass(LocaleError, ValueError)

    def test_formatter_checks_its_locale(self):
        with pytest.raises(LocaleError, match="unknown locale 'zz_ZZ'"):
            Formatter("zz_ZZ", "EUR")

    def test_labels(self):
        assert labels_for("ja_JP")["invoice"] == "請求書"
        assert labels_for("de_AT")["due"] == "Fällig am"
        assert labels_for("pt_BR")["invoice"] == "Invoice"  # not translated: English
        with pytest.raises(KeyError, match="unknown invoice label"):
            labels_for("en_US", {"invioce": "x"})
