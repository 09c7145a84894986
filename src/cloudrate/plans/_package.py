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
from ._priced import Detail, Priced, PricedLines, Texts, detail_parts, exponent_of

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

    def price_lines(
        self, qty: np.ndarray, exps: np.ndarray, s: int, a: int, texts: Texts
    ) -> PricedLines | None:
        """:meth:`price` of many quantities at once (see ``PerUnit.price_lines``). The
        blocks are ``quantity / block_size`` rounded up: a whole number with exponent 0,
        unless the quotient is a whole number and its ideal exponent (the quantity's
        less the block size's) is above 0, where Decimal division keeps up to that
        many trailing zeros in the exponent (``100 / 0.5`` is ``2.0E+2``).

        >>> import numpy as np
        >>> from cloudrate.rating.columnar._texts import decimal_texts
        >>> p = Package(block_size=Decimal("0.5"), block_price=Money("5.00", "EUR"))
        >>> got = p.price_lines(np.array([1000, 2505]), np.array([0, -1]), 1, 3, decimal_texts)
        >>> want = [p.price(Decimal(100)), p.price(Decimal("250.5"))]
        >>> got.explanation == [w.explain() for w in want]
        True
        """
        import numpy as np

        from cloudrate._intmath import scaled_int

        amount = self.price_scaled(qty, s, a)
        block = scaled_int(self.block_size, s)
        if amount is None or block is None or qty.dtype == object:
            return None
        blocks = (qty + (block - 1)) // block
        ideal = exps - exponent_of(self.block_size)
        kept = np.zeros(len(qty), dtype=np.int64)  # the exponent the blocks keep
        whole = (qty % block == 0) & (ideal > 0)
        if whole.any():
            rest = np.where(whole, blocks, 0)
            zeros = np.zeros(len(qty), dtype=np.int64)
            for _ in range(int(ideal.max())):
                more = whole & (zeros < ideal) & ((rest % 10 == 0) | (rest == 0))
                if not more.any():
                    break
                zeros += more
                rest = np.where(more & (rest != 0), rest // 10, rest)
            kept = zeros
        price_exp = exponent_of(self.block_price.amount)
        exponent = kept + price_exp
        before, between, after = detail_parts("", self.block_price, self.currency)
        size = self.block_size
        explanation = []
        for b, n, x in zip(
            texts(blocks, 0, kept), blocks.tolist(), texts(amount, a, exponent), strict=True
        ):
            label = f"{b} block{'s' if n != 1 else ''} of {size}"
            explanation.append(f"{label}{before}{b}{between}{x}{after}")
        return PricedLines(amount, exponent, explanation)
