"""Rate usage on a cluster: Dask and Spark run the exact batch rater where the data is.

Partitions produce exact integer partial sums; partials are cut into groups by account
and each group is combined and rated on a worker, so every partitioning gives the result
of :func:`cloudrate.rate` in one process and the driver only puts bills in account
order. Dask, Spark and pandas are imported only when a runner needs them.

>>> from cloudrate.rating.distributed import rate_dask, rate_spark
>>> rate_dask.__name__, rate_spark.__name__
('rate_dask', 'rate_spark')
"""

from ._dask import dask_compute, dask_groups, group_count, rate_dask
from ._groups import (
    check_disjoint,
    dumps,
    group_of,
    grouped_accounts,
    loads,
    merge_results,
    paused_gc,
    rate_group,
    split_partial,
)
from ._partials import (
    combine_blobs,
    finish_blobs,
    from_ipc,
    partial_blob,
    rate_partitions,
    split_blob,
    to_ipc,
)
from ._spark import rate_spark, spark_groups

__all__ = [
    "check_disjoint",
    "combine_blobs",
    "dask_compute",
    "dask_groups",
    "dumps",
    "finish_blobs",
    "from_ipc",
    "group_count",
    "group_of",
    "grouped_accounts",
    "loads",
    "merge_results",
    "partial_blob",
    "paused_gc",
    "rate_dask",
    "rate_group",
    "rate_partitions",
    "rate_spark",
    "spark_groups",
    "split_blob",
    "split_partial",
    "to_ipc",
]
