"""Rate a PySpark DataFrame with the exact batch rater, through ``mapInArrow``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ._partials import combine_blobs, finish_blobs, partial_blob, require

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan
    from cloudrate.rating import OnUnpriced, RatingResult

__all__ = ["rate_spark"]


def _partition_partials(plan: Plan, period: BillingPeriod) -> Any:
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        pa = require("pyarrow", "spark")
        # One aggregation over all the partition's Arrow batches, kept as a list: copies
        # of a record are compared by reading the partition again (docs/distributed.md).
        blob = partial_blob(plan, [batch for batch in batches if batch.num_rows], period)
        yield pa.RecordBatch.from_pydict({"partial": pa.array([blob], pa.binary())})

    return run


def _merge(left: bytes | None, right: bytes | None) -> bytes | None:
    if left is None:
        return right
    if right is None:
        return left
    return combine_blobs([left, right])


def rate_spark(
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
    depth: int = 2,
) -> RatingResult:
    """Rate a Spark DataFrame of usage (the batch column layout; quantities as
    ``DecimalType`` or decimal strings) and return the same result as one process.

    Each partition's Arrow batches are reduced to one exact partial on the executors
    (``mapInArrow``), partials are combined on the executors with ``treeAggregate`` of
    *depth*, and the combined partial is rated and rounded once on the driver.

    *rounding*, *accounts* and *on_unpriced* are those of :func:`cloudrate.rate`.
    Requires ``pip install 'cloudrate[spark]'`` and Java 17 or later.

    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> usage = spark.read.parquet("usage-2026-10/")  # doctest: +SKIP
    >>> rate_spark(plan, usage, BillingPeriod.month(2026, 10)).total  # doctest: +SKIP
    Money('...', 'EUR')
    """
    require("pyspark", "spark")
    partials = frame.mapInArrow(_partition_partials(plan, period), "partial binary")
    blob = partials.rdd.map(lambda row: bytes(row[0])).treeAggregate(
        None, _merge, _merge, depth=depth
    )
    return finish_blobs(
        plan,
        [] if blob is None else [blob],
        period,
        rounding=rounding,
        accounts=accounts,
        on_unpriced=on_unpriced,
    )
