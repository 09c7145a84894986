"""Read columnar usage from CSV, JSON lines or Parquet as a stream of record batches.

Files are read in blocks, so a file larger than memory is rated with memory bounded by
the block size (plus the per-account aggregates). Quantities are never read as floats:
CSV quantities are read as text (so each keeps the decimals it was written with, as
:func:`cloudrate.read_usage` keeps them), JSON numbers as ``decimal128``, Parquet as
stored (decimal or string; a float column is refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from ..exceptions import UsageError
from ._columns import SCALE

__all__ = ["read_columnar"]

_TS = pa.timestamp("us", "UTC")
_BLOCK = 16 << 20  # bytes of CSV/JSON text per batch


def _csv(path: Path, block_size: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pcsv

    with open(path, "rb") as probe:
        header = probe.readline().decode("utf-8").strip().split(",")
    names = [h.strip().strip('"') for h in header]
    types = {"quantity": pa.string(), "start": _TS, "end": _TS}
    types.update({n: pa.string() for n in names if n not in types})
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=block_size),
        convert_options=pcsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=True,
        ),
    )
    try:
        yield from reader
    except pa.ArrowInvalid as exc:
        raise UsageError(f"{path}: {exc}; see docs/batch.md for the column layout") from None


def _jsonl(path: Path, block_size: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.json as pj

    def open_with(quantity: pa.DataType) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([("quantity", quantity), ("start", pa.string()),
                            ("end", pa.string())])
        return pj.open_json(path, read_options=pj.ReadOptions(block_size=block_size),
                            parse_options=pj.ParseOptions(explicit_schema=schema))

    try:
        first = open_with(pa.decimal128(38, SCALE))
        yield from first
    except pa.ArrowInvalid:
        try:
            yield from open_with(pa.string())
        except pa.ArrowInvalid as exc:
            raise UsageError(f"{path}: {exc}; see docs/batch.md for the column layout") from None


def _parquet(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    dictionary = [c for c in ("account", "metric") if c in names]
    yield from pq.ParquetFile(path, read_dictionary=dictionary).iter_batches(
        batch_size=batch_rows)


def read_columnar(path: str | Path, *, block_size: int = _BLOCK,
                  batch_rows: int = 1 << 20) -> Iterator[pa.RecordBatch]:
    """Stream the record batches of a usage file: ``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``.

    Pass the result to :func:`rate_table`, :func:`account_totals` or
    :func:`partial_aggregate` with a period; the file is read once, block by block.

    >>> import cloudrate
    >>> from cloudrate.batch import rate_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> streamed = rate_table(plan, read_columnar(cloudrate.sample_usage_path()), period)
    >>> streamed == cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path, block_size)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl(path, block_size)
    if suffix in (".parquet", ".pq"):
        return _parquet(path, batch_rows)
    raise UsageError(
        f"{path}: unknown usage file type {suffix!r}; use .csv, .jsonl or .parquet"
    )
