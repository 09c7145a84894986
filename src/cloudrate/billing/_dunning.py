"""The dunning run: reminders and suspensions for stored invoices, each written once.

:func:`run_dunning` reads every stored invoice (and supplementary invoice) as it stands
today, with its payments and credit notes, asks a
:class:`~cloudrate.accounts.DunningSchedule` for the steps due, and writes them:

- ``invoice.reminder`` (subject ``"<number>/<n>"``, the *n*-th reminder) in the
  transaction of the invoice's customer period, the lock billing runs and payments take,
  so a payment committed meanwhile is seen and stops the reminder;
- ``account.suspended`` through :func:`~cloudrate.billing.record_account_state`, under the
  account's lock, when the account's most overdue invoice reaches ``suspend_after``.

Event ids come from their subjects and the account state is read from the outbox, so
running it again (the same day, or from two workers) writes nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from cloudrate.accounts import AccountState, DunningInvoice, DunningSchedule, DunningStep
from cloudrate.exceptions import BillingError

from ._account_events import record_account_state
from ._documents import live_invoice
from ._events import Event, new_event
from ._store import DocumentStore, StoreTransaction
from ._stored import StoredDocument

__all__ = ["run_dunning"]


def _when(now: object) -> str:
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise BillingError(
                f"now: {now.isoformat()} has no timezone; pass an aware datetime such as "
                "datetime(2026, 11, 22, 9, tzinfo=timezone.utc)"
            )
        return now.isoformat()
    if isinstance(now, date):
        return now.isoformat()
    raise BillingError(f"now: expected an aware datetime or a date (got {now!r})")


def _fact(tx: StoreTransaction, document: StoredDocument) -> DunningInvoice | None:
    """*document*'s invoice as it stands in *tx*: its account, due date and amount due."""
    notes = [
        n
        for n in tx.documents(document.customer, document.period)
        if n.kind == "credit_note" and n.refers_to == document.number
    ]
    invoice = live_invoice(document, tx.attempts(document.number), notes)
    if invoice.state != "issued" or invoice.due_on is None or invoice.number is None:
        return None
    return DunningInvoice(document.customer, invoice.number, invoice.due_on, invoice.amount_due)


def _reminder(tenant: str, step: DunningStep, at: str) -> Event:
    return new_event(
        tenant,
        "invoice.reminder",
        step.subject,
        at,
        {
            "customer": step.account,
            "invoice": step.invoice,
            "reminder": step.reminder,
            "days_overdue": step.days_overdue,
            "due_on": step.due.isoformat(),
            "amount_due": str(step.outstanding.amount),
            "currency": step.outstanding.currency.code,
        },
    )


def _suspension(step: DunningStep, schedule: DunningSchedule) -> AccountState:
    owed = step.outstanding
    return AccountState(
        "suspended",
        f"invoice {step.invoice} ({owed.amount} {owed.currency.code} outstanding) is "
        f"{step.days_overdue} days overdue, {schedule.suspend_after} or more suspend the "
        "account",
        step.invoice,
        step.days_overdue,
    )


def run_dunning(
    store: DocumentStore,
    schedule: DunningSchedule,
    now: date | datetime,
    *,
    tenant: str = "default",
) -> tuple[Event, ...]:
    """Write the reminders and suspensions *schedule* says are due at *now*; return the
    events written now (none when the run is repeated).

    Only the latest reminder an invoice has reached is written (a run that missed a day
    sends the current reminder, not the ones before it); an invoice with nothing left to pay
    gets none. Suspension writes ``account.suspended`` unless the outbox already reports the
    account suspended. The run never reactivates an account (a wallet at its floor may be
    what suspends it): once the invoices are paid, report the account's state with
    :func:`~cloudrate.billing.record_account_state`.

    >>> import tempfile, pathlib
    >>> from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
    >>> from cloudrate.billing import BillingRun, SQLiteDocumentStore
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> result = rate(load_plan(sample_plan_path()), read_usage(sample_usage_path()))
    >>> _ = BillingRun(store=store).bill(result)  # three invoices, due 1 December 2026
    >>> schedule = DunningSchedule(reminders=(3, 7, 14), suspend_after=21)
    >>> [e.subject for e in run_dunning(store, schedule, date(2026, 12, 8))]
    ['INV-2026-0001/2', 'INV-2026-0002/2', 'INV-2026-0003/2']
    >>> run_dunning(store, schedule, date(2026, 12, 8))
    ()
    >>> store.close()

    .. versionadded:: 0.2
    """
    if not isinstance(schedule, DunningSchedule):
        raise BillingError(
            f"schedule: expected a DunningSchedule such as DunningSchedule(reminders=(3, 7, "
            f"14), suspend_after=21) (got {schedule!r})"
        )
    at = _when(now)
    written: list[Event] = []
    owing: list[DunningInvoice] = []
    for document in store.documents(tenant=tenant):
        if document.kind == "credit_note" or document.due_on is None:
            continue
        with store.transaction(tenant, f"{document.customer}\x1f{document.period}") as tx:
            fact = _fact(tx, document)
            if fact is None:
                continue
            owing.append(fact)
            for step in schedule.steps([fact], now):
                if step.action == "reminder":
                    event = _reminder(tenant, step, at)
                    if tx.add_event(event):
                        written.append(event)
    written.extend(_suspend(store, schedule, owing, now, tenant))
    return tuple(written)


def _suspend(
    store: DocumentStore,
    schedule: DunningSchedule,
    owing: Sequence[DunningInvoice],
    now: date | datetime,
    tenant: str,
) -> list[Event]:
    written = []
    for step in schedule.steps(owing, now):
        if step.action != "suspend":
            continue
        event = record_account_state(
            store, step.account, _suspension(step, schedule), at=now, tenant=tenant
        )
        if event is not None:
            written.append(event)
    return written
