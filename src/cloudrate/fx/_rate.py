"""Exchange rates: the value fixed on an invoice when it is billed in another currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import (
    EXACT,
    MAX_AMOUNT,
    RoundingPolicy,
    check_currency,
    check_rate,
    to_decimal,
)
from cloudrate.exceptions import CurrencyMismatchError, PlanError, RatingError

from ._digits import RATE_DIGITS, divide_rates

__all__ = ["ExchangeRate", "check_day"]


def _rate(value: Any) -> Decimal:
    rate = to_decimal(value, "rate")
    if rate <= 0:
        raise PlanError(f"rate: must be above 0 (got {rate})")
    return check_rate(rate)


def check_day(value: object, where: str, meaning: str, path: str | None = None) -> date:
    """*value* if it is a :class:`datetime.date` (not a datetime), else a PlanError naming
    *where* (the error's *path*, *where* unless given) and what the day is (*meaning*).

    >>> check_day("2026-10-30", "on", "the day to convert on")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: on: the day to convert on, a datetime.date such as \
date(2026, 10, 30) (got str '2026-10-30'); for text pass date.fromisoformat('2026-10-30')
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    fix = "pass a datetime.date such as date(2026, 10, 30)"
    if isinstance(value, str):
        fix = f"for text pass date.fromisoformat({value!r})"
    elif isinstance(value, datetime):
        fix = "for a datetime pass its .date() in the timezone you bill in"
    raise PlanError.refusing(
        path or where,
        f"{meaning}, a datetime.date such as date(2026, 10, 30)",
        value,
        fix,
        expected="a datetime.date",
        where=where,
    )


@attrs.frozen(kw_only=True)
class ExchangeRate:
    """One unit of *base* is worth *rate* units of *quote*, as published on *on* by *source*.

    *on* is the day the rate was published (:attr:`published_on`), which for a day without
    a publication (a weekend, a holiday) is an earlier day than the one the rate is used
    for; :class:`EcbRates` says the day asked in *source*.

    >>> fx = ExchangeRate(base="EUR", quote="USD", rate="1.0842", on=date(2026, 10, 30),
    ...                   source="ECB reference rate")
    >>> fx.convert(Money("100.00", "EUR"))
    Money('108.420000', 'USD')
    >>> fx.convert(Money("100.00", "EUR"), RoundingPolicy())
    Money('108.42', 'USD')
    """

    base: str = attrs.field(validator=lambda _i, _a, v: check_currency(v, "base"))
    quote: str = attrs.field(validator=lambda _i, _a, v: check_currency(v, "quote"))
    rate: Decimal = attrs.field(converter=_rate)
    on: date = attrs.field(
        validator=lambda _i, _a, v: check_day(
            v, "exchange rate on", "the day the rate was published", path="on"
        )
    )
    source: str = "unspecified"

    @property
    def published_on(self) -> date:
        """The day *source* published this rate (*on*); invoices and explanations show it.

        >>> ExchangeRate(base="EUR", quote="USD", rate="1.0435", on=date(2024, 12, 27),
        ...              source="ECB").published_on
        datetime.date(2024, 12, 27)
        """
        return self.on

    def convert(self, amount: Money, rounding: RoundingPolicy | None = None) -> Money:
        """*amount* (in *base*) in *quote*: exact, or rounded by *rounding*."""
        if amount.currency.code != self.base:
            raise CurrencyMismatchError(
                self.base,
                amount.currency.code,
                "converted amount",
                fix=f"convert {self.base} amounts with this rate, or look up the rate of "
                f"{amount.currency.code}",
            )
        value = EXACT.multiply(amount.amount, self.rate)
        if value.copy_abs() >= MAX_AMOUNT:
            raise RatingError(
                f"{amount.amount} {self.base} at {self.rate} {self.quote} per {self.base} "
                f"comes to {value} {self.quote}, beyond the largest amount cloudrate bills "
                "(10**36); check the rate, and that base and quote are not swapped"
            )
        if rounding is not None:
            value = rounding.round(value, self.quote)
        return Money(value, self.quote)

    def inverse(self, digits: int = RATE_DIGITS) -> ExchangeRate:
        """One unit of *quote* in *base*: ``1 / rate``, exact when it ends within *digits*
        significant digits (60 by default, :data:`~cloudrate.fx.RATE_DIGITS`), else rounded
        half-even to *digits*. Same day and source.

        >>> fx = ExchangeRate(base="EUR", quote="GBP", rate="0.8", on=date(2026, 10, 30))
        >>> fx.inverse().rate, fx.inverse().inverse() == fx
        (Decimal('1.25'), True)
        >>> ExchangeRate(base="EUR", quote="USD", rate="1.0842", on=date(2026, 10, 30),
        ...              ).inverse(digits=10).rate
        Decimal('0.9223390518')

        .. versionadded:: 0.2
        """
        return ExchangeRate(
            base=self.quote,
            quote=self.base,
            rate=divide_rates(Decimal(1), self.rate, digits),
            on=self.on,
            source=self.source,
        )

    def to_dict(self) -> dict[str, str]:
        return {
            "base": self.base,
            "quote": self.quote,
            "rate": str(self.rate),
            "on": self.on.isoformat(),
            "source": self.source,
        }
