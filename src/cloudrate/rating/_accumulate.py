"""Accumulation: how the records of one (account, charge) become one aggregated quantity.

:func:`accumulate` adds one record as its slot's aggregation says; the columnar engine
sums ``sum`` slots vectorised (the same additions) and feeds every other record through
here, and merges partial maxima and latest records by the same
:func:`latest_rank`. :func:`aggregated_quantity` turns the aggregate into the quantity
the charge prices, unit conversion included.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from cloudrate._money import EXACT
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod, one_month
from cloudrate.plans import Charge, Metric, Plan
from cloudrate.usage import UsageRecord

from ._slots import SlotAggregation

__all__ = [
    "Acc",
    "accumulate",
    "aggregated_quantity",
    "by_month",
    "latest_rank",
    "month_of",
    "resource_key",
]

T = TypeVar("T")  # an instant: a datetime, or microseconds in the columnar engine
Q = TypeVar("Q")  # a quantity


class Acc:
    """The running aggregate of one (account, charge).

    *value* is the sum (``sum``), the largest quantity (``max``) or the sum of quantity
    times seconds (``average``); *latest* the rank of the latest record; *resources* the
    resources seen, each with its active spans (``unique``, per-resource flat fees);
    *months* the sum of each calendar month's records, by (year, month) of their starts
    (``monthly``).
    """

    __slots__ = ("count", "latest", "months", "resources", "value")

    def __init__(self, value: Decimal = Decimal(0), count: int = 0) -> None:
        self.value = value
        self.count = count
        self.latest: tuple[Any, ...] | None = None
        self.resources: dict[str, list[tuple[datetime, datetime]]] = {}
        self.months: dict[tuple[int, int], Decimal] = {}


def month_of(instant: datetime, tz: tzinfo) -> tuple[int, int]:
    """The (year, month) *instant* falls in, in *tz*: the month of a record's start,
    whose length converts its quantity under ``month_hours='actual'``."""
    local = instant.astimezone(tz)
    return local.year, local.month


def resource_key(record: UsageRecord) -> str:
    """The resource a record is about: its resource_id, else its record_id."""
    key = record.resource_id or record.record_id
    if key is None:
        raise RatingError(
            f"a record of {record.metric!r} for {record.account!r} has no resource_id; "
            "unique counts and per-resource flat fees need resource_id on every record"
        )
    return key


def latest_rank(end: T, start: T, record_id: str | None, quantity: Q) -> tuple[T, T, str, Q]:
    """The order of records for ``latest``: the last to end wins, then the last to start,
    then the larger record id, then the larger quantity, so any input order agrees."""
    return (end, start, record_id or "", quantity)


def accumulate(
    acc: Acc, aggregation: SlotAggregation, record: UsageRecord, tz: tzinfo | None = None
) -> None:
    """Add *record* to *acc* as *aggregation* says (the count is the caller's); *tz*, the
    plan's timezone, places a ``monthly`` record in its month."""
    if aggregation == "sum":
        acc.value += record.quantity
    elif aggregation == "max":
        if record.quantity > acc.value:
            acc.value = record.quantity
    elif aggregation == "average":
        acc.value += record.quantity * record.seconds
    elif aggregation == "unique":
        acc.resources.setdefault(resource_key(record), [])
    elif aggregation == "latest":
        rank = latest_rank(record.end, record.start, record.record_id, record.quantity)
        if acc.latest is None or rank > acc.latest:
            acc.latest = rank
    elif aggregation == "monthly":
        assert tz is not None, "monthly sums need the plan's timezone"
        key = month_of(record.start, tz)
        acc.months[key] = acc.months.get(key, Decimal(0)) + record.quantity
    else:  # per-resource flat fee: remember when each resource was active
        acc.resources.setdefault(resource_key(record), []).append((record.start, record.end))


def aggregated_quantity(plan: Plan, period: BillingPeriod, charge: Charge, acc: Acc) -> Decimal:
    """The aggregated quantity of *acc*, converted into the unit the charge prices."""
    assert charge.metric is not None, "only charges with a metric aggregate usage"
    metric = plan.metric(charge.metric)
    if metric.aggregation == "unique":
        return Decimal(len(acc.resources))
    if metric.aggregation == "latest":
        raw = Decimal(0) if acc.latest is None else acc.latest[3]
    elif metric.aggregation == "average":
        raw = acc.value / period.seconds
    else:
        raw = acc.value
    if metric.usage_unit is None:
        return raw
    if metric.by_month:
        month = one_month(period, plan.timezone)
        if month is None:  # summed month by month (the slot's ``monthly``)
            return by_month(metric, acc.months)
        num, den = metric.month_conversion(*month)
    else:
        num, den = metric.conversion(period.seconds)
    return raw * num / den


def by_month(metric: Metric, months: dict[tuple[int, int], Decimal]) -> Decimal:
    """The monthly sums of a ``month_hours='actual'`` metric, each converted with its own
    month's length, added up exactly and divided once (one rounding, at the 60 digits of
    the decimal context, whatever the order of the months).

    >>> m = Metric(name="vm", unit="VM-month", usage_unit="VM-hour", month_hours="actual")
    >>> by_month(m, {(2026, 2): Decimal(336), (2026, 3): Decimal(372)})  # 1/2 + 1/2
    Decimal('1')
    """
    total = Fraction(0)
    for (year, month), value in sorted(months.items()):
        num, den = metric.month_conversion(year, month)
        total += Fraction(value) * Fraction(num) / Fraction(den)
    return EXACT.divide(Decimal(total.numerator), Decimal(total.denominator))
