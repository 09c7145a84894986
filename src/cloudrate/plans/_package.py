"""Package (block) pricing: a price per started block of units."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import PlanError

from ._fields import as_money, as_quantity, non_negative_money
from ._model import Basis
from ._priced import Detail, Priced

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

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
    basis: ClassVar[Basis] = "usage"
    keys: ClassVar[tuple[str, ...]] = ("block_size", "block_price")

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

    @property
    def line_unit_price(self) -> Money | None:
        return None

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Package | None:
        size = r.number(data, "block_size", path, required=True, above=True)
        price = r.price(data, "block_price", path)
        return None if size is None or price is None else cls(size, price)

    def prices(self) -> tuple[Decimal, ...]:
        return (self.block_price.amount,)

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        """The vectorised twin of :meth:`price`: started blocks times the block price.

        >>> import numpy as np
        >>> p = Package(block_size=Decimal(100), block_price=Money("5.00", "EUR"))
        >>> p.price_scaled(np.array([0, 100, 101]), 0, 2).tolist()
        [0, 500, 1000]
        """
        from cloudrate._intmath import LIMIT, exact_mul, magnitude, scaled_int

        block = scaled_int(self.block_size, s)
        price = scaled_int(self.block_price.amount, a)
        if block is None or price is None:
            return None
        if magnitude(qty) + block <= LIMIT:
            blocks = (qty + (block - 1)) // block
        else:
            blocks = (qty.astype(object) + (block - 1)) // block
        return exact_mul(blocks, price)
