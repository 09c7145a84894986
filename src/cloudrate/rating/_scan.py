"""rate()'s record loop: one pass over the records of a period, in record order.

:class:`~cloudrate.rating._rate._Walk` decides where the records of each metric go; this
module walks them there:

- a metric whose charges all add every record up (``route[metric]`` is a dict of
  :class:`Acc` per account) is counted and summed in the loop itself;
- a metric whose charges add up the records their ``where`` selects goes to the sums of
  the charges that select it (:class:`Selection`): whether a condition selects a record
  depends only on the values of the attributes the condition reads, so the charges a
  record goes to are found once per distinct set of those values and remembered;
- every other metric goes to its route in ``others`` (one call per record), and a metric
  no charge prices is tallied as unpriced from when it is first seen.

Records are added to each account's sums in the order given, so every sum is the same
additions, in the same order, as one record at a time. A plan whose metrics are all
plainly summed (the usual case) runs :func:`_plain`, a loop with nothing else in it,
until the first record of any other metric; the rest goes through :func:`_general`.

Membership is :func:`cloudrate.period.spans_within` written out, after
:func:`cloudrate.period.strictly_within` (two comparisons, enough for every record that
does not end exactly at the period's end, since no record ends before it starts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import chain
from typing import Any, Generic, TypeVar

from cloudrate.plans import decided_by_attributes
from cloudrate.usage import UsageRecord

from ._accumulate import Acc
from ._slots import ChargeSlot

__all__ = ["Selection", "by_attributes", "scan", "selections"]

T = TypeVar("T")

#: Sums per account, for a metric (or one charge) whose records are all added up.
Sums = dict[str, Acc]
#: A per-record test of a charge's ``where`` (None: every record).
Matcher = Callable[[Mapping[str, str]], bool] | None
#: A record's route that is not a plain sum: called with the record.
Route = Callable[[UsageRecord], None]
#: Distinct attribute values remembered per metric; past this many, the rest are tested
#: record by record (a condition on an attribute with a value per record remembers
#: nothing worth keeping).
MEMO_LIMIT = 1 << 16


class Selection(Generic[T]):
    """What a record of one selected metric goes to, by the values of the attributes its
    charges' conditions read: ``key`` when they read one attribute, else the tuple of
    ``keys`` (in order). *entries* are the metric's (matcher, target) in plan order: the
    charges' sums in the record loop, their slots in :meth:`_Walk._add_each`.

    >>> from cloudrate.plans import Match
    >>> z1, every = {}, {}
    >>> s = Selection(("zone",), ((Match({"zone": "z1"}).matches, z1), (None, every)))
    >>> [t is z1 for t in s.targets({"zone": "z1"})], [t is z1 for t in s.targets({})]
    ([True, False], [False])
    >>> list(s.table)
    ['z1', None]
    """

    __slots__ = ("entries", "key", "keys", "table")

    def __init__(self, keys: Sequence[str], entries: Sequence[tuple[Matcher, T]]) -> None:
        self.keys = tuple(keys)
        self.key = self.keys[0] if len(self.keys) == 1 else None
        self.entries = tuple(entries)
        self.table: dict[Any, tuple[T, ...]] = {}

    def values(self, attributes: Mapping[str, str]) -> Any:
        """What the table is keyed by: the value of ``key``, or the tuple of ``keys``."""
        if self.key is not None:
            return attributes.get(self.key)
        return tuple(map(attributes.get, self.keys))

    def targets(self, attributes: Mapping[str, str]) -> tuple[T, ...]:
        """The targets of the charges that select a record with *attributes*, in plan
        order (remembered for these values while the table has room)."""
        found = tuple(
            target for matcher, target in self.entries if matcher is None or matcher(attributes)
        )
        if len(self.table) < MEMO_LIMIT:
            self.table[self.values(attributes)] = found
        return found

    def pick(self, attributes: Mapping[str, str]) -> tuple[T, ...]:
        """:meth:`targets`, from the table when these values were seen before."""
        key = self.key
        try:
            return self.table[attributes.get(key) if key is not None else self.values(attributes)]
        except KeyError:
            return self.targets(attributes)


def by_attributes(slots: Sequence[ChargeSlot], targets: Sequence[T]) -> Selection[T] | None:
    """A :class:`Selection` of *targets* (one per slot) by the slots' conditions, when
    some slot has one and every condition is decided by attribute values alone; else
    None (test each condition on each record)."""
    conditions = [s.charge.where for s in slots if s.charge.where]
    if not conditions or not all(decided_by_attributes(c) for c in conditions):
        return None
    keys = sorted(set().union(*(c.attributes() for c in conditions)))
    return Selection(keys, [(s.matcher(), t) for s, t in zip(slots, targets, strict=True)])


def selections(
    slots: Mapping[str, tuple[ChargeSlot, ...]],
    selected: Mapping[str, tuple[tuple[Matcher, Any, Sums], ...]],
) -> dict[str, Selection[Sums]]:
    """The :class:`Selection` of each selected metric whose conditions are cloudrate's
    own and whose charges have no validity window (a condition of another kind, or a
    window, which depends on the record's time, keeps its metric's route, record by
    record).

    *selected* holds, for a metric whose charges all sum and some select, each charge's
    matcher, validity window and sums, in the order of *slots*.
    """
    found: dict[str, Selection[Sums]] = {}
    for metric, entries in selected.items():
        if any(s.window is not None for s in slots[metric]):
            continue
        selection = by_attributes(slots[metric], [sums for _, _, sums in entries])
        if selection is not None:
            found[metric] = selection
    return found


def scan(
    records: Sequence[UsageRecord],
    lo: datetime,
    hi: datetime,
    route: dict[str, Sums | None],
    selected: Mapping[str, Selection[Sums]],
    others: dict[str, Route],
    outside: list[UsageRecord],
    unpriced: Route,
    unselected: Route,
) -> None:
    """Walk *records* of the span ``[lo, hi)`` (UTC) to their sums and routes.

    *route* maps a metric to its sums per account when every charge of it adds every
    record up, else to None; then *selected* (metrics whose charges select the records
    they sum) or *others* takes its records. A record outside the span is appended to
    *outside*; a record of a metric no charge prices goes to *unpriced* (and the metric
    is entered in *route* and *others* so), one no charge's ``where`` selects to
    *unselected*.
    """
    plain = {metric: sums for metric, sums in route.items() if sums is not None}
    rest = iter(records)
    if plain:
        stopped = _plain(rest, lo, hi, plain, outside)
        if stopped is None:
            return
        rest = chain((stopped,), rest)
    # metric -> its sums per account, its Selection, or its route
    lookup: dict[str, Sums | Selection[Sums] | Route] = {}
    for metric, sums in route.items():
        if sums is not None:
            lookup[metric] = sums
        else:
            lookup[metric] = selected[metric] if metric in selected else others[metric]
    _general(rest, lo, hi, lookup, route, others, outside, unpriced, unselected)


def _plain(
    records: Iterator[UsageRecord],
    lo: datetime,
    hi: datetime,
    plain: dict[str, Sums],
    outside: list[UsageRecord],
) -> UsageRecord | None:
    """Count and sum records of plainly summed metrics until one of any other metric,
    which is returned (the walk goes on from it, unrated); None at the end."""
    for record in records:
        if lo <= record.start and record.end < hi:  # strictly_within, written out
            pass
        elif not (lo <= record.start < hi and record.end <= hi):  # spans_within
            outside.append(record)
            continue
        try:
            acc = plain[record.metric][record.account]
        except KeyError:
            sums = plain.get(record.metric)
            if sums is None:
                return record
            acc = sums[record.account] = Acc()
        acc.value += record.quantity
        acc.count += 1
    return None


def _general(  # noqa: C901 - the record loop of mixed plans, kept in one piece
    records: Iterable[UsageRecord],
    lo: datetime,
    hi: datetime,
    lookup: dict[str, Sums | Selection[Sums] | Route],
    route: dict[str, Sums | None],
    others: dict[str, Route],
    outside: list[UsageRecord],
    unpriced: Route,
    unselected: Route,
) -> None:
    """Every record to its sums, its charges' sums or its route: *lookup* holds each
    metric's sums per account, :class:`Selection` or route (see :func:`scan`)."""
    for record in records:
        if lo <= record.start and record.end < hi:  # strictly_within, written out
            pass
        elif not (lo <= record.start < hi and record.end <= hi):  # spans_within
            outside.append(record)
            continue
        try:
            entry = lookup[record.metric]
        except KeyError:  # a metric no charge prices, from now on tallied
            route[record.metric] = None
            entry = lookup[record.metric] = others[record.metric] = unpriced
        if type(entry) is dict:
            try:
                acc = entry[record.account]
            except KeyError:
                acc = entry[record.account] = Acc()
            acc.value += record.quantity
            acc.count += 1
            continue
        if type(entry) is Selection:
            attributes = record.attributes
            key = entry.key
            try:
                targets = entry.table[
                    attributes.get(key) if key is not None else entry.values(attributes)
                ]
            except KeyError:
                targets = entry.targets(attributes)
            if not targets:
                unselected(record)
                continue
        else:
            entry(record)  # type: ignore[operator]
            continue
        for sums in targets:
            try:
                acc = sums[record.account]
            except KeyError:
                acc = sums[record.account] = Acc()
            acc.value += record.quantity
            acc.count += 1
