"""The promised import path: ``cloudrate.__all__`` is pinned, sorted and complete."""

from __future__ import annotations

import importlib
import inspect

import cloudrate


def _ruff_order(name: str) -> tuple[int, str]:
    """CONSTANTS first, then Classes, then functions and modules (isort style)."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


EXPECTED = [
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
    "cloudstack",
    "currency_digits",
    "distributed",
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


class TestPublicApi:
    def test_all_is_pinned(self):
        """Adding or removing a public name is a deliberate change of this list."""
        assert cloudrate.__all__ == EXPECTED

    def test_all_is_sorted_and_unique(self):
        """``__all__`` is kept sorted (as ruff's RUF022 sorts it) with no repeats."""
        assert cloudrate.__all__ == sorted(set(cloudrate.__all__), key=_ruff_order)

    def test_every_name_is_importable(self):
        """``from cloudrate import *`` gives every listed name."""
        namespace: dict[str, object] = {}
        exec("from cloudrate import *", namespace)
        for name in cloudrate.__all__:
            assert name in namespace, name

    def test_all_is_complete(self):
        """Every public class or function re-exported at the top level is listed."""
        public = {
            name
            for name, value in vars(cloudrate).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__.startswith("cloudrate")
        }
        assert public <= set(cloudrate.__all__)

    def test_errors_subclass_the_base_and_a_builtin(self):
        """Every error is a CloudrateError and a builtin (ValueError, LookupError...), so code
        that does not know cloudrate can still catch it."""
        for name in cloudrate.exceptions.__all__:
            cls = getattr(cloudrate.exceptions, name)
            if name in ("Problem", "CloudrateError"):
                continue
            assert issubclass(cls, cloudrate.CloudrateError)
            builtins = [b for b in cls.__mro__ if b.__module__ == "builtins"
                        and b not in (Exception, BaseException, object)]
            assert builtins, f"{name} subclasses no builtin error such as ValueError"

    def test_subpackage_all_names_exist(self):
        """``cloudrate.plans.__all__`` and ``cloudrate.testing.__all__`` name real objects."""
        for module in ("cloudrate.plans", "cloudrate.testing", "cloudrate.exceptions"):
            mod = importlib.import_module(module)
            assert mod.__all__ == sorted(mod.__all__, key=_ruff_order)
            for name in mod.__all__:
                assert hasattr(mod, name), f"{module}.{name}"

    def test_import_stays_light(self):
        """``import cloudrate`` pulls in no heavy optional dependency."""
        import subprocess
        import sys

        code = ("import sys, cloudrate; heavy = {'pyarrow', 'pandas', 'polars', 'typst', "
                "'hypothesis', 'numpy'} & set(sys.modules); print(sorted(heavy))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        assert out.stdout.strip() == "[]"
