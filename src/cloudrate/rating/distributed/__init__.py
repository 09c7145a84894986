"""Rate usage on a cluster: Dask and Spark run the exact batch rater per partition.

Partitions produce exact integer partial sums; partials combine exactly before one final
rounding, so every partitioning gives the totals of :func:`cloudrate.rate` in one process.
Dask, Spark and pandas are imported only when a runner needs them.

>>> from cloudrate.rating.distributed import rate_dask, rate_spark
>>> rate_dask.__name__, rate_spark.__name__
('rate_dask', 'rate_spark')
"""

from ._dask import rate_dask
from ._partials import combine_blobs, finish_blobs, from_ipc, partial_blob, rate_partitions, to_ipc
from ._spark import rate_spark

__all__ = [
    "combine_blobs",
    "finish_blobs",
    "from_ipc",
    "partial_blob",
    "rate_dask",
    "rate_partitions",
    "rate_spark",
    "to_ipc",
]
