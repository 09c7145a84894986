"""What a charge model returns: the exact amount and the steps that explain it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from moneyed import Money

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "Detail",
    "Note",
    "Priced",
    "PricedLines",
    "Texts",
    "detail_parts",
    "exponent_of",
    "join_steps",
    "money_text",
]

#: Writes whole arrays as Decimal text: ``texts(values, scale, exponents)`` gives
#: ``str()`` of each Decimal ``values[i] * 10**-scale`` written with exponent
#: ``exponents[i]`` (the columnar engine passes its own; see ``price_lines``).
Texts = Callable[["np.ndarray", int, "np.ndarray | int"], list[str]]


def money_text(amount: Money) -> str:
    """An amount as plain text, exact, without locale: ``'12.50 EUR'``."""
    return f"{amount.amount} {amount.currency.code}"


@attrs.frozen
class Detail:
    """One step of a price: *quantity* units at *unit_price* (or a fixed part) give *amount*.

    >>> from moneyed import Money
    >>> d = Detail("tier 1 (0 to 100)", Decimal(100), Money("0.10", "EUR"), Money("10.00", "EUR"))
    >>> str(d)
    'tier 1 (0 to 100): 100 x 0.10 EUR = 10.00 EUR'

    *unit*, when given, names what the quantity counts:

    >>> str(Detail("one-off", Decimal(2), Money("25.00", "EUR"), Money("50.00", "EUR"),
    ...            unit="events"))
    'one-off: 2 events x 25.00 EUR = 50.00 EUR'
    """

    label: str
    quantity: Decimal | None
    unit_price: Money | None
    amount: Money
    unit: str | None = attrs.field(default=None, kw_only=True)

    def __str__(self) -> str:
        if self.quantity is not None and self.unit_price is not None:
            before, between, after = detail_parts(
                self.label, self.unit_price, str(self.amount.currency.code), self.unit
            )
            return f"{before}{self.quantity}{between}{self.amount.amount}{after}"
        return f"{self.label}: {money_text(self.amount)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, amounts as decimal strings (``unit`` only when given)."""
        out: dict[str, Any] = {
            "label": self.label,
            "quantity": None if self.quantity is None else str(self.quantity),
            "unit_price": None if self.unit_price is None else str(self.unit_price.amount),
            "amount": str(self.amount.amount),
        }
        if self.unit is not None:
            out["unit"] = self.unit
        return out


@attrs.frozen
class Note(Detail):
    """A step that changes no amount but says something about the price (an override).

    Its amount is 0, so the details of a price still add up to its amount; it reads as
    its label alone.

    >>> str(Note("override (ACME): unit price 0.010 EUR instead of 0.0125 EUR", None, None,
    ...          Money(0, "EUR")))
    'override (ACME): unit price 0.010 EUR instead of 0.0125 EUR'
    """

    def __str__(self) -> str:
        return self.label

    @classmethod
    def saying(cls, text: str, currency: str) -> Note:
        """A note reading *text*, in *currency* (its amount is 0)."""
        return cls(text, None, None, Money(Decimal(0), currency))


@attrs.frozen
class Priced:
    """The exact (unrounded) *amount* of a charge and the *details* that explain it."""

    amount: Money
    details: tuple[Detail, ...] = ()

    def explain(self) -> str:
        """The details as one line of text each."""
        return "\n".join(str(d) for d in self.details)


def detail_parts(
    label: str, unit_price: Money, currency: str, unit: str | None = None
) -> tuple[str, str, str]:
    """The text of a :class:`Detail` with a quantity, around its two numbers: the detail
    reads ``before + quantity + between + amount + after`` (the one place of its wording,
    for ``str()`` and for the vectorised explanations).

    >>> detail_parts("per unit", Money("0.0125", "EUR"), "EUR")
    ('per unit: ', ' x 0.0125 EUR = ', ' EUR')
    """
    counted = f" {unit}" if unit else ""
    return f"{label}: ", f"{counted} x {money_text(unit_price)} = ", f" {currency}"


def exponent_of(value: Decimal) -> int:
    """The exponent of a finite Decimal (``Decimal('0.50')`` -> -2).

    >>> exponent_of(Decimal("0.50")), exponent_of(Decimal("1E+2"))
    (-2, 2)
    """
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), "prices and quantities are finite"
    return exponent


def join_steps(steps: list[list[str]]) -> list[str]:
    """Each line's steps joined one a line (the explanation of :meth:`Priced.explain`)."""
    return ["\n".join(s) for s in steps]


@attrs.frozen
class PricedLines:
    """The vectorised :meth:`~cloudrate.plans.ChargeModel.price` of many quantities, for
    the models that offer ``price_lines``: each *amount* (integers at the scale asked
    for), the Decimal *exponent* ``price()`` gives it, and each *explanation*
    (:meth:`Priced.explain` of that price)."""

    amount: np.ndarray
    exponent: np.ndarray
    explanation: list[str]
