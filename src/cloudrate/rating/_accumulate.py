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
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Charge, Plan, conversion
from cloudrate.usage import UsageRecord

from ._slots import SlotAggregation

__all__ = [
    "Acc",
    "accumulate",
    "aggregated_quantity",
    "latest_rank",
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
    *transactions* each record's start, record id and quantity (``transactions``).
    """

    __slots__ = ("count", "latest", "resources", "transactions", "value")

    def __init__(self, value: Decimal = Decimal(0), count: int = 0) -> None:
        self.value = value
        self.count = count
        self.latest: tuple[Any, ...] | None = None
        self.resources: dict[str, list[tuple[datetime, datetime]]] = {}
        self.transactions: list[tuple[datetime, str, Decimal]] = []


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
) -> Callable[[Decimal], Decimal] | None:
    """How a record's quantity enters the aggregates of *metric* in *period*
    (:meth:`~cloudrate.plans.Metric.record_scale`): converted and rounded when the metric
    rounds each record, None when records enter as they are."""
    return plan.metric(metric).record_scale(period.seconds)


def accumulate(
    acc: Acc, aggregation: SlotAggregation, record: UsageRecord, quantity: Decimal | None = None
) -> None:
    """Add *record* to *acc* as *aggregation* says (the count is the caller's); with
    *quantity*, that quantity instead of the record's (the record's converted and rounded,
    see :func:`record_quantity`)."""
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
            num, den = conversion(metric.usage_unit, metric.unit, period.seconds)
            quantity = quantity * num / den
    rounding = metric.rounding
    if rounding is not None and rounding.per == "aggregate":
        quantity = rounding.apply(quantity)
    return quantity


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
    amounts = [q for _, _, q in sorted(acc.transactions, key=_transaction_order)]
    metric = plan.metric(charge.metric)
    if metric.usage_unit is None or metric.rounds_records:  # converted as they came in
        return amounts
    num, den = conversion(metric.usage_unit, metric.unit, period.seconds)
    return [q * num / den for q in amounts]
