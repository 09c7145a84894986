"""Package (block) pricing: a price per started block of units."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import PlanError

from ._fields import as_money, as_quantity, non_negative_money
from ._priced import Detail, Priced

__all__ = ["Package"]


def _positive(_inst: object, _attr: object, value: Decimal) -> None:
    if value <= 0:
        raise PlanError(f"block_size: must be above 0 (got {value})")


@attrs.frozen
class Package:
    """Every started block of *block_size* units costs *block_price*.

    >>> p = Package(block_size=Decimal(100), block_price=Money("5.00", "EUR"))
    >>> p.price(Decimal(250)).amount
    Money('15.00', 'EUR')
    """

    kind: ClassVar[str] = "package"

    block_size: Decimal = attrs.field(converter=as_quantity, validator=_positive)
    block_price: Money = attrs.field(converter=as_money, validator=non_negative_money)

    @property
    def currency(self) -> str:
        return str(self.block_price.currency.code)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """The number of started blocks times the block price."""
        blocks = (quantity / self.block_size).to_integral_value(rounding=ROUND_CEILING)
        amount = Money(blocks * self.block_price.amount, self.currency)
        label = f"{blocks} block{'s' if blocks != 1 else ''} of {self.block_size}"
        return Priced(amount, (Detail(label, blocks, self.block_price, amount),))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.kind,
            "block_size": str(self.block_size),
            "block_price": str(self.block_price.amount),
        }
