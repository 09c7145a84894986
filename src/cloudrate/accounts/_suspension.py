"""Suspended account billing (billing setting 7).

An account with an invoice overdue for more than a configured grace is suspended;
paying the invoice (nothing left outstanding) reactivates it. The policy is a list of
stages, most severe first, and the first stage an overdue invoice reaches wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import attrs
from moneyed import Money

from cloudrate.exceptions import PlanError
from cloudrate.period import zone

__all__ = ["AccountState", "OpenInvoice", "OverdueInvoice", "Stage", "SuspensionPolicy"]


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
