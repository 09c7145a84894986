"""One pass over the month's records for everything the billing overview aggregates.

The overview needs, from the same records of one calendar month: the records of each
day cut to it, per metric (the daily card quantities, as :func:`._overview._by_day`),
the aggregates of each charge by the day records complete (an instant: the day holding
it, so one at midnight the day it starts) and the pieces of records still running at
each day's end (the cumulative cost per day, as :func:`._daily._cumulative`), the
records per metric (the month's cards) and the resources seen per metric. Each is the
figure its own pass gives, added up in the same order; reading the records once instead
of four times is what keeps the overview of a month of hourly records fast. The tests
hold every part to its own pass.

Sums are added as :func:`._daily._cumulative` adds them, in a context that refuses to
round (:data:`._daily._NO_ROUNDING`): where a sum would round, the pass stops with
:class:`~._aggregate.OnePassError` and the caller takes the separate passes instead.
"""

from __future__ import annotations

import decimal
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from cloudrate.plans import Plan, decided_by_attributes
from cloudrate.usage import UsageRecord

from ._aggregate import Acc, OnePassError, Slot, add, slots
from ._clip import _clip
from ._daily import _NO_ROUNDING
from ._ranges import DateRange

__all__ = ["MonthScan", "cut_to_days", "day_bounds", "scan_month"]

#: Per day, per charge index: an aggregate.
DayAccs = list[dict[int, Acc]]
#: The days' starts and ends in their timezone, and the same in UTC.
Bounds = tuple[list[datetime], list[datetime], list[datetime], list[datetime]]


@attrs.frozen(kw_only=True)
class MonthScan:
    """What one pass over a month's records gives (see the module's docstring).

    *days*: per day, the records cut to it, per metric; *by_metric*: the records per
    metric, in their order. *whole* and *parts*: per day, per charge index, the
    aggregate of the records complete by the day's end and of the pieces of records
    still running then. *seen*: the resource ids (not None) per metric.
    """

    days: list[dict[str, list[UsageRecord]]]
    by_metric: dict[str, list[UsageRecord]]
    whole: DayAccs
    parts: DayAccs
    seen: dict[str, set[str]]


class _Target:
    """One charge a metric's records feed: its aggregates per day."""

    __slots__ = ("aggregation", "index", "matcher", "parts", "scale", "where", "whole")

    def __init__(self, slot: Slot, n_days: int) -> None:
        self.index, self.aggregation, self.matcher = slot.index, slot.aggregation, slot.matcher
        self.scale, self.where = slot.scale, slot.charge.where
        self.whole: list[Acc | None] = [None] * n_days
        self.parts: list[Acc | None] = [None] * n_days


#: Distinct attribute values a :class:`_Picker` remembers; past them, records are tested
#: one by one.
MEMO_LIMIT = 1 << 16


class _Picker:
    """The targets of a metric some of whose charges select records: those whose
    conditions select a record's attributes, remembered by the values of the attributes
    they read when they are cloudrate's own conditions (:func:`decided_by_attributes`),
    as rating remembers them."""

    __slots__ = ("key", "keys", "memo", "targets")

    def __init__(self, targets: tuple[_Target, ...]) -> None:
        self.targets = targets
        conditions = [t.where for t in targets if t.where]
        self.memo: dict[Any, tuple[_Target, ...]] | None = None
        self.keys: tuple[str, ...] = ()
        if all(decided_by_attributes(c) for c in conditions):
            self.keys = tuple(sorted(frozenset().union(*(c.attributes() for c in conditions))))
            self.memo = {}
        self.key = self.keys[0] if len(self.keys) == 1 else None

    def pick(self, attributes: Mapping[str, str], value: Any) -> tuple[_Target, ...]:
        """The targets that select a record with *attributes* (*value*: theirs the memo
        is keyed by), remembered while the memo has room."""
        found = tuple(t for t in self.targets if t.matcher is None or t.matcher(attributes))
        if self.memo is not None and len(self.memo) < MEMO_LIMIT:
            self.memo[value] = found
        return found


def scan_month(plan: Plan, records: Sequence[UsageRecord], month: DateRange) -> MonthScan:
    """The one pass over *records*: those of one account inside *month* (a range within
    one calendar month), deduplicated.

    Raises:
        OnePassError: a sum that would round, or a record the aggregates cannot take.
    """
    bounds = day_bounds(month)
    n_days = len(bounds[0])
    period = month.months()[0]
    routes = {
        metric: tuple(_Target(s, n_days) for s in group)
        for metric, group in slots(plan, period).items()
    }
    days: list[dict[str, list[UsageRecord]]] = [{} for _ in range(n_days)]
    by_metric: dict[str, list[UsageRecord]] = {}
    seen: dict[str, set[str]] = {}
    try:
        with decimal.localcontext(_NO_ROUNDING):
            _scan(plan, records, month, bounds, routes, (days, by_metric, seen))
    except decimal.Inexact:
        raise OnePassError("sums that round") from None
    targets = [t for group in routes.values() for t in group]
    return MonthScan(
        days=days,
        by_metric=by_metric,
        whole=[
            {t.index: a for t in targets if (a := t.whole[d]) is not None} for d in range(n_days)
        ],
        parts=[
            {t.index: a for t in targets if (a := t.parts[d]) is not None} for d in range(n_days)
        ],
        seen={metric: ids for metric, ids in seen.items() if ids},
    )


def _scan(  # noqa: C901, PLR0912 - the hot loop, kept in one piece
    plan: Plan,
    records: Sequence[UsageRecord],
    month: DateRange,
    bounds: Bounds,
    routes: dict[str, tuple[_Target, ...]],
    into: tuple[
        list[dict[str, list[UsageRecord]]], dict[str, list[UsageRecord]], dict[str, set[str]]
    ],
) -> None:
    """Fill *routes*' aggregates and *into* (the records per day and metric, per metric,
    the resources per metric) from *records*."""
    days, by_metric, seen = into
    lows, highs = bounds[2], bounds[3]  # UTC bounds: UTC records compare to them faster
    n_days = len(highs)
    # per metric, in one look-up: its records, its resources, its charges and, when any
    # of them selects records, which do for a record's attributes
    found: dict[str, tuple[list[UsageRecord], set[str], tuple[_Target, ...], _Picker | None]] = {}
    for record in records:
        metric, rid, start, end = record.metric, record.resource_id, record.start, record.end
        # the day the record completes in; an instant's is the day holding it (one at
        # midnight belongs to the day it starts, as rating's period rule says)
        done = bisect_right(highs, start) if start == end else bisect_left(highs, end)
        if done >= n_days:
            raise OnePassError("a record after the range")
        try:
            mine, ids, targets, picker = found[metric]
        except KeyError:
            targets = routes.get(metric, ())
            picker = _Picker(targets) if any(t.matcher for t in targets) else None
            mine, ids = by_metric[metric], seen[metric] = [], set()
            found[metric] = (mine, ids, targets, picker)
        mine.append(record)
        if rid is not None:
            ids.add(rid)
        picked: Sequence[_Target] = targets
        if picker is not None:
            attributes = record.attributes
            memo = picker.memo
            if memo is None:
                picked = picker.pick(attributes, None)
            else:
                key = picker.key
                value: Any
                if key is not None:
                    value = attributes.get(key)
                else:
                    value = tuple(map(attributes.get, picker.keys))
                remembered = memo.get(value)
                picked = picker.pick(attributes, value) if remembered is None else remembered
        if start >= lows[done]:  # inside the day it completes in (an instant: holding it)
            bucket = days[done]
            try:
                bucket[metric].append(record)
            except KeyError:
                bucket[metric] = [record]
        else:
            _across(plan, record, done, picked, month, bounds, days)
        for t in picked:
            acc = t.whole[done]
            if acc is None:
                acc = t.whole[done] = Acc()
            if t.aggregation == "sum" and t.scale is None:
                acc.value += record.quantity
            else:
                add(acc, t.aggregation, record, t.scale)


def _across(
    plan: Plan,
    record: UsageRecord,
    done: int,
    targets: Sequence[_Target],
    month: DateRange,
    bounds: Bounds,
    days: list[dict[str, list[UsageRecord]]],
) -> None:
    """A record that is not inside one day (it runs across midnight, or starts before
    the range): cut to each day for the buckets, and, while it runs at the end of a day
    before the one it completes in, its piece up to then for that day's cumulative
    aggregates."""
    summed = plan.metric(record.metric).aggregation == "sum"
    cut_to_days(record, days, bounds, summed)
    if not targets or record.start == record.end:
        return
    ends, highs = bounds[1], bounds[3]
    for d in range(bisect_right(highs, record.start), done):
        piece = _clip(record, month.start, ends[d], summed)
        assert piece is not None
        for t in targets:
            acc = t.parts[d]
            if acc is None:
                acc = t.parts[d] = Acc()
            add(acc, t.aggregation, piece, t.scale)


def cut_to_days(
    record: UsageRecord,
    days: list[dict[str, list[UsageRecord]]],
    bounds: Bounds,
    summed: bool,
) -> None:
    """Add *record*, cut to each day it touches (:func:`clip_records` for the day), to
    the day's list of its metric. *bounds* are the days' starts and ends, and the same
    in UTC (the records' zone, for the search). An instant goes to the one day holding
    it, ``lo <= t < hi``: one at midnight to the day it starts, not the day it ends."""
    starts, ends, lows, highs = bounds
    start, end = record.start, record.end
    if start == end:
        d = bisect_right(highs, start)
        if d < len(highs) and start >= lows[d]:
            days[d].setdefault(record.metric, []).append(record)
        return
    for d in range(bisect_right(highs, start), bisect_left(lows, end)):
        if start >= lows[d] and end <= highs[d]:
            piece: UsageRecord | None = record
        else:
            piece = _clip(record, starts[d], ends[d], summed)
        if piece is not None:
            days[d].setdefault(record.metric, []).append(piece)


def day_bounds(month: DateRange) -> Bounds:
    """The starts and ends of the days of *month*, in its timezone and in UTC."""
    ranges = [DateRange.custom(d, d, month.timezone) for d in month.dates()]
    starts, ends = [r.start for r in ranges], [r.end for r in ranges]
    return starts, ends, [t.astimezone(UTC) for t in starts], [t.astimezone(UTC) for t in ends]
