"""Rating a customer's period across its subscriptions: one bill from every segment.

Usage is split where the segments meet: a record that spans a plan change is cut at the
change, its quantity shared by the seconds on each side (the last part takes what the
division leaves, so the parts add up exactly). Each segment is rated under its plan with a
coverage; usage in a free trial is not billed. When a period has several segments each
line names its segment, so the lines of two plans (or two price versions) stay apart.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, exact
from cloudrate.exceptions import BillingError
from cloudrate.period import BillingPeriod, seconds_between
from cloudrate.plans import Plan
from cloudrate.rating import AccountBill, Coverage, RatedLine, rate
from cloudrate.usage import UsageRecord

from ._subscriptions import BillingCustomer, Segment, segments, trial_plan

__all__ = ["CustomerBill", "rate_customer", "split_usage"]


@attrs.frozen(kw_only=True)
class CustomerBill:
    """A customer's bill for one period, the segments it was rated in, and notes for the
    invoice (a free trial, a plan change)."""

    period: BillingPeriod
    bill: AccountBill
    segments: tuple[Segment, ...]
    notes: tuple[str, ...] = ()
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)


def _inside(record: UsageRecord, start: datetime, end: datetime) -> bool:
    if record.start == record.end:
        return start <= record.start < end
    return record.start < end and record.end > start


def split_usage(
    records: Iterable[UsageRecord], cuts: list[tuple[datetime, datetime]]
) -> list[list[UsageRecord]]:
    """*records* shared out over the spans *cuts* (in order, not overlapping): a record
    crossing a boundary is cut there and its quantity shared by seconds, exactly.

    >>> from datetime import UTC
    >>> t = lambda d: datetime(2026, 10, d, tzinfo=UTC)
    >>> r = UsageRecord(account="a", metric="m", quantity="10", start=t(15), end=t(17))
    >>> halves = split_usage([r], [(t(1), t(16)), (t(16), t(31))])
    >>> [[str(p.quantity) for p in part] for part in halves]
    [['5'], ['5']]
    """
    parts: list[list[UsageRecord]] = [[] for _ in cuts]
    with decimal.localcontext(EXACT):
        for record in records:
            hit = [i for i, (a, b) in enumerate(cuts) if _inside(record, a, b)]
            if not hit:
                continue
            if len(hit) == 1 or record.start == record.end:
                parts[hit[0]].append(record)
                continue
            total = seconds_between(record.start, record.end)
            left = record.quantity
            for n, i in enumerate(hit):
                a, b = cuts[i]
                lo, hi = max(a, record.start), min(b, record.end)
                if n == len(hit) - 1:
                    share = left
                else:
                    share = record.quantity * seconds_between(lo, hi) / total
                    left -= share
                parts[i].append(attrs.evolve(record, quantity=share, start=lo, end=hi))
    return parts


def _named(line: RatedLine, segment: Segment, period: BillingPeriod) -> RatedLine:
    tz = period.tz
    first = segment.start.astimezone(tz).date().isoformat()
    last = segment.end.astimezone(tz).isoformat()
    return attrs.evolve(
        line,
        charge=f"{line.charge}@{segment.plan.name}/{first}",
        description=f"{line.description} ({segment.label}, from {first} to {last})",
    )


@exact
def rate_customer(
    customer: BillingCustomer,
    plans: Mapping[str, Plan],
    usage: Iterable[UsageRecord],
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
) -> CustomerBill:
    """The bill of *customer* for *period*: each segment rated under its plan, prorated by
    the part of the period it covers, the lines in segment order."""
    parts = segments(customer, period, dict(plans))
    currencies = {s.plan.currency for s in parts}
    if len(currencies) > 1:
        names = ", ".join(f"{s.plan.name} ({s.plan.currency})" for s in parts)
        raise BillingError(
            f"customer {customer.id!r}: the plans of period {period.label} bill in different "
            f"currencies ({names}); one invoice has one currency: give the plans one "
            "currency, or start the new plan at the start of a period"
        )
    mine = [r for r in usage if r.account == customer.id]
    split = split_usage(mine, [(s.start, s.end) for s in parts])
    lines: list[RatedLine] = []
    notes: list[str] = []
    currency = None
    policy = rounding
    for segment, records in zip(parts, split, strict=True):
        plan = segment.plan
        currency = currency or plan.currency
        policy = policy or plan.rounding
        if segment.trial:
            end = segment.end.astimezone(period.tz).isoformat()
            if not segment.subscription.trial_allowances:
                notes.append(
                    f"Free trial of plan {plan.name} until {end}: its usage is not billed."
                )
                continue
            notes.append(
                f"Trial of plan {plan.name} until {end}: usage beyond its allowances is billed."
            )
        cover = Coverage(start=segment.start, end=segment.end, label=segment.label)
        if segment.trial:
            with decimal.localcontext(EXACT):
                allowances = segment.subscription.trial_allowances
                plan = trial_plan(plan, allowances, cover.share(period))
        result = rate(
            plan, records, period, accounts=[customer.id], rounding=policy, coverage=cover
        )
        bill = result.bill(customer.id)
        several = len(parts) > 1
        lines.extend(_named(x, segment, period) if several else x for x in bill.lines)
    if len({s.plan.name for s in parts}) > 1:
        names = " then ".join(dict.fromkeys(s.plan.name for s in parts))
        notes.append(f"Plan changed within the period: {names}.")
    cur = currency or "EUR"
    total = sum((x.rounded.amount for x in lines), Decimal(0))
    exact = sum((x.amount.amount for x in lines), Decimal(0))
    bill = AccountBill(
        account=customer.id,
        lines=tuple(lines),
        total=Money(total, cur),
        exact_total=Money(exact, cur),
    )
    return CustomerBill(
        period=period,
        bill=bill,
        segments=parts,
        notes=tuple(notes),
        rounding=policy or RoundingPolicy(),
    )
