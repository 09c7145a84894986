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
from cloudrate.plans import Charge, Plan

__all__ = [
    "EARLIEST",
    "LATEST",
    "ChargeSlot",
    "SlotAggregation",
    "Window",
    "charge_slots",
]

#: How a slot aggregates its records: a metric aggregation, ``resources`` (each
#: resource and when it was active, for a flat fee prorated per resource) or
#: ``monthly`` (a sum per calendar month of the records' starts, for a metric with
#: ``month_hours='actual'`` rated over more than one calendar month).
SlotAggregation = Literal["sum", "max", "average", "unique", "latest", "resources", "monthly"]
#: A charge's validity window as UTC instants ``[start, end)``; None on an open side.
Window = tuple[datetime | None, datetime | None]


@attrs.frozen
class ChargeSlot:
    """A charge that prices a metric: its index in the plan, aggregation and selector
    (``charge.where``, one condition both engines evaluate: ``matches`` per record,
    ``mask`` per batch; false when it selects every record)."""

    index: int
    charge: Charge
    aggregation: SlotAggregation
    window: Window | None = None

    @property
    def name(self) -> str:
        return self.charge.name

    @property
    def summed(self) -> bool:
        """Whether the slot adds every record's quantity up, with no selector."""
        return self.aggregation == "sum" and not self.charge.where and self.window is None

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
        aggregation: SlotAggregation
        if charge.model.basis == "period":
            aggregation = "resources"
        elif metric.by_month and by_months:
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
        slots.setdefault(charge.metric, []).append(ChargeSlot(index, charge, aggregation, window))
    return {metric: tuple(found) for metric, found in slots.items()}


#: Instants before and after every record, for an open side of a window.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
