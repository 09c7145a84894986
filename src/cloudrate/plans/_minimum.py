"""Minimum spend per period: a true-up line when usage falls short."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._fields import as_money, non_negative_money
from ._model import Basis
from ._priced import Detail, Priced

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = ["Minimum"]


def _to_names(value: Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen(kw_only=True)
class Minimum:
    """Charge the difference when the charges in *of* (all earlier charges when empty)
    add up to less than *amount* in a period.

    >>> m = Minimum(amount=Money("20.00", "EUR"))
    >>> m.price(Decimal("12.40")).amount
    Money('7.60', 'EUR')
    >>> m.price(Decimal("25")).amount
    Money('0', 'EUR')
    """

    kind: ClassVar[str] = "minimum"
    basis: ClassVar[Basis] = "spend"
    keys: ClassVar[tuple[str, ...]] = ("amount", "of")

    amount: Money = attrs.field(converter=as_money, validator=non_negative_money)
    of: tuple[str, ...] = attrs.field(default=(), converter=_to_names)

    @property
    def currency(self) -> str:
        return str(self.amount.currency.code)

    @exact
    def price(self, spent: Decimal) -> Priced:
        """The true-up from *spent* (the exact amount of the charges) to the minimum."""
        short = self.amount.amount - spent
        if short <= 0:
            return Priced(Money(Decimal(0), self.currency), ())
        label = f"minimum {self.amount.amount} {self.currency}, spent {spent} {self.currency}"
        true_up = Money(short, self.currency)
        return Priced(true_up, (Detail(label, None, None, true_up),))

    @exact
    def prorated(self, share: Decimal) -> Minimum:
        """The minimum for *share* of a period (a subscription covering part of it).

        >>> Minimum(amount=Money("31.00", "EUR")).prorated(Decimal("0.5")).amount
        Money('15.500', 'EUR')
        """
        return attrs.evolve(self, amount=Money(self.amount.amount * share, self.currency))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.kind, "amount": str(self.amount.amount)}
        if self.of:
            out["of"] = list(self.of)
        return out

    @property
    def line_unit_price(self) -> Money | None:
        return None

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Minimum | None:
        amount = r.price(data, "amount", path)
        return None if amount is None else cls(amount=amount, of=r.names(data, "of", path))
