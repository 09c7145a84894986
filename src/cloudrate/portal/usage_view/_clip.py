"""Cut usage records to a span of time, sharing summed quantities by elapsed time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import attrs

from cloudrate._money import exact
from cloudrate.period import seconds_between
from cloudrate.plans import Plan
from cloudrate.usage import UsageRecord

__all__ = ["clip_records"]


@exact
def _clip(record: UsageRecord, start: datetime, end: datetime, summed: bool) -> UsageRecord | None:
    if record.start == record.end:  # an instant: inside or not (one at the end is not)
        return record if start <= record.start < end else None
    if record.start >= start and record.end <= end:
        return record
    lo, hi = max(record.start, start), min(record.end, end)
    if lo >= hi:
        return None
    quantity = record.quantity
    if summed:  # a summed quantity accrues over the record's time: keep the share inside
        quantity = quantity * seconds_between(lo, hi) / record.seconds
    return attrs.evolve(record, start=lo, end=hi, quantity=quantity)


def clip_records(
    plan: Plan,
    records: Iterable[UsageRecord],
    start: datetime,
    end: datetime,
    account: str | None = None,
) -> list[UsageRecord]:
    """The records (of *account*, if given) that overlap ``[start, end)``, cut to it; an
    instant belongs to it when rating's period would take it (not at *end*).

    A record of a summed metric (vCPU-hours, bytes) that straddles an edge keeps the
    share of its quantity that falls inside, by elapsed time; levels (``average``,
    ``max``, ``latest``, ``unique`` metrics: GB stored, VMs) keep their quantity and
    only lose the time outside.

    >>> from datetime import timezone
    >>> import cloudrate
    >>> plan = cloudrate.load_plan("{name: P, currency: EUR, charges: []}")
    >>> t = lambda h: datetime(2026, 10, 1, h, tzinfo=timezone.utc)
    >>> r = cloudrate.UsageRecord(account="a", metric="vcpu_hours", quantity="4",
    ...                           start=t(10), end=t(14))
    >>> [c.quantity for c in clip_records(plan, [r], t(12), t(20))]
    [Decimal('2')]
    """
    out = []
    summed: dict[str, bool] = {}
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)  # UTC records compare faster
    for record in records:
        if account is not None and record.account != account:
            continue
        if lo <= record.start < hi and record.end <= hi:  # spans_within: kept as it is
            out.append(record)
            continue
        metric = record.metric
        if metric not in summed:
            summed[metric] = plan.metric(metric).aggregation == "sum"
        clipped = _clip(record, start, end, summed[metric])
        if clipped is not None:
            out.append(clipped)
    return out
