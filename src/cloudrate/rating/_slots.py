"""Charge slots: which charges price each metric, how they aggregate and what they select.

Both engines route usage through the same slots: a record of metric *m* feeds every
charge of *m* whose ``where`` selects it, aggregated as the metric says (or by resource
and active time for a flat fee with a metric).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import attrs

from cloudrate.plans import Charge, Plan, prices_transactions

__all__ = ["ChargeSlot", "SlotAggregation", "charge_slots"]

#: How a slot aggregates its records: a metric aggregation, ``resources`` (each
#: resource and when it was active, for a flat fee prorated per resource) or
#: ``transactions`` (each record's quantity, for a model priced per transaction).
SlotAggregation = Literal["sum", "max", "average", "unique", "latest", "resources", "transactions"]


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
        return self.adds_raw and not self.charge.where

    def matcher(self) -> Callable[[Mapping[str, str]], bool] | None:
        """The per-record test of the charge's ``where`` (None: every record)."""
        return self.charge.matcher()


def charge_slots(plan: Plan) -> dict[str, tuple[ChargeSlot, ...]]:
    """The slots of each metric a charge prices, in plan order.

    >>> import cloudrate
    >>> slots = charge_slots(cloudrate.load_plan(cloudrate.sample_plan_path()))
    >>> [(s.name, s.aggregation) for s in slots["vm_running"]][:1]
    [('windows_license', 'resources')]
    """
    slots: dict[str, list[ChargeSlot]] = {}
    for index, charge in enumerate(plan.charges):
        if charge.metric is None:
            continue
        metric = plan.metric(charge.metric)
        priced_per_resource = charge.model.basis == "period"
        aggregation: SlotAggregation
        if priced_per_resource:
            aggregation = "resources"
        elif prices_transactions(charge.model):
            aggregation = "transactions"
        else:
            aggregation = metric.aggregation
        per_record = metric.rounds_records and not priced_per_resource
        slots.setdefault(charge.metric, []).append(
            ChargeSlot(index, charge, aggregation, per_record)
        )
    return {metric: tuple(found) for metric, found in slots.items()}
