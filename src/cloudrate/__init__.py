"""Rate cloud usage against pricing plans and bill it: exact, fast, explainable.

>>> import cloudrate
>>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
>>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
>>> result.total.currency.code
'EUR'
"""

from . import exceptions, plans
from ._load import dump_plan, load_plan, plan_to_yaml
from ._money import RoundingPolicy, currency_digits, money, to_decimal
from ._samples import sample_plan_path, sample_usage_path
from .exceptions import (
    CloudrateError,
    ConfigError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    PlanError,
    Problem,
    RatingError,
    UnpricedUsageError,
    UsageError,
)
from .fx import ExchangeRate
from . import invoice
from .invoice import Customer, Invoice, assemble
from .period import BillingPeriod
from .plans import (
    Charge,
    Detail,
    Flat,
    Graduated,
    Metric,
    Minimum,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    Plan,
    Priced,
    Tier,
    Volume,
)
from .rating import AccountBill, RatedLine, RatingResult, UnpricedUsage, rate
from .usage import UsageRecord, read_usage, read_usage_csv, read_usage_jsonl
from . import wallet
from .exceptions import (
    IdempotencyConflictError,
    InsufficientFundsError,
    RechargeLimitError,
    UnknownAccountError,
    WalletError,
)
from .wallet import (
    Ledger,
    LedgerEntry,
    LedgerStore,
    MemoryLedgerStore,
    NegativeBalance,
    PrepaidHourly,
    RechargeLimits,
    SignupPayment,
    SQLiteLedgerStore,
    SuspensionPolicy,
    VerificationRefund,
)

from . import rules
from .budget import Budget, BudgetAlert, InMemoryAlertStore, SmtpSender, check_budget
from .estimation import Estimate, HourlyUsage, estimate, instance_usage
from .features import FeatureConfig, FeatureSettings, load_features
from .rules import (
    Capabilities,
    CostDecimals,
    EcbRates,
    FixedRates,
    MultiCurrency,
    Policy,
    PromoCode,
    RateSource,
    Rule,
    RuleContext,
    chain,
)
from .whmcs import whmcs_invoice

__version__ = "0.1.0"

__all__ = [
    "AccountBill",
    "BillingPeriod",
    "Budget",
    "BudgetAlert",
    "Capabilities",
    "Charge",
    "CloudrateError",
    "ConfigError",
    "CostDecimals",
    "CurrencyMismatchError",
    "Customer",
    "Detail",
    "EcbRates",
    "Estimate",
    "ExchangeRate",
    "FeatureConfig",
    "FeatureSettings",
    "FixedRates",
    "Flat",
    "FloatNotAllowedError",
    "Graduated",
    "HourlyUsage",
    "IdempotencyConflictError",
    "InMemoryAlertStore",
    "InsufficientFundsError",
    "Invoice",
    "Ledger",
    "LedgerEntry",
    "LedgerStore",
    "MemoryLedgerStore",
    "Metric",
    "Minimum",
    "MultiCurrency",
    "NegativeBalance",
    "Package",
    "PerUnit",
    "PercentTier",
    "Percentage",
    "Plan",
    "PlanError",
    "Policy",
    "PrepaidHourly",
    "Priced",
    "Problem",
    "PromoCode",
    "RateSource",
    "RatedLine",
    "RatingError",
    "RatingResult",
    "RechargeLimitError",
    "RechargeLimits",
    "RoundingPolicy",
    "Rule",
    "RuleContext",
    "SQLiteLedgerStore",
    "SignupPayment",
    "SmtpSender",
    "SuspensionPolicy",
    "Tier",
    "UnknownAccountError",
    "UnpricedUsage",
    "UnpricedUsageError",
    "UsageError",
    "UsageRecord",
    "VerificationRefund",
    "Volume",
    "WalletError",
    "assemble",
    "chain",
    "check_budget",
    "currency_digits",
    "dump_plan",
    "estimate",
    "exceptions",
    "instance_usage",
    "invoice",
    "load_features",
    "load_plan",
    "money",
    "plan_to_yaml",
    "plans",
    "rate",
    "read_usage",
    "read_usage_csv",
    "read_usage_jsonl",
    "rules",
    "sample_plan_path",
    "sample_usage_path",
    "to_decimal",
    "wallet",
    "whmcs_invoice",
]
