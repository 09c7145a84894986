"""Field converters and validators shared by the charge models."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from moneyed import Money

from cloudrate._money import check_currency, to_decimal
from cloudrate.exceptions import PlanError

__all__ = ["as_money", "as_quantity", "non_negative_money"]


def as_money(value: Any) -> Money:
    """Accept a Money as is; a ``(amount, currency)`` pair is built into one."""
    if isinstance(value, Money):
        to_decimal(value.amount, "price")
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Money(to_decimal(value[0], "price"), check_currency(value[1]))
    to_decimal(value, "price")  # refuses floats with the standard message
    raise PlanError(
        f"price: {value!r} has no currency; pass Money('{value}', 'EUR') "
        "or load the plan from data, where the plan's currency applies"
    )


def as_quantity(value: Any) -> Decimal:
    """A non-negative Decimal quantity; floats are refused."""
    q = to_decimal(value, "quantity")
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
