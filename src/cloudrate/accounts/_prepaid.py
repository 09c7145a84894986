"""Prepaid hourly billing (billing setting 6).

For prepaid accounts, usage is deducted from the wallet every hour when enabled, else
every day (or once a month). Each deduction is the growth of the account's
month-to-date bill: the month's usage that has ended by the end of the window, rated
with :func:`cloudrate.rate` over the calendar month, minus the same at the window's
start. Rating month-to-date (rather than each hour alone) keeps monthly tiers,
minimums and prorated flat fees exactly as on a monthly invoice, and because each
month-to-date total is a sum of rounded lines the deductions add up, to the cent, to
the month's bill: rounding never drifts.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol, get_args

import attrs
from dateutil.relativedelta import relativedelta
from moneyed import Money

from cloudrate._money import RoundingPolicy, exact
from cloudrate.exceptions import PlanError, UnknownAccountError, WalletError
from cloudrate.period import BillingPeriod, zone
from cloudrate.plans import Plan
from cloudrate.rating import rate
from cloudrate.usage import UsageRecord

from ._entry import LedgerEntry
from ._store import AppendResult, LedgerStore, Shortfall

__all__ = [
    "FALLBACKS",
    "ApplyReport",
    "Deduction",
    "DeductionRun",
    "Fallback",
    "Interval",
    "PrepaidHourly",
]

#: How often prepaid usage is deducted when hourly billing is off.
Fallback = Literal["daily", "monthly"]
#: Every fallback interval.
FALLBACKS: tuple[Fallback, ...] = get_args(Fallback)
#: How often a run deducts: every hour, or the fallback.
Interval = Literal["hourly", "daily", "monthly"]


@attrs.frozen(kw_only=True)
class Deduction:
    """What one account owes for one window ``[start, end)``.

    *amount* is the rounded growth of the month-to-date bill from *before* to *after*;
    positive is taken from the wallet, negative (a volume tier or discount lowering the
    bill) is given back as a refund. *key* is the idempotency key.
    """

    account: str
    start: datetime
    end: datetime
    amount: Money
    before: Money
    after: Money
    key: str

    def entry(self) -> LedgerEntry:
        """The ledger entry: a deduction, or a refund when *amount* is negative."""
        code = self.amount.currency.code
        memo = (
            f"prepaid usage {self.start.isoformat()} to {self.end.isoformat()}: "
            f"month-to-date bill {self.before.amount} -> {self.after.amount} {code}"
        )
        if self.amount.amount > 0:
            return LedgerEntry.deduction(
                self.account, self.amount, key=self.key, at=self.end, memo=memo
            )
        return LedgerEntry(
            account=self.account,
            kind="refund",
            amount=-self.amount,
            key=self.key,
            at=self.end,
            memo=memo,
        )


@attrs.frozen(kw_only=True)
class ApplyReport:
    """What :meth:`DeductionRun.apply` did: entries *written*, entries already in the
    ledger (*existing*: a retried run), deductions the floor cut short (*shortfalls*)
    and each account's state afterwards (*states*: ``active`` or ``suspended``)."""

    written: int
    existing: int
    shortfalls: tuple[Shortfall, ...]
    states: dict[str, str]

    @property
    def suspended(self) -> tuple[str, ...]:
        return tuple(sorted(a for a, s in self.states.items() if s == "suspended"))


@attrs.frozen(kw_only=True)
class DeductionRun:
    """The deductions of a run, in time order, and how they add up."""

    plan: Plan
    interval: Interval
    start: datetime
    end: datetime
    accounts: tuple[str, ...]
    deductions: tuple[Deduction, ...]
    #: Month-to-date bill per account at the start and at the end of the run; the sum
    #: of an account's deductions is the difference (within one month).
    opening: dict[str, Money]
    closing: dict[str, Money]

    @exact
    def total(self, account: str) -> Money:
        """The sum of *account*'s deductions (refunds counted negative)."""
        return Money(
            sum((d.amount.amount for d in self.deductions if d.account == account), Decimal(0)),
            self.plan.currency,
        )

    def entries(self) -> tuple[LedgerEntry, ...]:
        return tuple(d.entry() for d in self.deductions)

    def explain(self, account: str) -> str:
        """One line per deduction and the sum, checked against the month-to-date bills."""
        code = self.plan.currency
        lines = [
            f"{d.start.isoformat()} to {d.end.isoformat()}: {d.amount.amount} {code} "
            f"(month-to-date {d.before.amount} -> {d.after.amount})"
            for d in self.deductions
            if d.account == account
        ]
        lines.append(
            f"{self.interval} deductions: {len(lines)}, sum {self.total(account).amount}"
            f" {code} = month-to-date bill growth over the run"
        )
        return "\n".join(lines)

    def apply(self, ledger: _LedgerLike, *, partial: bool = True) -> ApplyReport:
        """Post the deductions to *ledger*, one transaction each, in time order.

        Every account must be open in the plan's currency (checked before anything is
        written). Entries already posted (same key) are skipped, so a run killed halfway
        is completed by running it again. A deduction that would pass the ledger's
        negative-balance floor takes what the floor leaves (*partial*) and is reported
        as a shortfall; with ``partial=False`` it raises
        :class:`~cloudrate.exceptions.InsufficientFundsError` instead, and the deductions
        before it stay posted (each is complete and keyed): rerun after a recharge.
        """
        code = self.plan.currency
        missing = [a for a in self.accounts if ledger.store.account(a) is None]
        if missing:
            raise UnknownAccountError(
                f"prepaid deductions for accounts that are not open: {', '.join(missing)}; "
                "open each with Ledger.open(account, currency, at=...) first (nothing was "
                "written)"
            )
        for name in self.accounts:
            acct = ledger.store.account(name)
            assert acct is not None
            if acct.currency != code:
                raise WalletError(
                    f"account {name!r} is in {acct.currency} but plan "
                    f"{self.plan.name!r} bills in {code} (nothing was written)"
                )
        written = existing = 0
        short: list[Shortfall] = []
        for deduction in self.deductions:
            result = ledger.post([deduction.entry()], partial=partial)
            written += len(result.written)
            existing += len(result.existing)
            short.extend(result.shortfalls)
        states = {name: ledger.state(name) for name in self.accounts}
        return ApplyReport(
            written=written, existing=existing, shortfalls=tuple(short), states=states
        )


class _LedgerLike(Protocol):
    """The part of :class:`cloudrate.accounts.Ledger` that :meth:`DeductionRun.apply` uses."""

    @property
    def store(self) -> LedgerStore: ...

    def post(self, entries: Sequence[LedgerEntry], *, partial: bool = False) -> AppendResult: ...

    def state(self, account: str) -> str: ...


@attrs.frozen
class PrepaidHourly:
    """Deduct prepaid usage every hour when *enabled*, else every *fallback* interval
    (``"daily"`` or ``"monthly"``).

    >>> from datetime import datetime, timezone
    >>> from cloudrate import load_plan, UsageRecord
    >>> plan = load_plan('''
    ... name: Basic
    ... currency: EUR
    ... charges:
    ...   - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
    ... ''')
    >>> t = [datetime(2026, 11, 1, h, tzinfo=timezone.utc) for h in range(4)]
    >>> usage = [UsageRecord(account="acme", metric="vcpu_hours", quantity="2",
    ...                      start=t[h], end=t[h + 1]) for h in range(3)]
    >>> run = PrepaidHourly(enabled=True).deductions(plan, usage, start=t[0], end=t[3])
    >>> [str(d.amount.amount) for d in run.deductions]
    ['0.03', '0.02', '0.03']
    >>> run.total("acme")
    Money('0.08', 'EUR')
    >>> next_day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> daily = PrepaidHourly(enabled=False).deductions(plan, usage, start=t[0], end=next_day)
    >>> [str(d.amount.amount) for d in daily.deductions]
    ['0.08']
    """

    enabled: bool = False
    fallback: Fallback = attrs.field(default="daily")

    @fallback.validator
    def _check(self, _attr: object, value: object) -> None:
        if value not in FALLBACKS:
            raise PlanError(
                f"prepaid_hourly.fallback: must be 'daily' or 'monthly' (got {value!r})"
            )

    def to_dict(self) -> dict[str, object]:
        """The settings as plain data."""
        return {"enabled": self.enabled, "fallback": self.fallback}

    @property
    def interval(self) -> Interval:
        """``"hourly"`` when enabled, else the fallback."""
        return "hourly" if self.enabled else self.fallback

    def key(self, plan: Plan, account: str, start: datetime) -> str:
        """The idempotency key of *account*'s deduction for the window starting *start*."""
        version = "" if plan.version is None else f"@{plan.version}"
        stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        return f"prepaid:{account}:{plan.name}{version}:{self.interval}:{stamp}"

    def windows(
        self, plan: Plan, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The windows ``[a, b)`` covering ``[start, end)``; *start* and *end* must fall on
        window boundaries in the plan's timezone."""
        tz = zone(plan.timezone)
        for name, moment in (("start", start), ("end", end)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise PlanError(
                    f"{name}: {moment.isoformat()} has no timezone; pass an aware datetime"
                )
            if not self._aligned(moment.astimezone(tz)):
                raise PlanError(
                    f"{name}: {moment.isoformat()} is not on an {self.interval} "
                    f"boundary in {plan.timezone}; start and end runs on whole "
                    f"{self._unit()}s"
                )
        if end <= start:
            raise PlanError(f"end {end.isoformat()} is not after start {start.isoformat()}")
        out = []
        a = start.astimezone(tz)
        while a < end:
            b = self._next(a)
            out.append((a, b))
            a = b
        return out

    def _unit(self) -> str:
        return {"hourly": "hour", "daily": "day", "monthly": "month"}[self.interval]

    def _aligned(self, local: datetime) -> bool:
        if local.minute or local.second or local.microsecond:
            return False
        if self.interval == "hourly":
            return True
        return local.hour == 0 and (self.interval == "daily" or local.day == 1)

    def _next(self, local: datetime) -> datetime:
        if self.interval == "hourly":  # real hours, across daylight-saving changes too
            return (local.astimezone(UTC) + timedelta(hours=1)).astimezone(local.tzinfo)
        step = timedelta(days=1) if self.interval == "daily" else relativedelta(months=1)
        naive = local.replace(tzinfo=None) + step
        return naive.replace(tzinfo=local.tzinfo)

    @exact
    def deductions(
        self,
        plan: Plan,
        usage: Iterable[UsageRecord],
        *,
        start: datetime,
        end: datetime,
        accounts: Iterable[str] = (),
        rounding: RoundingPolicy | None = None,
    ) -> DeductionRun:
        """The deductions for the windows of ``[start, end)``.

        *usage* is the month-to-date usage: a record counts in the window in which it
        ends, and records that ended before *start* form the opening month-to-date bill
        (already deducted by earlier runs). *accounts* are billed even without usage
        (their flat fees are deducted in the month's first window). Windows with no
        change produce no deduction.
        """
        records = sorted(usage, key=lambda r: r.end)
        ends = [r.end for r in records]
        names = tuple(sorted(set(accounts) | {r.account for r in records}))
        code = plan.currency
        zero = Money(Decimal(0), code)
        found: list[Deduction] = []
        opening: dict[str, Money] = {}
        closing: dict[str, Money] = {}
        month: BillingPeriod | None = None
        totals: dict[str, Decimal] = {}
        seen = 0
        for a, b in self.windows(plan, start, end):
            if month is None or not (month.start <= a < month.end):
                month = BillingPeriod.containing(a, plan.timezone)
                first = bisect.bisect_right(ends, month.start)
                seen = bisect.bisect_right(ends, a)
                totals = (
                    dict.fromkeys(names, Decimal(0))
                    if a == month.start
                    else self._totals(plan, records[first:seen], month, names, rounding)
                )
                if not opening:
                    opening = {n: Money(v, code) for n, v in totals.items()}
                fresh = a == month.start
            upto = bisect.bisect_right(ends, b)
            if upto == seen and not fresh:
                continue
            fresh = False
            now = self._totals(plan, records[first:upto], month, names, rounding)
            seen = upto
            found.extend(self._changes(plan, names, (a, b), totals, now))
            totals = now
        closing = {n: Money(v, code) for n, v in totals.items()}
        for n in names:
            opening.setdefault(n, zero)
        return DeductionRun(
            plan=plan,
            interval=self.interval,
            start=start,
            end=end,
            accounts=names,
            deductions=tuple(found),
            opening=opening,
            closing=closing,
        )

    def _changes(
        self,
        plan: Plan,
        names: Sequence[str],
        window: tuple[datetime, datetime],
        before: dict[str, Decimal],
        after: dict[str, Decimal],
    ) -> list[Deduction]:
        """The deduction of each of *names* whose month-to-date bill moved in *window*."""
        code = plan.currency
        start, end = window
        return [
            Deduction(
                account=name,
                start=start,
                end=end,
                amount=Money(after[name] - before[name], code),
                before=Money(before[name], code),
                after=Money(after[name], code),
                key=self.key(plan, name, start),
            )
            for name in names
            if after[name] - before[name]
        ]

    @staticmethod
    def _totals(
        plan: Plan,
        records: Sequence[UsageRecord],
        month: BillingPeriod,
        names: Sequence[str],
        rounding: RoundingPolicy | None,
    ) -> dict[str, Decimal]:
        result = rate(plan, records, month, accounts=names, rounding=rounding, on_unpriced="error")
        return {b.account: b.total.amount for b in result.bills}
