"""Charge slots: which charges price each metric, how they aggregate and what they select.

Both engines route usage through the same slots: a record of metric *m* feeds every
charge of *m* whose ``where`` selects it and whose validity window it falls in
(:func:`cloudrate.period.overlaps`), aggregated as the metric says (or by resource and
active time for a flat fee with a metric, or by calendar month for a metric whose month
is each record's own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal

import attrs

from cloudrate.period import BillingPeriod, one_month, zone
from cloudrate.plans import Charge, Plan, bills_without_usage, prices_transactions

__all__ = [
    "EARLIEST",
    "LATEST",
    "ChargeSlot",
    "SlotAggregation",
    "Window",
    "bills_unused",
    "charge_slots",
]

#: How a slot aggregates its records: a metric aggregation, ``resources`` (each
#: resource and when it was active, for a flat fee prorated per resource) or
#: ``monthly`` (a sum per calendar month of the records' starts, for a metric with
#: ``month_hours='actual'`` rated over more than one calendar month) or ``transactions``
#: (each record's quantity, for a model priced per transaction).
SlotAggregation = Literal[
    "sum", "max", "average", "unique", "latest", "resources", "monthly", "transactions"
]
#: A charge's validity window as UTC instants ``[start, end)``; None on an open side.
Window = tuple[datetime | None, datetime | None]


@attrs.frozen
class ChargeSlot:
    """A charge that prices a metric: its index in the plan, aggregation and selector
    (``charge.where``, one condition both engines evaluate: ``matches`` per record,
    ``mask`` per batch; false when it selects every record).

    *per_record* says the metric rounds each record's quantity (converted into its unit)
    before aggregation: such a slot's records go one by one through
    :func:`~cloudrate.rating._accumulate.accumulate`, in both engines."""

    index: int
    charge: Charge
    aggregation: SlotAggregation
    window: Window | None = None
    per_record: bool = False

    @property
    def name(self) -> str:
        return self.charge.name

    @property
    def adds_raw(self) -> bool:
        """Whether the slot adds the records' quantities up as they are (a ``sum`` whose
        records are not rounded one by one)."""
        return self.aggregation == "sum" and not self.per_record

    @property
    def summed(self) -> bool:
        """Whether the slot adds every record's quantity up as it is, with no selector."""
        return self.adds_raw and not self.selects

    @property
    def selects(self) -> bool:
        """Whether the slot takes only some records (a ``where`` or a validity window)."""
        return bool(self.charge.where) or self.window is not None

    def matcher(self) -> Callable[[Mapping[str, str]], bool] | None:
        """The per-record test of the charge's ``where`` (None: every record)."""
        return self.charge.matcher()


def charge_slots(
    plan: Plan, period: BillingPeriod | None = None
) -> dict[str, tuple[ChargeSlot, ...]]:
    """The slots of each metric a charge prices, in plan order, for rating *period*
    (which says whether a metric converted by each record's month is summed by month).

    >>> import cloudrate
    >>> slots = charge_slots(cloudrate.load_plan(cloudrate.sample_plan_path()))
    >>> [(s.name, s.aggregation) for s in slots["vm_running"]][:1]
    [('windows_license', 'resources')]
    """
    slots: dict[str, list[ChargeSlot]] = {}
    tz = zone(plan.timezone)
    by_months = period is None or one_month(period, plan.timezone) is None
    for index, charge in enumerate(plan.charges):
        if charge.metric is None:
            continue
        metric = plan.metric(charge.metric)
        priced_per_resource = charge.model.basis == "period"
        # a metric that rounds each record converts each record (with its own month)
        # as it enters, so its records are summed as any others
        per_record = metric.rounds_records and not priced_per_resource
        aggregation: SlotAggregation
        if priced_per_resource:
            aggregation = "resources"
        elif prices_transactions(charge.model):
            aggregation = "transactions"
        elif metric.by_month and by_months and not per_record:
            aggregation = "monthly"
        else:
            aggregation = metric.aggregation
        window = None
        if charge.valid is not None:
            low, high = charge.valid.bounds(tz)
            window = (
                None if low is None else low.astimezone(UTC),
                None if high is None else high.astimezone(UTC),
            )
        slots.setdefault(charge.metric, []).append(
            ChargeSlot(index, charge, aggregation, window, per_record)
        )
    return {metric: tuple(found) for metric, found in slots.items()}


#: Instants before and after every record, for an open side of a window.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def bills_unused(charge: Charge, start: datetime, end: datetime, timezone: str) -> bool:
    """Whether *charge* is priced for an account with none of its records in the span
    ``[start, end)`` rated (a tiered model's ``zero_usage: first_flat_fee``,
    :func:`~cloudrate.plans.bills_without_usage`): only when its validity window, if it
    has one, shares an instant with the span. A window that ends before the period, or
    starts after it, bills nothing; one that overlaps it bills the first flat fee once,
    however short the overlap. Both engines ask here.

    >>> import cloudrate
    >>> plan = cloudrate.load_plan('''{name: P, currency: EUR, charges: [
    ...   {name: vm, metric: vm_hours, model: graduated, zero_usage: first_flat_fee,
    ...    valid: {from: 2026-10-31}, tiers: [{up_to: null, unit_price: 1, flat_price: 5}]}]}''')
    >>> october, november = (cloudrate.BillingPeriod.month(2026, m) for m in (10, 11))
    >>> charge = plan.charges[0]
    >>> [bills_unused(charge, p.start, p.end, "UTC") for p in (october, november)]
    [True, True]
    >>> september = cloudrate.BillingPeriod.month(2026, 9)
    >>> bills_unused(charge, september.start, september.end, "UTC")
    False
    """
    if not bills_without_usage(charge.model):
        return False
    if charge.valid is None:
        return True
    low, high = charge.valid.bounds(zone(timezone))
    return (low is None or low < end) and (high is None or high > start)
