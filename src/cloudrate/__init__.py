"""Rate cloud usage against pricing plans and bill it: exact, fast, explainable.

The front door holds the main path only: load a plan, read usage, :func:`rate`, the
result types, rounding, the money helpers and the errors, each imported from its module
the first time it is used, so ``import cloudrate`` costs almost nothing. Everything else
lives in a subpackage that is also imported on first use (``cloudrate.invoice``,
``cloudrate.rules``, ``cloudrate.accounts``, ``cloudrate.fx``, ``cloudrate.portal``,
``cloudrate.integrations``, ``cloudrate.rating.columnar``...). docs/architecture.md
shows the layers.

>>> import cloudrate
>>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
>>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
>>> result.total.currency.code
'EUR'
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - what type checkers see; loaded lazily at run time
    from pathlib import Path

    from cloudrate import (  # noqa: F401 - for type checkers; loaded lazily by __getattr__
        accounts,
        cli,
        exceptions,
        fx,
        integrations,
        invoice,
        plans,
        portal,
        rating,
        rules,
        testing,
        usage,
    )
    from cloudrate._money import RoundingPolicy, currency_digits, money, to_decimal
    from cloudrate.exceptions import (
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
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import (
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
        dump_plan,
        load_plan,
        plan_to_yaml,
    )
    from cloudrate.rating import AccountBill, RatedLine, RatingResult, UnpricedUsage, rate
    from cloudrate.usage import UsageRecord, read_usage, read_usage_csv, read_usage_jsonl

__version__ = "0.1.0"

#: The main path, by name: each is imported from its module on first use.
_MAIN_PATH = {
    "RoundingPolicy": "cloudrate._money",
    "currency_digits": "cloudrate._money",
    "money": "cloudrate._money",
    "to_decimal": "cloudrate._money",
    "CloudrateError": "cloudrate.exceptions",
    "ConfigError": "cloudrate.exceptions",
    "CurrencyMismatchError": "cloudrate.exceptions",
    "FloatNotAllowedError": "cloudrate.exceptions",
    "PlanError": "cloudrate.exceptions",
    "Problem": "cloudrate.exceptions",
    "RatingError": "cloudrate.exceptions",
    "UnpricedUsageError": "cloudrate.exceptions",
    "UsageError": "cloudrate.exceptions",
    "BillingPeriod": "cloudrate.period",
    "Charge": "cloudrate.plans",
    "Detail": "cloudrate.plans",
    "Flat": "cloudrate.plans",
    "Graduated": "cloudrate.plans",
    "Metric": "cloudrate.plans",
    "Minimum": "cloudrate.plans",
    "Package": "cloudrate.plans",
    "PerUnit": "cloudrate.plans",
    "PercentTier": "cloudrate.plans",
    "Percentage": "cloudrate.plans",
    "Plan": "cloudrate.plans",
    "Priced": "cloudrate.plans",
    "Tier": "cloudrate.plans",
    "Volume": "cloudrate.plans",
    "dump_plan": "cloudrate.plans",
    "load_plan": "cloudrate.plans",
    "plan_to_yaml": "cloudrate.plans",
    "AccountBill": "cloudrate.rating",
    "RatedLine": "cloudrate.rating",
    "RatingResult": "cloudrate.rating",
    "UnpricedUsage": "cloudrate.rating",
    "rate": "cloudrate.rating",
    "UsageRecord": "cloudrate.usage",
    "read_usage": "cloudrate.usage",
    "read_usage_csv": "cloudrate.usage",
    "read_usage_jsonl": "cloudrate.usage",
}

#: Subpackages reached as attributes (``cloudrate.invoice``), imported on first use.
_SUBPACKAGES = frozenset(
    {
        "accounts",
        "cli",
        "exceptions",
        "fx",
        "integrations",
        "invoice",
        "period",
        "plans",
        "portal",
        "rating",
        "rules",
        "testing",
        "usage",
    }
)

#: Names the front door exported before 0.2, and where they live now. Reaching them
#: here still works, with a DeprecationWarning naming the new place.
_MOVED = {
    **dict.fromkeys(
        (
            "Ledger",
            "LedgerEntry",
            "LedgerStore",
            "MemoryLedgerStore",
            "NegativeBalance",
            "PrepaidHourly",
            "RechargeLimits",
            "SignupPayment",
            "SQLiteLedgerStore",
            "SuspensionPolicy",
            "VerificationRefund",
        ),
        "cloudrate.accounts",
    ),
    **dict.fromkeys(
        (
            "IdempotencyConflictError",
            "InsufficientFundsError",
            "RechargeLimitError",
            "UnknownAccountError",
            "WalletError",
        ),
        "cloudrate.exceptions",
    ),
    **dict.fromkeys(("Customer", "Invoice", "assemble"), "cloudrate.invoice"),
    **dict.fromkeys(("EcbRates", "ExchangeRate", "FixedRates", "RateSource"), "cloudrate.fx"),
    **dict.fromkeys(
        ("CostDecimals", "MultiCurrency", "Policy", "PromoCode", "Rule", "RuleContext", "chain"),
        "cloudrate.rules",
    ),
    **dict.fromkeys(
        ("Budget", "BudgetAlert", "InMemoryAlertStore", "SmtpSender", "check_budget"),
        "cloudrate.portal.budget",
    ),
    **dict.fromkeys(
        ("Estimate", "HourlyUsage", "estimate", "instance_usage"), "cloudrate.portal.estimation"
    ),
    **dict.fromkeys(
        ("FeatureConfig", "FeatureSettings", "load_features"), "cloudrate.portal.features"
    ),
    "Capabilities": "cloudrate.portal.capabilities",
    "whmcs_invoice": "cloudrate.integrations.whmcs",
}
_MOVED_MODULES = {
    "batch": "cloudrate.rating.columnar",
    "budget": "cloudrate.portal.budget",
    "charts": "cloudrate.portal.charts",
    "cloudstack": "cloudrate.integrations.cloudstack",
    "distributed": "cloudrate.rating.distributed",
    "estimation": "cloudrate.portal.estimation",
    "features": "cloudrate.portal.features",
    "report": "cloudrate.portal.report",
    "usage_view": "cloudrate.portal.usage_view",
    "wallet": "cloudrate.accounts",
    "whmcs": "cloudrate.integrations.whmcs",
}


def sample_plan_path() -> Path:
    """The sample plan shipped in the package: a small CloudStack-like cloud in EUR."""
    from cloudrate.cli import samples

    return samples.sample_plan_path()


def sample_usage_path() -> Path:
    """A month (October 2026) of sample usage of a few accounts, as CSV."""
    from cloudrate.cli import samples

    return samples.sample_usage_path()


def __getattr__(name: str) -> Any:
    if name in _MAIN_PATH:
        value = getattr(importlib.import_module(_MAIN_PATH[name]), name)
        globals()[name] = value  # found once; later lookups skip this function
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"cloudrate.{name}")
    if name in _MOVED_MODULES:
        target = _MOVED_MODULES[name]
        warnings.warn(
            f"cloudrate.{name} moved to {target}; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(target)
    if name in _MOVED:
        target = _MOVED[name]
        warnings.warn(
            f"cloudrate.{name} moved to {target}.{name}; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(target), name)
    raise AttributeError(f"module 'cloudrate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MAIN_PATH, *_SUBPACKAGES})


__all__ = [
    "AccountBill",
    "BillingPeriod",
    "Charge",
    "CloudrateError",
    "ConfigError",
    "CurrencyMismatchError",
    "Detail",
    "Flat",
    "FloatNotAllowedError",
    "Graduated",
    "Metric",
    "Minimum",
    "Package",
    "PerUnit",
    "PercentTier",
    "Percentage",
    "Plan",
    "PlanError",
    "Priced",
    "Problem",
    "RatedLine",
    "RatingError",
    "RatingResult",
    "RoundingPolicy",
    "Tier",
    "UnpricedUsage",
    "UnpricedUsageError",
    "UsageError",
    "UsageRecord",
    "Volume",
    "currency_digits",
    "dump_plan",
    "load_plan",
    "money",
    "plan_to_yaml",
    "rate",
    "read_usage",
    "read_usage_csv",
    "read_usage_jsonl",
    "sample_plan_path",
    "sample_usage_path",
    "to_decimal",
]
