"""Billing contract type: pay-as-you-go, or a fixed payment per period with a commitment.

Under a fixed payment the account pays *amount* every period, "a set amount regardless
of usage". Usage up to *commitment* is covered by it (credited, so it is not billed
twice); usage above it (overage) is credited too unless *overage_billed*. A period the
contract covers only partly (it starts or ends inside it) pays the fee for the days it
is active. The fee and the credits are adjustment lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import EXACT, check_money
from cloudrate.exceptions import CurrencyMismatchError, PlanError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Detail
from cloudrate.rating import AccountBill, RatedLine

from ._base import RuleContext, adjustment

__all__ = [
    "CONTRACT_TYPES",
    "ActiveDays",
    "ContractType",
    "ContractTypes",
    "FixedPayment",
    "PayAsYouGo",
]

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


def _money(value: Money, where: str = "fixed payment amount") -> Money:
    """A fee or commitment the customer is billed: in whole minor units of its currency."""
    if not isinstance(value, Money):
        raise PlanError(f"{where}: expected an amount with its currency, got {value!r}")
    if value.amount < 0:
        raise PlanError(f"{where}: must be >= 0 (got {value.amount})")
    return check_money(value, where, payable=True)


def _instant(_inst: object, attribute: attrs.Attribute[datetime | None], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise PlanError(
            f"fixed payment {attribute.name}: {value!r} is not an aware datetime; pass the "
            "instant the contract starts or ends with its timezone, e.g. "
            "datetime(2026, 10, 21, tzinfo=ZoneInfo('Europe/Berlin'))"
        )


@attrs.frozen(kw_only=True)
class ActiveDays:
    """The part of a period a contract is active: *days* of the period's *of* days.

    >>> ActiveDays(days=11, of=31).factor.quantize(Decimal("0.0001"))
    Decimal('0.3548')
    """

    days: int
    of: int

    @property
    def factor(self) -> Decimal:
        return EXACT.divide(Decimal(self.days), Decimal(self.of))

    @property
    def whole(self) -> bool:
        return self.days == self.of


@attrs.frozen(kw_only=True)
class FixedPayment:
    """A fixed *amount* per period covering usage up to *commitment* (by default the
    amount itself), "a set amount regardless of usage".

    *overage_billed* (off by default) bills usage above the commitment on top of the
    fee; off, it is credited. *start* and *end* are the instants the contract starts and
    ends (aware datetimes; ``None``: before and after the period). With *prorate* (the
    default), a period the contract covers only partly pays the fee, and covers the
    commitment, for the days it is active: the calendar days, in the period's timezone,
    that the contract covers any part of, over the period's days.

    >>> import cloudrate
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from cloudrate.rules import RuleContext
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> bill, context = result.bill("acme"), RuleContext.for_result(result)  # 235.89 EUR
    >>> FixedPayment(amount=Money("200.00", "EUR")).apply_to(bill, context).total
    Money('200.00', 'EUR')
    >>> FixedPayment(amount=Money("200.00", "EUR"), overage_billed=True).apply_to(
    ...     bill, context).total
    Money('235.89', 'EUR')
    >>> late = FixedPayment(amount=Money("300.00", "EUR"),
    ...                     start=datetime(2026, 10, 21, tzinfo=ZoneInfo("Europe/Berlin")))
    >>> late.lines(bill, context)[0].description, late.apply_to(bill, context).total
    ('Fixed payment for 11 of 31 days', Money('106.45', 'EUR'))
    """

    amount: Money = attrs.field(converter=_money)
    commitment: Money | None = attrs.field(default=None)
    overage_billed: bool = False
    start: datetime | None = attrs.field(default=None, validator=_instant)
    end: datetime | None = attrs.field(default=None, validator=_instant)
    prorate: bool = True
    label: str = "Fixed payment"

    def __attrs_post_init__(self) -> None:
        if self.commitment is not None:
            object.__setattr__(self, "commitment", _money(self.commitment, "commitment"))
            if self.commitment.currency != self.amount.currency:
                raise CurrencyMismatchError(
                    str(self.amount.currency.code),
                    str(self.commitment.currency.code),
                    "commitment",
                    fix="give the commitment in the currency of the fixed payment's amount",
                )
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise PlanError(
                f"fixed payment end {self.end.isoformat()} is not after its start "
                f"{self.start.isoformat()}; give the instant the contract ends, after it starts"
            )

    @property
    def covered(self) -> Money:
        return self.commitment if self.commitment is not None else self.amount

    def active_days(self, period: BillingPeriod) -> ActiveDays:
        """The days of *period* the contract is active, of the period's days; every day
        when *prorate* is off. A contract that is not active in *period* is refused."""
        of = period.days
        start, end = self.start or period.start, self.end or period.end
        # only time of some length in the period counts: a contract that ended the
        # instant the period began (or begins when it ends) is not active in it
        days = len(period.local_days(((start, end),), moments=False))
        if days == 0:
            raise PlanError(
                f"the fixed payment contract runs from {_when(self.start)} to "
                f"{_when(self.end)}, which is not in the period {period.label}; apply it "
                "only to the periods the contract covers"
            )
        return ActiveDays(days=of if not self.prorate else days, of=of)

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:
        """The fee, the credit for usage within the commitment and, when overage is not
        billed, the credit for usage above it."""
        currency = str(bill.total.currency.code)
        if str(self.amount.currency.code) != currency:
            raise CurrencyMismatchError(
                currency,
                str(self.amount.currency.code),
                "fixed payment amount",
                fix="give the fixed payment in the currency the account's plan bills in",
            )
        share = self.active_days(context.period)
        cap = self._part(self.covered.amount, share, context, currency)
        out = [self._fee(bill, context, share)]
        if min(bill.total.amount, cap[1]) > 0:
            out.append(_commitment_credit(bill, context, cap, share))
        if bill.total.amount > cap[1] and not self.overage_billed:
            out.append(_overage_credit(bill, context, cap))
        return tuple(out)

    @staticmethod
    def _part(
        amount: Decimal, share: ActiveDays, context: RuleContext, currency: str
    ) -> tuple[Decimal, Decimal]:
        """*amount* for the *share* of the period: exact, and rounded (the amount itself
        for a whole period, as given)."""
        if share.whole:
            return amount, amount
        exact = EXACT.divide(EXACT.multiply(amount, Decimal(share.days)), Decimal(share.of))
        return exact, context.rounding.round(exact, currency)

    def _fee(self, bill: AccountBill, context: RuleContext, share: ActiveDays) -> RatedLine:
        currency = str(bill.total.currency.code)
        exact, rounded = self._part(self.amount.amount, share, context, currency)
        details: tuple[Detail, ...] = ()
        if share.whole:
            description = f"{self.label} for the period"
        else:
            description = f"{self.label} for {share.days} of {share.of} days"
            dates = ", ".join(
                f"{word} {moment.isoformat()}"
                for word, moment in (("starts", self.start), ("ends", self.end))
                if moment is not None
            )
            details = (
                Detail(
                    f"{self.amount.amount} {currency} x {share.days}/{share.of} days active "
                    f"(contract {dates})",
                    None,
                    None,
                    Money(exact, currency),
                ),
            )
        line = adjustment(
            bill,
            context,
            charge="contract:fixed_payment",
            kind="fee",
            description=description,
            amount=exact,
            rounded=rounded,
            details=details,
        )
        return line if share.whole else attrs.evolve(line, proration=share.factor)

    def apply_to(self, bill: AccountBill, context: RuleContext) -> AccountBill:
        return bill.with_lines(self.lines(bill, context))


def _when(moment: datetime | None) -> str:
    return "(open)" if moment is None else moment.isoformat()


def _commitment_credit(
    bill: AccountBill, context: RuleContext, cap: tuple[Decimal, Decimal], share: ActiveDays
) -> RatedLine:
    """Credit the usage up to *cap* (exact, rounded): the fixed payment covers it."""
    currency = str(bill.total.currency.code)
    within, within_exact = min(bill.total.amount, cap[1]), min(bill.exact_total.amount, cap[0])
    days = "" if share.whole else f" ({share.days} of {share.of} days)"
    return adjustment(
        bill,
        context,
        charge="contract:commitment",
        kind="credit",
        description=f"Usage within the commitment of {cap[1]} {currency}{days}",
        amount=-within_exact,
        rounded=-within,
        details=(
            Detail("usage covered by the fixed payment", None, None, Money(within, currency)),
        ),
    )


def _overage_credit(
    bill: AccountBill, context: RuleContext, cap: tuple[Decimal, Decimal]
) -> RatedLine:
    """Credit the usage above *cap* (exact, rounded), for contracts that do not bill
    overage."""
    currency = str(bill.total.currency.code)
    usage, usage_exact = bill.total.amount, bill.exact_total.amount
    return adjustment(
        bill,
        context,
        charge="contract:overage",
        kind="credit",
        description="Usage above the commitment is not billed",
        amount=-(usage_exact - min(usage_exact, cap[0])),
        rounded=-(usage - min(usage, cap[1])),
        details=(Detail("overage", None, None, Money(usage - cap[1], currency)),),
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
        overage_billed: bool = False,
        start: datetime | None = None,
        end: datetime | None = None,
        prorate: bool = True,
    ) -> PayAsYouGo | FixedPayment:
        """The rule for a customer who chose *chosen*; the other arguments are those of
        :class:`FixedPayment`."""
        if self.for_customer(chosen) == "pay_as_you_go":
            return PayAsYouGo()
        if amount is None:
            raise PlanError(
                "a fixed payment contract needs its amount per period; pass "
                "amount=Money('300.00', 'EUR')"
            )
        return FixedPayment(
            amount=amount,
            commitment=commitment,
            overage_billed=overage_billed,
            start=start,
            end=end,
            prorate=prorate,
        )
