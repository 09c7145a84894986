"""pytest-benchmark: rate 10k in-memory usage records, and the naive loop beside it.

Run explicitly (pytest's default testpaths are tests, src and docs)::

    .venv/bin/python -m pytest benchmarks --benchmark-enable

Records are built once per module, outside the timed calls. No time is asserted.
"""

from __future__ import annotations

import pytest
from bench_rate import make_plan, make_records, naive_totals

import cloudrate

RECORDS = 10_000


@pytest.fixture(scope="module", name="records")
def fixture_records() -> list[cloudrate.UsageRecord]:
    return make_records(RECORDS)


@pytest.fixture(scope="module", name="plan")
def fixture_plan() -> cloudrate.Plan:
    return make_plan()


def test_rate_10k(benchmark, plan, records):
    """rate() over 10k records gives the naive loop's exact and rounded account totals."""
    result = benchmark(cloudrate.rate, plan, records)
    exact, rounded = naive_totals(records)
    assert {b.account: b.exact_total.amount for b in result.bills} == exact
    assert {b.account: b.total.amount for b in result.bills} == rounded


def test_naive_loop_10k(benchmark, records):
    """The per-record Decimal loop a portal developer would write, for comparison."""
    exact, _ = benchmark(naive_totals, records)
    assert len(exact) == 100
