"""The what-if comparison (``cloudrate.portal.whatif``) and the notebook that uses it."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import CurrencyMismatchError, OptionError, WrongTypeError
from cloudrate.portal.whatif import compare
from cloudrate.rules import FreeFirstIp, RuleContext, chain
from cloudrate.testing import plans, usage_for

NOTEBOOK = Path(__file__).parents[2] / "docs" / "notebooks" / "compare-plans.ipynb"
PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
USAGE = list(cloudrate.read_usage(cloudrate.sample_usage_path()))


def _direct(plan, rule=None):
    """Each account's total rated with rate() and the rule applied by hand."""
    result = cloudrate.rate(plan, USAGE)
    if rule is not None:
        result = rule.apply_result(result, RuleContext.for_result(result, USAGE))
    return {b.account: b.total.amount for b in result.bills}, result.total.amount


class TestCompare:
    def test_first_ip_free_matches_rate(self):
        free = chain(FreeFirstIp())
        c = compare(USAGE, {"billed": PLAN, "free": (PLAN, free)})
        (billed, billed_total), (freed, freed_total) = _direct(PLAN), _direct(PLAN, free)
        assert c.difference("free").amount == freed_total - billed_total
        for account in billed:
            assert c.difference("free", account).amount == freed[account] - billed[account]
        assert c.difference("billed").amount == 0
        assert c.totals["free"].amount == freed_total

    @settings(max_examples=20, deadline=None)
    @given(plans().flatmap(lambda p: st.tuples(st.just(p), plans(), usage_for(p))))
    def test_differences_add_up(self, drawn):
        """Per-account differences add up to the total difference, for any two plans."""
        a, b, usage = drawn
        c = compare(usage, {"a": a, "b": b}, cloudrate.BillingPeriod.month(2026, 10, "UTC"))
        assert sum(x.differences["b"].amount for x in c.accounts) == c.difference("b").amount
        frame = c.to_pandas()
        assert list(frame.columns[:3]) == ["account", "scenario", "currency"]
        assert sum(frame[frame.scenario == "b"].difference_exact) == c.difference("b").amount

    def test_baseline_and_errors(self):
        c = compare(USAGE, {"billed": PLAN, "free": (PLAN, chain(FreeFirstIp()))}, baseline="free")
        assert c.difference("billed").amount > 0
        with pytest.raises(OptionError, match="baseline"):
            compare(USAGE, {"x": PLAN}, baseline="y")
        with pytest.raises(OptionError, match="at least one"):
            compare(USAGE, {})
        with pytest.raises(WrongTypeError, match="Plan or a"):
            compare(USAGE, {"x": "plan.yaml"})  # type: ignore[dict-item]
        with pytest.raises(CurrencyMismatchError):
            compare(USAGE, {"x": PLAN, "y": attrs.evolve(PLAN, currency="USD", charges=())})

    def test_chart_and_html(self):
        c = compare(USAGE, {"billed": PLAN, "free": (PLAN, chain(FreeFirstIp()))})
        values = c.chart(measure="difference").spec["data"]["values"]
        assert {v["scenario"] for v in values} == {"free"}
        assert c.chart().svg().startswith(b"<svg")
        assert "<td>-3.73</td>" in c._repr_html_()
        with pytest.raises(OptionError):
            c.chart(measure="cost")  # type: ignore[arg-type]


class TestNotebook:
    # jupyter_client and ipykernel warn about their own deprecations, not ours.
    @pytest.mark.filterwarnings("ignore::DeprecationWarning")
    def test_notebook_runs_headless(self, tmp_path):
        """docs/notebooks/compare-plans.ipynb runs top to bottom in a fresh kernel and its
        printed differences are those rate() gives directly."""
        nbformat = pytest.importorskip("nbformat")
        nbclient = pytest.importorskip("nbclient")
        os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
        )
        client.execute()
        printed = notebook.cells[-1].outputs[0]["text"]
        differences = {k: Decimal(v) for k, v in json.loads(printed).items()}
        (_, standard), (_, freed) = _direct(PLAN), _direct(PLAN, chain(FreeFirstIp()))
        assert differences["first IP free"] == freed - standard
        assert differences["standard"] == 0
        html = [o for c in notebook.cells for o in c.get("outputs", ()) if "data" in o]
        assert any("text/html" in o["data"] for o in html)
        assert any("image/svg+xml" in o["data"] for o in html)
