"""Accounts: the prepaid wallet (an append-only ledger with idempotent entries, in memory
or SQLite), the account and prepaid policies that act on it, account and plan types, and
the promo code redemption stores.

>>> from datetime import datetime, timezone
>>> from moneyed import Money
>>> ledger = Ledger(MemoryLedgerStore())
>>> at = datetime(2026, 11, 1, tzinfo=timezone.utc)
>>> _ = ledger.open("acme", "EUR", at=at)
>>> _ = ledger.recharge("acme", Money("10.00", "EUR"), key="pay-1", at=at)
>>> ledger.balance("acme")
Money('10.00', 'EUR')
"""

from ._balance import BalanceView, NegativeBalance
from ._entry import KINDS, Account, EntryKind, LedgerEntry
from ._ledger import Ledger
from ._plan_type import (
    AccountType,
    AccountTypeName,
    BillingPlans,
    PlanType,
    PlanTypeName,
    Settlement,
    account_type,
    settle,
)
from ._prepaid import FALLBACKS, Fallback, Interval, PrepaidHourly
from ._promo_memory import InMemoryRedemptionStore
from ._promo_sqlite import SQLiteRedemptionStore
from ._recharge import RechargeLimits
from ._signup import SignupPayment, VerificationOutcome, VerificationRefund
from ._sqlite import SQLiteLedgerStore
from ._store import AppendResult, LedgerStore, MemoryLedgerStore, Shortfall, plan_batch
from ._suspension import AccountState, OpenInvoice, OverdueInvoice, Stage, SuspensionPolicy

__all__ = [
    "FALLBACKS",
    "KINDS",
    "Account",
    "AccountState",
    "AccountType",
    "AccountTypeName",
    "AppendResult",
    "BalanceView",
    "BillingPlans",
    "EntryKind",
    "Fallback",
    "InMemoryRedemptionStore",
    "Interval",
    "Ledger",
    "LedgerEntry",
    "LedgerStore",
    "MemoryLedgerStore",
    "NegativeBalance",
    "OpenInvoice",
    "OverdueInvoice",
    "PlanType",
    "PlanTypeName",
    "PrepaidHourly",
    "RechargeLimits",
    "SQLiteLedgerStore",
    "SQLiteRedemptionStore",
    "Settlement",
    "Shortfall",
    "SignupPayment",
    "Stage",
    "SuspensionPolicy",
    "VerificationOutcome",
    "VerificationRefund",
    "account_type",
    "plan_batch",
    "settle",
]
