"""Rate a PySpark DataFrame with the exact batch rater: partials through ``mapInArrow``,
shuffled by account, lines built on the executors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from cloudrate.rating._unpriced import check_on_unpriced
from cloudrate.rating.columnar import PARTIAL_DDL, PARTIAL_SCHEMA, partial_aggregate

from ._groups import check_groups, dumps, loads, merge_results, rate_group
from ._partials import require

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan
    from cloudrate.rating import OnUnpriced, RatingResult

__all__ = ["rate_spark", "spark_groups"]

#: The most account groups chosen by default (one per partition up to this).
MAX_GROUPS = 32


def _partition_partials(plan: Plan, period: BillingPeriod) -> Any:
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        # One aggregation over all the partition's Arrow batches, kept as a list: copies
        # of a record are compared by reading the partition again (docs/distributed.md).
        table = partial_aggregate(plan, [b for b in batches if b.num_rows], period)
        yield from table.to_batches()

    return run


def _finishing(
    finish_group: Callable[[list[Any]], bytes], usage: tuple[Plan, BillingPeriod] | None
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """A ``mapInArrow`` function: the partition's partial rows (or, given the plan and
    period as *usage*, its usage) to one row holding ``finish_group``'s bytes."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        pa = require("pyarrow", "spark")
        found = [b for b in batches if b.num_rows]
        if not found:
            return
        if usage is None:
            partials = [pa.Table.from_batches(found).cast(PARTIAL_SCHEMA)]
        else:
            partials = [partial_aggregate(usage[0], found, usage[1])]
        blob = finish_group(partials)
        yield pa.RecordBatch.from_pydict({"result": pa.array([blob], pa.binary())})

    return run


def spark_groups(
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    finish_group: Callable[[list[Any]], bytes],
    *,
    groups: int | None = None,
    by_account: bool = False,
) -> list[bytes]:
    """What *finish_group* returns for each group of accounts, run on the executors.

    Each partition's partial rows (``mapInArrow``) are shuffled by account into *groups*
    partitions (``repartition``; by default one per input partition, at most 32), and
    *finish_group* gets a list of one group's partial tables. With *by_account* (every
    account's usage in one partition) it gets each input partition's partial, with no
    shuffle. It runs on the executors and returns bytes (for example :func:`dumps` of
    what it built). The building block of :func:`rate_spark` and of distributed billing
    runs.
    """
    require("pyspark", "spark")
    if by_account:
        rated = frame.mapInArrow(_finishing(finish_group, (plan, period)), "result binary")
    else:
        k = check_groups(
            min(frame.rdd.getNumPartitions(), MAX_GROUPS) if groups is None else groups
        )
        partials = frame.mapInArrow(_partition_partials(plan, period), PARTIAL_DDL)
        rated = partials.repartition(k, "account").mapInArrow(
            _finishing(finish_group, None), "result binary"
        )
    return [bytes(row[0]) for row in rated.collect()]


def _rater(
    plan: Plan, period: BillingPeriod, rounding: RoundingPolicy | None
) -> Callable[[list[Any]], bytes]:
    def run(partials: list[Any]) -> bytes:
        return dumps(rate_group(plan, partials, period, rounding=rounding))

    return run


def rate_spark(
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
    groups: int | None = None,
    by_account: bool = False,
) -> RatingResult:
    """Rate a Spark DataFrame of usage (the batch column layout; quantities as
    ``DecimalType`` or decimal strings) and return the same result as one process.

    Each partition's Arrow batches are reduced to exact partial rows on the executors
    (``mapInArrow``); the rows are shuffled by account into *groups* partitions, and each
    executor combines its accounts' partials and builds their lines. The driver only
    puts the bills back in account order (and bills *accounts* without usage). With
    *by_account* (every account's usage in one partition) each partition is rated
    where it is, with no shuffle.

    *rounding*, *accounts* and *on_unpriced* are those of :func:`cloudrate.rate`.
    Requires ``pip install 'cloudrate[spark]'`` and Java 17 or later.

    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> usage = spark.read.parquet("usage-2026-10/")  # doctest: +SKIP
    >>> rate_spark(plan, usage, BillingPeriod.month(2026, 10)).total  # doctest: +SKIP
    Money('...', 'EUR')
    """
    on_unpriced = check_on_unpriced(on_unpriced)
    plan.check_period(period)
    accounts = tuple(accounts)
    blobs = spark_groups(
        plan,
        frame,
        period,
        _rater(plan, period, rounding),
        groups=groups,
        by_account=by_account,
    )
    results = [loads(b) for b in blobs]
    seen = {b.account for r in results for b in r.bills}
    extra = sorted(set(accounts) - seen)
    if extra:  # accounts without usage: flat fees only, priced here
        results.append(rate_group(plan, [], period, rounding=rounding, accounts=extra))
    return merge_results(plan, period, results, rounding=rounding, on_unpriced=on_unpriced)
