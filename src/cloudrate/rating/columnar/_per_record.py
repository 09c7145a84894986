"""Usage beyond the columnar engine's fixed point, rated by the per-record engine instead.

The columnar engine holds quantities in 128-bit fixed point: 12 decimals, 26 digits
before the point. Usage outside that range (a quantity such as ``1E-13``, an aggregate of
10**26 units) is still exact for :func:`cloudrate.rate`, so :func:`rate_table` and
:func:`account_totals` rate such input again, record by record, with the same
semantics, more slowly. Only input that can be read again can be rated again: a table,
a frame, a list of them or a :class:`~cloudrate.rating.columnar.ColumnarFile`; a
one-shot iterator of batches raises :class:`FixedPointRangeError` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from cloudrate.usage import UsageRecord, read_usage_csv, read_usage_jsonl, record_from_mapping

from ._columns import batches
from ._io import ColumnarFile

__all__ = ["Replay", "can_read_again", "records_of"]


class Replay:
    """Usage whose reading has begun (*started*, a one-shot stream) and that can be read
    again from *source*: the first pass goes on with *started*, every later pass reads
    *source* from the start."""

    def __init__(self, started: Iterator[Any], source: Any) -> None:
        self._started: Iterator[Any] | None = started
        self.source = source

    def __iter__(self) -> Iterator[Any]:
        started, self._started = self._started, None
        return started if started is not None else batches(self.source)


def can_read_again(data: Any) -> bool:
    """Whether *data* can be iterated a second time (not a one-shot iterator)."""
    if isinstance(data, Replay):
        return can_read_again(data.source)
    if isinstance(data, ColumnarFile | pa.Table | pa.RecordBatch) or hasattr(data, "columns"):
        return True
    if isinstance(data, Iterator | pa.RecordBatchReader):
        return False
    return isinstance(data, Iterable) and all(can_read_again(part) for part in data)


def records_of(data: Any) -> list[UsageRecord]:
    """The usage records of columnar *data*, read as :func:`cloudrate.read_usage` reads
    rows: a CSV or JSON lines file by its own reader, every other row through
    :func:`cloudrate.usage.record_from_mapping`."""
    if isinstance(data, Replay):
        return records_of(data.source)
    if isinstance(data, ColumnarFile) and data.kind == "csv":
        return read_usage_csv(data.path)
    if isinstance(data, ColumnarFile) and data.kind == "jsonl":
        return read_usage_jsonl(data.path)
    return [record_from_mapping(row) for batch in batches(data) for row in batch.to_pylist()]
