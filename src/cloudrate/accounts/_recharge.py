"""Minimum and maximum prepaid recharge (billing setting 11).

A recharge below the minimum or above the maximum is refused with an error that states
the bound, before anything is written to a ledger.
"""

from __future__ import annotations

from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import check_money
from cloudrate.exceptions import PlanError, RechargeLimitError

__all__ = ["RechargeLimits"]


def _optional_money(where: str) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, Money):
            raise PlanError(
                f"{where}: expected Money such as Money('10.00', 'EUR') or None (got {value!r})"
            )
        if value.amount <= 0:
            raise PlanError(
                f"{where}: must be above zero (got {value.amount} "
                f"{value.currency.code}); use None for no bound"
            )
        check_money(value, where, payable=True)  # a bound on recharges, which are payable

    return check


@attrs.frozen
class RechargeLimits:
    """The smallest and largest amount one prepaid recharge may add; ``None`` is no bound.

    >>> limits = RechargeLimits(minimum=Money("10.00", "USD"), maximum=Money("500.00", "USD"))
    >>> limits.check(Money("50.00", "USD"))
    Money('50.00', 'USD')
    >>> try:
    ...     limits.check(Money("5.00", "USD"))
    ... except RechargeLimitError as error:
    ...     print(error)
    recharge of 5.00 USD is below the minimum prepaid recharge of 10.00 USD; recharge at least
    10.00 USD
    """

    minimum: Money | None = attrs.field(default=None, validator=_optional_money("minimum"))
    maximum: Money | None = attrs.field(default=None, validator=_optional_money("maximum"))

    def __attrs_post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None:
            if self.minimum.currency != self.maximum.currency:
                raise PlanError(
                    f"minimum recharge is in {self.minimum.currency.code} but maximum recharge "
                    f"in {self.maximum.currency.code}; give both bounds in one currency"
                )
            if self.minimum.amount > self.maximum.amount:
                raise PlanError(
                    f"minimum recharge {_text(self.minimum)} is above maximum recharge "
                    f"{_text(self.maximum)}; lower the minimum or raise the maximum"
                )

    @property
    def enabled(self) -> bool:
        """Whether any bound is set."""
        return self.minimum is not None or self.maximum is not None

    def check(self, amount: Money) -> Money:
        """Return *amount* if one recharge may add it, else raise :class:`RechargeLimitError`.

        A recharge must be above zero whatever the bounds, and in the bounds' currency.
        """
        if not isinstance(amount, Money):
            raise RechargeLimitError(f"recharge: expected Money, got {amount!r}")
        if amount.amount <= 0:
            raise RechargeLimitError(
                f"recharge of {_text(amount)} is not above zero; a recharge adds money "
                "(record corrections as an adjustment)"
            )
        for bound in (self.minimum, self.maximum):
            if bound is not None and bound.currency != amount.currency:
                raise RechargeLimitError(
                    f"recharge of {_text(amount)} is in another currency than the recharge "
                    f"limits ({bound.currency.code}); convert it to {bound.currency.code} first"
                )
        if self.minimum is not None and amount.amount < self.minimum.amount:
            raise RechargeLimitError(
                f"recharge of {_text(amount)} is below the minimum prepaid recharge of "
                f"{_text(self.minimum)}; recharge at least {_text(self.minimum)}"
            )
        if self.maximum is not None and amount.amount > self.maximum.amount:
            raise RechargeLimitError(
                f"recharge of {_text(amount)} is above the maximum prepaid recharge of "
                f"{_text(self.maximum)}; recharge at most {_text(self.maximum)} at a time"
            )
        return amount

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data (amounts as decimal strings)."""
        return {"minimum": _plain(self.minimum), "maximum": _plain(self.maximum)}


def _plain(amount: Money | None) -> dict[str, str] | None:
    return (
        None if amount is None else {"amount": str(amount.amount), "currency": amount.currency.code}
    )


def _text(amount: Money) -> str:
    return f"{amount.amount} {amount.currency.code}"
