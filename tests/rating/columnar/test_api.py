"""The public API of cloudrate.rating.columnar, its laziness, and the cluster mapper."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

pytest.importorskip("pyarrow")

import cloudrate
import cloudrate.rating.columnar
from cloudrate.rating.columnar import (
    PARTIAL_SCHEMA,
    PartialMapper,
    combine_partials,
    finish,
    to_table,
)


def test_all_is_pinned():
    """The promised names, sorted as ruff sorts them (constants, classes, functions)."""
    assert cloudrate.rating.columnar.__all__ == [
        "CORE",
        "PARTIAL_DDL",
        "PARTIAL_SCHEMA",
        "SCALE",
        "ColumnarFile",
        "FixedPointRangeError",
        "LineColumns",
        "PartialMapper",
        "account_totals",
        "combine_partials",
        "finish",
        "partial_aggregate",
        "period_and_data",
        "rate_lines",
        "rate_table",
        "read_columnar",
        "to_table",
    ]


def test_import_cloudrate_stays_light():
    """`import cloudrate` imports neither pyarrow nor numpy."""
    code = "import sys, cloudrate; print('pyarrow' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_partial_ddl_matches_schema():
    """The Spark DDL names the schema's columns in order."""
    names = [part.split()[0] for part in cloudrate.rating.columnar.PARTIAL_DDL.split(", ")]
    assert names == PARTIAL_SCHEMA.names


class TestPartialMapper:
    def test_spark_and_dask_shapes_give_the_same_bills(self):
        """Batches in, batches out (Spark); frames in, frames out (Dask): same result."""
        pytest.importorskip("pandas")
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
        expected = cloudrate.rate(plan, usage, period)
        mapper = pickle.loads(pickle.dumps(PartialMapper(plan, period)))
        table = to_table(usage)
        parts = [table.slice(i, 128) for i in range(0, table.num_rows, 128)]
        spark = [b for part in parts for b in mapper(part.to_batches())]
        assert finish(plan, combine_partials(spark), period).to_json() == expected.to_json()
        dask = [mapper.frame(part.to_pandas()) for part in parts]
        assert finish(plan, combine_partials(dask), period).to_json() == expected.to_json()

    def test_empty_partition(self):
        """An empty partition yields an empty batch with the partial schema."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
        out = list(PartialMapper(plan, period)(iter([])))
        assert sum(b.num_rows for b in out) == 0
        assert all(b.schema == PARTIAL_SCHEMA for b in out)
