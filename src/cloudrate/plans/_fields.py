"""Field converters and validators shared by the charge models."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from moneyed import Money

from cloudrate._money import check_amount, check_currency, check_money, check_quantity, to_decimal
from cloudrate.exceptions import PlanError

__all__ = ["as_money", "as_quantity", "non_negative_money"]


def as_money(value: Any) -> Money:
    """A price as a Money of its own; a ``(amount, currency)`` pair is built into one.

    Prices are held to the bounds of :func:`cloudrate._money.check_money`: below 10**36,
    at most 100 decimals, and never a float's noise (``Money(0.1 + 0.2, "EUR")``).

    >>> as_money(Money(0.1 + 0.2, "EUR"))
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: price: 0.30000000000000004 EUR looks like a float's \
rounding noise (Money built from a float); build it from a string or Decimal, such as \
Money('0.30', 'EUR')
    """
    if isinstance(value, Money):
        return check_money(value, "price")
    if isinstance(value, tuple) and len(value) == 2:
        return Money(check_amount(to_decimal(value[0], "price"), "price"), check_currency(value[1]))
    to_decimal(value, "price")  # refuses floats with the standard message
    raise PlanError(
        f"price: {value!r} has no currency; pass Money('{value}', 'EUR') "
        "or load the plan from data, where the plan's currency applies"
    )


def as_quantity(value: Any) -> Decimal:
    """A non-negative Decimal quantity; floats are refused."""
    q = check_quantity(to_decimal(value, "quantity"))
    if q < 0:
        raise PlanError(f"quantity: must be >= 0 (got {q})")
    return q


def as_optional_quantity(value: Any) -> Decimal | None:
    """Like :func:`as_quantity`, with ``None`` for "no limit"."""
    return None if value is None else as_quantity(value)


def non_negative_money(_inst: object, attribute: Any, value: Any) -> None:
    """Refuse negative prices: credits are adjustments, not prices."""
    if value is not None and value.amount < 0:
        raise PlanError(
            f"{attribute.name}: {value.amount} {value.currency.code} is negative; "
            "prices are >= 0, give credits as discounts or adjustments"
        )
