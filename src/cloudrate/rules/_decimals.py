"""Cost decimal points: how many decimals costs have, shown only or billed too.

Two precisions meet on a bill:

- the *settlement precision* is what is owed and paid: the plan's
  :class:`~cloudrate.RoundingPolicy` (the currency's minor units by default: 2 for EUR,
  0 for JPY, 3 for BHD). Invoice lines are rounded to it and the total is their sum.
- the *cost decimals* (this setting) are the decimals costs have in estimates, usage
  summaries and invoices.

One switch, *applies_to*, says what the cost decimals are:

- ``"display"`` (the default): how costs are **shown**; what is billed is unchanged.
  Estimates and usage summaries are not settled: their exact amounts are rounded to the
  cost decimals (``0.0125`` shows as ``0.0125`` with 4 decimals, ``0.01`` with 2). On
  invoices the settled amount is shown with the cost decimals but never fewer than the
  settlement precision, so the figure shown is always the figure owed: with 4 decimals
  ``12.35 EUR`` shows as ``12.3500``; with 0 it still shows ``12.35``.
- ``"billed"``: the settlement precision itself. Rate with :meth:`CostDecimals.rounding`
  (the plan's policy, its mode and placement, with *digits*), so invoice lines, the
  estimate's lines and the usage summary's costs are the same amounts, rounded to the
  cost decimals, and each shows exactly those digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingMode, RoundingPolicy
from cloudrate.exceptions import PlanError

__all__ = ["COST_DECIMALS_USES", "CostDecimals", "CostDecimalsUse"]

#: What the cost decimals are: how costs are shown (``display``) or what is billed
#: (``billed``).
CostDecimalsUse = Literal["display", "billed"]
COST_DECIMALS_USES: tuple[CostDecimalsUse, ...] = get_args(CostDecimalsUse)


def _check(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise PlanError(f"cost_decimals: must be a whole number from 0 to 10 (got {value!r})")


def _check_use(_inst: object, _attr: object, value: object) -> None:
    if value not in COST_DECIMALS_USES:
        raise PlanError(
            f"cost_decimals.applies_to: must be one of {', '.join(COST_DECIMALS_USES)} "
            f"(got {value!r}); 'display' changes what is shown, 'billed' what is owed"
        )


@attrs.frozen
class CostDecimals:
    """Costs with *digits* decimals: shown only (*applies_to* ``"display"``, rounded by
    *mode* for display), or billed (``"billed"``, rounded by the rating policy).

    >>> d = CostDecimals(4)
    >>> d.estimate(Money("0.0125", "EUR")), d.invoice(Money("12.35", "EUR"))
    ('0.0125 EUR', '12.3500 EUR')
    >>> CostDecimals(2).estimate(Money("0.0125", "EUR"))
    '0.01 EUR'
    >>> CostDecimals(0).invoice(Money("12.35", "EUR"))
    '12.35 EUR'
    >>> CostDecimals(4).rounding(RoundingPolicy()).digits is None  # display: billed as before
    True
    >>> CostDecimals(4, applies_to="billed").rounding(RoundingPolicy(mode="half_even"))
    RoundingPolicy(mode='half_even', placement='line', digits=4)
    """

    digits: int = attrs.field(default=2, validator=_check)
    mode: RoundingMode = "half_up"
    applies_to: CostDecimalsUse = attrs.field(default="display", validator=_check_use)

    @property
    def billed(self) -> bool:
        """Whether the cost decimals are the settlement precision."""
        return self.applies_to == "billed"

    def rounding(self, policy: RoundingPolicy | None = None) -> RoundingPolicy:
        """The policy to rate with: *policy* (the plan's; by default half-up to the
        currency's minor units) as it is for ``display``, with *digits* for ``billed``."""
        policy = policy or RoundingPolicy()
        return attrs.evolve(policy, digits=self.digits) if self.billed else policy

    def invoice_decimals(self, currency: str, policy: RoundingPolicy | None = None) -> int:
        """The ``display_decimals`` of an invoice in *currency* settled by *policy*: the
        cost decimals, never fewer than the settled digits (so no owed digit is hidden).

        >>> CostDecimals(4).invoice_decimals("EUR"), CostDecimals(0).invoice_decimals("EUR")
        (4, 2)
        >>> CostDecimals(0, applies_to="billed").invoice_decimals("EUR")
        0
        """
        return max(self.digits, self.rounding(policy).digits_for(currency))

    def shown(self, amount: Money) -> Decimal:
        """An unsettled (exact) amount rounded to the cost decimals with *mode*."""
        policy = RoundingPolicy(mode=self.mode, digits=self.digits)
        return policy.round(amount.amount, str(amount.currency.code))

    def shown_settled(self, amount: Money) -> Decimal:
        """A settled amount with the cost decimals, never dropping a settled digit."""
        exponent = amount.amount.as_tuple().exponent
        places = max(self.digits, -exponent if isinstance(exponent, int) else 0)
        return amount.amount.quantize(Decimal(1).scaleb(-places), context=EXACT)

    def cost(self, exact: Money, billed: Money) -> Decimal:
        """A cost as estimates and usage summaries show it: for ``display`` the *exact*
        amount rounded to the cost decimals, for ``billed`` the *billed* amount.

        >>> exact, billed = Money("0.5923", "EUR"), Money("0.59", "EUR")
        >>> CostDecimals(4).cost(exact, billed)
        Decimal('0.5923')
        >>> CostDecimals(4, applies_to="billed").cost(exact, Money("0.5923", "EUR"))
        Decimal('0.5923')
        """
        return self.shown_settled(billed) if self.billed else self.shown(exact)

    def estimate(self, amount: Money) -> str:
        """Text for an estimate or usage summary: ``'0.0125 EUR'``."""
        return f"{self.shown(amount)} {amount.currency.code}"

    def invoice(self, amount: Money) -> str:
        """Text for a settled invoice amount: ``'12.3500 EUR'``."""
        return f"{self.shown_settled(amount)} {amount.currency.code}"

    def to_dict(self) -> dict[str, object]:
        """The setting as plain data, as a feature configuration writes it."""
        return {"digits": self.digits, "applies_to": self.applies_to}
