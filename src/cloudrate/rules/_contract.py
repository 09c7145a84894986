"""Billing contract type: pay-as-you-go, or a fixed payment per period with a commitment.

Under a fixed payment the account pays *amount* every period. Usage up to *commitment*
is covered by it (credited, so it is not billed twice); usage above it (overage) is
billed when *overage_billed*, credited otherwise. Both credits are adjustment lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import to_decimal
from cloudrate.exceptions import CurrencyMismatchError, PlanError
from cloudrate.plans import Detail
from cloudrate.rating import AccountBill, RatedLine

from ._base import RuleContext, adjustment

__all__ = ["CONTRACT_TYPES", "ContractType", "ContractTypes", "FixedPayment", "PayAsYouGo"]

#: A customer's billing contract: billed on usage, or a fixed payment per period.
ContractType = Literal["pay_as_you_go", "fixed_payment"]
#: Every contract type, in the order the portal offers them.
CONTRACT_TYPES: tuple[ContractType, ...] = get_args(ContractType)


def _contract_type(value: object, where: str) -> ContractType:
    """*value* as a contract type; untyped callers get the choices in the error."""
    for option in CONTRACT_TYPES:
        if value == option:
            return option
    raise PlanError(f"{where}: must be one of {', '.join(CONTRACT_TYPES)} (got {value!r})")


@attrs.frozen
class PayAsYouGo:
    """Billed on usage: adds nothing."""

    # The Rule protocol's signature: pay-as-you-go adds nothing, whatever the bill says.
    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:  # noqa: ARG002
        return ()


def _money(value: Money) -> Money:
    if not isinstance(value, Money):
        raise PlanError(f"expected an amount with its currency, got {value!r}")
    if value.amount < 0:
        raise PlanError(f"amount must be >= 0 (got {value.amount})")
    return Money(to_decimal(value.amount), value.currency.code)


@attrs.frozen(kw_only=True)
class FixedPayment:
    """A fixed *amount* per period covering usage up to *commitment* (by default the
    amount itself).

    >>> import cloudrate
    >>> from cloudrate.rules import RuleContext
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> bill = result.bill("acme")  # 235.89 EUR of usage
    >>> rule = FixedPayment(amount=Money("200.00", "EUR"), overage_billed=True)
    >>> rule.apply_to(bill, RuleContext.for_result(result)).total
    Money('235.89', 'EUR')
    >>> FixedPayment(amount=Money("200.00", "EUR"), overage_billed=False).apply_to(
    ...     bill, RuleContext.for_result(result)).total
    Money('200.00', 'EUR')
    """

    amount: Money = attrs.field(converter=_money)
    commitment: Money | None = attrs.field(default=None)
    overage_billed: bool = True
    label: str = "Fixed payment"

    def __attrs_post_init__(self) -> None:
        if self.commitment is not None:
            object.__setattr__(self, "commitment", _money(self.commitment))
            if self.commitment.currency != self.amount.currency:
                raise CurrencyMismatchError(
                    str(self.amount.currency.code), str(self.commitment.currency.code), "commitment"
                )

    @property
    def covered(self) -> Money:
        return self.commitment if self.commitment is not None else self.amount

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:
        """The fee, the credit for usage within the commitment and, when overage is not
        billed, the credit for usage above it."""
        currency = str(bill.total.currency.code)
        if str(self.amount.currency.code) != currency:
            raise CurrencyMismatchError(
                currency, str(self.amount.currency.code), "fixed payment amount"
            )
        cap = self.covered.amount
        out = [self._fee(bill, context)]
        if min(bill.total.amount, cap) > 0:
            out.append(_commitment_credit(bill, context, cap))
        if bill.total.amount > cap and not self.overage_billed:
            out.append(_overage_credit(bill, context, cap))
        return tuple(out)

    def _fee(self, bill: AccountBill, context: RuleContext) -> RatedLine:
        return adjustment(
            bill,
            context,
            charge="contract:fixed_payment",
            kind="fee",
            description=f"{self.label} for the period",
            amount=self.amount.amount,
            rounded=self.amount.amount,
        )

    def apply_to(self, bill: AccountBill, context: RuleContext) -> AccountBill:
        return bill.with_lines(self.lines(bill, context))


def _commitment_credit(bill: AccountBill, context: RuleContext, cap: Decimal) -> RatedLine:
    """Credit the usage up to *cap*: the fixed payment covers it."""
    currency = str(bill.total.currency.code)
    within, within_exact = min(bill.total.amount, cap), min(bill.exact_total.amount, cap)
    return adjustment(
        bill,
        context,
        charge="contract:commitment",
        kind="credit",
        description=f"Usage within the commitment of {cap} {currency}",
        amount=-within_exact,
        rounded=-within,
        details=(
            Detail("usage covered by the fixed payment", None, None, Money(within, currency)),
        ),
    )


def _overage_credit(bill: AccountBill, context: RuleContext, cap: Decimal) -> RatedLine:
    """Credit the usage above *cap*, for contracts that do not bill overage."""
    currency = str(bill.total.currency.code)
    usage, usage_exact = bill.total.amount, bill.exact_total.amount
    return adjustment(
        bill,
        context,
        charge="contract:overage",
        kind="credit",
        description="Usage above the commitment is not billed",
        amount=-(usage_exact - min(usage_exact, cap)),
        rounded=-(usage - min(usage, cap)),
        details=(Detail("overage", None, None, Money(usage - cap, currency)),),
    )


@attrs.frozen(kw_only=True)
class ContractTypes:
    """Whether the contract type can be chosen; disabled, every new customer is
    pay-as-you-go.

    >>> ContractTypes(enabled=False).for_customer("fixed_payment")
    'pay_as_you_go'
    """

    enabled: bool = False
    default: ContractType = "pay_as_you_go"

    def __attrs_post_init__(self) -> None:
        _contract_type(self.default, "contract default")

    def for_customer(self, chosen: ContractType | None = None) -> ContractType:
        """The contract of a new customer who chose *chosen* (``None``: the default)."""
        if not self.enabled:
            return "pay_as_you_go"
        if chosen is None:
            return self.default
        return _contract_type(chosen, "contract type")

    def rule(
        self,
        chosen: ContractType | None = None,
        *,
        amount: Money | None = None,
        commitment: Money | None = None,
        overage_billed: bool = True,
    ) -> PayAsYouGo | FixedPayment:
        """The rule for a customer who chose *chosen*."""
        if self.for_customer(chosen) == "pay_as_you_go":
            return PayAsYouGo()
        if amount is None:
            raise PlanError("a fixed payment contract needs its amount per period")
        return FixedPayment(amount=amount, commitment=commitment, overage_billed=overage_billed)
