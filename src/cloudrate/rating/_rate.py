"""Rate usage records against a plan: :func:`rate` and the result it returns."""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import CloudrateError, RatingError, UnpricedUsageError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Flat, Plan
from cloudrate.usage import UsageRecord

from ._kernel import Acc, ChargeSlot, accumulate, default_period, note_unpriced, price_bill
from ._result import RatingResult, UnpricedUsage

__all__ = ["rate"]


def rate(
    plan: Plan,
    usage: Iterable[UsageRecord],
    period: BillingPeriod | None = None,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
    on_unpriced: str = "report",
) -> RatingResult:
    """Rate *usage* against *plan* for *period* and return a bill per account.

    Args:
        plan: the pricing plan.
        usage: usage records; every record must lie inside the period.
        period: the billing period; by default the calendar month, in the plan's
            timezone, of the earliest record.
        accounts: accounts to bill even without usage (flat fees and minimums apply).
        rounding: overrides the plan's rounding policy.
        on_unpriced: ``"report"`` lists records no charge prices in
            ``result.unpriced``; ``"error"`` raises :class:`UnpricedUsageError`.

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
    >>> t0, t1 = datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 10, 31, tzinfo=timezone.utc)
    >>> result = rate(plan, [UsageRecord(account="acme", metric="vcpu_hours", quantity="1441",
    ...                                  start=t0, end=t1)])
    >>> line = result.bill("acme").line("compute")
    >>> line.amount.amount, line.rounded.amount
    (Decimal('18.0125'), Decimal('18.01'))
    """
    if on_unpriced not in ("report", "error"):
        raise ValueError(f"on_unpriced must be 'report' or 'error' (got {on_unpriced!r})")
    with decimal.localcontext(EXACT):
        return _rate(plan, usage, period, accounts, rounding or plan.rounding, on_unpriced)


def _rate(
    plan: Plan,
    usage: Iterable[UsageRecord],
    period: BillingPeriod | None,
    accounts: Iterable[str],
    policy: RoundingPolicy,
    on_unpriced: str,
) -> RatingResult:
    records = usage if isinstance(usage, Sequence) else list(usage)
    accounts = tuple(accounts)
    if period is not None:
        return _rate_period(plan, records, period, accounts, policy, on_unpriced)
    if not records:
        default_period(plan, records)  # raises: no usage and no period
    # The default period is the month of the earliest record. That is the month of the
    # first record whenever every record fits in it, so the earliest record is looked
    # for (one more pass over the usage) only when rating in that month fails.
    guess = BillingPeriod.containing(records[0].start, plan.timezone)
    try:
        return _rate_period(plan, records, guess, accounts, policy, on_unpriced)
    except CloudrateError:
        period = default_period(plan, records)
        if period == guess:
            raise
    return _rate_period(plan, records, period, accounts, policy, on_unpriced)


def _rate_period(
    plan: Plan,
    records: Sequence[UsageRecord],
    period: BillingPeriod,
    accounts: Iterable[str],
    policy: RoundingPolicy,
    on_unpriced: str,
) -> RatingResult:
    plan.check_period(period)

    slots: dict[str, list[ChargeSlot]] = defaultdict(list)
    for index, charge in enumerate(plan.charges):
        if charge.metric is not None:
            aggregation = (
                "resources"
                if isinstance(charge.model, Flat)
                else (plan.metric(charge.metric).aggregation)
            )
            slots[charge.metric].append(ChargeSlot(index, charge, aggregation, charge.matcher()))

    accs: dict[tuple[str, int], Acc] = {}
    unpriced: dict[tuple[str, str], list[Any]] = {}
    known = set(accounts)
    # Hot loop. Metrics whose charges all add quantities up are summed right here, per
    # account (and per charge when charges select records with 'where'), in record order:
    # the same additions as one record at a time. Other aggregations take the general
    # path, one charge at a time. The period bounds are compared in UTC: the same
    # instants, and records in UTC compare fastest.
    # route: metric -> sums per account when no charge of the metric has 'where', else
    # None (metrics no charge prices are added as None when first seen).
    route: dict[str, dict[str, Acc] | None] = {
        metric: {} if all(s.aggregation == "sum" and s.matcher is None for s in entries) else None
        for metric, entries in slots.items()
    }
    # selected: metric -> (matcher, sums per account) per charge, for summed metrics
    # whose charges select records.
    selected: dict[str, tuple[tuple[Any, dict[str, Acc]], ...]] = {
        metric: tuple((s.matcher, {}) for s in entries)
        for metric, entries in slots.items()
        if route[metric] is None and all(s.aggregation == "sum" for s in entries)
    }
    outside: list[UsageRecord] = []
    p_start, p_end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    for record in records:
        # Half-open [start, end): an instant at the period's end belongs to the next one.
        # As a record never ends before it starts, only records ending at or after the
        # period's end need the last two comparisons.
        if record.start < p_start or (
            record.end >= p_end and (record.end > p_end or record.start >= p_end)
        ):
            outside.append(record)
            continue
        try:
            sums = route[record.metric]
        except KeyError:
            sums = route[record.metric] = None
        if sums is not None:
            try:
                acc = sums[record.account]
            except KeyError:
                acc = sums[record.account] = Acc()
            acc.count += 1
            acc.value += record.quantity
            continue
        account = record.account
        targets = selected.get(record.metric)
        if targets is not None:
            matched = False
            for matcher, sums in targets:
                if matcher is None or matcher(record.attributes):
                    try:
                        acc = sums[account]
                    except KeyError:
                        acc = sums[account] = Acc()
                    acc.count += 1
                    acc.value += record.quantity
                    matched = True
            if not matched:
                note_unpriced(unpriced, record, "no charge's 'where' selects these records")
            continue
        entries = slots.get(record.metric)
        if entries is None:
            note_unpriced(unpriced, record, "no charge prices this metric")
            continue
        known.add(account)
        matched = False
        for slot in entries:
            if slot.matcher is not None and not slot.matcher(record.attributes):
                continue
            matched = True
            key = (account, slot.index)
            slot_acc = accs.get(key)
            if slot_acc is None:
                slot_acc = accs[key] = Acc()
            slot_acc.count += 1
            accumulate(slot_acc, slot.aggregation, record)
        if not matched:
            note_unpriced(unpriced, record, "no charge's 'where' selects these records")
    if outside:
        first = outside[0]
        raise RatingError(
            f"{len(outside)} record(s) lie outside the period {period.label} "
            f"({period.start.isoformat()} to {period.end.isoformat()}), the first for "
            f"{first.account!r} {first.metric!r} from {first.start.isoformat()} to "
            f"{first.end.isoformat()}; pass a period that covers them or split the usage "
            "by period"
        )
    for metric, sums in route.items():
        if sums is None:
            continue
        known.update(sums)
        for slot in slots[metric]:  # charges only read their aggregate: share it
            for account, summed in sums.items():
                accs[(account, slot.index)] = summed
    for metric, targets in selected.items():
        for slot, (_, sums) in zip(slots[metric], targets, strict=True):
            known.update(sums)
            for account, summed in sums.items():
                accs[(account, slot.index)] = summed
    for unpriced_accounts in unpriced.values():
        known.update(unpriced_accounts)
    found = tuple(
        UnpricedUsage(metric, reason, len(accts), tuple(sorted(set(accts))))
        for (metric, reason), accts in sorted(unpriced.items())
    )
    if found and on_unpriced == "error":
        raise UnpricedUsageError({u.metric: u.records for u in found})

    bills = tuple(price_bill(plan, period, policy, account, accs) for account in sorted(known))
    return RatingResult(plan=plan, period=period, rounding=policy, bills=bills, unpriced=found)
