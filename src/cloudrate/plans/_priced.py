"""What a charge model returns: the exact amount and the steps that explain it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

__all__ = ["Detail", "Note", "Priced", "money_text"]


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
            counted = f"{self.quantity} {self.unit}" if self.unit else str(self.quantity)
            return (
                f"{self.label}: {counted} x {money_text(self.unit_price)}"
                f" = {money_text(self.amount)}"
            )
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
