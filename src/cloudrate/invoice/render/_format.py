"""Locale-aware formatting for rendered invoices: Babel formats, cloudrate rounds.

Amounts reach Babel already rounded by a :class:`~cloudrate.RoundingPolicy`, with a
pattern that has exactly as many decimals as the value, so Babel (which would round
half-even) never rounds anything.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import attrs
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from cloudrate._money import RoundingPolicy, currency_digits
from cloudrate.exceptions import CloudrateError

__all__ = ["Formatter", "LocaleError", "check_locale"]


class LocaleError(CloudrateError, ValueError):
    """A renderer was given a locale Babel does not know."""


def check_locale(name: object) -> Locale:
    """The Babel locale *name* (``de_DE``, ``ja_JP``...), or a clear error.

    >>> check_locale("de_DE").territory
    'DE'
    >>> check_locale("xx_YY")
    Traceback (most recent call last):
    ...
    cloudrate.invoice.render._format.LocaleError: unknown locale 'xx_YY'; give a CLDR locale \
such as 'en_US', 'de_DE', 'fr_FR', 'ja_JP' or 'en_IN'
    """
    hint = "give a CLDR locale such as 'en_US', 'de_DE', 'fr_FR', 'ja_JP' or 'en_IN'"
    if not isinstance(name, str) or not name.strip():
        raise LocaleError(f"locale: expected a locale name, got {name!r}; {hint}")
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise LocaleError(f"unknown locale {name!r}; {hint}") from None


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@attrs.frozen
class Formatter:
    """Formats the amounts, quantities and dates of one invoice in one locale.

    *decimals* is the number of decimals amounts show (the portal's "cost decimal
    points"); ``None`` shows the currency's minor units. Showing fewer decimals than an
    amount has rounds it for display with *rounding*'s mode; showing more pads zeros.

    >>> f = Formatter("de_DE", "EUR")
    >>> f.money(Decimal("1234.5"))
    '1.234,50\\xa0€'
    >>> Formatter("en_IN", "INR").money(Decimal("1234567.125"))
    '₹12,34,567.13'
    >>> Formatter("ja_JP", "JPY").money(Decimal("1235"))
    '￥1,235'
    >>> Formatter("en_US", "EUR", decimals=4).money(Decimal("0.5"))
    '€0.5000'
    >>> f.date(date(2026, 11, 14))
    '14.11.2026'
    """

    locale: str
    currency: str
    decimals: int | None = None
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)

    def __attrs_post_init__(self) -> None:
        check_locale(self.locale)

    @property
    def places(self) -> int:
        return currency_digits(self.currency) if self.decimals is None else self.decimals

    def _shown(self, value: Decimal, places: int) -> Decimal:
        return attrs.evolve(self.rounding, digits=places).round(value, self.currency)

    def money(self, value: Decimal, *, places: int | None = None) -> str:
        """*value* in the invoice currency with *places* (default :attr:`places`) decimals,
        in the locale's own currency pattern (grouping, symbol position, spaces)."""
        places = self.places if places is None else places
        pattern = _with_places(_locale(self.locale).currency_formats["standard"].pattern, places)
        return format_currency(
            self._shown(value, places),
            self.currency,
            format=pattern,
            locale=self.locale,
            currency_digits=False,
        )

    def unit_price(self, value: Decimal) -> str:
        """A unit price: all its own decimals (0.0125 stays 0.0125), at least :attr:`places`."""
        return self.money(value, places=max(self.places, _places(value.normalize())))

    def number(self, value: Decimal, max_places: int = 4) -> str:
        """A quantity with at most *max_places* decimals (half-up), trailing zeros dropped."""
        shown = self._shown(value, max_places).normalize()
        places = _places(shown)
        pattern = _with_places(_locale(self.locale).decimal_formats[None].pattern, places)
        return format_decimal(shown, format=pattern, locale=self.locale)

    def percent(self, value: Decimal) -> str:
        """A tax rate given in percent: ``Decimal('19')`` -> ``'19\xa0%'`` in de_DE."""
        places = _places(value.normalize())
        pattern = _with_places(_locale(self.locale).percent_formats[None].pattern, places)
        return format_percent(value.normalize().scaleb(-2), format=pattern, locale=self.locale)

    def date(self, value: date | None) -> str:
        """A date in the locale's medium form: ``14.11.2026``, ``Nov 14, 2026``,
        ``2026/11/14``; empty for None."""
        return "" if value is None else format_date(value, format="medium", locale=self.locale)


def _locale(name: str) -> Locale:
    return check_locale(name)


_NUMBER = re.compile(r"([#,]*0)(\.[0#]+)?")


def _with_places(pattern: str, places: int) -> str:
    """*pattern* with exactly *places* fraction digits in each of its sub-patterns."""
    fraction = "." + "0" * places if places else ""
    return _NUMBER.sub(lambda m: m.group(1) + fraction, pattern)
