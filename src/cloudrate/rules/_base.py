"""The rule protocol, the context rules read, and ordered policies of rules.

A rule looks at one account's bill and returns the adjustment lines it adds (discounts,
credits, free items, fees); it never edits a line. A :class:`Policy` applies rules left
to right, each seeing the lines the earlier ones added.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import WrongTypeError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Detail, Plan
from cloudrate.rating import AccountBill, RatedLine, RatingResult
from cloudrate.usage import UsageRecord

__all__ = ["Policy", "Rule", "RuleContext", "adjustment", "chain"]


@runtime_checkable
class Rule(Protocol):
    """A billing rule: the lines it adds to *bill*, given what *context* knows."""

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]: ...


def _by_account(records: Iterable[UsageRecord]) -> Mapping[str, tuple[UsageRecord, ...]]:
    if isinstance(records, Mapping):
        return dict(records)
    grouped: dict[str, list[UsageRecord]] = defaultdict(list)
    for record in records:
        grouped[record.account].append(record)
    return {account: tuple(rs) for account, rs in grouped.items()}


def _objects(value: Iterable[object]) -> tuple[object, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class RuleContext:
    """What rules may read besides the bill: the plan, the period, the usage that was rated,
    the accounts' IP acquisition history and the rounding policy for adjustment lines.

    *usage* is grouped by account on construction. *ip_history* holds
    :class:`~cloudrate.rules.IpAcquisition` entries for the IP rules (see
    ``docs/rules/ip-rules.md``).
    """

    plan: Plan
    period: BillingPeriod
    usage: Mapping[str, tuple[UsageRecord, ...]] = attrs.field(
        factory=dict, converter=_by_account, eq=False, repr=False
    )
    ip_history: tuple[object, ...] = attrs.field(default=(), converter=_objects)
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    now: datetime | None = None

    @classmethod
    def for_result(
        cls,
        result: RatingResult,
        usage: Iterable[UsageRecord] = (),
        *,
        ip_history: Iterable[object] = (),
        now: datetime | None = None,
    ) -> RuleContext:
        """The context of a :func:`~cloudrate.rate` result and the usage it rated."""
        return cls(
            plan=result.plan,
            period=result.period,
            usage=usage,
            ip_history=_objects(ip_history),
            rounding=result.rounding,
            now=now,
        )

    def records(self, account: str, metric: str | None = None) -> tuple[UsageRecord, ...]:
        """The usage records of *account* (of *metric* only, when given)."""
        found = self.usage.get(account, ())
        return found if metric is None else tuple(r for r in found if r.metric == metric)


def adjustment(
    bill: AccountBill,
    context: RuleContext,
    *,
    charge: str,
    description: str,
    amount: Decimal,
    kind: str,
    rounded: Decimal | None = None,
    details: tuple[Detail, ...] = (),
    service: str | None = None,
    metric: str | None = None,
    quantity: Decimal = Decimal(1),
    unit: str | None = None,
) -> RatedLine:
    """An adjustment line for *bill* worth the exact *amount*, rounded by the context's
    policy; a *rounded* amount the rule computed itself (a share of an allocation, a
    fixed discount) goes through the policy too, so it always has the policy's digits.
    *service*, *metric*, *quantity* and its *unit* place the line with the usage it
    adjusts (see :meth:`~cloudrate.rating.RatedLine.adjustment`); without them the line
    is quantity 1 with no unit (an invoice shows "1"), never an amount of the currency.

    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> line = adjustment(result.bill("acme"), RuleContext.for_result(result),
    ...     charge="goodwill", description="Goodwill", amount=Decimal("-1.005"), kind="credit")
    >>> line.quantity, line.unit, line.rounded
    (Decimal('1'), '', Money('-1.01', 'EUR'))
    """
    currency = str(bill.total.currency.code)
    rounded = context.rounding.round(amount if rounded is None else rounded, currency)
    line = RatedLine.adjustment(
        account=bill.account,
        charge=charge,
        description=description,
        amount=Money(amount, currency),
        rounded=Money(rounded, currency),
        details=details,
        kind=kind,
        service=service,
        metric=metric,
        quantity=quantity,
    )
    return attrs.evolve(line, unit=unit or "")


def _flatten(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    out: list[Rule] = []
    for rule in rules:
        if isinstance(rule, Policy):
            out.extend(rule.rules)
        elif not isinstance(rule, Rule):
            raise WrongTypeError(
                f"{rule!r} is not a rule: a rule has a lines(bill, context) method"
            )
        else:
            out.append(rule)
    return tuple(out)


@attrs.frozen
class Policy:
    """An ordered composition of rules; itself a rule. Nested policies are flattened.

    >>> from cloudrate.rules import DefaultIpCharge, FreeFirstIp
    >>> a, b, c = DefaultIpCharge(enabled=False), FreeFirstIp(), DefaultIpCharge()
    >>> chain(a, chain(b, c)) == chain(a, b, c) == chain(chain(a, b), c)
    True
    >>> len(chain())
    0
    """

    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_flatten)

    def __len__(self) -> int:
        return len(self.rules)

    def lines(self, bill: AccountBill, context: RuleContext) -> tuple[RatedLine, ...]:
        """Every line the rules add, each rule seeing the earlier rules' lines."""
        applied = self.apply(bill, context)
        return applied.lines[len(bill.lines) :]

    def apply(self, bill: AccountBill, context: RuleContext) -> AccountBill:
        """*bill* with every rule's adjustment lines appended, in rule order."""
        with decimal.localcontext(EXACT):
            for rule in self.rules:
                extra = tuple(rule.lines(bill, context))
                if extra:
                    bill = bill.with_lines(extra)
        return bill

    def apply_result(self, result: RatingResult, context: RuleContext) -> RatingResult:
        """*result* with the policy applied to every account's bill."""
        return result.with_bills(self.apply(bill, context) for bill in result.bills)


def chain(*rules: Rule) -> Policy:
    """Apply *rules* left to right: ``chain(a, chain(b, c)) == chain(a, b, c)``."""
    return Policy(rules)
