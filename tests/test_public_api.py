"""The promised import path: ``cloudrate.__all__`` is pinned, sorted and complete."""

from __future__ import annotations

import importlib
import inspect

import pytest

import cloudrate


def _ruff_order(name: str) -> tuple[int, str]:
    """CONSTANTS first, then Classes, then functions and modules (isort style)."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


EXPECTED = [
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


PACKAGES = (
    "cloudrate.accounts",
    "cloudrate.cli",
    "cloudrate.exceptions",
    "cloudrate.fx",
    "cloudrate.integrations",
    "cloudrate.integrations.cloudstack",
    "cloudrate.invoice",
    "cloudrate.invoice.render",
    "cloudrate.plans",
    "cloudrate.portal",
    "cloudrate.portal.usage_view",
    "cloudrate.rating",
    "cloudrate.rating.columnar",
    "cloudrate.rating.distributed",
    "cloudrate.rules",
    "cloudrate.testing",
    "cloudrate.usage",
)


class TestMovedNames:
    """Names the front door exported before 0.2 still resolve, with a warning naming the
    new place, and are the very objects of their new home."""

    @pytest.mark.parametrize("name", sorted(cloudrate._MOVED))
    def test_moved_name_warns_and_resolves(self, name):
        target = importlib.import_module(cloudrate._MOVED[name])
        with pytest.warns(DeprecationWarning, match=f"moved to {target.__name__}.{name}"):
            value = getattr(cloudrate, name)
        assert value is getattr(target, name)

    @pytest.mark.parametrize("name", sorted(cloudrate._MOVED_MODULES))
    def test_moved_module_warns_and_resolves(self, name):
        with pytest.warns(DeprecationWarning, match=cloudrate._MOVED_MODULES[name]):
            module = getattr(cloudrate, name)
        assert module.__name__ == cloudrate._MOVED_MODULES[name]

    def test_subpackages_load_on_first_use(self):
        """``cloudrate.invoice`` works without importing it first, in a fresh interpreter."""
        import subprocess
        import sys

        code = (
            "import sys, cloudrate; assert 'cloudrate.invoice' not in sys.modules; "
            "print(cloudrate.invoice.Invoice.__name__, "
            "cloudrate.portal.budget.Budget.__name__)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["Invoice", "Budget"]

    def test_unknown_name_is_an_attribute_error(self):
        with pytest.raises(AttributeError, match="no attribute 'Nope'"):
            cloudrate.Nope  # noqa: B018


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
            builtins = [
                b
                for b in cls.__mro__
                if b.__module__ == "builtins" and b not in (Exception, BaseException, object)
            ]
            assert builtins, f"{name} subclasses no builtin error such as ValueError"

    def test_subpackage_all_names_exist(self):
        """Every package's ``__all__`` is sorted and names real objects."""
        for module in PACKAGES:
            mod = importlib.import_module(module)
            assert mod.__all__ == sorted(mod.__all__, key=_ruff_order)
            for name in mod.__all__:
                assert hasattr(mod, name), f"{module}.{name}"

    def test_import_stays_light(self):
        """``import cloudrate`` pulls in no heavy optional dependency."""
        import subprocess
        import sys

        code = (
            "import sys, cloudrate; heavy = {'pyarrow', 'pandas', 'polars', 'typst', "
            "'hypothesis', 'numpy', 'sqlite3', 'jinja2', 'click', 'cloudrate.invoice', "
            "'cloudrate.accounts', 'cloudrate.rules', 'cloudrate.portal', "
            "'cloudrate.integrations', 'cloudrate.cli'} & set(sys.modules); "
            "print(sorted(heavy))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"
