"""One-off charges: a fixed price for every event of a metric (a setup, an IP acquired)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._fields import as_money, non_negative_money
from ._model import Basis
from ._per_unit import PerUnit
from ._priced import Detail, Priced

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

__all__ = ["OneOff"]


@attrs.frozen
class OneOff:
    """Each event costs *unit_price*, once: billed in the period the event happens in.

    The quantity is the metric's aggregated quantity for the period: with the default
    ``sum`` aggregation the records' quantities added up (a record of quantity 1 per
    event, or of quantity 3 for three events at once); a metric with ``aggregation:
    unique`` counts distinct resources instead (each IP acquired once, however many
    records name it). Amounts are exactly the per-unit amounts; only the explanation
    counts events.

    >>> setup = OneOff(Money("25.00", "EUR"))
    >>> setup.price(Decimal(2)).amount
    Money('50.00', 'EUR')
    >>> print(setup.price(Decimal(2)).explain())
    one-off: 2 events x 25.00 EUR = 50.00 EUR
    >>> print(setup.price(Decimal(1)).explain())
    one-off: 1 event x 25.00 EUR = 25.00 EUR

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "one_off"
    basis: ClassVar[Basis] = "usage"
    keys: ClassVar[tuple[str, ...]] = ("unit_price",)

    unit_price: Money = attrs.field(converter=as_money, validator=non_negative_money)

    @property
    def currency(self) -> str:
        return str(self.unit_price.currency.code)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """*quantity* events at the price of one, exact."""
        amount = Money(quantity * self.unit_price.amount, self.currency)
        unit = "event" if quantity == 1 else "events"
        return Priced(amount, (Detail("one-off", quantity, self.unit_price, amount, unit=unit),))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.kind, "unit_price": str(self.unit_price.amount)}

    @property
    def line_unit_price(self) -> Money | None:
        return self.unit_price

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> OneOff | None:
        price = r.price(data, "unit_price", path)
        return None if price is None else cls(price)

    def prices(self) -> tuple[Decimal, ...]:
        return (self.unit_price.amount,)

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        """The vectorised twin of :meth:`price`: the per-unit amounts, event by event.

        >>> import numpy as np
        >>> OneOff(Money("25.00", "EUR")).price_scaled(np.array([0, 2]), 0, 2).tolist()
        [0, 5000]
        """
        return PerUnit(self.unit_price).price_scaled(qty, s, a)
