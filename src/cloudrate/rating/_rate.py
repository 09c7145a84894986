"""Rate usage records against a plan one record at a time: :func:`rate`.

The rules of rating live in the modules it calls, shared with the columnar engine:
charge slots (:mod:`._slots`), period membership (:func:`cloudrate.period.spans_within`,
written out in the record loop of :mod:`._scan`), the default period (:mod:`._window`),
unpriced usage (:mod:`._unpriced`), accumulation (:mod:`._accumulate`) and line pricing
(:mod:`._pricing`). This module only routes the records.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import CloudrateError, RatingError
from cloudrate.period import BillingPeriod, overlaps, zone
from cloudrate.plans import Plan
from cloudrate.usage import Deduplicated, UsageRecord, dedupe

from ._accumulate import Acc, accumulate, record_quantity
from ._coverage import Coverage
from ._pricing import price_bill
from ._result import RatingResult
from ._scan import by_attributes, scan, selections
from ._slots import EARLIEST, LATEST, ChargeSlot, Window, charge_slots
from ._unpriced import NO_CHARGE, NO_SELECTION, OnUnpriced, UnpricedTally, check_on_unpriced
from ._window import default_period, outside_error

__all__ = ["rate"]

#: Sums per account, for a metric whose records are all simply added up.
_Sums = dict[str, Acc]
_Matcher = Callable[[Mapping[str, str]], bool] | None


def _in_window(record: UsageRecord, window: Window | None) -> bool:
    """Whether *record* falls in a charge's validity *window* (None: no window)."""
    if window is None:
        return True
    low, high = window
    return bool(overlaps(record.start, record.end, low or EARLIEST, high or LATEST))


def rate(
    plan: Plan,
    usage: Iterable[UsageRecord],
    period: BillingPeriod | None = None,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
    on_unpriced: OnUnpriced = "report",
    coverage: Coverage | None = None,
) -> RatingResult:
    """Rate *usage* against *plan* for *period* and return a bill per account.

    Copies of one record are billed once (:func:`cloudrate.usage.dedupe`): exact
    duplicates are dropped, a higher ``revision`` of a ``record_id`` replaces the lower
    ones, and two different copies of one revision raise
    :class:`~cloudrate.exceptions.DuplicateUsageError` before anything is rated; the
    result counts the copies dropped.

    Args:
        plan: the pricing plan.
        usage: usage records; every record must lie inside the period.
        period: the billing period; by default the calendar month, in the plan's
            timezone, of the earliest record.
        accounts: accounts to bill even without usage (flat fees and minimums apply).
        rounding: overrides the plan's rounding policy.
        on_unpriced: ``"report"`` lists records no charge prices in
            ``result.unpriced``; ``"error"`` raises :class:`UnpricedUsageError`.
        coverage: the part of *period* the plan covers (one side of a plan change,
            :class:`Coverage`): usage must lie inside it, and flat fees without a metric,
            free units and minimums are prorated by its share of the period.

    Returns:
        A :class:`RatingResult`: ``bills`` sorted by account, lines in plan order.

    >>> from datetime import datetime, timezone
    >>> from cloudrate import load_plan
    >>> plan = load_plan('''
    ... name: Basic
    ... currency: EUR
    ... charges:
    ...   - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
    ... ''')
    >>> t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    >>> t1 = datetime(2026, 10, 31, tzinfo=timezone.utc)
    >>> result = rate(plan, [UsageRecord(account="acme", metric="vcpu_hours", quantity="1441",
    ...                                  start=t0, end=t1)])
    >>> line = result.bill("acme").line("compute")
    >>> line.amount.amount, line.rounded.amount
    (Decimal('18.0125'), Decimal('18.01'))
    """
    on_unpriced = check_on_unpriced(on_unpriced)
    if coverage is not None and period is None:
        raise RatingError("coverage: pass the period it is a part of")
    with decimal.localcontext(EXACT):
        return _rate(
            plan, usage, period, tuple(accounts), rounding or plan.rounding, on_unpriced, coverage
        )


def _rate(
    plan: Plan,
    usage: Iterable[UsageRecord],
    period: BillingPeriod | None,
    accounts: tuple[str, ...],
    policy: RoundingPolicy,
    on_unpriced: OnUnpriced,
    coverage: Coverage | None = None,
) -> RatingResult:
    records = usage if isinstance(usage, Sequence) else list(usage)
    found = dedupe(records)  # a conflict is raised here, before any rating
    if period is not None:
        return _Walk(plan, period, accounts, coverage).run(found, policy, on_unpriced)
    if not records:
        default_period(plan, None)  # raises: no usage and no period
    # The default period is the month of the earliest record given (copies included, as
    # the columnar engine sees them). That is the month of the first record whenever
    # every record fits in it, so the earliest record is looked for (one more pass over
    # the usage) only when rating in that month fails.
    guess = default_period(plan, records[0].start)
    try:
        return _Walk(plan, guess, accounts).run(found, policy, on_unpriced)
    except CloudrateError:
        period = default_period(plan, min(r.start for r in records))
        if period == guess:
            raise
    return _Walk(plan, period, accounts).run(found, policy, on_unpriced)


class _Walk:
    """One pass over the records of one period, routing each to its charges' aggregates.

    Metrics whose charges all add quantities up with no selector are summed per account
    in the hot loop, in record order: the same additions as one record at a time. Summed
    metrics whose charges select records are summed per charge; every other aggregation
    goes through :func:`accumulate`, one charge at a time.
    """

    def __init__(
        self,
        plan: Plan,
        period: BillingPeriod,
        accounts: tuple[str, ...],
        coverage: Coverage | None = None,
    ) -> None:
        if coverage is None:
            plan.check_period(period)
        else:
            coverage.check(period)
            plan.check_period(BillingPeriod(coverage.start, coverage.end, period.timezone))
        self.plan, self.period, self.coverage = plan, period, coverage
        self.slots = charge_slots(plan, period)
        self.tz = zone(plan.timezone)
        # selected: metric -> (matcher, window, sums per account) per charge, for summed
        # metrics whose charges select records
        self.selected: dict[str, tuple[tuple[_Matcher, Window | None, _Sums], ...]] = {
            metric: tuple((s.matcher(), s.window, {}) for s in slots)
            for metric, slots in self.slots.items()
            if not all(s.summed for s in slots) and all(s.adds_raw for s in slots)
        }
        # route: metric -> the sums per account when every charge of the metric sums all
        # its records, else None; then others[metric] takes its records (a metric no
        # charge prices goes to the unpriced tally, from when it is first seen)
        self.route: dict[str, _Sums | None] = {
            metric: {} if all(s.summed for s in slots) else None
            for metric, slots in self.slots.items()
        }
        self.others: dict[str, Callable[[UsageRecord], None]] = {
            metric: self._other_route(metric, slots)
            for metric, slots in self.slots.items()
            if self.route[metric] is None
        }
        # the selected metrics whose records the record loop sends to their charges' sums
        # itself (the others go through _add_selected)
        self.selections = selections(self.slots, self.selected)
        self.accs: dict[tuple[str, int], Acc] = {}
        self.unpriced = UnpricedTally()
        self.known = set(accounts)
        self.outside: list[UsageRecord] = []

    def _other_route(
        self, metric: str, slots: tuple[ChargeSlot, ...]
    ) -> Callable[[UsageRecord], None]:
        if metric in self.selected:
            return self._add_selected
        scale = record_quantity(self.plan, self.period, metric)
        # the slots whose where selects a record, remembered by the attribute values the
        # conditions read (None: every condition tested on every record)
        pick = by_attributes(slots, [(s, None) for s in slots])
        return partial(
            self._add_each,
            tuple((s, s.matcher()) for s in slots),
            scale,
            None if pick is None else pick.pick,
        )

    def run(
        self, found: Deduplicated, policy: RoundingPolicy, on_unpriced: OnUnpriced
    ) -> RatingResult:
        self._scan(found.records)
        if self.outside:
            first = self.outside[0]
            cover = self.coverage
            window = self.period if cover is None else BillingPeriod(cover.start, cover.end)
            raise outside_error(
                window, len(self.outside), first.account, first.metric, first.start, first.end
            )
        self._share_sums()
        unpriced = self.unpriced.settle(on_unpriced)
        self.known.update(self.unpriced.accounts())
        plan, period = self.plan, self.period
        bills = tuple(
            price_bill(plan, period, policy, account, self.accs, self.coverage)
            for account in sorted(self.known)
        )
        return RatingResult(
            plan=plan,
            period=period,
            rounding=policy,
            bills=bills,
            unpriced=unpriced,
            duplicates_dropped=found.duplicates_dropped,
            corrections=found.corrections,
        )

    def _scan(self, records: Sequence[UsageRecord]) -> None:
        """The record loop (:func:`._scan.scan`) over the period, or the coverage."""
        window = self.period if self.coverage is None else self.coverage
        lo, hi = window.start.astimezone(UTC), window.end.astimezone(UTC)
        scan(
            records, lo, hi, self.route, self.selections, self.others, self.outside,
            self._add_unpriced, self._add_unselected,
        )  # fmt: skip

    def _add_unpriced(self, record: UsageRecord) -> None:
        """A record of a metric no charge prices."""
        self.unpriced.add(record.metric, NO_CHARGE, record.account)

    def _add_unselected(self, record: UsageRecord) -> None:
        """A record of a metric whose charges' ``where`` all leave it out."""
        self.unpriced.add(record.metric, NO_SELECTION, record.account)

    def _add_each(
        self,
        slots: tuple[tuple[ChargeSlot, _Matcher], ...],
        scale: Callable[[Decimal, datetime], Decimal] | None,
        pick: Callable[[Mapping[str, str]], tuple[tuple[ChargeSlot, _Matcher], ...]] | None,
        record: UsageRecord,
    ) -> None:
        """A record of a metric with other aggregations (or whose records are rounded one
        by one, *scale*): each charge that selects it (*pick* gives those charges' slots,
        with no test left, by the record's attributes when that can be remembered)."""
        self.known.add(record.account)
        quantity = None if scale is None else scale(record.quantity, record.start)
        matched = False
        chosen = slots if pick is None else pick(record.attributes)
        for slot, matcher in chosen:
            if matcher is not None and not matcher(record.attributes):
                continue
            if slot.window is not None and not _in_window(record, slot.window):
                continue
            matched = True
            acc = self.accs.get((record.account, slot.index))
            if acc is None:
                acc = self.accs[(record.account, slot.index)] = Acc()
            acc.count += 1
            accumulate(acc, slot.aggregation, record, quantity, self.tz)
        if not matched:
            self.unpriced.add(record.metric, NO_SELECTION, record.account)

    def _add_selected(self, record: UsageRecord) -> None:
        """A record of a summed metric whose charges select: the sums of those it matches."""
        matched = False
        for matcher, window, sums in self.selected[record.metric]:
            if (matcher is None or matcher(record.attributes)) and (
                window is None or _in_window(record, window)
            ):
                acc = sums.get(record.account)
                if acc is None:
                    acc = sums[record.account] = Acc()
                acc.count += 1
                acc.value += record.quantity
                matched = True
        if not matched:
            self.unpriced.add(record.metric, NO_SELECTION, record.account)

    def _share_sums(self) -> None:
        """Hand the sums to every charge that reads them (charges only read aggregates)."""
        for metric, sums in self.route.items():
            if sums is None:
                continue
            self.known.update(sums)
            for slot in self.slots[metric]:
                self._give(slot, sums)
        for metric, targets in self.selected.items():
            for slot, (_, _, sums) in zip(self.slots[metric], targets, strict=True):
                self.known.update(sums)
                self._give(slot, sums)

    def _give(self, slot: ChargeSlot, sums: _Sums) -> None:
        for account, summed in sums.items():
            self.accs[(account, slot.index)] = summed
