"""Cost decimal points: how many decimals costs are shown with, apart from settlement.

Two precisions meet on a bill:

- the *settlement precision* is what is owed and paid: the plan's
  :class:`~cloudrate.RoundingPolicy` (the currency's minor units by default: 2 for EUR,
  0 for JPY, 3 for BHD). Invoice lines are rounded to it and the total is their sum.
- the *display decimals* (this setting) is how costs are shown.

Estimates and usage summaries are not settled: their exact amounts are rounded to the
display decimals (``0.0125`` shows as ``0.0125`` with 4 decimals, ``0.01`` with 2). On
invoices the settled amount is shown with the display decimals but never fewer than the
settlement precision, so the figure shown is always the figure owed: with 4 display
decimals ``12.35 EUR`` shows as ``12.3500``; with 0 display decimals it still shows
``12.35``. A host that wants invoices settled to 4 decimals sets
``RoundingPolicy(digits=4)``: that is a settlement decision, not a display one.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
from moneyed import Money

from cloudrate._money import RoundingMode, RoundingPolicy
from cloudrate.exceptions import PlanError

__all__ = ["CostDecimals"]


def _check(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise PlanError(f"cost_decimals: must be a whole number from 0 to 10 (got {value!r})")


@attrs.frozen
class CostDecimals:
    """Show costs with *digits* decimals, rounded by *mode*.

    >>> d = CostDecimals(4)
    >>> d.estimate(Money("0.0125", "EUR")), d.invoice(Money("12.35", "EUR"))
    ('0.0125 EUR', '12.3500 EUR')
    >>> CostDecimals(2).estimate(Money("0.0125", "EUR"))
    '0.01 EUR'
    >>> CostDecimals(0).invoice(Money("12.35", "EUR"))
    '12.35 EUR'
    """

    digits: int = attrs.field(default=2, validator=_check)
    mode: RoundingMode = "half_up"

    def shown(self, amount: Money) -> Decimal:
        """An unsettled (exact) amount rounded to the display decimals."""
        policy = RoundingPolicy(mode=self.mode, digits=self.digits)
        return policy.round(amount.amount, str(amount.currency.code))

    def shown_settled(self, amount: Money) -> Decimal:
        """A settled amount with the display decimals, never dropping a settled digit."""
        exponent = amount.amount.as_tuple().exponent
        places = max(self.digits, -exponent if isinstance(exponent, int) else 0)
        return amount.amount.quantize(Decimal(1).scaleb(-places))

    def estimate(self, amount: Money) -> str:
        """Text for an estimate or usage summary: ``'0.0125 EUR'``."""
        return f"{self.shown(amount)} {amount.currency.code}"

    def invoice(self, amount: Money) -> str:
        """Text for a settled invoice amount: ``'12.3500 EUR'``."""
        return f"{self.shown_settled(amount)} {amount.currency.code}"
