"""Fixtures for the rule tests: the sample plan and its October 2026 usage."""

from __future__ import annotations

import pytest

import cloudrate
from cloudrate.rules import RuleContext


@pytest.fixture(name="plan", scope="session")
def _plan() -> cloudrate.Plan:
    return cloudrate.load_plan(cloudrate.sample_plan_path())


@pytest.fixture(name="usage", scope="session")
def _usage() -> list[cloudrate.UsageRecord]:
    return list(cloudrate.read_usage(cloudrate.sample_usage_path()))


@pytest.fixture(name="result", scope="session")
def _result(plan, usage) -> cloudrate.RatingResult:
    return cloudrate.rate(plan, usage)


@pytest.fixture(name="context", scope="session")
def _context(result, usage) -> RuleContext:
    return RuleContext.for_result(result, usage)
