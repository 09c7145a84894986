"""The aggregates :func:`cloudrate.rate` builds, per group of records, in one pass.

The usage page needs the month's charges priced for many groups of the same records:
each resource alone (the cost per resource) and the month up to the end of each day (the
cost per day). Rating the month once per group scans every record once per group; this
module routes each record once to the aggregates of the charges that select it, as
rating does (sums, time-weighted averages, peaks, latest levels, unique resources,
active spans for flat fees per resource), and prices an aggregate charge by charge as
rating does, with the charge models' own ``price()``. Pricing an aggregate is cheap; the
records are read once.

The rules are rating's (:mod:`cloudrate.rating`): the aggregates are rating's
:class:`~cloudrate.rating.Acc` and become quantities by rating's
:func:`~cloudrate.rating.aggregated_quantity`; the routing is repeated here only for the
portal's groups, and the tests hold the two to each other on every charge model.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import cast

import attrs

from cloudrate._money import EXACT, MAX_AMOUNT, RoundingPolicy
from cloudrate.period import BillingPeriod, joined_spans, one_month
from cloudrate.plans import (
    Charge,
    OtherCharges,
    Plan,
    Prorated,
    bills_without_usage,
    conversion,
    prices_transactions,
)
from cloudrate.rating import Acc, SlotAggregation, accumulate, aggregated_quantity
from cloudrate.usage import UsageRecord

__all__ = [
    "Acc",
    "OnePassError",
    "Slot",
    "add",
    "combine",
    "price_exact",
    "quantity",
    "slots",
    "unit_conversion",
    "unread",
]

Span = tuple[datetime, datetime]

#: :func:`cloudrate.plans.conversion`, remembered: the same units and period lengths
#: come back for every day and every card.
unit_conversion = functools.lru_cache(maxsize=1024)(conversion)


class OnePassError(Exception):
    """The one-pass path cannot give rating's figures here; rate the groups instead."""


@attrs.frozen
class Slot:
    """A charge that prices a metric: its index in the plan, aggregation and selector,
    and for a metric that rounds each record how a record's quantity enters (*scale*,
    :meth:`~cloudrate.plans.Metric.record_scale`)."""

    index: int
    charge: Charge
    aggregation: SlotAggregation
    matcher: Callable[[Mapping[str, str]], bool] | None
    scale: Callable[[Decimal, datetime], Decimal] | None = None


def slots(plan: Plan, period: BillingPeriod | None = None) -> dict[str, tuple[Slot, ...]]:
    """The charges of each metric, in plan order, as rating routes records to them (with
    *period*, the records of metrics that round each record are rounded as they enter).

    Raises:
        OnePassError: a charge with a validity window: it selects records by their dates,
            which the groups here (records cut to days) do not keep; or, over more than
            one calendar month, a metric converted with each record's month: rate instead.
    """
    found: dict[str, list[Slot]] = {}
    for index, charge in enumerate(plan.charges):
        if charge.metric is None:
            continue
        if charge.valid is not None:
            raise OnePassError("records selected by their dates")
        metric = plan.metric(charge.metric)
        if metric.by_month and period is not None and one_month(period, plan.timezone) is None:
            raise OnePassError("a metric converted month by month, over several months")
        per_resource = charge.model.basis == "period"
        aggregation = "resources" if per_resource else metric.aggregation
        scale = None
        if period is not None and not per_resource:
            scale = metric.record_scale(period.seconds, plan.timezone)
        found.setdefault(charge.metric, []).append(
            Slot(index, charge, aggregation, charge.matcher(), scale)
        )
    return {metric: tuple(s) for metric, s in found.items()}


def add(
    acc: Acc,
    aggregation: SlotAggregation,
    record: UsageRecord,
    scale: Callable[[Decimal, datetime], Decimal] | None = None,
) -> None:
    """Add *record* to *acc* by rating's own rule (:func:`~cloudrate.rating.accumulate`),
    its quantity through *scale* first, for a metric that rounds each record; a record a
    count per resource cannot take raises rating's error."""
    accumulate(
        acc, aggregation, record, None if scale is None else scale(record.quantity, record.start)
    )


def merge_spans(spans: list[Span]) -> list[Span]:
    """The union of *spans* (those of zero length dropped, as proration drops them): the
    same seconds and the same local days, so the same proration factor."""
    return list(joined_spans(s for s in spans if s[0] < s[1]))


def combine(a: Acc | None, b: Acc | None, aggregation: str) -> Acc | None:
    """The aggregate of both groups of records (None: no record)."""
    if a is None or b is None:
        return a if b is None else b
    out = Acc()
    if aggregation in ("sum", "average"):
        out.value = a.value + b.value
    elif aggregation == "max":
        out.value = max(a.value, b.value)
    elif aggregation == "latest":
        ranks = [r for r in (a.latest, b.latest) if r is not None]
        out.latest = max(ranks) if ranks else None
    elif aggregation == "unique":
        out.resources = {key: [] for key in [*a.resources, *b.resources]}
    else:
        keys = dict.fromkeys([*a.resources, *b.resources])
        out.resources = {
            k: merge_spans([*a.resources.get(k, []), *b.resources.get(k, [])]) for k in keys
        }
    return out


def quantity(plan: Plan, period: BillingPeriod, slot: Slot, acc: Acc) -> Decimal:
    """What the charge prices from *acc*: the aggregated quantity in the charge's unit,
    or for a flat fee per resource the sum of the resources' proration factors."""
    charge = slot.charge
    if slot.aggregation == "resources":
        model = cast("Prorated", charge.model)  # models priced on the period are prorated
        factors = [
            model.factor(merge_spans(acc.resources[key]), period) for key in sorted(acc.resources)
        ]
        return sum(factors, Decimal(0))
    assert charge.metric is not None
    metric = plan.metric(charge.metric)
    several_months = metric.by_month and one_month(period, plan.timezone) is None
    converted = metric.usage_unit is not None and not metric.rounds_records
    if several_months and converted and metric.aggregation != "unique":
        raise OnePassError("a metric converted month by month, over several months")
    return aggregated_quantity(plan, period, charge, acc)


def price_exact(  # noqa: C901, PLR0912 - one branch per charge basis, as rating prices
    plan: Plan,
    period: BillingPeriod,
    policy: RoundingPolicy,
    accs: Sequence[Acc | None],
    by_index: Mapping[int, Slot],
    skip: frozenset[str] = frozenset(),
) -> list[tuple[Charge, Decimal]]:
    """The exact amount of every line rating would bill from *accs* (one per charge of
    the plan, None for no record), in plan order: rating's pricing without a coverage.
    The charges in *skip* are not priced (see :func:`unread`)."""
    exact: dict[str, Decimal] = {}
    out: list[tuple[Charge, Decimal]] = []
    currency = plan.currency
    with decimal.localcontext(EXACT):
        for index, charge in enumerate(plan.charges):
            if charge.name in skip:
                continue
            model = charge.model
            basis = model.basis
            acc = accs[index]
            if basis == "usage":
                if acc is None and not bills_without_usage(model):
                    continue
                if prices_transactions(model):  # priced on each record: rate the groups
                    raise OnePassError("a charge priced per transaction")
                used = Decimal(0) if acc is None else quantity(plan, period, by_index[index], acc)
                qty = used - min(used, charge.free_units * Decimal(1))
                amount = model.price(qty).amount.amount
            elif basis == "period":
                if charge.metric is None:
                    proration = Decimal(1)
                elif acc is None:
                    continue
                else:
                    proration = quantity(plan, period, by_index[index], acc)
                amount = model.price(proration).amount.amount
            elif basis == "charges":
                of = cast("OtherCharges", model).of
                base = sum((exact.get(n, Decimal(0)) for n in of), Decimal(0))
                if base == 0 and not bills_without_usage(model):
                    continue
                amount = model.price(base).amount.amount
            else:
                names = cast("OtherCharges", model).of or tuple(exact)
                if policy.placement == "total":
                    seen = exact
                else:
                    seen = {n: policy.round(a, currency) for n, a in exact.items()}
                spent = sum((seen.get(n, Decimal(0)) for n in names), Decimal(0))
                amount = model.price(spent).amount.amount
                if amount == 0:
                    continue
            if abs(amount) >= MAX_AMOUNT:
                raise OnePassError("an amount beyond what rating bills: let rating raise")
            exact[charge.name] = amount
            out.append((charge, amount))
    return out


def unread(plan: Plan, left_out: set[str]) -> frozenset[str]:
    """The charges of *left_out* that no other charge reads, directly or through another
    (percentages and minimums read the charges they name; a minimum naming none reads
    every charge before it): :func:`price_exact` need not price them.

    >>> import cloudrate
    >>> plan = cloudrate.load_plan('''{name: P, currency: EUR, charges: [
    ...   {name: fee, model: flat, price: "5"},
    ...   {name: vat, model: percentage, percent: "10", of: [fee]},
    ...   {name: minimum, model: minimum, amount: "40"}]}''')
    >>> sorted(unread(plan, {"fee", "minimum"})), sorted(unread(plan, {"fee", "vat", "minimum"}))
    (['minimum'], ['fee', 'minimum', 'vat'])
    """
    read: set[str] = set()
    skip: set[str] = set()
    for position in range(len(plan.charges) - 1, -1, -1):
        charge = plan.charges[position]
        if charge.name in left_out and charge.name not in read:
            skip.add(charge.name)
            continue
        if charge.model.basis in ("charges", "spend"):
            names = cast("OtherCharges", charge.model).of
            read.update(names or (c.name for c in plan.charges[:position]))
    return frozenset(skip)
