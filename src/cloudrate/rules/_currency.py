"""Multi-currency: bills shown and paid in the customer's currency.

Prices stay in the plan's base currency. A bill is converted line by line at one
:class:`~cloudrate.fx.ExchangeRate`, fixed on the invoice with its date and source: each
line's exact amount times the rate, rounded in the target currency; the total is the
sum of the rounded converted lines. Each converted line keeps the steps that explain its
amount in the base currency and adds the conversion step; the
:class:`ConvertedBill` carries the rate, and
:func:`cloudrate.invoice.assemble` notes it on the invoice.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, check_currency
from cloudrate.exceptions import PlanError
from cloudrate.fx import ExchangeRate, RateSource
from cloudrate.plans import Detail
from cloudrate.rating import AccountBill, RatedLine

__all__ = ["ConvertedBill", "MultiCurrency", "convert_bill"]


@attrs.frozen(kw_only=True)
class ConvertedBill:
    """A bill in the customer's currency, with the rate fixed on it and the original."""

    original: AccountBill
    bill: AccountBill
    rate: ExchangeRate

    @property
    def total(self) -> Money:
        return self.bill.total

    @property
    def converted(self) -> bool:
        """Whether the bill changed currency (False at the rate 1 of the same currency)."""
        return self.rate.base != self.rate.quote

    def note(self) -> str | None:
        """The sentence an invoice of the converted bill carries, None if not converted.

        >>> import cloudrate
        >>> bill = cloudrate.AccountBill(account="acme", lines=(),
        ...     total=Money(0, "EUR"), exact_total=Money(0, "EUR"))
        >>> fx = ExchangeRate(base="EUR", quote="USD", rate="1.0832", on=date(2026, 10, 30),
        ...                   source="ECB reference rate")
        >>> convert_bill(bill, fx).note()
        'Amounts converted from EUR at 1.0832 USD/EUR (ECB reference rate, rate of 2026-10-30)'
        """
        if not self.converted:
            return None
        fx = self.rate
        return (
            f"Amounts converted from {fx.base} at {_per(fx)} "
            f"({fx.source}, rate of {fx.on.isoformat()})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate.to_dict(),
            "original_total": str(self.original.total.amount),
            "original_currency": str(self.original.total.currency.code),
            **self.bill.to_dict(),
        }


def _per(rate: ExchangeRate) -> str:
    return f"{rate.rate} {rate.quote}/{rate.base}"


def _conversion(line: RatedLine, rate: ExchangeRate, exact: Decimal) -> tuple[Detail, ...]:
    """The step that explains a converted line: its exact amount times the rate."""
    if rate.base == rate.quote:
        return ()
    label = f"converted {line.amount.amount} {rate.base} at {_per(rate)}"
    return (Detail(label, None, None, Money(exact, rate.quote)),)


def convert_bill(
    bill: AccountBill, rate: ExchangeRate, rounding: RoundingPolicy | None = None
) -> ConvertedBill:
    """*bill* in *rate*'s quote currency: each line's exact amount times the rate, rounded
    by *rounding* in the quote currency; the total is the sum of the rounded lines. Each
    line's details end with the conversion step.

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
    >>> print(converted.bill.lines[0].explain())
    per unit: 4735 x 0.0125 EUR = 59.1875 EUR
    converted 59.1875 EUR at 162.37 JPY/EUR: 9610.274375 JPY
    rounded 9610.274375 to 9610
    """
    policy = rounding or RoundingPolicy()
    quote = rate.quote
    lines: list[RatedLine] = []
    with decimal.localcontext(EXACT):
        for line in bill.lines:
            exact = rate.convert(line.amount).amount
            lines.append(
                attrs.evolve(
                    line,
                    amount=Money(exact, quote),
                    rounded=Money(policy.round(exact, quote), quote),
                    unit_price=None if line.unit_price is None else rate.convert(line.unit_price),
                    unit=quote if line.unit == line.currency else line.unit,
                    details=(*line.details, *_conversion(line, rate, exact)),
                )
            )
        converted = AccountBill(
            account=bill.account,
            lines=tuple(lines),
            total=Money(sum((x.rounded.amount for x in lines), Decimal(0)), quote),
            exact_total=Money(sum((x.amount.amount for x in lines), Decimal(0)), quote),
        )
    return ConvertedBill(original=bill, bill=converted, rate=rate)


def _currencies(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise PlanError.refusing(
            "currencies",
            "a list of ISO 4217 codes such as ['USD', 'JPY']",
            value,
            "pass a list, ['USD'] for one currency or [] for none but the default",
            expected="a list of ISO 4217 codes",
        )
    return tuple(check_currency(c, "currencies") for c in value)


def _check_enabled(_inst: object, _attr: object, value: bool) -> None:
    if not isinstance(value, bool):
        raise PlanError.refusing(
            "enabled",
            "True or False, whether customers may choose a currency",
            value,
            "pass True or False",
            expected="a bool",
        )


def _check_source(source: object) -> None:
    if not callable(getattr(source, "rate", None)):
        raise PlanError.refusing(
            "source",
            "a rate source, an object with rate(base, quote, on)",
            source,
            "for rates you fix pass FixedRates('EUR', {'USD': '1.1172'}), or EcbRates()",
            expected="a RateSource",
        )


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

    enabled: bool = attrs.field(default=False, validator=_check_enabled)
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
            raise PlanError(
                f"currency {chosen!r} is not offered; choose one of {', '.join(self.offered)}"
            )
        return chosen

    def bill_in(
        self,
        bill: AccountBill,
        chosen: str | None,
        source: RateSource,
        on: date,
        rounding: RoundingPolicy | None = None,
    ) -> ConvertedBill:
        """*bill* in the customer's currency, at *source*'s rate on *on* (rate 1 when the
        bill already is in it)."""
        base = str(bill.total.currency.code)
        quote = self.currency_for(chosen)
        if quote == base:  # the bill as it is: its lines keep the rounding they were rated with
            rate = ExchangeRate(base=base, quote=base, rate=1, on=on, source="same currency")
            return ConvertedBill(original=bill, bill=bill, rate=rate)
        _check_source(source)
        return convert_bill(bill, source.rate(base, quote, on), rounding)
