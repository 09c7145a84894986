"""Customers over time: subscriptions to plans, their billing periods and their segments.

A customer has subscriptions, each naming a plan, a start instant and optionally an end
(cancellation), a trial end, a billing interval (``month``, ``year``, ``week``; *every* N
of them) and an anchor (``calendar`` periods, or ``anniversary`` on the start instant).
A customer's subscriptions follow one another: each ends where the next starts unless it
ends earlier. A billing period is cut into **segments** where a subscription starts or
ends and where its plan's price version changes; each segment is rated under its plan
with a :class:`~cloudrate.rating.Coverage`, so what is priced per period is prorated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, get_args

import attrs
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped,unused-ignore]

from cloudrate.exceptions import BillingError
from cloudrate.invoice import Customer
from cloudrate.period import BillingPeriod, zone
from cloudrate.plans import ChargeOverride, Plan

__all__ = [
    "ANCHORS",
    "INTERVALS",
    "Anchor",
    "BillingCustomer",
    "Interval",
    "Segment",
    "Subscription",
    "customer_periods",
    "periods_of",
    "segments",
    "trial_plan",
]

Interval = Literal["month", "year", "week"]
INTERVALS: tuple[Interval, ...] = get_args(Interval)
#: ``calendar``: periods on calendar boundaries (the 1st of the month, 1 January, Monday);
#: ``anniversary``: periods counted from the subscription's start instant, the day of the
#: month kept (a start on the 31st gives 30 April, 28 or 29 February, 31 March...).
Anchor = Literal["calendar", "anniversary"]
ANCHORS: tuple[Anchor, ...] = get_args(Anchor)


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
        raise BillingError(
            f"subscription {attribute.name}: expected an aware datetime such as "
            f"2026-10-01T00:00:00+00:00 (got {value!r})"
        )


def _every(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BillingError(f"subscription every: a whole number of intervals >= 1 (got {value!r})")


@attrs.frozen(kw_only=True)
class Subscription:
    """One plan from *start* (to *end*, when cancelled), billed every *every* *interval*.

    *trial_end*: usage before it is free (the trial), or, with *trial_allowances*
    (overrides such as ``ChargeOverride(charge="compute", free_units=...)``), free up to
    those allowances and billed beyond them, flat fees waived; the first paid part of the
    period is prorated from it. *overrides* change named charges of the plan for this
    customer only (see :meth:`cloudrate.plans.Plan.with_overrides`), shown as
    *override_label*.
    """

    plan: str
    start: datetime = attrs.field(validator=_aware)
    end: datetime | None = attrs.field(default=None, validator=_aware)
    trial_end: datetime | None = attrs.field(default=None, validator=_aware)
    interval: Interval = "month"
    every: int = attrs.field(default=1, validator=_every)
    anchor: Anchor = "calendar"
    overrides: tuple[ChargeOverride, ...] = ()
    override_label: str = "contract"
    trial_allowances: tuple[ChargeOverride, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise BillingError(f"subscription interval: one of {', '.join(INTERVALS)}")
        if self.anchor not in ANCHORS:
            raise BillingError(f"subscription anchor: one of {', '.join(ANCHORS)}")
        if self.end is not None and self.end <= self.start:
            raise BillingError(
                f"subscription to {self.plan}: end {self.end.isoformat()} is not after its "
                f"start {self.start.isoformat()}"
            )

    def _step(self, n: int) -> relativedelta | timedelta:
        if self.interval == "week":
            return timedelta(weeks=n * self.every)
        months = n * self.every * (12 if self.interval == "year" else 1)
        return relativedelta(months=months)

    def boundary(self, n: int, tz: str) -> datetime:
        """The start of the *n*-th period (0 is the one holding the start)."""
        local = self.start.astimezone(zone(tz))
        if self.anchor == "anniversary":
            return _local(local + self._step(n), tz)
        if self.interval == "week":
            monday = (local - timedelta(days=local.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            return _local(monday + self._step(n), tz)
        months = 12 if self.interval == "year" else 1
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if months == 12:
            first = first.replace(month=1)
        span = self.every * months
        index = (first.year * 12 + first.month - 1) // span * span
        aligned = first.replace(year=index // 12, month=index % 12 + 1)
        return _local(aligned + self._step(n), tz)


def _local(moment: datetime, tz: str) -> datetime:
    """*moment*'s wall time in *tz*, normalised (so a DST change keeps local midnight)."""
    naive = moment.replace(tzinfo=None)
    return naive.replace(tzinfo=zone(tz))


def _in_order(value: Iterable[Subscription]) -> tuple[Subscription, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class BillingCustomer:
    """A customer with the details its invoices carry and its subscriptions, by start."""

    customer: Customer
    subscriptions: tuple[Subscription, ...] = attrs.field(converter=_in_order)

    def __attrs_post_init__(self) -> None:
        if not self.subscriptions:
            raise BillingError(f"customer {self.id!r}: give at least one subscription")
        starts = [s.start for s in self.subscriptions]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise BillingError(
                f"customer {self.id!r}: subscriptions must follow one another, each "
                "starting after the one before (give them in order of their start)"
            )

    @property
    def id(self) -> str:
        return self.customer.id

    def active(self) -> tuple[tuple[Subscription, datetime, datetime | None], ...]:
        """Each subscription with the span it is in force: to the next one's start or its
        own end, whichever comes first."""
        out = []
        subs = self.subscriptions
        for i, sub in enumerate(subs):
            nxt = subs[i + 1].start if i + 1 < len(subs) else None
            ends = [t for t in (sub.end, nxt) if t is not None]
            out.append((sub, sub.start, min(ends) if ends else None))
        return tuple(out)


@attrs.frozen(kw_only=True)
class Segment:
    """A part of a billing period under one subscription and one price version."""

    subscription: Subscription
    plan: Plan
    start: datetime
    end: datetime
    trial: bool = False

    @property
    def label(self) -> str:
        version = f" (prices {self.plan.version})" if self.plan.version else ""
        trial = ", free trial" if self.trial else ""
        return f"plan {self.plan.name}{version}{trial}"


def periods_of(subscription: Subscription, tz: str, until: datetime) -> Iterable[BillingPeriod]:
    """The billing periods of *subscription* that start before *until*, in order."""
    n = 0
    while True:
        start, end = subscription.boundary(n, tz), subscription.boundary(n + 1, tz)
        if start >= until:
            return
        yield BillingPeriod(start, end, tz)
        n += 1


def segments(
    customer: BillingCustomer, period: BillingPeriod, plans: dict[str, Plan]
) -> tuple[Segment, ...]:
    """The parts of *period* each of *customer*'s subscriptions covers, cut where its
    plan's prices change and where its trial ends."""
    out = []
    for sub, start, end in customer.active():
        lo = max(start, period.start)
        hi = period.end if end is None else min(end, period.end)
        if lo >= hi:
            continue
        plan = _plan(plans, sub, customer.id)
        cuts = sorted({lo, hi, *plan.changes_within(lo, hi), *_trial_cut(sub, lo, hi)})
        for a, b in itertools.pairwise(cuts):
            version = plan.at(a)
            if sub.overrides:
                version = version.with_overrides(sub.overrides, label=sub.override_label)
            trial = sub.trial_end is not None and a < sub.trial_end
            out.append(Segment(subscription=sub, plan=version, start=a, end=b, trial=trial))
    return tuple(out)


def trial_plan(plan: Plan, allowances: tuple[ChargeOverride, ...], share: Decimal) -> Plan:
    """*plan* during a trial with allowances: the allowances as free units for the whole
    trial (divided by *share*, the trial's part of the period, which rating prorates by),
    flat fees waived (a 100% discount), every other price as it is."""
    allowances = tuple(
        attrs.evolve(o, free_units=o.free_units / share) if o.free_units is not None else o
        for o in allowances
    )
    named = {o.charge for o in allowances}
    waived = tuple(
        ChargeOverride(charge=c.name, discount_percent=Decimal(100))
        for c in plan.charges
        if c.model.basis == "period" and c.name not in named
    )
    return plan.with_overrides((*allowances, *waived), label="trial")


def customer_periods(customer: BillingCustomer, window: BillingPeriod) -> tuple[BillingPeriod, ...]:
    """The billing periods of *customer* that *window* bills: *window* itself for calendar
    subscriptions billed every month; for the others (anniversary ones, and calendar ones
    billed every week, every few months or every year), their periods that end within it
    (a period is billed once it is over, and so once)."""
    out: list[BillingPeriod] = []
    for sub, start, end in customer.active():
        if sub.anchor == "calendar" and sub.interval == "month" and sub.every == 1:
            if start < window.end and (end is None or end > window.start):
                out.append(window)
            continue
        for period in periods_of(sub, window.timezone, window.end):
            ends_inside = window.start < period.end <= window.end
            if ends_inside and (end is None or period.start < end) and period.end > start:
                out.append(period)
    return tuple(dict.fromkeys(out))


def _trial_cut(sub: Subscription, lo: datetime, hi: datetime) -> Sequence[datetime]:
    t = sub.trial_end
    return [t] if t is not None and lo < t < hi else []


def _plan(plans: dict[str, Plan], sub: Subscription, customer: str) -> Plan:
    plan = plans.get(sub.plan)
    if plan is None:
        raise BillingError(
            f"customer {customer!r} subscribes to plan {sub.plan!r}, which is not among the "
            f"plans given ({', '.join(sorted(plans)) or 'none'}); pass it (--plan) or fix "
            "the name"
        )
    return plan
