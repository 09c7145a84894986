"""Flat recurring fees per period, prorated for partial periods."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._documents import join_path
from cloudrate._money import exact
from cloudrate.exceptions import PlanError
from cloudrate.period import BillingPeriod

from ._fields import as_money, non_negative_money
from ._model import Basis
from ._priced import Detail, Priced
from ._proration import (
    PRORATIONS,
    RENAMED_PRORATIONS,
    Proration,
    current_proration,
    proration_factor,
)

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = ["Flat"]


def _check_proration(_inst: object, _attr: object, value: str) -> None:
    if value not in PRORATIONS:
        raise PlanError(f"proration: must be one of {', '.join(PRORATIONS)} (got {value!r})")


def _check_digits(_inst: object, _attr: object, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise PlanError(f"proration_digits: must be a whole number >= 0 or null (got {value!r})")


@attrs.frozen
class Flat:
    """A fixed *price* per period, prorated when the charged thing is active for part of it.

    *proration* says how the share of the period is measured:

    - ``days`` (default): calendar days touched, in the period's timezone, over the days
      of the period (a VM started on the 21st of a 31-day month pays 11/31);
    - ``seconds``: active seconds over the seconds of the period;
    - ``days_of_30``: days touched over a fixed 30 (so 31 days are capped at 1, all of
      February is 28/30); formerly ``days30``, still read with a ``DeprecationWarning``;
    - ``thirty_day_months``: Kill Bill's fixed 30-day months
      (``org.killbill.invoice.proration.fixed.days=30``): days touched, each month
      counted as 30 days (its last day weighs 31 minus the month's length: the 31st
      nothing, 28 February three days), over 30 per month of the period; a period wholly
      covered is 1. The period must be whole months (calendar or anniversary);
    - ``none``: any activity pays the full price.

    *proration_digits* rounds the factor half-up to that many places before it is used
    (as some billing systems do); ``None`` keeps it exact.

    >>> fee = Flat(Money("49.00", "EUR"))
    >>> fee.price(Decimal(1)).amount
    Money('49.00', 'EUR')
    >>> period = BillingPeriod.month(2026, 10, "UTC")
    >>> spans = [(datetime(2026, 10, 21, 9, tzinfo=period.tz), period.end)]
    >>> fee.factor(spans, period)
    Decimal('0.354838709677419354838709677419...')
    >>> Flat(Money("49.00", "EUR"), proration_digits=4).factor(spans, period)
    Decimal('0.3548')
    """

    kind: ClassVar[str] = "flat"
    basis: ClassVar[Basis] = "period"
    keys: ClassVar[tuple[str, ...]] = ("price", "proration", "proration_digits")

    price_per_period: Money = attrs.field(converter=as_money, validator=non_negative_money)
    proration: Proration = attrs.field(
        default="days", converter=current_proration, validator=_check_proration
    )
    proration_digits: int | None = attrs.field(default=None, validator=_check_digits)

    @property
    def currency(self) -> str:
        return str(self.price_per_period.currency.code)

    def factor(self, spans: Iterable[tuple[datetime, datetime]], period: BillingPeriod) -> Decimal:
        """The share of *period* that *spans* (the active times) cover, by this proration."""
        return proration_factor(spans, period, self.proration, self.proration_digits)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """*quantity* periods (the sum of proration factors) at the price per period."""
        amount = Money(quantity * self.price_per_period.amount, self.currency)
        label = "full period" if quantity == 1 else f"prorated ({self.proration})"
        return Priced(amount, (Detail(label, quantity, self.price_per_period, amount),))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.kind, "price": str(self.price_per_period.amount)}
        if self.proration != "days":
            out["proration"] = self.proration
        if self.proration_digits is not None:
            out["proration_digits"] = self.proration_digits
        return out

    @property
    def line_unit_price(self) -> Money | None:
        return self.price_per_period

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Flat | None:
        price = r.price(data, "price", path)
        former = data.get("proration")
        if isinstance(former, str) and former in RENAMED_PRORATIONS:
            renamed = current_proration(former, join_path(path, "proration"))
            data = {**data, "proration": renamed}
        proration = r.choice(data, "proration", path, PRORATIONS, "days")
        digits = r.whole(data, "proration_digits", path)
        return None if price is None else cls(price, proration, digits)
