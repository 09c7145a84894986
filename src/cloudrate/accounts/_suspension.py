"""Suspended account billing (billing setting 7).

An account with an invoice overdue for more than a configured grace is suspended;
paying the invoice (nothing left outstanding) reactivates it. The policy is a list of
stages, most severe first, and the first stage an overdue invoice reaches wins.

While suspended, the account keeps paying for what it still holds: :class:`SuspendedBilling`
says which usage stops being billed (compute, by default) during its
:class:`SuspendedSpan` s, and keeps the rest (storage, IP addresses).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import attrs
from moneyed import Money

from cloudrate._money import EXACT
from cloudrate.exceptions import PlanError
from cloudrate.period import seconds_between, zone
from cloudrate.plans import Plan
from cloudrate.usage import UsageRecord

__all__ = [
    "SUSPENDED",
    "AccountState",
    "OpenInvoice",
    "OverdueInvoice",
    "Stage",
    "StoppedUsage",
    "SuspendedBilling",
    "SuspendedSpan",
    "SuspendedUsage",
    "SuspensionPolicy",
    "suspended_spans",
]


@runtime_checkable
class OverdueInvoice(Protocol):
    """What the suspension rule needs of an invoice; any object with these attributes
    fits, e.g. an adapter around the invoice package's Invoice."""

    @property
    def number(self) -> str: ...

    @property
    def due(self) -> date: ...

    @property
    def outstanding(self) -> Money: ...


@attrs.frozen
class OpenInvoice:
    """An invoice as a plain fact: its *number*, *due* date and *outstanding* amount."""

    number: str
    due: date
    outstanding: Money

    @classmethod
    def of(cls, invoice: object) -> OpenInvoice | None:
        """The fact of *invoice*: any object with ``number``, ``due`` (or ``due_on``) and
        ``outstanding`` (or ``amount_due``), such as ``cloudrate.invoice.Invoice``.
        Drafts and void invoices (``state``) and invoices without a due date give ``None``.

        >>> class Invoice:  # the attribute names of cloudrate.invoice.Invoice
        ...     number, state = "INV-7", "issued"
        ...     due_on, amount_due = date(2026, 11, 1), Money("9.00", "EUR")
        >>> fact = OpenInvoice.of(Invoice())
        >>> fact.number, fact.due, fact.outstanding
        ('INV-7', datetime.date(2026, 11, 1), Money('9.00', 'EUR'))
        """
        if isinstance(invoice, OpenInvoice):
            return invoice
        if getattr(invoice, "state", None) in ("draft", "void"):
            return None
        due = getattr(invoice, "due", None)
        due = getattr(invoice, "due_on", None) if due is None else due
        owed = getattr(invoice, "outstanding", None)
        owed = getattr(invoice, "amount_due", None) if owed is None else owed
        if isinstance(due, datetime):
            due = due.date()
        if due is None:
            return None
        if not isinstance(due, date) or not isinstance(owed, Money):
            raise PlanError(
                f"invoice {getattr(invoice, 'number', invoice)!r}: expected a due date and an "
                f"outstanding Money (attributes due/due_on and outstanding/amount_due), got "
                f"due={due!r}, outstanding={owed!r}"
            )
        return cls(str(getattr(invoice, "number", None) or "(no number)"), due, owed)


@attrs.frozen
class Stage:
    """Enter *state* once an invoice is overdue by more than *after_days* days."""

    state: str
    after_days: int = attrs.field()

    @after_days.validator
    def _check(self, _attr: object, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PlanError(
                f"suspension stage {self.state!r}: after_days must be a whole "
                f"number of days >= 0 (got {value!r})"
            )


@attrs.frozen
class AccountState:
    """The outcome: *state* (``active``, ``warning``, ``suspended`` ...), the *reason*
    in words, and the invoice that decided it (``None`` when none did)."""

    state: str
    reason: str
    invoice: str | None = None
    days_overdue: int = 0


def _days(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PlanError(f"suspension.{where}: must be a whole number of days >= 0 (got {value!r})")
    return value


def _grace(value: object) -> int:
    return _days(value, "grace_days")


def _warning(value: object) -> int | None:
    return None if value is None else _days(value, "warning_days")


@attrs.frozen(kw_only=True)
class SuspensionPolicy:
    """Suspend accounts whose invoices are overdue for more than *grace_days*.

    *warning_days* (optional) adds a warning stage: overdue by more than that many days
    but within the grace. *timezone* is where "today" is counted. Disabled, every
    account stays active whatever it owes.

    >>> policy = SuspensionPolicy(enabled=True, grace_days=15, warning_days=0)
    >>> now = datetime(2026, 11, 20, 9, 0, tzinfo=zone("UTC"))
    >>> late = OpenInvoice("INV-0042", date(2026, 11, 1), Money("120.00", "EUR"))
    >>> policy.evaluate([late], now).state
    'suspended'
    >>> policy.evaluate([late], now).reason
    'invoice INV-0042 (120.00 EUR outstanding) is 19 days overdue, more than the 15 days allowed'
    >>> paid = OpenInvoice("INV-0042", date(2026, 11, 1), Money("0.00", "EUR"))
    >>> policy.evaluate([paid], now).state
    'active'
    """

    enabled: bool = True
    grace_days: int = attrs.field(default=0, converter=_grace)
    warning_days: int | None = attrs.field(default=None, converter=_warning)
    timezone: str = "UTC"

    def __attrs_post_init__(self) -> None:
        zone(self.timezone, "suspension.timezone")
        if self.warning_days is not None and self.warning_days > self.grace_days:
            raise PlanError(
                f"suspension.warning_days ({self.warning_days}) is after grace_days "
                f"({self.grace_days}); warn before suspending"
            )

    def to_dict(self) -> dict[str, object]:
        """The settings as plain data."""
        return {
            "enabled": self.enabled,
            "grace_days": self.grace_days,
            "warning_days": self.warning_days,
            "timezone": self.timezone,
        }

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages, most severe first; the first one reached wins."""
        if not self.enabled:
            return ()
        stages = [Stage("suspended", self.grace_days)]
        if self.warning_days is not None:
            stages.append(Stage("warning", self.warning_days))
        return tuple(stages)

    def evaluate(self, invoices: Iterable[OverdueInvoice | object], now: datetime) -> AccountState:
        """The account's state given its open *invoices* at *now* (an aware datetime).

        *invoices* are :class:`OverdueInvoice` facts or anything :meth:`OpenInvoice.of`
        adapts (such as ``cloudrate.invoice.Invoice``). Invoices with nothing outstanding
        are ignored, so paying reactivates. The most overdue invoice decides (ties by
        number); stages are tried in order.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise PlanError(f"now: {now.isoformat()} has no timezone; pass an aware datetime")
        today = now.astimezone(zone(self.timezone)).date()
        facts = [OpenInvoice.of(inv) for inv in invoices]
        owing = [
            (max(0, (today - inv.due).days), inv)
            for inv in facts
            if inv is not None and inv.outstanding.amount > 0
        ]
        if not owing:
            return AccountState("active", "no invoice has an amount outstanding")
        days, worst = min(owing, key=lambda pair: (-pair[0], pair[1].number))
        what = (
            f"invoice {worst.number} ({worst.outstanding.amount} "
            f"{worst.outstanding.currency.code} outstanding)"
        )
        late = f"is {days} days overdue" if days else f"is not overdue (due {worst.due})"
        if not self.enabled:
            return AccountState(
                "active",
                f"{what} {late}, but suspension for overdue invoices is disabled",
                worst.number,
                days,
            )
        for stage in self.stages:
            if days > stage.after_days:
                verb = "allowed" if stage.state == "suspended" else f"before a {stage.state}"
                return AccountState(
                    stage.state,
                    f"{what} is {days} days overdue, more than the {stage.after_days} days {verb}",
                    worst.number,
                    days,
                )
        grace = f", within the {self.grace_days} days of grace" if days else ""
        return AccountState("active", f"{what} {late}{grace}", worst.number, days)


# -- what a suspended account is billed for -------------------------------------------

#: The state name of a suspended account (the last stage of :class:`SuspensionPolicy`).
SUSPENDED = "suspended"


def _aware(value: datetime, where: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PlanError(
            f"{where}: {value.isoformat()} has no timezone; pass an aware datetime such as "
            "datetime(2026, 11, 5, tzinfo=timezone.utc)"
        )
    return value


@attrs.frozen
class SuspendedSpan:
    """*account* was suspended from *start* until *end* (``None``: still suspended).

    >>> from datetime import timezone
    >>> span = SuspendedSpan("acme", datetime(2026, 11, 5, tzinfo=timezone.utc),
    ...                      datetime(2026, 11, 10, tzinfo=timezone.utc))
    >>> span.label
    '2026-11-05T00:00:00+00:00..2026-11-10T00:00:00+00:00'
    """

    account: str
    start: datetime
    end: datetime | None = None

    def __attrs_post_init__(self) -> None:
        _aware(self.start, "suspended span start")
        if self.end is not None and _aware(self.end, "suspended span end") <= self.start:
            raise PlanError(
                f"suspended span of {self.account!r}: end {self.end.isoformat()} is not after "
                f"start {self.start.isoformat()}; give end=None while it lasts"
            )

    @property
    def label(self) -> str:
        end = "" if self.end is None else self.end.isoformat()
        return f"{self.start.isoformat()}..{end}"

    def covers(self, instant: datetime) -> bool:
        """Whether *instant* falls in ``[start, end)``."""
        return self.start <= instant and (self.end is None or instant < self.end)


def suspended_spans(
    account: str, changes: Iterable[tuple[datetime, str | AccountState]]
) -> tuple[SuspendedSpan, ...]:
    """The spans *account* was suspended, from its state changes ``(at, state)``: a span
    opens at a change to ``suspended`` and closes at the next change to another state
    (``account.suspended`` / ``account.reactivated`` events give them).

    >>> from datetime import timezone
    >>> t = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
    >>> [s.label for s in suspended_spans("acme", [(t(5), "suspended"), (t(10), "active"),
    ...                                            (t(20), "suspended")])]
    ['2026-11-05T00:00:00+00:00..2026-11-10T00:00:00+00:00', '2026-11-20T00:00:00+00:00..']
    """
    spans: list[SuspendedSpan] = []
    opened: datetime | None = None
    for at, state in sorted(
        ((_aware(a, "state change"), s) for a, s in changes), key=lambda c: c[0]
    ):
        name = state.state if isinstance(state, AccountState) else state
        if name == SUSPENDED and opened is None:
            opened = at
        elif name != SUSPENDED and opened is not None:
            if at > opened:
                spans.append(SuspendedSpan(account, opened, at))
            opened = None
    if opened is not None:
        spans.append(SuspendedSpan(account, opened))
    return tuple(spans)


@attrs.frozen
class StoppedUsage:
    """A part of a usage record not billed because its account was suspended: the
    *record* as cut to the *span*, and the *reason* in words."""

    record: UsageRecord
    span: SuspendedSpan
    reason: str


@attrs.frozen
class SuspendedUsage:
    """The usage to bill (*records*) and what was left out while suspended (*stopped*)."""

    records: tuple[UsageRecord, ...]
    stopped: tuple[StoppedUsage, ...] = ()

    def explain(self) -> list[str]:
        """One line per part not billed."""
        return [
            f"{s.record.account} {s.record.metric} {s.record.quantity} "
            f"({s.record.start.isoformat()}..{s.record.end.isoformat()}): {s.reason}"
            for s in self.stopped
        ]


def _names(value: Iterable[str] | str) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else (str(v) for v in value))


@attrs.frozen(kw_only=True)
class SuspendedBilling:
    """What a suspended account keeps paying for.

    CloudStack stops the VMs of a suspended (disabled) account but keeps its volumes,
    snapshots and IP addresses allocated, and they keep accruing usage until released.
    A portal usually bills that storage and those IPs (the customer still holds them)
    and not compute. Usage of a service in *stop* (by default ``Compute``), or of a
    metric in *stop_metrics*, is not billed while the account is suspended; everything
    else accrues as measured. ``SuspendedBilling(stop=())`` bills everything, as the
    cloud measured it.

    A record's service is its own ``service``, or else that of the plan's charges on its
    metric.

    >>> SuspendedBilling().to_dict()
    {'stop': ['Compute'], 'stop_metrics': []}
    """

    stop: frozenset[str] = attrs.field(default=frozenset({"Compute"}), converter=_names)
    stop_metrics: frozenset[str] = attrs.field(default=frozenset(), converter=_names)

    def to_dict(self) -> dict[str, object]:
        """The setting as plain data."""
        return {"stop": sorted(self.stop), "stop_metrics": sorted(self.stop_metrics)}

    def stops(self, plan: Plan, record: UsageRecord) -> bool:
        """Whether *record*'s usage is not billed while its account is suspended."""
        if record.metric in self.stop_metrics:
            return True
        return bool(self.stop) and _service(plan, record) in self.stop

    def apply(
        self, plan: Plan, usage: Iterable[UsageRecord], spans: Iterable[SuspendedSpan]
    ) -> SuspendedUsage:
        """*usage* without the stopped usage of suspended accounts during their *spans*.

        A record that straddles a span's edge is cut there: a summed quantity
        (vCPU-hours) keeps the share of the time outside, a level (``average``,
        ``max``, ``latest``, ``unique`` metrics) keeps its height. The parts billed
        get ``record_id`` ``<id>@<start>`` so they stay apart; the parts left out are
        listed in ``stopped``, each with its reason.

        >>> from datetime import timezone
        >>> import cloudrate
        >>> plan = cloudrate.load_plan("{name: P, currency: EUR, charges: ["
        ...     "{name: vm, service: Compute, metric: vcpu_hours, model: per_unit,"
        ...     " unit_price: '0.01'}, {name: disk, service: Storage,"
        ...     " metric: volume_gb_hours, model: per_unit, unit_price: '0.0001'}]}")
        >>> t = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
        >>> usage = [UsageRecord(account="acme", metric=m, quantity="240", start=t(1), end=t(11))
        ...          for m in ("vcpu_hours", "volume_gb_hours")]
        >>> billed = SuspendedBilling().apply(plan, usage, [SuspendedSpan("acme", t(6))])
        >>> [(r.metric, r.quantity) for r in billed.records]
        [('vcpu_hours', Decimal('120')), ('volume_gb_hours', Decimal('240'))]
        >>> print(billed.explain()[0])  # doctest: +ELLIPSIS
        acme vcpu_hours 120 (2026-11-06T00:00:00+00:00..2026-11-11...): acme was suspended ...
        """
        by_account: dict[str, list[SuspendedSpan]] = {}
        for span in spans:
            by_account.setdefault(span.account, []).append(span)
        for mine in by_account.values():
            mine.sort(key=lambda s: s.start)
        billed: list[UsageRecord] = []
        stopped: list[StoppedUsage] = []
        for record in usage:
            spans_of = by_account.get(record.account)
            if not spans_of or not self.stops(plan, record):
                billed.append(record)
                continue
            summed = plan.metric(record.metric).aggregation == "sum"
            kept, out = _cut(record, spans_of, summed)
            billed.extend(kept)
            stopped.extend(
                StoppedUsage(part, span, self._reason(plan, part, span)) for part, span in out
            )
        return SuspendedUsage(tuple(billed), tuple(stopped))

    def _reason(self, plan: Plan, record: UsageRecord, span: SuspendedSpan) -> str:
        until = "" if span.end is None else f" until {span.end.isoformat()}"
        if record.metric in self.stop_metrics:
            what = f"metric {record.metric} is"
        else:
            what = f"{_service(plan, record)} usage is"
        return (
            f"{span.account} was suspended from {span.start.isoformat()}{until}; {what} not "
            "billed while an account is suspended (SuspendedBilling)"
        )


def _service(plan: Plan, record: UsageRecord) -> str | None:
    if record.service is not None:
        return record.service
    for charge in plan.charges:
        if charge.metric == record.metric and charge.service is not None:
            return charge.service
    return None


def _part(
    record: UsageRecord, lo: datetime, hi: datetime, summed: bool, *, rename: bool
) -> UsageRecord:
    """*record* cut to ``[lo, hi)``: a summed quantity by its share of the time."""
    if lo == record.start and hi == record.end:
        return record
    quantity = record.quantity
    if summed and record.seconds:
        with decimal.localcontext(EXACT):
            quantity = quantity * seconds_between(lo, hi) / record.seconds
    record_id = record.record_id
    if rename and record_id is not None:
        record_id = f"{record_id}@{lo.isoformat()}"
    return attrs.evolve(record, start=lo, end=hi, quantity=quantity, record_id=record_id)


def _cut(
    record: UsageRecord, spans: Sequence[SuspendedSpan], summed: bool
) -> tuple[list[UsageRecord], list[tuple[UsageRecord, SuspendedSpan]]]:
    """The parts of *record* outside *spans* (sorted by start) and those inside each."""
    if record.start == record.end:  # an instant: inside a span or not
        for span in spans:
            if span.covers(record.start):
                return [], [(record, span)]
        return [record], []
    kept: list[UsageRecord] = []
    out: list[tuple[UsageRecord, SuspendedSpan]] = []
    cursor = record.start
    for span in spans:
        lo = max(span.start, cursor)
        hi = record.end if span.end is None else min(span.end, record.end)
        if lo >= hi:
            continue
        if lo > cursor:
            kept.append(_part(record, cursor, lo, summed, rename=True))
        out.append((_part(record, lo, hi, summed, rename=False), span))
        cursor = hi
    if cursor < record.end:
        kept.append(_part(record, cursor, record.end, summed, rename=True))
    if not out:
        return [record], []
    return kept, out
