"""Rating a customer's period across its subscriptions: one bill from every segment.

Usage is split where the segments meet: a record that spans a plan change is cut at the
change, its quantity shared by the seconds on each side (the last part takes what the
division leaves, so the parts add up exactly). A record of the period must lie inside its
segments: time of it that no segment covers (before a subscription starts, after its
cancellation, in a gap between two, beyond the period's bounds) is refused, every such
record named, never dropped or billed to a neighbouring segment. Records wholly outside
the period are left to their own periods. Each segment is rated under its plan with a
coverage; usage in a free trial is not billed. When a period has several segments each
line names its segment, so the lines of two plans (or two price versions) stay apart.
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, exact
from cloudrate.exceptions import BillingError
from cloudrate.period import BillingPeriod, seconds_between
from cloudrate.plans import Plan
from cloudrate.rating import AccountBill, Coverage, RatedLine, rate
from cloudrate.usage import UsageRecord, dedupe

from ._subscriptions import BillingCustomer, Segment, segments, trial_plan

__all__ = ["CustomerBill", "rate_customer", "split_usage"]

Span = tuple[datetime, datetime]

#: How to mend usage that no subscription segment covers.
_UNCOVERED_FIX = (
    "cut the usage to the time of its subscriptions (and split usage that crosses a "
    "period's bounds at them), or extend a subscription over that time (an earlier start, "
    "a later end, or a subscription for the gap)"
)


@attrs.frozen(kw_only=True)
class CustomerBill:
    """A customer's bill for one period, the segments it was rated in, and notes for the
    invoice (a free trial, a plan change)."""

    period: BillingPeriod
    bill: AccountBill
    segments: tuple[Segment, ...]
    notes: tuple[str, ...] = ()
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)


@attrs.frozen(kw_only=True)
class RecordShares:
    """One record shared out over spans: its part in each span it meets (by the span's
    index) and the time of it no span covers."""

    parts: tuple[tuple[int, UsageRecord], ...]
    uncovered: tuple[Span, ...]


def meets(record: UsageRecord, start: datetime, end: datetime) -> bool:
    """Whether *record* has time in ``[start, end)`` (a record of no length: its instant
    lies in it)."""
    if record.start == record.end:
        return start <= record.start < end
    return record.start < end and record.end > start


def _overlaps(record: UsageRecord, cuts: Sequence[Span]) -> list[tuple[int, Span]]:
    """The spans *record* meets, by index, each clipped to the record."""
    return [
        (i, (max(a, record.start), min(b, record.end)))
        for i, (a, b) in enumerate(cuts)
        if meets(record, a, b)
    ]


def _gaps(start: datetime, end: datetime, covered: Sequence[Span]) -> tuple[Span, ...]:
    """The time from *start* to *end* that *covered* (in order, inside it) leaves out; an
    instant is left out when nothing covers it."""
    if start == end:
        return () if covered else ((start, end),)
    gaps: list[Span] = []
    at = start
    for lo, hi in covered:
        if lo > at:
            gaps.append((at, lo))
        at = hi
    if at < end:
        gaps.append((at, end))
    return tuple(gaps)


def _on_step(value: Decimal, step: int) -> Decimal:
    """*value* rounded to a multiple of ``10**step`` when it is finer than that."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= step:
        return value
    return value.quantize(Decimal(1).scaleb(step))


def share_by_seconds(record: UsageRecord, cuts: Sequence[Span]) -> RecordShares:
    """*record*'s part in each of *cuts* (in order, not overlapping), its quantity shared
    by the seconds of it inside each, and the time of it no cut covers.

    The parts add up exactly to the quantity of the covered seconds (the last part takes
    what the divisions leave): to the whole quantity when no time is uncovered. A record
    of no length belongs whole to the cut holding its instant.
    """
    hits = _overlaps(record, cuts)
    uncovered = _gaps(record.start, record.end, [span for _, span in hits])
    whole = len(hits) == 1 and not uncovered
    if not hits or whole or record.start == record.end:
        return RecordShares(parts=tuple((i, record) for i, _ in hits), uncovered=uncovered)
    with decimal.localcontext(EXACT):
        total = seconds_between(record.start, record.end)
        covered = sum((seconds_between(lo, hi) for _, (lo, hi) in hits), Decimal(0))
        owed = record.quantity if not uncovered else record.quantity * covered / total
        # shares on one step, fine enough for 60 digits of *owed*: every sum of them exact
        step = owed.adjusted() - EXACT.prec + 1
        parts: list[tuple[int, UsageRecord]] = []
        given = Decimal(0)
        for n, (i, (lo, hi)) in enumerate(hits):
            if n == len(hits) - 1:
                share = owed - given
            else:
                share = _on_step(record.quantity * seconds_between(lo, hi) / total, step)
            given += share
            parts.append((i, attrs.evolve(record, quantity=share, start=lo, end=hi)))
    return RecordShares(parts=tuple(parts), uncovered=uncovered)


def _check_cuts(cuts: Sequence[Span]) -> None:
    """Refuse spans of no length, out of order or overlapping: they would drop or double
    usage."""
    bad = [(a, b) for a, b in cuts if b <= a]
    bad += [(a, b) for (_, before), (a, b) in itertools.pairwise(cuts) if a < before]
    if bad:
        a, b = bad[0]
        raise BillingError(
            "split_usage: spans of some length, in order, each starting no earlier than the "
            f"one before ends (got {a.isoformat()} to {b.isoformat()})"
        )


def _record_text(record: UsageRecord) -> str:
    """*record* as an error names it: account, metric, record id and origin when known."""
    named = f" record {record.record_id!r}" if record.record_id is not None else ""
    origin = f" ({record.origin})" if record.origin else ""
    return (
        f"account {record.account!r}{named} {record.metric!r} from "
        f"{record.start.isoformat()} to {record.end.isoformat()}{origin}"
    )


def _span_text(span: Span) -> str:
    start, end = span
    if start == end:
        return f"the instant {start.isoformat()}"
    return f"{start.isoformat()} to {end.isoformat()} ({seconds_between(start, end)} s)"


def _uncovered_error(found: Sequence[tuple[UsageRecord, tuple[Span, ...]]]) -> BillingError:
    """The error for usage with time no subscription segment covers, naming every
    record and its uncovered time."""
    lines = "\n".join(
        f"- {_record_text(record)}: uncovered {', '.join(_span_text(s) for s in spans)}"
        for record, spans in found
    )
    return BillingError(
        f"{len(found)} usage record(s) have time no subscription covers, so no plan prices "
        f"it:\n{lines}\n{_UNCOVERED_FIX}",
        fix=_UNCOVERED_FIX,
    )


def split_usage(records: Iterable[UsageRecord], cuts: Sequence[Span]) -> list[list[UsageRecord]]:
    """*records* shared out over the spans *cuts* (in order, not overlapping): a record
    crossing a boundary is cut there and its quantity shared by seconds, exactly.

    Usage with time outside every span is refused (:class:`BillingError`, every such
    record named with its uncovered time): pass only the records of the spans' period.

    >>> from datetime import UTC
    >>> t = lambda d: datetime(2026, 10, d, tzinfo=UTC)
    >>> r = UsageRecord(account="a", metric="m", quantity="10", start=t(15), end=t(17))
    >>> halves = split_usage([r], [(t(1), t(16)), (t(16), t(31))])
    >>> [[str(p.quantity) for p in part] for part in halves]
    [['5'], ['5']]
    """
    _check_cuts(cuts)
    parts: list[list[UsageRecord]] = [[] for _ in cuts]
    uncovered: list[tuple[UsageRecord, tuple[Span, ...]]] = []
    for record in records:
        shares = share_by_seconds(record, cuts)
        if shares.uncovered:
            uncovered.append((record, shares.uncovered))
        for i, part in shares.parts:
            parts[i].append(part)
    if uncovered:
        raise _uncovered_error(uncovered)
    return parts


def segment_tags(parts: Sequence[Segment], period: BillingPeriod) -> list[str]:
    """What each segment's lines are named by: its plan and the local day it starts
    (``Basic/2026-10-16``); a later segment of the same plan starting the same day gets
    its local start time instead (``Basic/2026-10-16T18:00:00+02:00``), so no two
    segments share a name."""
    tags: list[str] = []
    for segment in parts:
        start = segment.start.astimezone(period.tz)
        tag = f"{segment.plan.name}/{start.date().isoformat()}"
        tags.append(f"{segment.plan.name}/{start.isoformat()}" if tag in tags else tag)
    return tags


def _named(line: RatedLine, segment: Segment, tag: str, period: BillingPeriod) -> RatedLine:
    tz = period.tz
    first = segment.start.astimezone(tz).date().isoformat()
    last = segment.end.astimezone(tz).isoformat()
    return attrs.evolve(
        line,
        charge=f"{line.charge}@{tag}",
        description=f"{line.description} ({segment.label}, from {first} to {last})",
    )


@exact
def rate_customer(
    customer: BillingCustomer,
    plans: Mapping[str, Plan],
    usage: Iterable[UsageRecord],
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
) -> CustomerBill:
    """The bill of *customer* for *period*: each segment rated under its plan, prorated by
    the part of the period it covers, the lines in segment order.

    *usage* may hold other accounts and other periods: the customer's records are
    deduplicated (corrections applied) before they are split, and those wholly outside
    *period* are left to their own periods. Usage of *period* with time no segment covers
    is refused (:func:`split_usage`)."""
    parts = segments(customer, period, dict(plans))
    currencies = {s.plan.currency for s in parts}
    if len(currencies) > 1:
        names = ", ".join(f"{s.plan.name} ({s.plan.currency})" for s in parts)
        raise BillingError(
            f"customer {customer.id!r}: the plans of period {period.label} bill in different "
            f"currencies ({names}); one invoice has one currency: give the plans one "
            "currency, or start the new plan at the start of a period"
        )
    mine = dedupe([r for r in usage if r.account == customer.id]).records
    of_period = [r for r in mine if meets(r, period.start, period.end)]
    split = split_usage(of_period, [(s.start, s.end) for s in parts])
    lines: list[RatedLine] = []
    notes: list[str] = []
    currency = None
    policy = rounding
    tags = segment_tags(parts, period)
    for segment, tag, records in zip(parts, tags, split, strict=True):
        plan = segment.plan
        currency = currency or plan.currency
        policy = policy or plan.rounding
        if segment.trial:
            end = segment.end.astimezone(period.tz).isoformat()
            if not segment.subscription.trial_allowances:
                notes.append(
                    f"Free trial of plan {plan.name} until {end}: its usage is not billed."
                )
                continue
            notes.append(
                f"Trial of plan {plan.name} until {end}: usage beyond its allowances is billed."
            )
        cover = Coverage(start=segment.start, end=segment.end, label=segment.label)
        if segment.trial:
            with decimal.localcontext(EXACT):
                allowances = segment.subscription.trial_allowances
                plan = trial_plan(plan, allowances, cover.share(period))
        result = rate(
            plan, records, period, accounts=[customer.id], rounding=policy, coverage=cover
        )
        bill = result.bill(customer.id)
        several = len(parts) > 1
        lines.extend(_named(x, segment, tag, period) if several else x for x in bill.lines)
    if len({s.plan.name for s in parts}) > 1:
        names = " then ".join(dict.fromkeys(s.plan.name for s in parts))
        notes.append(f"Plan changed within the period: {names}.")
    cur = currency or "EUR"
    total = sum((x.rounded.amount for x in lines), Decimal(0))
    exact = sum((x.amount.amount for x in lines), Decimal(0))
    bill = AccountBill(
        account=customer.id,
        lines=tuple(lines),
        total=Money(total, cur),
        exact_total=Money(exact, cur),
    )
    return CustomerBill(
        period=period,
        bill=bill,
        segments=parts,
        notes=tuple(notes),
        rounding=policy or RoundingPolicy(),
    )
