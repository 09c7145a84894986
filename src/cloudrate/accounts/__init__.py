"""Accounts: the prepaid wallet (an append-only ledger with idempotent entries, in memory
or SQLite), granted credits that expire, automatic top-up rules, the account and prepaid
policies that act on it (dunning and suspension among them), account and plan types, and
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
from ._dunning import DunningInvoice, DunningSchedule, DunningStep, dunning_steps
from ._entry import KINDS, Account, EntryKind, LedgerEntry
from ._grants import (
    EXPIRES_PREFIX,
    EXPIRY_PREFIX,
    CreditLot,
    Credits,
    credit_expiry,
    expire_credits,
    expired_credit,
    expiry_key,
    grant_credit,
    grant_entry,
    wallet_credits,
)
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
from ._suspension import (
    SUSPENDED,
    AccountState,
    OpenInvoice,
    OverdueInvoice,
    Stage,
    StoppedUsage,
    SuspendedBilling,
    SuspendedSpan,
    SuspendedUsage,
    SuspensionPolicy,
    suspended_spans,
)
from ._topup import (
    TopUpBelow,
    TopUpDue,
    TopUpMonthly,
    TopUpRequest,
    TopUpRule,
    TopUpWeekly,
    topup_requests,
)

__all__ = [
    "EXPIRES_PREFIX",
    "EXPIRY_PREFIX",
    "FALLBACKS",
    "KINDS",
    "SUSPENDED",
    "Account",
    "AccountState",
    "AccountType",
    "AccountTypeName",
    "AppendResult",
    "BalanceView",
    "BillingPlans",
    "CreditLot",
    "Credits",
    "DunningInvoice",
    "DunningSchedule",
    "DunningStep",
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
    "StoppedUsage",
    "SuspendedBilling",
    "SuspendedSpan",
    "SuspendedUsage",
    "SuspensionPolicy",
    "TopUpBelow",
    "TopUpDue",
    "TopUpMonthly",
    "TopUpRequest",
    "TopUpRule",
    "TopUpWeekly",
    "VerificationOutcome",
    "VerificationRefund",
    "account_type",
    "credit_expiry",
    "dunning_steps",
    "expire_credits",
    "expired_credit",
    "expiry_key",
    "grant_credit",
    "grant_entry",
    "plan_batch",
    "settle",
    "suspended_spans",
    "topup_requests",
    "wallet_credits",
]
