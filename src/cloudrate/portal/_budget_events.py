"""Budget alerts remembered in the billing document store as ``budget.threshold_reached``.

The event is the bookkeeping: an alert counts as sent once its event is in the outbox, so
marking it sent and reporting it to the host are one write, in one transaction. The event's
id is derived from its subject, so two workers marking the same alert store one event:

* ``"<account>/<period>/<threshold>"`` for a threshold the month-to-date cost reached
  (basis ``actual``);
* ``"<account>/<period>/<threshold>/forecast"`` for one the forecast reached first.

An outbox written before the two were told apart may hold a forecast alert under the
first subject (its data say ``"basis": "forecast"``): it counts as that threshold's
forecast alert, and the threshold's actual alert is then written under
``"<account>/<period>/<threshold>/actual"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cloudrate.billing import DocumentStore, Event, find_event, record_event
from cloudrate.exceptions import BillingError

if TYPE_CHECKING:
    from .budget import AlertKey, BudgetAlert

__all__ = ["DocumentAlertStore"]

_TYPE: Final = "budget.threshold_reached"


def _plain(key: AlertKey) -> str:
    account, period, threshold, _basis = key
    return f"{account}/{period}/{threshold}"


class DocumentAlertStore:
    """An :class:`~cloudrate.portal.budget.AlertStore` whose record of sent alerts is the
    ``budget.threshold_reached`` events of a billing document store (*store*, *tenant*).

    :func:`~cloudrate.portal.budget.check_budget` calls :meth:`record` with the whole
    alert: the event is dated by the check's time and carries the figures (threshold,
    basis, month-to-date cost, forecast, budget, currency). :meth:`mark_sent`, with only
    the key, dates the event by the period's label.

    >>> import tempfile, pathlib
    >>> from datetime import datetime
    >>> from moneyed import Money
    >>> from cloudrate.billing import SQLiteDocumentStore
    >>> from cloudrate.period import BillingPeriod
    >>> from cloudrate.portal.budget import Budget, check_budget
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> october = BillingPeriod.month(2026, 10)
    >>> budget = Budget(account="acme", amount=Money("100", "EUR"), use_forecast=False)
    >>> now = datetime(2026, 10, 20, tzinfo=october.tz)
    >>> alerts = DocumentAlertStore(store)
    >>> len(check_budget(budget, october, Money("85", "EUR"), now, alerts))
    2
    >>> check_budget(budget, october, Money("90", "EUR"), now, alerts)
    ()
    >>> [(e.type, e.subject) for e in store.events()]  # doctest: +NORMALIZE_WHITESPACE
    [('budget.threshold_reached', 'acme/2026-10/50'),
     ('budget.threshold_reached', 'acme/2026-10/80')]
    >>> forecast = Budget(account="acme", amount=Money("100", "EUR"))
    >>> [a.basis for a in check_budget(forecast, october, Money("85", "EUR"), now, alerts)]
    ['forecast']
    >>> store.events()[-1].subject
    'acme/2026-10/100/forecast'
    >>> store.close()
    """

    def __init__(self, store: DocumentStore, *, tenant: str = "default") -> None:
        if not isinstance(store, DocumentStore):
            raise BillingError(
                f"store: expected a billing DocumentStore such as open_store('billing.db') "
                f"(got {store!r})"
            )
        self.store = store
        self.tenant = tenant

    def __repr__(self) -> str:
        return f"DocumentAlertStore({self.store!r}, tenant={self.tenant!r})"

    def _find(self, subject: str) -> Event | None:
        return find_event(self.store, _TYPE, subject, tenant=self.tenant)

    def _subject(self, key: AlertKey) -> str:
        """Where the event of *key* is, or is to be written (see the module's note on
        outboxes from before forecast and actual alerts were apart)."""
        plain = _plain(key)
        if key[3] == "forecast":
            return f"{plain}/forecast"
        old = self._find(plain)
        if old is not None and old.data.get("basis") == "forecast":
            return f"{plain}/actual"
        return plain

    def was_sent(self, key: AlertKey) -> bool:
        """Whether the alert's event is in the outbox (delivered or not)."""
        if self._find(self._subject(key)) is not None:
            return True
        if key[3] != "forecast":
            return False
        old = self._find(_plain(key))  # a forecast alert from before the split
        return old is not None and old.data.get("basis") == "forecast"

    def mark_sent(self, key: AlertKey) -> None:
        """Write the alert's event from its key alone, dated by the period's label."""
        account, period, threshold, basis = key
        data = {"account": account, "period": period, "threshold": threshold, "basis": basis}
        self._write(key, period, data)

    def record(self, alert: BudgetAlert) -> None:
        """Write the event of *alert*, dated by the check's time, with its figures."""
        data = {
            "account": alert.account,
            "period": alert.period,
            "threshold": str(alert.threshold),
            "basis": alert.basis,
            "month_to_date": str(alert.month_to_date.amount),
            "forecast": str(alert.forecast.amount),
            "budget": str(alert.budget.amount),
            "currency": str(alert.budget.currency.code),
        }
        self._write(alert.key, alert.at.isoformat(), data)

    def _write(self, key: AlertKey, at: str, data: dict[str, Any]) -> None:
        record_event(
            self.store,
            _TYPE,
            self._subject(key),
            at=at,
            data=data,
            tenant=self.tenant,
        )
