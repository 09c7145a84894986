"""Locale-aware formatting for rendered invoices: Babel formats, cloudrate rounds.

Amounts reach Babel already rounded by a :class:`~cloudrate.RoundingPolicy`, with a
pattern that has exactly as many decimals as the value, so Babel (which would round
half-even) never rounds anything. Babel computes in the thread's decimal context, so
every call into it runs in :func:`_room`, a copy of :data:`~cloudrate._money.EXACT` with
digits enough for the value: amounts up to :data:`~cloudrate._money.MAX_AMOUNT` format
exactly whatever the caller's context is.
"""

from __future__ import annotations

import decimal
import functools
import re
from datetime import date
from decimal import Decimal
from typing import Literal

import attrs
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    format_percent,
    format_scientific,
    parse_pattern,
)

from cloudrate._money import EXACT, RoundingPolicy, currency_digits
from cloudrate.exceptions import CloudrateError

__all__ = ["QUANTITY_PLACES", "SCIENTIFIC_FROM", "Formatter", "LocaleError", "check_locale"]

#: The most decimals a quantity shows (the exact value stays in the invoice's data).
QUANTITY_PLACES = 4
#: Quantities this large or larger show in scientific notation (``1.2346E26``): at most
#: 18 integer digits are written out, so a 60-digit quantity cannot run over its column.
SCIENTIFIC_FROM = Decimal(10) ** 18


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
        return _parsed(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise LocaleError(f"unknown locale {name!r}; {hint}") from None


@functools.lru_cache(maxsize=64)
def _parsed(name: str) -> Locale:
    """Babel's locale *name*, parsed once: a rendered invoice formats some twenty
    figures, and Babel parses a locale given by name at every call."""
    return Locale.parse(name)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _room(value: Decimal, places: int) -> decimal.Context:
    """:data:`~cloudrate._money.EXACT` with digits enough for *value* written with
    *places* decimals, for Babel's arithmetic (``quantize``, ``* 100``, ``normalize``),
    which runs in the current context: with the default 28 digits an amount of 10**26 EUR
    cannot be quantized to cents, and a caller's ``prec=4`` would round every figure.

    >>> with decimal.localcontext(_room(Decimal(10) ** 35, 2)) as room:
    ...     room.prec >= 38, room.traps[decimal.InvalidOperation]
    (True, True)
    """
    digits = len(value.as_tuple().digits)
    room = EXACT.copy()
    room.prec = max(EXACT.prec, digits, value.adjusted() + 1) + places + 4
    return room


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
        with decimal.localcontext(_room(value, places)):
            return format_currency(
                self._shown(value, places),
                self.currency,
                format=_pattern(self.locale, "currency", places),
                locale=_locale(self.locale),
                currency_digits=False,
            )

    def unit_price(self, value: Decimal) -> str:
        """A unit price: all its own decimals (0.0125 stays 0.0125), at least :attr:`places`."""
        with decimal.localcontext(_room(value, 0)):
            own = _places(value.normalize())
        return self.money(value, places=max(self.places, own))

    def number(self, value: Decimal, max_places: int = QUANTITY_PLACES) -> str:
        """A quantity for display (docs/rendering.md, "Quantities"): rounded to at most
        *max_places* decimals with :attr:`rounding`'s mode, trailing zeros dropped,
        grouped in the locale. A value that is not zero never shows as 0: below the last
        place it shows as ``<0.0001``. From :data:`SCIENTIFIC_FROM` on it is written
        ``1.2346E26`` (the mantissa rounded the same way). Only the display is rounded.

        >>> f = Formatter("de_DE", "EUR")
        >>> f.number(Decimal("4.19578853046594982078853046594982078853046594982078853046595"))
        '4,1958'
        >>> f.number(Decimal("0.00000001")), f.number(Decimal("-0.00000001")), f.number(Decimal(0))
        ('<0,0001', '>-0,0001', '0')
        >>> f.number(Decimal("123456789012345678901234567.123456789")), f.number(Decimal("2.5E+59"))
        ('1,2346E26', '2,5E59')
        """
        with decimal.localcontext(_room(value, max_places)):  # Babel uses the context
            if value.is_finite() and abs(value) >= SCIENTIFIC_FROM:
                return self._scientific(value, max_places)
            shown = self._shown(value, max_places).normalize()
            if not shown and value:
                least = Decimal(1).scaleb(-max_places)
                text = self._decimal(least, max_places)
                return f"<{text}" if value > 0 else f">-{text}"
            return self._decimal(shown, _places(shown))

    def _decimal(self, value: Decimal, places: int) -> str:
        pattern = _pattern(self.locale, "decimal", places)
        return format_decimal(value, format=pattern, locale=_locale(self.locale))

    def _scientific(self, value: Decimal, places: int) -> str:
        exponent = value.adjusted()
        mantissa = self._shown(value.scaleb(-exponent), places)
        if abs(mantissa) >= 10:  # 9.99996E20 rounds to 10.0000E20: 1E21
            exponent += 1
            mantissa = self._shown(value.scaleb(-exponent), places)
        pattern = "0." + "#" * places + "E0" if places else "0E0"
        return format_scientific(
            mantissa.normalize().scaleb(exponent), pattern, _locale(self.locale)
        )

    def percent(self, value: Decimal) -> str:
        """A tax rate given in percent: ``Decimal('19')`` -> ``'19\xa0%'`` in de_DE."""
        with decimal.localcontext(_room(value, 2)):
            shown = value.normalize()
            places = _places(shown)
            pattern = _pattern(self.locale, "percent", places)
            return format_percent(shown.scaleb(-2), format=pattern, locale=_locale(self.locale))

    def date(self, value: date | None) -> str:
        """A date in the locale's medium form: ``14.11.2026``, ``Nov 14, 2026``,
        ``2026/11/14``; empty for None."""
        if value is None:
            return ""
        return format_date(value, format="medium", locale=_locale(self.locale))


def _locale(name: str) -> Locale:
    return check_locale(name)


@functools.lru_cache(maxsize=256)
def _pattern(
    locale: str, kind: Literal["currency", "decimal", "percent"], places: int
) -> NumberPattern:
    """The *locale*'s standard *kind* pattern with exactly *places* decimals, parsed
    once (Babel parses a pattern string at every call)."""
    babel_locale = _locale(locale)
    if kind == "currency":
        standard = babel_locale.currency_formats["standard"]
    elif kind == "decimal":
        standard = babel_locale.decimal_formats[None]
    else:
        standard = babel_locale.percent_formats[None]
    return parse_pattern(_with_places(standard.pattern, places))


_NUMBER = re.compile(r"([#,]*0)(\.[0#]+)?")


def _with_places(pattern: str, places: int) -> str:
    """*pattern* with exactly *places* fraction digits in each of its sub-patterns."""
    fraction = "." + "0" * places if places else ""
    return _NUMBER.sub(lambda m: m.group(1) + fraction, pattern)
