"""Rate cloud usage against pricing plans and bill it: exact, fast, explainable.

>>> import cloudrate
>>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
>>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
>>> result.total.currency.code
'EUR'
"""

from . import cloudstack, distributed, exceptions, plans
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

__version__ = "0.1.0"

__all__ = [
    "AccountBill",
    "BillingPeriod",
    "Charge",
    "CloudrateError",
    "ConfigError",
    "CurrencyMismatchError",
    "Detail",
    "ExchangeRate",
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
    "cloudstack",
    "currency_digits",
    "distributed",
    "dump_plan",
    "exceptions",
    "load_plan",
    "money",
    "plan_to_yaml",
    "plans",
    "rate",
    "read_usage",
    "read_usage_csv",
    "read_usage_jsonl",
    "sample_plan_path",
    "sample_usage_path",
    "to_decimal",
]
