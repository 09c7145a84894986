"""Exact ratios of rates: cross and inverse rates, rounded only when they do not end."""

from __future__ import annotations

import decimal
from decimal import Decimal

from cloudrate._money import EXACT
from cloudrate.exceptions import PlanError

__all__ = ["RATE_DIGITS", "check_rate_digits", "divide_rates"]

#: Significant digits kept of a cross or inverse rate whose decimal expansion does not end
#: (1 / 3): :data:`cloudrate._money.EXACT`'s 60, so a ratio that ends within 60 digits
#: (every ratio of two ECB rates that ends at all) is exact. Sources take ``digits=`` to
#: keep fewer.
RATE_DIGITS = EXACT.prec


def check_rate_digits(_inst: object, _attr: object, value: int) -> None:
    """Refuse a *digits* setting outside 1 to :data:`RATE_DIGITS`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= RATE_DIGITS:
        raise PlanError(
            f"digits: the significant digits of a cross or inverse rate must be a whole "
            f"number from 1 to {RATE_DIGITS} (got {value!r})"
        )


def divide_rates(numerator: Decimal, denominator: Decimal, digits: int = RATE_DIGITS) -> Decimal:
    """``numerator / denominator``: exact when the quotient ends within *digits*
    significant digits, else rounded half-even to *digits* significant digits.

    >>> divide_rates(Decimal("1.0842"), Decimal("0.8650"))  # USD per GBP: does not end
    Decimal('1.25341040462427745664739884393063583815028901734104046242775')
    >>> divide_rates(Decimal("1.0842"), Decimal("0.8650"), 10)
    Decimal('1.253410405')
    >>> divide_rates(Decimal(1), Decimal("1.25"))  # ends: exact
    Decimal('0.8')
    """
    context = EXACT.copy()
    context.prec = digits
    context.rounding = decimal.ROUND_HALF_EVEN
    return context.divide(numerator, denominator)
