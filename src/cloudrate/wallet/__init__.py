"""Prepaid wallets: an append-only ledger with idempotent entries, in memory or SQLite,
and the account and prepaid settings that act on it.

>>> from datetime import datetime, timezone
>>> from moneyed import Money
>>> ledger = Ledger(MemoryLedgerStore())
>>> at = datetime(2026, 11, 1, tzinfo=timezone.utc)
>>> _ = ledger.open("acme", "EUR", at=at)
>>> _ = ledger.recharge("acme", Money("10.00", "EUR"), key="pay-1", at=at)
>>> ledger.balance("acme")
Money('10.00', 'EUR')
"""

from ..rules._balance import BalanceView, NegativeBalance
from ..rules._prepaid import PrepaidHourly
from ..rules._recharge import RechargeLimits
from ..rules._signup import SignupPayment, VerificationOutcome, VerificationRefund
from ..rules._suspension import AccountState, OpenInvoice, OverdueInvoice, Stage, SuspensionPolicy
from ._entry import KINDS, Account, EntryKind, LedgerEntry
from ._ledger import Ledger
from ._sqlite import SQLiteLedgerStore
from ._store import AppendResult, LedgerStore, MemoryLedgerStore, Shortfall

__all__ = [
    "KINDS",
    "Account",
    "AccountState",
    "AppendResult",
    "BalanceView",
    "EntryKind",
    "Ledger",
    "LedgerEntry",
    "LedgerStore",
    "MemoryLedgerStore",
    "NegativeBalance",
    "OpenInvoice",
    "OverdueInvoice",
    "PrepaidHourly",
    "RechargeLimits",
    "SQLiteLedgerStore",
    "Shortfall",
    "SignupPayment",
    "Stage",
    "SuspensionPolicy",
    "VerificationOutcome",
    "VerificationRefund",
]
