"""Graduated tiers: each unit is priced in the tier it falls in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._priced import Detail, Priced
from ._tiers import Tier, check_tiers, tier_label, to_tiers

__all__ = ["Graduated"]


@attrs.frozen
class Graduated:
    """Price each unit by the tier it falls in, then add the tiers up.

    A tier's flat price is added when the quantity reaches into that tier (is above the
    tier's lower bound). A quantity of 0 costs nothing.

    >>> g = Graduated(tiers=[Tier(Decimal(100), Money("0.10", "EUR")),
    ...                      Tier(None, Money("0.05", "EUR"))])
    >>> g.price(Decimal(150)).amount
    Money('12.50', 'EUR')
    >>> print(g.price(Decimal("100.5")).explain())
    tier 1 (0 to 100): 100 x 0.10 EUR = 10.00 EUR
    tier 2 (above 100): 0.5 x 0.05 EUR = 0.025 EUR
    """

    kind: ClassVar[str] = "graduated"

    tiers: tuple[Tier, ...] = attrs.field(converter=to_tiers, validator=check_tiers)

    @property
    def currency(self) -> str:
        return str(self.tiers[0].unit_price.currency.code)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """The sum over tiers of the units in each tier times its price, plus flat prices."""
        currency = self.currency
        total = Decimal(0)
        details: list[Detail] = []
        lower = Decimal(0)
        for index, tier in enumerate(self.tiers):
            if quantity <= lower:
                break
            upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
            units = upper - lower
            label = tier_label(index, lower, tier.up_to)
            amount = units * tier.unit_price.amount
            total += amount
            details.append(Detail(label, units, tier.unit_price, Money(amount, currency)))
            if tier.flat_price is not None:
                total += tier.flat_price.amount
                details.append(Detail(f"{label} flat price", None, None, tier.flat_price))
            if tier.up_to is None:
                break
            lower = tier.up_to
        return Priced(Money(total, currency), tuple(details))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.kind, "tiers": [t.to_dict() for t in self.tiers]}
