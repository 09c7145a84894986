"""Accumulation: how the records of one (account, charge) become one aggregated quantity.

:func:`accumulate` adds one record as its slot's aggregation says; the columnar engine
sums ``sum`` slots vectorised (the same additions) and feeds every other record through
here, and merges partial maxima and latest records by the same
:func:`latest_rank`. :func:`aggregated_quantity` turns the aggregate into the quantity
the charge prices, unit conversion and the metric's rounding included; for a metric
that rounds each record (:attr:`~cloudrate.plans.Metric.rounds_records`), the records
enter the aggregate converted and rounded (:func:`record_quantity`).
:func:`transaction_amounts` gives a charge
priced per transaction each record's quantity, in the one order both engines use.
"""

from __future__ import annotations

from collections.abc import Callable
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
    "record_quantity",
    "resource_key",
    "transaction_amounts",
]

T = TypeVar("T")  # an instant: a datetime, or microseconds in the columnar engine
Q = TypeVar("Q")  # a quantity


class Acc:
    """The running aggregate of one (account, charge).

    *value* is the sum (``sum``), the largest quantity (``max``) or the sum of quantity
    times seconds (``average``); *latest* the rank of the latest record; *resources* the
    resources seen, each with its active spans (``unique``, per-resource flat fees);
    *months* the sum of each calendar month's records, by (year, month) of their starts
    (``monthly``); *transactions* each record's start, record id and quantity
    (``transactions``).
    """

    __slots__ = ("count", "latest", "months", "resources", "transactions", "value")

    def __init__(self, value: Decimal = Decimal(0), count: int = 0) -> None:
        self.value = value
        self.count = count
        self.latest: tuple[Any, ...] | None = None
        self.resources: dict[str, list[tuple[datetime, datetime]]] = {}
        self.months: dict[tuple[int, int], Decimal] = {}
        self.transactions: list[tuple[datetime, str, Decimal]] = []


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


def record_quantity(
    plan: Plan, period: BillingPeriod, metric: str
) -> Callable[[Decimal, datetime], Decimal] | None:
    """How a record's quantity (with the record's start) enters the aggregates of
    *metric* in *period* (:meth:`~cloudrate.plans.Metric.record_scale`): converted, with
    the month the metric's ``month_hours`` gives the record, and rounded when the metric
    rounds each record; None when records enter as they are."""
    return plan.metric(metric).record_scale(period.seconds, plan.timezone)


def accumulate(
    acc: Acc,
    aggregation: SlotAggregation,
    record: UsageRecord,
    quantity: Decimal | None = None,
    tz: tzinfo | None = None,
) -> None:
    """Add *record* to *acc* as *aggregation* says (the count is the caller's); with
    *quantity*, that quantity instead of the record's (the record's converted and rounded,
    see :func:`record_quantity`); *tz*, the plan's timezone, places a ``monthly`` record
    in its month."""
    q = record.quantity if quantity is None else quantity
    if aggregation == "sum":
        acc.value += q
    elif aggregation == "max":
        if q > acc.value:
            acc.value = q
    elif aggregation == "average":
        acc.value += q * record.seconds
    elif aggregation == "unique":
        acc.resources.setdefault(resource_key(record), [])
    elif aggregation == "latest":
        rank = latest_rank(record.end, record.start, record.record_id, q)
        if acc.latest is None or rank > acc.latest:
            acc.latest = rank
    elif aggregation == "monthly":
        assert tz is not None, "monthly sums need the plan's timezone"
        key = month_of(record.start, tz)
        acc.months[key] = acc.months.get(key, Decimal(0)) + q
    elif aggregation == "transactions":
        acc.transactions.append((record.start, record.record_id or "", q))
    else:  # per-resource flat fee: remember when each resource was active
        acc.resources.setdefault(resource_key(record), []).append((record.start, record.end))


def aggregated_quantity(plan: Plan, period: BillingPeriod, charge: Charge, acc: Acc) -> Decimal:
    """The aggregated quantity of *acc*, converted into the unit the charge prices and
    rounded as the metric says (the aggregate; records the metric rounds one by one
    entered *acc* converted and rounded already)."""
    assert charge.metric is not None, "only charges with a metric aggregate usage"
    metric = plan.metric(charge.metric)
    if metric.aggregation == "unique":
        quantity = Decimal(len(acc.resources))
    else:
        if metric.aggregation == "latest":
            quantity = Decimal(0) if acc.latest is None else acc.latest[3]
        elif metric.aggregation == "average":
            quantity = acc.value / period.seconds
        else:
            quantity = acc.value
        if metric.usage_unit is not None and not metric.rounds_records:
            quantity = _converted(plan, period, metric, quantity, acc)
    rounding = metric.rounding
    if rounding is not None and rounding.per == "aggregate":
        quantity = rounding.apply(quantity)
    return quantity


def _converted(
    plan: Plan, period: BillingPeriod, metric: Metric, quantity: Decimal, acc: Acc
) -> Decimal:
    """*quantity* (the aggregate in the metric's usage unit) in its unit, a month being as
    long as the metric's ``month_hours`` says."""
    if metric.by_month:
        month = one_month(period, plan.timezone)
        if month is None:  # summed month by month (the slot's ``monthly``)
            return by_month(metric, acc.months)
        num, den = metric.month_conversion(*month)
    else:
        num, den = metric.conversion(period.seconds)
    return quantity * num / den


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


def _transaction_order(item: tuple[datetime, str, Decimal]) -> tuple[datetime, str, Decimal, int]:
    """The order transactions are priced in: by start, then record id, then quantity
    (then how the quantity is written), so any input order gives one price."""
    start, record_id, quantity = item
    exponent = quantity.as_tuple().exponent
    return (start, record_id, quantity, exponent if isinstance(exponent, int) else 0)


def transaction_amounts(
    plan: Plan, period: BillingPeriod, charge: Charge, acc: Acc
) -> list[Decimal]:
    """The amount of each transaction of *acc*, in the order they are priced (by start,
    then record id, then quantity), each converted into the unit the charge prices.

    >>> import cloudrate
    >>> from datetime import datetime, timezone
    >>> plan = cloudrate.load_plan('''{name: P, currency: EUR, charges: [
    ...   {name: fees, metric: payments, model: transaction_percentage, percent: 1}]}''')
    >>> t = lambda day: datetime(2026, 10, day, tzinfo=timezone.utc)
    >>> acc = Acc()
    >>> acc.transactions = [(t(2), "b", Decimal(5)), (t(1), "z", Decimal(7)),
    ...                     (t(2), "a", Decimal(9))]
    >>> period = cloudrate.BillingPeriod.month(2026, 10)
    >>> transaction_amounts(plan, period, plan.charges[0], acc)
    [Decimal('7'), Decimal('9'), Decimal('5')]
    """
    assert charge.metric is not None, "only charges with a metric have transactions"
    ordered = sorted(acc.transactions, key=_transaction_order)
    metric = plan.metric(charge.metric)
    convert = metric.record_conversion(period.seconds, plan.timezone)
    if convert is None or metric.rounds_records:  # converted as they came in
        return [q for _, _, q in ordered]
    return [convert(q, start) for start, _, q in ordered]
