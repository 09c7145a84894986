"""Volume tiers: all units at the price of the tier the total lands in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._priced import Detail, Priced
from ._tiers import Tier, check_tiers, tier_label, to_tiers

__all__ = ["Volume"]


@attrs.frozen
class Volume:
    """Price every unit at the tier the whole quantity lands in, plus that tier's flat price.

    The total can drop when a quantity crosses into a cheaper tier. A quantity of 0
    costs nothing (no tier is reached).

    >>> v = Volume(tiers=[Tier(Decimal(100), Money("1.00", "EUR")),
    ...                   Tier(None, Money("0.80", "EUR"))])
    >>> v.price(Decimal(100)).amount, v.price(Decimal(101)).amount
    (Money('100.00', 'EUR'), Money('80.80', 'EUR'))
    """

    kind: ClassVar[str] = "volume"

    tiers: tuple[Tier, ...] = attrs.field(converter=to_tiers, validator=check_tiers)

    @property
    def currency(self) -> str:
        return str(self.tiers[0].unit_price.currency.code)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """All of *quantity* at the price of the tier that holds it."""
        currency = self.currency
        if quantity == 0:
            return Priced(Money(Decimal(0), currency), ())
        lower = Decimal(0)
        for index, tier in enumerate(self.tiers):
            if tier.up_to is None or quantity <= tier.up_to:
                break
            lower = tier.up_to
        label = tier_label(index, lower, tier.up_to)
        amount = quantity * tier.unit_price.amount
        details = [Detail(label, quantity, tier.unit_price, Money(amount, currency))]
        if tier.flat_price is not None:
            amount += tier.flat_price.amount
            details.append(Detail(f"{label} flat price", None, None, tier.flat_price))
        return Priced(Money(amount, currency), tuple(details))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.kind, "tiers": [t.to_dict() for t in self.tiers]}
