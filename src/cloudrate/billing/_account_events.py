"""Account suspension and reactivation events, and looking an event up in the outbox.

:func:`record_account_state` takes the account's state as the host's policy decided it
(a :class:`~cloudrate.accounts.AccountState` from
:meth:`~cloudrate.accounts.SuspensionPolicy.evaluate`, or a state name such as
:meth:`~cloudrate.accounts.Ledger.state` gives) and writes ``account.suspended`` when the
account enters the ``suspended`` state, ``account.reactivated`` when it leaves it. What the
account was before is read from the outbox itself (its latest ``account.*`` event), in a
transaction that holds the account's lock, so two workers evaluating the same account
write one event, and nothing is written while the state stays the same.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cloudrate.accounts import AccountState
from cloudrate.exceptions import BillingError

from ._events import Event, EventType, event_id, new_event
from ._sql import _EVENT_COLUMNS, SQLStore, _event, _Transaction
from ._store import DocumentStore, StoreTransaction

__all__ = ["find_event", "record_account_state"]

#: The state an account is in while it is suspended (the last stage of SuspensionPolicy).
SUSPENDED = "suspended"


def _sql_store(store: object, where: str) -> SQLStore:
    if not isinstance(store, SQLStore):
        raise BillingError(
            f"{where} reads the outbox of an SQL document store (got {store!r}); pass a "
            "SQLiteDocumentStore or PostgresDocumentStore, e.g. open_store('billing.db')"
        )
    return store


def find_event(
    store: DocumentStore,
    type: EventType,  # noqa: A002 - the event's field
    subject: str,
    *,
    tenant: str = "default",
) -> Event | None:
    """The event of *type* about *subject* in the outbox (delivered or not), or ``None``.

    >>> import tempfile, pathlib
    >>> from cloudrate.billing import SQLiteDocumentStore, record_event
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> find_event(store, "wallet.low", "acme/usage:08") is None
    True
    >>> _ = record_event(store, "wallet.low", "acme/usage:08", at="2026-11-01")
    >>> find_event(store, "wallet.low", "acme/usage:08").at
    '2026-11-01'
    >>> store.close()
    """
    wanted = event_id(tenant, type, subject)
    if isinstance(store, SQLStore):  # by its unique id; any other store is read through
        found = store._events(" AND id = ?", [wanted], 1)
    else:
        found = tuple(e for e in store.events(tenant=tenant) if e.id == wanted)
    return found[0] if found else None


def _at(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise BillingError(
                f"at: {value.isoformat()} has no timezone; pass an aware datetime such as "
                "datetime(2026, 11, 20, 9, tzinfo=timezone.utc)"
            )
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        return value
    raise BillingError(
        f"at: expected an aware datetime, a date or ISO text such as '2026-11-20' (got {value!r})"
    )


def _state(value: object) -> tuple[str, dict[str, Any]]:
    if isinstance(value, AccountState):
        return value.state, {
            "state": value.state,
            "reason": value.reason,
            "invoice": value.invoice,
            "days_overdue": value.days_overdue,
        }
    if isinstance(value, str) and value.strip():
        return value, {"state": value}
    raise BillingError(
        "state: expected an AccountState (SuspensionPolicy.evaluate) or a state name such "
        f"as 'suspended' or 'active' (got {value!r})"
    )


def _suspended(tx: _Transaction, account: str) -> bool:
    """Whether the outbox last reported *account* suspended (its latest ``account.*``)."""
    prefix = account.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    rows = tx._run(
        f"SELECT {_EVENT_COLUMNS} FROM cloudrate_event WHERE tenant = ? AND type IN (?, ?) "
        "AND subject LIKE ? ESCAPE '!' ORDER BY seq DESC",
        [tx.tenant, "account.suspended", "account.reactivated", f"{prefix}/%"],
    ).fetchall()
    for row in rows:  # the prefix also matches an account named "<account>/..."
        event = _event(row)
        if event.data.get("account") == account:
            return event.type == "account.suspended"
    return False


def record_account_state(
    store: DocumentStore,
    account: str,
    state: AccountState | str,
    *,
    at: datetime | date | str,
    tenant: str = "default",
    tx: StoreTransaction | None = None,
) -> Event | None:
    """Report *account*'s *state* at *at*: the event written, or ``None`` when nothing changed.

    ``account.suspended`` is written when *state* is ``suspended`` and the outbox last
    reported the account active (or never reported it); ``account.reactivated`` when
    *state* is anything else and the outbox last reported it suspended. The subject is
    ``"<account>/<at>"``; the data holds the account, the state and, for an
    :class:`~cloudrate.accounts.AccountState`, its reason, invoice and days overdue. Pass
    *tx* to write it in a transaction of this store the caller holds (then lock
    ``"account\\x1f<account>"`` or another name that serialises the account's checks).

    >>> import tempfile, pathlib
    >>> from cloudrate.billing import SQLiteDocumentStore
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> record_account_state(store, "acme", "suspended", at="2026-11-20").type
    'account.suspended'
    >>> record_account_state(store, "acme", "suspended", at="2026-11-21") is None
    True
    >>> record_account_state(store, "acme", "active", at="2026-11-22").subject
    'acme/2026-11-22'
    >>> store.close()
    """
    if not isinstance(account, str) or not account.strip():
        raise BillingError(f"account: expected a non-empty account name (got {account!r})")
    name, data = _state(state)
    when = _at(at)
    sql = _sql_store(store, "record_account_state")
    if tx is None:
        with sql.transaction(tenant, f"account\x1f{account}") as own:
            return _record(own, account, name, data, when)
    if not isinstance(tx, _Transaction) or tx.tenant != tenant:
        raise BillingError(
            f"tx: expected a transaction of this store for tenant {tenant!r} (got {tx!r}); "
            "pass the one store.transaction(tenant, lock) gave you, or none"
        )
    return _record(tx, account, name, data, when)


def _record(
    tx: _Transaction, account: str, state: str, data: dict[str, Any], at: str
) -> Event | None:
    was = _suspended(tx, account)
    if was == (state == SUSPENDED):
        return None
    kind: EventType = "account.suspended" if state == SUSPENDED else "account.reactivated"
    event = new_event(tx.tenant, kind, f"{account}/{at}", at, {"account": account, **data})
    return event if tx.add_event(event) else None
