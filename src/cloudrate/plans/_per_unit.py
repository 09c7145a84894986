"""Per-unit pricing: every unit at one price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._fields import as_money, non_negative_money
from ._priced import Detail, Priced

__all__ = ["PerUnit"]


@attrs.frozen
class PerUnit:
    """Each unit costs *unit_price*.

    >>> PerUnit(Money("0.0125", "EUR")).price(Decimal(720)).amount
    Money('9.0000', 'EUR')
    """

    kind: ClassVar[str] = "per_unit"

    unit_price: Money = attrs.field(converter=as_money, validator=non_negative_money)

    @property
    def currency(self) -> str:
        return str(self.unit_price.currency.code)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """*quantity* times the unit price, exact."""
        amount = Money(quantity * self.unit_price.amount, self.currency)
        return Priced(amount, (Detail("per unit", quantity, self.unit_price, amount),))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.kind, "unit_price": str(self.unit_price.amount)}
