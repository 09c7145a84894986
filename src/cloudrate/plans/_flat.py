"""Flat recurring fees per period, prorated for partial periods."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import PlanError
from cloudrate.period import BillingPeriod, seconds_between

from ._fields import as_money, non_negative_money
from ._model import Basis
from ._priced import Detail, Priced

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = ["PRORATIONS", "Flat", "Proration", "proration_factor"]

#: How a partial period is charged, by name.
Proration = Literal["days", "seconds", "days30", "none"]
PRORATIONS: tuple[Proration, ...] = ("days", "seconds", "days30", "none")


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
    - ``days30``: days touched over a fixed 30-day month, at most 1;
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
    proration: Proration = attrs.field(default="days", validator=_check_proration)
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
        proration = r.choice(data, "proration", path, PRORATIONS, "days")
        digits = r.whole(data, "proration_digits", path)
        return None if price is None else cls(price, proration, digits)


@exact
def proration_factor(
    spans: Iterable[tuple[datetime, datetime]],
    period: BillingPeriod,
    proration: Proration = "days",
    digits: int | None = None,
) -> Decimal:
    """The share of *period* that *spans* cover, measured as *proration* says (see
    :class:`Flat`); *digits* rounds it half-up. The one rule for flat fees and for the part
    of a period a subscription covers.

    >>> period = BillingPeriod.month(2026, 10, "UTC")
    >>> proration_factor([(datetime(2026, 10, 16, tzinfo=period.tz), period.end)], period)
    Decimal('0.516129032258064516129032258064516129032258064516129032258065')
    """
    clipped = [c for s, e in spans if (c := period.clip(s, e)) is not None]
    if not clipped:
        return Decimal(0)
    if proration == "none":
        return Decimal(1)
    if proration == "seconds":
        covered = sum((seconds_between(s, e) for s, e in _merge(clipped)), Decimal(0))
        share = covered / period.seconds
    else:
        days = len(period.local_days(clipped))
        share = Decimal(days) / (Decimal(30) if proration == "days30" else period.days)
        share = min(share, Decimal(1))
    if digits is not None:
        share = share.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return share


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Union of overlapping spans, so overlapping records are not counted twice."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
