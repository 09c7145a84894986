"""Hypothesis strategies shipped for users' tests (``cloudrate.testing``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import cloudrate
from cloudrate import Plan, RoundingPolicy, UsageRecord
from cloudrate.testing import (
    amounts,
    charges,
    currencies,
    money,
    plans,
    quantities,
    rounding_policies,
    tiers,
    usage_records,
)


class TestStrategies:
    @given(plans(currencies=currencies()))
    def test_plans_are_valid(self, plan):
        """Generated plans are Plans in their currency with usage charges."""
        assert isinstance(plan, Plan)
        assert all(c.model.currency == plan.currency for c in plan.charges)

    @given(plans(full=True))
    def test_full_plans_use_every_model(self, plan):
        """full=True adds flat, percentage, minimum and transaction charges, metrics and
        rounding."""
        kinds = {c.model.kind for c in plan.charges}
        assert {"flat", "percentage", "minimum", "transaction_percentage"} <= kinds
        assert "graduated_transaction_percentage" in kinds
        assert plan.metrics

    @given(quantities(min_value=Decimal(1), max_value=Decimal(5), places=2))
    def test_quantities_bounds(self, q):
        """Quantities respect their bounds and places."""
        assert Decimal(1) <= q <= Decimal(5)
        assert q == q.quantize(Decimal("0.01"))

    def test_quantities_refuse_negative_minimum(self):
        """Usage is never negative."""
        with pytest.raises(InvalidArgument, match="usage is never negative"):
            quantities(min_value=Decimal(-1))

    def test_tiers_refuse_empty(self):
        """A tier list is never empty."""

        @given(tiers(min_size=0))
        def draw(_tiers):
            raise AssertionError("unreachable")

        with pytest.raises(InvalidArgument, match="never empty"):
            draw()

    @given(tiers("JPY", min_size=3, max_size=3, flat_prices=False))
    def test_tiers_shape(self, tier_list):
        """Tiers ascend, the last is open, all in the requested currency."""
        bounds = [t.up_to for t in tier_list[:-1]]
        assert bounds == sorted(bounds) and tier_list[-1].up_to is None
        assert all(t.flat_price is None and t.unit_price.currency.code == "JPY" for t in tier_list)

    @given(charges("USD"), money(st.just("CHF")))
    def test_charges_and_money(self, charge, amount):
        """Charges carry a metric; money is in the requested currency."""
        assert charge.metric and charge.model.currency == "USD"
        assert amount.currency.code == "CHF" and amount.amount >= 0

    @given(amounts(signed=False), rounding_policies(placements=st.just("total")))
    def test_amounts_and_policies(self, amount, policy):
        """Unsigned amounts are >= 0; policies are RoundingPolicy objects."""
        assert amount >= 0
        assert isinstance(policy, RoundingPolicy) and policy.placement == "total"

    @given(usage_records(accounts=st.just("x"), metrics=st.just("m")))
    def test_usage_records(self, record):
        """Records lie inside October 2026 UTC, with the requested account and metric."""
        assert (record.account, record.metric) == ("x", "m")
        assert cloudrate.BillingPeriod.month(2026, 10).contains(record.start, record.end)

    @given(st.from_type(Plan), st.from_type(UsageRecord))
    def test_registered_types(self, plan, record):
        """The Hypothesis entry point registers Plan and UsageRecord."""
        assert isinstance(plan, Plan) and isinstance(record, UsageRecord)


class TestFreshInterpreter:
    """``cloudrate.testing`` and the Hypothesis entry point work when nothing else was
    imported first (pytest imports Hypothesis before any test, which hides such faults)."""

    @pytest.mark.parametrize(
        "code",
        [
            (
                "from cloudrate.testing import plans\nimport cloudrate\n"
                "assert isinstance(plans().example(), cloudrate.Plan)"
            ),
            (
                "import cloudrate.testing as t\nimport cloudrate\n"
                "assert isinstance(t.usage_records().example(), cloudrate.UsageRecord)"
            ),
            (
                "import hypothesis.strategies as st\nimport cloudrate\n"
                "assert isinstance(st.from_type(cloudrate.Plan).example(), cloudrate.Plan)"
            ),
            (
                "import hypothesis.strategies as st\nfrom cloudrate import UsageRecord\n"
                "assert isinstance(st.from_type(UsageRecord).example(), UsageRecord)"
            ),
        ],
    )
    def test_imports_cleanly(self, code):
        import subprocess
        import sys

        program = f"{code}\nprint('ok')"
        out = subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore::hypothesis.errors.NonInteractiveExampleWarning",
                "-c",
                program,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["ok"]
