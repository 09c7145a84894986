"""The billing overview: the month's usage per day, consumed resources, the notification.

Invoices come in as :class:`InvoiceSummary` (number, total, due date, paid or not): any
invoice store can produce them. Overdue is derived from the due date and the ``today``
you pass: an invoice is overdue from the day after its due date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import RoundingPolicy, currency_digits, exact, zero
from cloudrate.plans import Plan
from cloudrate.rating import RatedLine
from cloudrate.rules import CostDecimals
from cloudrate.usage import UsageRecord, dedupe

from ._aggregate import OnePassError
from ._clip import clip_records
from ._daily import daily_costs, day_costs, exact_decimal, price_days
from ._ranges import DateRange, UsageViewError
from ._scan import MonthScan, cut_to_days, day_bounds, scan_month
from ._view import DEFAULT_CARDS, CardSpec, MetricCard, _card_quantity, _fixed, build_view

__all__ = [
    "STATUSES",
    "BillingOverview",
    "DailyUsage",
    "InvoiceStatus",
    "InvoiceSummary",
    "Notification",
    "billing_overview",
    "status_counts",
]

#: An invoice's badge: paid, unpaid (not yet due) or overdue.
InvoiceStatus = Literal["paid", "unpaid", "overdue"]
#: Badge statuses, in the order charts and tables list them.
STATUSES: tuple[InvoiceStatus, ...] = get_args(InvoiceStatus)


@attrs.frozen(kw_only=True)
class InvoiceSummary:
    """What the overview needs to know of an invoice.

    >>> inv = InvoiceSummary(number="INV-2026-0042", total=Money("119.00", "EUR"),
    ...                      due_date=date(2026, 11, 14))
    >>> inv.status(date(2026, 11, 14)), inv.status(date(2026, 11, 15))
    ('unpaid', 'overdue')
    """

    number: str
    total: Money
    due_date: date
    paid: bool = False
    issued: date | None = None

    def status(self, today: date) -> InvoiceStatus:
        """``paid``, ``overdue`` (unpaid after the due date) or ``unpaid``."""
        if self.paid:
            return "paid"
        return "overdue" if today > self.due_date else "unpaid"


def status_counts(invoices: Iterable[InvoiceSummary], today: date) -> dict[InvoiceStatus, int]:
    """How many invoices are paid, unpaid and overdue (the billing status pie).

    >>> status_counts([], date(2026, 11, 1))
    {'paid': 0, 'unpaid': 0, 'overdue': 0}
    """
    counts = dict.fromkeys(STATUSES, 0)
    for invoice in invoices:
        counts[invoice.status(today)] += 1
    return counts


@attrs.frozen(kw_only=True)
class DailyUsage:
    """One day of the month's usage graph: each card's quantity that day, and the day's
    cost.

    *cost* is the day's exact share of every usage line of the month's estimate (all
    but the fixed charges, see :attr:`BillingOverview.fixed_cost`), *costs* each card's
    share: the cost rated up to the end of the day minus the cost up to the end of the
    day before (see :mod:`cloudrate.portal.usage_view._daily`). The days add up to the
    month's usage cost exactly.
    """

    day: date
    quantities: tuple[tuple[str, Decimal], ...]
    cost: Money | None = None
    costs: tuple[tuple[str, Money], ...] = ()

    def quantity(self, key: str) -> Decimal:
        return dict(self.quantities)[key]

    def card_cost(self, key: str) -> Money:
        """The day's cost of the card *key*'s charges."""
        return dict(self.costs)[key]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"day": self.day.isoformat()}
        out.update({k: f"{q:f}" for k, q in self.quantities})
        if self.cost is not None:
            out["cost"] = f"{self.cost.amount:f}"
            out["card_costs"] = {k: f"{c.amount:f}" for k, c in self.costs}
        return out


@attrs.frozen(kw_only=True)
class Notification:
    """The billing notification: usage so far, and the invoice to pay next.

    *invoice* is the oldest unpaid invoice (overdue ones first come first by due date),
    or the latest invoice when all are paid, or None when there are none.
    """

    total_usage: Money
    invoice: str | None
    due_date: date | None
    status: InvoiceStatus | None
    outstanding: Money

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_usage": str(self.total_usage.amount),
            "invoice": self.invoice,
            "due_date": None if self.due_date is None else self.due_date.isoformat(),
            "status": self.status,
            "outstanding": str(self.outstanding.amount),
        }


@attrs.frozen(kw_only=True)
class BillingOverview:
    """The overview page: *daily* usage of the month so far, *consumed* (the cards),
    *resources* (distinct resources per metric), the *notification* and invoice *counts*.

    *fixed_cost* is the exact cost of the charges that do not depend on usage (flat fees
    without a metric, the minimum-spend true-up), which the days do not share; the days'
    costs plus *fixed_cost* are *exact_total*, the exact month-to-date estimate (the
    notification's ``total_usage`` is its rounded lines added up).
    """

    month: DateRange
    daily: tuple[DailyUsage, ...]
    consumed: tuple[MetricCard, ...]
    resources: tuple[tuple[str, int], ...]
    notification: Notification
    counts: dict[InvoiceStatus, int]
    fixed_cost: Money | None = None
    exact_total: Money | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "cloudrate.billing_overview/1",
            "month": self.month.to_dict(),
            "daily": [d.to_dict() for d in self.daily],
            "consumed": [c.to_dict() for c in self.consumed],
            "resources": dict(self.resources),
            "notification": self.notification.to_dict(),
            "counts": dict(self.counts),
            "fixed_cost": None if self.fixed_cost is None else f"{self.fixed_cost.amount:f}",
            "exact_total": None if self.exact_total is None else f"{self.exact_total.amount:f}",
        }


def _notification(invoices: Sequence[InvoiceSummary], today: date, usage: Money) -> Notification:
    currency = str(usage.currency.code)
    unpaid = sorted((i for i in invoices if not i.paid), key=lambda i: (i.due_date, i.number))
    for invoice in invoices:
        if str(invoice.total.currency.code) != currency:
            raise UsageViewError(
                f"invoice {invoice.number} is in {invoice.total.currency.code}, the account "
                f"bills in {currency}; give the overview the invoices of this account only"
            )
    outstanding = sum((i.total for i in unpaid), zero(currency))
    if unpaid:
        pick: InvoiceSummary | None = unpaid[0]
    else:
        pick = max(invoices, key=lambda i: (i.due_date, i.number), default=None)
    if pick is None:
        return Notification(
            total_usage=usage, invoice=None, due_date=None, status=None, outstanding=outstanding
        )
    return Notification(
        total_usage=usage,
        invoice=pick.number,
        due_date=pick.due_date,
        status=pick.status(today),
        outstanding=outstanding,
    )


def _exact_sum(lines: Sequence[RatedLine], currency: str) -> Money:
    """The exact amounts of *lines* added up without rounding."""
    total = sum((Fraction(x.amount.amount) for x in lines), Fraction(0))
    return Money(exact_decimal(total, currency_digits(currency)), currency)


def _by_day(
    plan: Plan, records: Sequence[UsageRecord], month: DateRange
) -> list[dict[str, list[UsageRecord]]]:
    """The records of each day of *month*, cut to it, per metric: what
    :func:`clip_records` gives for each day, from one pass over *records*."""
    bounds = day_bounds(month)
    out: list[dict[str, list[UsageRecord]]] = [{} for _ in bounds[0]]
    summed: dict[str, bool] = {}
    for record in records:
        metric = record.metric
        if metric not in summed:
            summed[metric] = plan.metric(metric).aggregation == "sum"
        cut_to_days(record, out, bounds, summed[metric])
    return out


def _costs(
    plan: Plan,
    records: Sequence[UsageRecord],
    month: DateRange,
    scan: MonthScan | None,
    *,
    account: str,
    fixed: set[str],
    cards: dict[str, tuple[str, ...]],
    rounding: RoundingPolicy | None,
) -> list[tuple[Money, tuple[tuple[str, Money], ...]]]:
    """Each day's cost, and per card: priced from the one pass's aggregates (*scan*),
    or, without them or where pricing them cannot give rating's figures, by
    :func:`daily_costs` (its own pass, else rating up to each day)."""
    if scan is not None:
        [period] = month.months()
        try:
            cumulative = price_days(plan, period, rounding, scan.whole, scan.parts, fixed, cards)
        except OnePassError:
            pass
        else:
            return day_costs(plan.currency, cumulative, cards)
    return daily_costs(
        plan, records, month, account=account, fixed=fixed, cards=cards, rounding=rounding
    )


@exact
def billing_overview(
    plan: Plan,
    usage: Iterable[UsageRecord],
    *,
    account: str,
    now: datetime | None = None,
    today: date | None = None,
    timezone: str = "UTC",
    invoices: Sequence[InvoiceSummary] = (),
    cards: Sequence[CardSpec] = DEFAULT_CARDS,
    decimals: CostDecimals | None = None,
) -> BillingOverview:
    """The billing overview of *account* on *today* (or at *now*) in *timezone*.

    ``notification.total_usage`` is the month-to-date estimate including flat fees and
    minimum spend, i.e. what the month's bill would be if it closed today. *decimals*
    are the tenant's cost decimals, as for :func:`usage_view` (billed decimals rate the
    month with their digits).

    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> ov = billing_overview(plan, usage, account="acme", today=date(2026, 10, 10),
    ...                       timezone="Europe/Berlin")
    >>> len(ov.daily), ov.daily[0].day
    (10, datetime.date(2026, 10, 1))
    """
    month = DateRange.month_to_date(now=now, today=today, timezone=timezone)
    records = tuple(dedupe(clip_records(plan, usage, month.start, month.end, account)).records)
    try:
        scan: MonthScan | None = scan_month(plan, records, month)
    except OnePassError:  # sums that would round: each figure from its own pass
        scan = None
    view = build_view(
        plan,
        records,
        account=account,
        date_range=month,
        cards=cards,
        include_fixed=True,
        decimals=decimals,
        by_metric=None if scan is None else scan.by_metric,
        per_resource=False,
    )
    fixed = _fixed(plan)
    costs = _costs(
        plan,
        records,
        month,
        scan,
        account=account,
        fixed=fixed,
        cards={c.key: c.metrics for c in view.cards},
        rounding=None if decimals is None else decimals.rounding(plan.rounding),
    )
    daily = []
    buckets = _by_day(plan, records, month) if scan is None else scan.days
    for day, (cost, per_card), mine in zip(month.dates(), costs, buckets, strict=True):
        one = DateRange.custom(day, day, timezone)
        daily.append(
            DailyUsage(
                day=day,
                quantities=tuple(
                    (spec.key, _card_quantity(spec, plan, mine, one)[0]) for spec in cards
                ),
                cost=cost,
                costs=per_card,
            )
        )
    exact_total = _exact_sum(view.lines, plan.currency)
    fixed_cost = _exact_sum([x for x in view.lines if x.charge in fixed], plan.currency)
    if scan is None:
        seen: dict[str, set[str]] = {}
        for r in records:
            if r.resource_id is not None:
                seen.setdefault(r.metric, set()).add(r.resource_id)
    else:
        seen = scan.seen
    return BillingOverview(
        month=month,
        daily=tuple(daily),
        consumed=view.cards,
        resources=tuple(sorted((m, len(ids)) for m, ids in seen.items())),
        notification=_notification(invoices, month.last, view.total),
        counts=status_counts(invoices, month.last),
        fixed_cost=fixed_cost,
        exact_total=exact_total,
    )
