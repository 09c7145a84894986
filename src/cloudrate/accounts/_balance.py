"""Prepaid negative balance (billing setting 8, "Enable Prepaid Negative Balance Display").

Whether a prepaid balance may go below zero, down to what floor, and whether a negative
balance is displayed. The portal's one toggle means both: balances may go negative and
are shown negative; *display* left out follows *allowed*, and can be set apart (allowed
but hidden). Reaching the floor suspends the account: with negative balances not
allowed the floor is zero, so an exhausted balance suspends.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import PlanError

__all__ = ["BalanceView", "NegativeBalance"]


def _check_floor(_inst: object, _attr: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise PlanError(
            f"negative_balance.floor: expected Money such as Money('-50.00', 'EUR') "
            f"or None (got {value!r})"
        )
    if value.amount > 0:
        raise PlanError(
            f"negative_balance.floor: must be zero or below (got {value.amount} "
            f"{value.currency.code}); write the lowest balance allowed, "
            "e.g. Money('-50.00', 'EUR')"
        )


@attrs.frozen
class BalanceView:
    """What the portal shows for a balance: *amount* is ``None`` when it is hidden,
    *state* is ``"active"`` or ``"suspended"`` and *message* says why."""

    amount: Money | None
    state: str
    message: str


@attrs.frozen
class NegativeBalance:
    """How low a prepaid balance may go, and whether a negative balance is shown.

    *allowed* False keeps balances at zero or above (the floor is zero). *allowed* True
    lets deductions go down to *floor* (a Money at or below zero), or without limit when
    *floor* is ``None``. *display* says whether a negative balance is shown to the
    customer and the administrator; left out, it is *allowed* (the portal's toggle
    allows negative balances and shows them). With *allowed* False only an
    administrator's adjustment can take a balance below zero, and *display* says whether
    that is shown. A balance at or below the floor suspends the account.

    >>> rule = NegativeBalance(allowed=True, floor=Money("-50.00", "EUR"))
    >>> rule.lowest("EUR"), rule.display
    (Decimal('-50.00'), True)
    >>> rule.state(Money("-50.00", "EUR"))
    'suspended'
    >>> NegativeBalance(allowed=True, display=False).display
    False
    >>> NegativeBalance().lowest("EUR"), NegativeBalance().display
    (Decimal('0'), False)
    """

    allowed: bool = False
    floor: Money | None = attrs.field(default=None, validator=_check_floor)
    display: bool = attrs.field(default=attrs.Factory(lambda self: self.allowed, takes_self=True))

    def __attrs_post_init__(self) -> None:
        if not self.allowed and self.floor is not None and self.floor.amount != 0:
            raise PlanError(
                f"negative_balance.floor is {self.floor.amount} {self.floor.currency.code} but "
                "negative balances are not allowed; set allowed=True or leave floor None"
            )

    def lowest(self, currency: str) -> Decimal | None:
        """The lowest balance a deduction may leave in *currency*; ``None`` for no limit."""
        if not self.allowed:
            return Decimal(0)
        if self.floor is None:
            return None
        if self.floor.currency.code != currency:
            raise PlanError(
                f"negative_balance.floor is in {self.floor.currency.code} but the account is in "
                f"{currency}; give the floor in the account's currency"
            )
        return self.floor.amount

    @exact
    def headroom(self, balance: Money) -> Decimal | None:
        """How much may still be deducted from *balance* (never below zero); ``None`` is
        unlimited."""
        lowest = self.lowest(balance.currency.code)
        if lowest is None:
            return None
        return max(Decimal(0), balance.amount - lowest)

    def state(self, balance: Money) -> str:
        """``"suspended"`` when *balance* has reached the floor, else ``"active"``."""
        lowest = self.lowest(balance.currency.code)
        if lowest is not None and balance.amount <= lowest:
            return "suspended"
        return "active"

    def reason(self, balance: Money) -> str:
        """Why :meth:`state` is what it is, in words for the portal."""
        code, amount = balance.currency.code, balance.amount
        lowest = self.lowest(code)
        if lowest is None:
            return f"balance {amount} {code}; negative balances are allowed without a floor"
        if amount <= lowest:
            limit = "zero" if not self.allowed else f"the floor of {lowest} {code}"
            return f"balance {amount} {code} has reached {limit}; recharge to reactivate"
        return f"balance {amount} {code} is above the floor of {lowest} {code}"

    def shown(self, balance: Money) -> Money | None:
        """The balance the portal displays: *balance*, or ``None`` (hidden) when it is
        negative and *display* is off."""
        return self.view(balance).amount

    def view(self, balance: Money) -> BalanceView:
        """What the portal shows: the balance, or ``None`` for a negative balance when
        *display* is off; with the state and a message.

        >>> hidden = NegativeBalance(allowed=True, floor=None, display=False)
        >>> hidden.view(Money("-3.20", "EUR")).amount is None
        True
        >>> NegativeBalance(allowed=True, display=True).view(Money("-3.20", "EUR")).amount
        Money('-3.20', 'EUR')
        """
        state = self.state(balance)
        if balance.amount < 0 and not self.display:
            return BalanceView(
                None,
                state,
                "prepaid balance exhausted; negative balance "
                "not displayed. " + self.reason(balance),
            )
        return BalanceView(balance, state, self.reason(balance))

    def to_dict(self) -> dict[str, Any]:
        floor = (
            None
            if self.floor is None
            else {"amount": str(self.floor.amount), "currency": self.floor.currency.code}
        )
        return {"allowed": self.allowed, "floor": floor, "display": self.display}
