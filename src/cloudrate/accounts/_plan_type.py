"""Billing plan type: postpaid, prepaid or flexible, per account type.

- ``postpaid``: usage is invoiced after the period.
- ``prepaid``: usage is deducted from the balance (which may go negative only as the
  negative-balance policy allows).
- ``flexible``: the balance pays first; what it does not cover is invoiced postpaid.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

import attrs
from moneyed import Money

from cloudrate.exceptions import CurrencyMismatchError, PlanError

__all__ = [
    "AccountType",
    "AccountTypeName",
    "BillingPlans",
    "PlanType",
    "PlanTypeName",
    "Settlement",
    "settle",
]

#: A :class:`PlanType` by its value, as configuration files and callers write it.
PlanTypeName = Literal["postpaid", "prepaid", "flexible"]
#: An :class:`AccountType` by its value.
AccountTypeName = Literal["individual", "organisation"]


class PlanType(StrEnum):
    POSTPAID = "postpaid"
    PREPAID = "prepaid"
    FLEXIBLE = "flexible"


class AccountType(StrEnum):
    INDIVIDUAL = "individual"
    ORGANISATION = "organisation"


def plan_type(value: PlanType | PlanTypeName) -> PlanType:
    """*value* as a :class:`PlanType`; refused with the choices for untyped callers."""
    if isinstance(value, PlanType):
        return value
    try:
        return PlanType(str(value).lower())
    except ValueError:
        raise PlanError(
            f"billing plan: must be postpaid, prepaid or flexible (got {value!r})"
        ) from None


def account_type(value: AccountType | AccountTypeName) -> AccountType:
    """*value* as an :class:`AccountType`; refused with the choices for untyped callers."""
    text = str(value.value if isinstance(value, AccountType) else value).lower()
    try:
        return AccountType(text)
    except ValueError:
        raise PlanError(
            f"account type: must be individual or organisation (got {value!r})"
        ) from None


@attrs.frozen
class Settlement:
    """How an amount is paid: *from_balance* (deducted now) and *invoiced* (billed later)."""

    plan_type: PlanType
    from_balance: Money
    invoiced: Money


def settle(kind: PlanType | PlanTypeName, amount: Money, balance: Money) -> Settlement:
    """Split *amount* between the prepaid *balance* and an invoice, by plan type.

    >>> settle("flexible", Money("30.00", "EUR"), Money("12.50", "EUR"))
    Settlement(plan_type=<PlanType.FLEXIBLE: 'flexible'>, from_balance=Money('12.50', 'EUR'), \
invoiced=Money('17.50', 'EUR'))
    >>> settle("prepaid", Money("30.00", "EUR"), Money("12.50", "EUR")).from_balance
    Money('30.00', 'EUR')
    >>> settle("postpaid", Money("30.00", "EUR"), Money("12.50", "EUR")).invoiced
    Money('30.00', 'EUR')
    """
    kind = plan_type(kind)
    currency = amount.currency.code
    if balance.currency.code != currency:
        raise CurrencyMismatchError(
            currency,
            balance.currency.code,
            "balance",
            fix="compare the wallet of the currency the amount is in, or convert it first",
        )
    zero = Money(0, currency)
    if kind is PlanType.POSTPAID:
        return Settlement(kind, zero, amount)
    if kind is PlanType.PREPAID:
        return Settlement(kind, amount, zero)
    covered: Decimal = min(max(balance.amount, Decimal(0)), max(amount.amount, Decimal(0)))
    return Settlement(kind, Money(covered, currency), Money(amount.amount - covered, currency))


def _optional_plan_type(value: PlanType | PlanTypeName | None) -> PlanType | None:
    return None if value is None else plan_type(value)


@attrs.frozen(kw_only=True)
class BillingPlans:
    """The plan type of individuals and of organisations; each falls back to *default*.

    >>> plans = BillingPlans(default="postpaid", individual="prepaid")
    >>> plans.for_account("individual").value, plans.for_account("organisation").value
    ('prepaid', 'postpaid')
    """

    default: PlanType = attrs.field(default=PlanType.POSTPAID, converter=plan_type)
    individual: PlanType | None = attrs.field(default=None, converter=_optional_plan_type)
    organisation: PlanType | None = attrs.field(default=None, converter=_optional_plan_type)

    def for_account(self, kind: AccountType | AccountTypeName) -> PlanType:
        """The plan type of *kind* accounts: their own, else the default."""
        chosen = (
            self.individual if account_type(kind) is AccountType.INDIVIDUAL else self.organisation
        )
        return chosen or self.default
