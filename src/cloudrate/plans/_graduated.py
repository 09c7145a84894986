"""Graduated tiers: each unit is priced in the tier it falls in."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._priced import Detail, Priced
from ._tiers import (
    Tier,
    TieredModel,
    check_tiers,
    read_tiers,
    scaled_tiers,
    tier_label,
    to_tiers,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

__all__ = ["Graduated"]


@attrs.frozen
class Graduated(TieredModel):
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

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Graduated | None:
        tiers = read_tiers(r, data, path)
        return None if tiers is None else cls(tiers=tiers)

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        """The vectorised twin of :meth:`price`: each tier's units at its price, plus the
        flat price of every tier the quantity reaches into.

        >>> import numpy as np
        >>> g = Graduated(tiers=[Tier(Decimal(100), Money("0.10", "EUR")),
        ...                      Tier(None, Money("0.05", "EUR"))])
        >>> g.price_scaled(np.array([0, 1500]), 1, 3).tolist()
        [0, 12500]
        """
        import numpy as np

        from cloudrate._intmath import LIMIT, exact_add, exact_mul, to_int64_or_object

        tiers = scaled_tiers(self.tiers, s, a)
        if tiers is None:
            return None
        total: np.ndarray = np.zeros(len(qty), dtype=np.int64)
        lower = 0
        wide = qty.dtype == object
        for up, price, flat in tiers:
            if not wide and lower > LIMIT:
                break  # no int64 quantity reaches this tier
            units = qty - lower
            units = np.where(units > 0, units, 0)
            if up is not None and (wide or up - lower <= LIMIT):
                units = np.minimum(units, up - lower)
            total = exact_add(total, exact_mul(to_int64_or_object(units), price))
            if flat:
                reached = (qty > lower).astype(bool).astype(np.int64)
                total = exact_add(total, exact_mul(reached, flat))
            if up is None:
                break
            lower = up
        return total
