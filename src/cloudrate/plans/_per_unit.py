"""Per-unit pricing: every unit at one price."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._fields import as_money, non_negative_money
from ._model import Basis
from ._priced import Detail, Priced, PricedLines, Texts, detail_parts, exponent_of

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

__all__ = ["PerUnit"]


@attrs.frozen
class PerUnit:
    """Each unit costs *unit_price*.

    >>> PerUnit(Money("0.0125", "EUR")).price(Decimal(720)).amount
    Money('9.0000', 'EUR')
    """

    kind: ClassVar[str] = "per_unit"
    basis: ClassVar[Basis] = "usage"
    keys: ClassVar[tuple[str, ...]] = ("unit_price",)

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

    @property
    def line_unit_price(self) -> Money | None:
        return self.unit_price

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> PerUnit | None:
        price = r.price(data, "unit_price", path)
        return None if price is None else cls(price)

    def prices(self) -> tuple[Decimal, ...]:
        return (self.unit_price.amount,)

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        """The vectorised twin of :meth:`price` (see :class:`~cloudrate.plans.VectorPricing`).

        >>> import numpy as np
        >>> PerUnit(Money("0.0125", "EUR")).price_scaled(np.array([7200]), 1, 5).tolist()
        [900000]
        """
        from cloudrate._intmath import exact_mul, scaled_int

        price = scaled_int(self.unit_price.amount, a - s)
        return None if price is None else exact_mul(qty, price)

    def price_lines(
        self, qty: np.ndarray, exps: np.ndarray, s: int, a: int, texts: Texts
    ) -> PricedLines | None:
        """:meth:`price` of many quantities at once: amounts (scale *a*) as
        :meth:`price_scaled` gives them, with the exponents and explanations ``price()``
        gives (*qty* at scale *s*, written with exponents *exps*; *texts* writes
        Decimal text, see :data:`~cloudrate.plans._priced.Texts`).

        >>> import numpy as np
        >>> from cloudrate.rating.columnar._texts import decimal_texts
        >>> p = PerUnit(Money("0.0125", "EUR")).price_lines(
        ...     np.array([7200]), np.array([-1]), 1, 5, decimal_texts)
        >>> p.explanation == [PerUnit(Money("0.0125", "EUR")).price(Decimal("720.0")).explain()]
        True
        """
        amount = self.price_scaled(qty, s, a)
        if amount is None:
            return None
        exponent = exps + exponent_of(self.unit_price.amount)
        before, between, after = detail_parts("per unit", self.unit_price, self.currency)
        explanation = [
            f"{before}{q}{between}{x}{after}"
            for q, x in zip(texts(qty, s, exps), texts(amount, a, exponent), strict=True)
        ]
        return PricedLines(amount, exponent, explanation)
