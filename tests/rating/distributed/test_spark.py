"""Spark: mapInArrow in local[2] gives rate()'s totals, whatever the partitioning."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from cloudrate import rate

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")

batch = pytest.importorskip(
    "cloudrate.rating.columnar", reason="cloudrate.rating.columnar is not installed"
)
if not hasattr(batch, "partial_aggregate"):
    pytest.skip("cloudrate.rating.columnar has no partial_aggregate yet", allow_module_level=True)

from cloudrate.rating.distributed import rate_spark  # noqa: E402

from .conftest import PERIOD, frame_of, make_records, same_result  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="Spark needs Java 17 or later, and no java is on PATH or in JAVA_HOME",
)

RECORDS = make_records(2000, accounts=30, seed=23)


@pytest.fixture(name="spark", scope="module")
def _spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cloudrate-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_partitionings_give_one_process_totals(spark, plan):
    """One and five partitions (quantities as DecimalType) rate to exactly the
    lines and totals of rate() in one process."""
    from pyspark.sql import functions

    frame = spark.createDataFrame(frame_of(RECORDS)).withColumn(
        "quantity", functions.col("quantity").cast("decimal(38,12)")
    )
    expected = rate(plan, RECORDS, PERIOD)
    for partitions in (1, 5):
        same_result(rate_spark(plan, frame.repartition(partitions), PERIOD), expected)


def test_spark_lines_on_executors(spark, plan):
    """Lines built on the executors, in account groups or partition by partition
    (usage partitioned by account), give a result equal to rate()'s."""
    frame = spark.createDataFrame(frame_of(RECORDS))  # decimal strings keep exponents
    expected = rate(plan, RECORDS, PERIOD, accounts=["zz-new"])
    for options in ({"groups": 3}, {"groups": 1}):
        got = rate_spark(plan, frame.repartition(4), PERIOD, accounts=["zz-new"], **options)
        assert got == expected
        assert got.to_dict() == expected.to_dict()
    got = rate_spark(
        plan, frame.repartition(3, "account"), PERIOD, accounts=["zz-new"], by_account=True
    )
    assert got == expected
