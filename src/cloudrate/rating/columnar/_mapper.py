"""The per-partition function for Spark's ``mapInArrow`` and Dask's ``map_partitions``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs
import pyarrow as pa

from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan

from ._finish import partial_aggregate
from ._partials import PARTIAL_SCHEMA

__all__ = ["PARTIAL_DDL", "PartialMapper"]

#: :data:`PARTIAL_SCHEMA` as a Spark DDL string, for ``mapInArrow(f, PARTIAL_DDL)``.
PARTIAL_DDL = (
    "kind string, account string, charge string, metric string, count bigint, "
    "value decimal(38,12), exponent int, resource string, start_us bigint, end_us bigint, "
    "record_id string, reason string"
)


@attrs.frozen
class PartialMapper:
    """:func:`partial_aggregate` bound to a plan and period: picklable, for cluster workers.

    Called with an iterator of record batches (Spark ``mapInArrow``) it yields the
    partition's partial table as record batches; :meth:`frame` takes and returns a
    pandas DataFrame (Dask ``map_partitions``). Combine what the workers return with
    :func:`combine_partials` and price it once with :func:`finish`.

    >>> import pickle, cloudrate
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> mapper = pickle.loads(pickle.dumps(PartialMapper(plan, period)))
    >>> table = to_table(cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> out = list(mapper(table.to_batches(max_chunksize=100)))
    >>> out[0].schema == PARTIAL_SCHEMA
    True
    """

    plan: Plan
    period: BillingPeriod

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = partial_aggregate(self.plan, batches, self.period)
        yield from table.to_batches() or [pa.RecordBatch.from_pylist([], PARTIAL_SCHEMA)]

    def table(self, data: Any) -> pa.Table:
        """The partial table of *data* (a table, batch, frame or iterable of them)."""
        return partial_aggregate(self.plan, data, self.period)

    def frame(self, frame: Any) -> Any:
        """The partial table of a pandas *frame*, as a pandas DataFrame (Dask).

        Columns keep their Arrow types (``pandas.ArrowDtype``): decimals stay decimal128
        and integer columns with gaps are not turned into floats.
        """
        import pandas as pd  # type: ignore[import-untyped]

        return self.table(frame).to_pandas(types_mapper=pd.ArrowDtype)
