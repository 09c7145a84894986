"""Dunning: reminders some days after an invoice's due date, then suspension.

:class:`DunningSchedule` says on which days after the due date an unpaid invoice gets a
reminder and after how many days its account is suspended; :meth:`DunningSchedule.steps`
turns the invoices as they stand at *now* into :class:`DunningStep` values. Nothing is
sent here: ``cloudrate.billing.run_dunning`` writes each step as an event, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

import attrs
from moneyed import Money

from cloudrate.exceptions import PlanError
from cloudrate.period import zone

from ._suspension import OpenInvoice

__all__ = ["DunningInvoice", "DunningSchedule", "DunningStep", "dunning_steps"]

DunningAction = Literal["reminder", "suspend"]


def _days(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PlanError(
            f"dunning.{where}: expected a whole number of days after the due date, 1 or more "
            f"(got {value!r})"
        )
    return value


def _reminders(value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise PlanError(f"dunning.reminders: expected days such as (3, 7, 14) (got {value!r})")
    days = tuple(_days(v, f"reminders[{i}]") for i, v in enumerate(value))
    if list(days) != sorted(set(days)):
        raise PlanError(
            f"dunning.reminders: days must rise, each once (got {days!r}); "
            "write them in order, e.g. (3, 7, 14)"
        )
    return days


def _suspend(value: object) -> int | None:
    return None if value is None else _days(value, "suspend_after")


def _local_day(now: date | datetime, timezone: str) -> date:
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise PlanError(
                f"now: {now.isoformat()} has no timezone; pass an aware datetime such as "
                "datetime(2026, 11, 20, 9, tzinfo=timezone.utc)"
            )
        return now.astimezone(zone(timezone)).date()
    if isinstance(now, date):
        return now
    raise PlanError(f"now: expected an aware datetime or a date (got {now!r})")


@attrs.frozen
class DunningInvoice:
    """An invoice as dunning sees it: the *account* it bills, its *number*, *due* date and
    *outstanding* amount.

    .. versionadded:: 0.2
    """

    account: str
    number: str
    due: date
    outstanding: Money

    @classmethod
    def of(cls, invoice: object) -> DunningInvoice | None:
        """The fact of *invoice*: a :class:`DunningInvoice`, or any object
        :meth:`~cloudrate.accounts.OpenInvoice.of` reads that also names its account
        (``account``, or ``customer`` as a name or with an ``id``, as
        ``cloudrate.invoice.Invoice`` does). Drafts, void invoices and invoices without a
        due date give ``None``."""
        if isinstance(invoice, DunningInvoice):
            return invoice
        fact = OpenInvoice.of(invoice)
        if fact is None:
            return None
        account = getattr(invoice, "account", None)
        if account is None:
            customer = getattr(invoice, "customer", None)
            account = customer if isinstance(customer, str) else getattr(customer, "id", None)
        if not isinstance(account, str) or not account.strip():
            raise PlanError(
                f"invoice {fact.number!r}: dunning needs the account it bills, as an "
                f"'account' name or a 'customer' with an 'id' (got {account!r})"
            )
        return cls(account, fact.number, fact.due, fact.outstanding)


@attrs.frozen(kw_only=True)
class DunningStep:
    """One step due: a ``reminder`` (the *reminder*-th, 1-based) of *invoice*, or
    ``suspend`` of *account* because *invoice* is *days_overdue* days past its due date.
    *subject* is what the step's event is about: ``"<invoice>/<n>"`` for a reminder,
    the account for a suspension.

    .. versionadded:: 0.2
    """

    action: DunningAction
    account: str
    invoice: str
    days_overdue: int
    due: date
    outstanding: Money
    reminder: int | None = None

    @property
    def subject(self) -> str:
        return f"{self.invoice}/{self.reminder}" if self.action == "reminder" else self.account


@attrs.frozen(kw_only=True)
class DunningSchedule:
    """Remind *reminders* days after an invoice's due date; suspend its account
    *suspend_after* days after it (``None``: never). Days count in *timezone*; the due date
    itself is day 0.

    Only the latest reminder an invoice has reached is due: a run that missed day 3 and
    runs on day 8 sends reminder 2, not 1 and 2. An invoice with nothing outstanding gets
    no step, so paying stops the reminders. Suspension is one step per account, for its
    most overdue invoice (ties by number), once that is *suspend_after* days or more past
    due.

    >>> schedule = DunningSchedule(reminders=(3, 7, 14), suspend_after=21)
    >>> late = DunningInvoice("acme", "INV-7", date(2026, 11, 1), Money("9.00", "EUR"))
    >>> [(s.action, s.subject) for s in schedule.steps([late], date(2026, 11, 9))]
    [('reminder', 'INV-7/2')]
    >>> [(s.action, s.subject) for s in schedule.steps([late], date(2026, 11, 22))]
    [('reminder', 'INV-7/3'), ('suspend', 'acme')]

    .. versionadded:: 0.2
    """

    reminders: tuple[int, ...] = attrs.field(default=(3, 7, 14), converter=_reminders)
    suspend_after: int | None = attrs.field(default=21, converter=_suspend)
    timezone: str = "UTC"

    def __attrs_post_init__(self) -> None:
        zone(self.timezone, "dunning.timezone")

    def steps(
        self, invoices: Iterable[DunningInvoice | object], now: date | datetime
    ) -> tuple[DunningStep, ...]:
        """The steps due at *now* (an aware datetime, or a date in *timezone*), by account
        then invoice number; each account's reminders come before its suspension."""
        today = _local_day(now, self.timezone)
        by_account: dict[str, list[DunningInvoice]] = {}
        for fact in (DunningInvoice.of(i) for i in invoices):
            if fact is not None and fact.outstanding.amount > 0 and today > fact.due:
                by_account.setdefault(fact.account, []).append(fact)
        out: list[DunningStep] = []
        for account in sorted(by_account):
            owing = sorted(by_account[account], key=lambda f: f.number)
            for fact in owing:
                days = (today - fact.due).days
                reached = [n for n, after in enumerate(self.reminders, 1) if days >= after]
                if reached:
                    out.append(_step("reminder", fact, days, reached[-1]))
            worst = min(owing, key=lambda f: (f.due, f.number))
            days = (today - worst.due).days
            if self.suspend_after is not None and days >= self.suspend_after:
                out.append(_step("suspend", worst, days, None))
        return tuple(out)

    def to_dict(self) -> dict[str, object]:
        """The settings as plain data."""
        return {
            "reminders": list(self.reminders),
            "suspend_after": self.suspend_after,
            "timezone": self.timezone,
        }


def _step(action: DunningAction, fact: DunningInvoice, days: int, n: int | None) -> DunningStep:
    return DunningStep(
        action=action,
        account=fact.account,
        invoice=fact.number,
        days_overdue=days,
        due=fact.due,
        outstanding=fact.outstanding,
        reminder=n,
    )


def dunning_steps(
    invoices: Iterable[DunningInvoice | object],
    now: date | datetime,
    *,
    schedule: DunningSchedule | None = None,
) -> tuple[DunningStep, ...]:
    """:meth:`DunningSchedule.steps` of *schedule* (default: reminders on days 3, 7 and
    14, suspension on day 21).

    >>> unpaid = DunningInvoice("acme", "INV-9", date(2026, 11, 1), Money("9.00", "EUR"))
    >>> [s.subject for s in dunning_steps([unpaid], date(2026, 11, 4))]
    ['INV-9/1']

    .. versionadded:: 0.2
    """
    return (schedule or DunningSchedule()).steps(invoices, now)
