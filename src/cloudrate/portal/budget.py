"""Budget alerts: a monthly amount per account, checked against thresholds.

Month-to-date cost and a month-end forecast (the month-to-date cost spread over the
whole period at the pace so far) are compared with each threshold (50/80/100 % by
default). Each threshold gives at most two :class:`BudgetAlert` per account and period:
one when the forecast first reaches it (a warning), one when the month-to-date cost
actually reaches it. Their keys differ by :attr:`BudgetAlert.basis`, so a forecast
never hides the later "reached" alert. The forecast speaks only once
:attr:`Budget.forecast_after` of the period has gone (3 days by default): one hour's
cost says little about a month. Sending is the host's: pass a callback (or
:class:`SmtpSender`). An alert is marked sent only after the callback returns, so a
failed send is retried at the next check (at least once, never twice after a success).

:class:`DocumentAlertStore` keeps that record in the billing document store: the alert's
``budget.threshold_reached`` event is the mark, written once per threshold, basis and
period.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import attrs
from moneyed import Money

from cloudrate._connections import closes_forgotten, storage_faults
from cloudrate._money import EXACT, RoundingPolicy, to_decimal
from cloudrate.exceptions import CurrencyMismatchError, PlanError
from cloudrate.period import BillingPeriod, seconds_between

from ._budget_events import DocumentAlertStore

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = [
    "DEFAULT_FORECAST_AFTER",
    "AlertBasis",
    "AlertKey",
    "AlertLog",
    "AlertStore",
    "Budget",
    "BudgetAlert",
    "DocumentAlertStore",
    "InMemoryAlertStore",
    "SQLiteAlertStore",
    "SmtpSender",
    "check_budget",
    "forecast_month_end",
]

#: What reached a threshold: the month-to-date cost, or the month-end forecast.
AlertBasis = Literal["actual", "forecast"]
#: What an :class:`AlertStore` remembers: account, period label, threshold, basis.
AlertKey = tuple[str, str, str, AlertBasis]
#: How much of a period must have gone before the forecast may alert.
DEFAULT_FORECAST_AFTER = timedelta(days=3)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _recipients(value: Iterable[str]) -> tuple[str, ...]:
    out = tuple(str(v).strip() for v in ([value] if isinstance(value, str) else value))
    for address in out:
        if not _EMAIL.match(address):
            raise PlanError(
                f"recipients: {address!r} is not an email address such as 'billing@example.com'"
            )
    return out


def _thresholds(value: Iterable[object]) -> tuple[Decimal, ...]:
    out = tuple(to_decimal(v, "thresholds") for v in value)
    if not out or any(t <= 0 for t in out) or list(out) != sorted(set(out)):
        raise PlanError(
            f"thresholds: give ascending percentages above 0 such as 50, 80, 100 "
            f"(got {', '.join(str(t) for t in out) or 'none'})"
        )
    return out


def _forecast_after(value: object) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise PlanError(
            f"forecast_after: give the time that must pass in a period before the forecast "
            f"alerts, as a timedelta >= 0 such as timedelta(days=3) (got {value!r})"
        )
    return value


@attrs.frozen(kw_only=True)
class Budget:
    """*account*'s monthly budget *amount*, alerting *recipients* at *thresholds* percent.

    With *use_forecast*, a threshold the month-end forecast reaches alerts early, once
    *forecast_after* of the period has gone (3 days by default; ``timedelta(0)``
    forecasts from the first check on).

    >>> Budget(account="acme", amount=Money("200", "EUR")).forecast_after
    datetime.timedelta(days=3)
    """

    account: str
    amount: Money
    recipients: tuple[str, ...] = attrs.field(default=(), converter=_recipients)
    thresholds: tuple[Decimal, ...] = attrs.field(
        default=(Decimal(50), Decimal(80), Decimal(100)), converter=_thresholds
    )
    use_forecast: bool = True
    forecast_after: timedelta = attrs.field(
        default=DEFAULT_FORECAST_AFTER, converter=_forecast_after
    )

    def forecasts_at(self, period: BillingPeriod, now: datetime) -> bool:
        """Whether the forecast may alert at *now*: forecasting is on and at least
        *forecast_after* of *period* has gone.

        >>> p = BillingPeriod.month(2026, 10)
        >>> b = Budget(account="acme", amount=Money("200", "EUR"))
        >>> b.forecasts_at(p, datetime(2026, 10, 3, 23, tzinfo=p.tz)), b.forecasts_at(
        ...     p, datetime(2026, 10, 4, tzinfo=p.tz))
        (False, True)
        """
        if not self.use_forecast:
            return False
        elapsed = seconds_between(period.start, min(max(now, period.start), period.end))
        needed = Decimal(self.forecast_after // timedelta(microseconds=1)) / 10**6
        return elapsed > 0 and elapsed >= needed

    def __attrs_post_init__(self) -> None:
        if self.amount.amount <= 0:
            raise PlanError(f"budget amount: must be above 0 (got {self.amount.amount})")


@attrs.frozen(kw_only=True)
class BudgetAlert:
    """One threshold reached in one period, by the actual cost or the forecast.

    Its :attr:`key` includes the *basis*: the forecast's warning and the actual "has
    reached" are two alerts, each sent once.
    """

    account: str
    period: str
    threshold: Decimal
    basis: AlertBasis
    month_to_date: Money
    forecast: Money
    budget: Money
    recipients: tuple[str, ...]
    at: datetime

    @property
    def key(self) -> AlertKey:
        """``(account, period, threshold, basis)``, what an :class:`AlertStore` keeps."""
        return (self.account, self.period, str(self.threshold), self.basis)

    def subject(self) -> str:
        verb = "has reached" if self.basis == "actual" else "is forecast to reach"
        return f"Budget alert: {self.account} {verb} {self.threshold}% of its {self.period} budget"

    def body(self, rounding: RoundingPolicy | None = None) -> str:
        policy = rounding or RoundingPolicy()
        cur = str(self.budget.currency.code)
        return (
            f"Account: {self.account}\nPeriod: {self.period}\n"
            f"Budget: {self.budget.amount} {cur}\n"
            f"Month-to-date cost: {policy.round(self.month_to_date.amount, cur)} {cur}\n"
            f"Month-end forecast: {policy.round(self.forecast.amount, cur)} {cur}\n"
            f"Threshold: {self.threshold}% ({self.basis})\nChecked at: {self.at.isoformat()}\n"
        )


def forecast_month_end(month_to_date: Money, period: BillingPeriod, now: datetime) -> Money:
    """The month-to-date cost spread over the whole period at the pace so far.

    >>> p = BillingPeriod.month(2026, 10)
    >>> forecast_month_end(Money("100", "EUR"), p, datetime(2026, 10, 11, tzinfo=p.tz)).amount
    Decimal('310')
    """
    elapsed = seconds_between(period.start, min(max(now, period.start), period.end))
    if elapsed == 0:
        return month_to_date
    value = EXACT.divide(EXACT.multiply(month_to_date.amount, period.seconds), elapsed)
    return Money(value, month_to_date.currency.code)


@runtime_checkable
class AlertStore(Protocol):
    """Remembers which alerts were sent, by :attr:`BudgetAlert.key` (an
    :data:`AlertKey`: a forecast and an actual alert of one threshold are two keys)."""

    def was_sent(self, key: AlertKey) -> bool: ...

    def mark_sent(self, key: AlertKey) -> None: ...


@runtime_checkable
class AlertLog(AlertStore, Protocol):
    """An :class:`AlertStore` that keeps the whole alert: :func:`check_budget` calls
    :meth:`record` instead of :meth:`mark_sent` (e.g. :class:`DocumentAlertStore`, which
    writes it as a ``budget.threshold_reached`` event)."""

    def record(self, alert: BudgetAlert) -> None: ...


class InMemoryAlertStore:
    """Sent alerts in this process's memory (tests, one worker)."""

    def __init__(self) -> None:
        self._sent: set[AlertKey] = set()
        self._lock = threading.Lock()

    def was_sent(self, key: AlertKey) -> bool:
        return key in self._sent

    def mark_sent(self, key: AlertKey) -> None:
        with self._lock:
            self._sent.add(key)


_ALERTS = "budget alert store"


class SQLiteAlertStore:
    """Sent alerts in a SQLite file (standard library), shared by every process that checks.

    The table ``budget_alerts`` keeps account, period, threshold and basis. A file
    written before alerts had a basis (table ``budget_alerts_sent``) is carried over
    when opened: each of its rows counts as sent for both bases, as it did then.

    The store holds one connection until :meth:`close` (or the end of a ``with`` block);
    a store dropped unclosed has it closed when collected, with a :class:`ResourceWarning`.

    >>> store = SQLiteAlertStore(":memory:")
    >>> store.was_sent(("acme", "2026-10", "50", "forecast"))
    False
    >>> store.mark_sent(("acme", "2026-10", "50", "forecast"))
    >>> store.was_sent(("acme", "2026-10", "50", "forecast"))
    True
    >>> store.was_sent(("acme", "2026-10", "50", "actual"))
    False
    >>> store.close()
    """

    @storage_faults(_ALERTS, "open the database or create its table")
    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        import sqlite3

        self.path = path
        self._db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        self._forgotten = closes_forgotten(self, self._db)
        try:
            self._create()
        except BaseException:
            self.close()
            raise

    def _create(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS budget_alerts (account TEXT NOT NULL,"
                " period TEXT NOT NULL, threshold TEXT NOT NULL, basis TEXT NOT NULL,"
                " PRIMARY KEY (account, period, threshold, basis))"
            )
            legacy = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'budget_alerts_sent'"
            ).fetchone()
            if legacy is not None:
                self._db.execute(
                    "INSERT OR IGNORE INTO budget_alerts SELECT account, period, threshold, b"
                    " FROM budget_alerts_sent, (SELECT 'actual' AS b UNION SELECT 'forecast')"
                )
                self._db.execute("DROP TABLE budget_alerts_sent")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def __repr__(self) -> str:
        return f"SQLiteAlertStore({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection; closing again does nothing.

        A store never closed has its connection closed when it is collected, with a
        :class:`ResourceWarning` naming it:

        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     forgotten = SQLiteAlertStore(":memory:")
        ...     del forgotten
        >>> print(caught[0].message)
        SQLiteAlertStore(':memory:') was never closed; call close() or open it with `with`
        """
        self._forgotten.detach()
        self._db.close()

    def __enter__(self) -> SQLiteAlertStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @storage_faults(_ALERTS, "read the alerts sent")
    def was_sent(self, key: AlertKey) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM budget_alerts WHERE account = ? AND period = ? AND threshold = ?"
            " AND basis = ?",
            key,
        ).fetchone()
        return row is not None

    @storage_faults(_ALERTS, "record the alert as sent")
    def mark_sent(self, key: AlertKey) -> None:
        self._db.execute("INSERT OR IGNORE INTO budget_alerts VALUES (?, ?, ?, ?)", key)


def check_budget(
    budget: Budget,
    period: BillingPeriod,
    month_to_date: Money,
    now: datetime,
    store: AlertStore,
    send: Callable[[BudgetAlert], Any] | None = None,
) -> tuple[BudgetAlert, ...]:
    """The new alerts for *budget* at *now*, each passed to *send* then marked sent
    (given whole to an :class:`AlertLog`'s ``record``, by key to ``mark_sent`` otherwise).

    For each threshold: once the month-to-date cost reaches it, its ``actual`` alert
    (once per period, even after a forecast alert of the same threshold); before that,
    once the forecast reaches it and :meth:`Budget.forecasts_at` allows, its
    ``forecast`` alert (once per period).

    >>> p = BillingPeriod.month(2026, 10)
    >>> budget = Budget(account="acme", amount=Money("200", "EUR"),
    ...                 recipients=["ops@acme.example"])
    >>> store = InMemoryAlertStore()
    >>> now = datetime(2026, 10, 16, tzinfo=p.tz)
    >>> [(a.threshold, a.basis) for a in check_budget(budget, p, Money("110", "EUR"), now, store)]
    [(Decimal('50'), 'actual'), (Decimal('80'), 'forecast'), (Decimal('100'), 'forecast')]
    >>> [(a.threshold, a.basis) for a in check_budget(budget, p, Money("190", "EUR"), now, store)]
    [(Decimal('80'), 'actual')]
    >>> check_budget(budget, p, Money("195", "EUR"), now, store)
    ()
    """
    if month_to_date.currency != budget.amount.currency:
        raise CurrencyMismatchError(
            str(budget.amount.currency.code),
            str(month_to_date.currency.code),
            "month-to-date cost",
            fix="set the budget in the currency the account is billed in",
        )
    forecast = forecast_month_end(month_to_date, period, now)
    forecasting = budget.forecasts_at(period, now)
    alerts = []
    for threshold in budget.thresholds:
        limit = EXACT.multiply(budget.amount.amount, threshold) / 100
        basis: AlertBasis
        if month_to_date.amount >= limit:
            basis = "actual"
        elif forecasting and forecast.amount >= limit:
            basis = "forecast"
        else:
            continue
        alert = BudgetAlert(
            account=budget.account,
            period=period.label,
            threshold=threshold,
            basis=basis,
            month_to_date=month_to_date,
            forecast=forecast,
            budget=budget.amount,
            recipients=budget.recipients,
            at=now,
        )
        if store.was_sent(alert.key):
            continue
        if send is not None:
            send(alert)
        if isinstance(store, AlertLog):
            store.record(alert)
        else:
            store.mark_sent(alert.key)
        alerts.append(alert)
    return tuple(alerts)


@attrs.frozen(kw_only=True)
class SmtpSender:
    """Send alerts by email with :mod:`smtplib`; a callback for :func:`check_budget`.

    *smtp_class* is ``smtplib.SMTP`` by default (or ``SMTP_SSL``, or a test double).
    """

    host: str
    port: int = 25
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: float = 30.0
    smtp_class: Any = None

    def message(self, alert: BudgetAlert) -> EmailMessage:
        from email.message import EmailMessage

        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(alert.recipients)
        msg["Subject"] = alert.subject()
        msg.set_content(alert.body())
        return msg

    def __call__(self, alert: BudgetAlert) -> None:
        if not alert.recipients:
            return
        smtp_class = self.smtp_class
        if smtp_class is None:
            import smtplib

            smtp_class = smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(self.message(alert))
