"""Read columnar usage from CSV, JSON lines or Parquet as a stream of record batches.

Files are read in blocks, so a file larger than memory is rated with memory bounded by
the block size (plus the per-account aggregates). Quantities are never read as floats:
CSV quantities are read as text (so each keeps the decimals it was written with, as
:func:`cloudrate.read_usage` keeps them), JSON numbers as ``decimal128``, Parquet as
stored (decimal or string; a float column is refused).
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from cloudrate.exceptions import ConfigError, Problem, UsageError
from cloudrate.usage import (
    FIELD_LIMIT,
    MISSING_TEXTS,
    RepeatedKeyError,
    duplicate_key,
    empty_file,
    field_too_long,
    header_problems,
    not_utf8,
    unique_keys,
    wrong_width,
)

from ._columns import FIRST_LINE, SCALE, SOURCE

__all__ = ["ColumnarFile", "read_columnar"]

_TS = pa.timestamp("us", "UTC")
T = TypeVar("T")
# Bytes of CSV/JSON text per batch. Files are cut into blocks here, at line ends, so
# nothing is read ahead (pyarrow's streaming readers read dozens of blocks ahead).
_BLOCK = 16 << 20


def _csv(path: Path, source: Any, block_size: int) -> Iterator[pa.RecordBatch]:
    """Parse the CSV file in blocks of about *block_size* bytes, cut at line ends.

    Each block becomes one record batch (one dictionary per block for account and
    metric), parsed by one thread while the next block is parsed by another (see
    :data:`_PARSERS`); nothing is read ahead beyond the blocks being parsed, so memory
    stays bounded. A field with a line break inside quotes is not supported here: the
    block cut makes it a parse error, never a lost record.
    """
    import pyarrow.csv as pcsv

    leftover = b""
    while b"\n" not in leftover and (more := source.read(1 << 16)):
        leftover += more
    first, _, leftover = leftover.partition(b"\n")
    names = _header(path, first)
    coded = pa.dictionary(pa.int32(), pa.string())
    types = {"quantity": pa.string(), "start": _TS, "end": _TS, "account": coded, "metric": coded}
    types.update({n: pa.string() for n in names if n not in types})
    # Only an empty field is missing (as for read_usage): "NA", "null", "NaN"... stay text.
    convert = pcsv.ConvertOptions(
        column_types=types,
        null_values=list(MISSING_TEXTS),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )

    # Times Arrow's parser refuses (padded, compact...) are read as text, then by the rule
    # read_usage applies, row by row: only for the blocks that need it.
    as_text = pcsv.ConvertOptions(
        column_types={**types, "start": pa.string(), "end": pa.string()},
        null_values=list(MISSING_TEXTS),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )

    def parse(chunk: Any, offset: int) -> list[pa.RecordBatch]:
        # one batch a block (one dictionary of accounts to look up), blocks in parallel
        options = pcsv.ReadOptions(column_names=names, block_size=len(chunk) + 1, use_threads=False)
        buffer = pa.py_buffer(chunk)
        try:
            table = pcsv.read_csv(
                pa.BufferReader(buffer), read_options=options, convert_options=convert
            )
        except pa.ArrowInvalid:
            try:
                table = pcsv.read_csv(
                    pa.BufferReader(buffer), read_options=options, convert_options=as_text
                )
            except pa.ArrowInvalid as exc:
                raise _diagnosed(path, bytes(chunk), offset, names, exc) from None
        _check_lengths(path, table, offset)
        return table.to_batches()

    def located() -> Iterator[tuple[Any, int]]:
        offset = len(first) + 1
        for chunk in _blocks(source, block_size, leftover):
            yield chunk, offset
            offset += len(chunk)

    for parsed in _in_order(parse, located(), _PARSERS):
        yield from parsed


#: Blocks of a CSV or JSON lines file parsed at once, each by one thread (pyarrow
#: releases the GIL).
#: One block a thread gives each batch one dictionary of accounts to look up (Arrow's
#: own threads would split a block, and its dictionary, in two).
_PARSERS = min(2, os.cpu_count() or 1)


def _in_order(
    work: Callable[..., T], items: Iterator[tuple[Any, ...]], workers: int
) -> Iterator[T]:
    """``work(*item)`` of each item, in the items' order, at most *workers* at a time in
    threads; an error is raised at its item, after the results before it (an error
    reading the items, after every result of the items read). Stopping early waits for
    the work under way and starts no more.

    >>> list(_in_order(pow, iter([(2, 3), (3, 2), (10, 0)]), 2))
    [8, 9, 1]
    """
    if workers < 2:
        for item in items:
            yield work(*item)
        return
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="cloudrate-parse")
    pending: deque[Future[T]] = deque()
    failure: BaseException | None = None
    try:
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except BaseException as exc:  # reading the items: after the work under way
                failure = exc
                break
            pending.append(pool.submit(work, *item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        if failure is not None:
            raise failure
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def _header(path: Path, first: bytes) -> list[str]:
    """The column names of a CSV file's first line (*first*, without its line end)."""
    bad = not_utf8(first, str(path))
    if bad is not None:
        raise bad
    names = [n.strip() for n in next(csv.reader([first.decode("utf-8-sig")]), [])]
    problems = header_problems(names, str(path))
    if problems:
        raise ConfigError(problems, source=str(path))
    return names


def _line_at(path: Path, offset: int) -> int:
    """The line of the file at byte *offset* (1 for the first line); read only to report
    an error, so the files read without errors are never scanned for line ends."""
    lines, left = 1, offset
    with path.open("rb") as file:
        while left > 0 and (data := file.read(min(left, 1 << 20))):
            lines += data.count(b"\n")
            left -= len(data)
    return lines


def _diagnosed(
    path: Path, chunk: bytes, offset: int, names: list[str], exc: pa.ArrowInvalid
) -> ConfigError:
    """Why Arrow could not parse *chunk* (at byte *offset* of *path*), named by line as
    the per-record reader names it: bytes that are not UTF-8, a row with another number
    of fields than the header; else Arrow's own message."""
    first_line = _line_at(path, offset)
    bad = not_utf8(chunk, str(path), first_line)
    if bad is not None:
        return bad
    text = chunk.decode("utf-8")
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in rows:
            if row and len(row) != len(names):
                line = first_line + rows.line_num - 1
                problem = Problem(
                    f"line {line}",
                    "bad_record",
                    wrong_width(len(row), len(names)),
                    line=line,
                    source=str(path),
                )
                return ConfigError([problem], source=str(path))
    except csv.Error:
        pass
    return _unreadable(path, exc)


def _check_lengths(path: Path, table: pa.Table, offset: int) -> None:
    """Refuse a text field longer than FIELD_LIMIT characters, as read_usage does (a
    dictionary column is checked on its dictionary)."""
    row = 0
    for part in table.to_batches():
        for column in part.columns:
            at = _first_too_long(column)
            if at is not None:
                raise field_too_long(_line_at(path, offset) + row + at, str(path))
        row += part.num_rows


def _first_too_long(column: pa.Array) -> int | None:
    """The first row of *column* holding more than FIELD_LIMIT characters, or None."""
    kind = column.type
    texts = column.dictionary if pa.types.is_dictionary(kind) else column
    if not pa.types.is_string(texts.type) and not pa.types.is_large_string(texts.type):
        return None
    if texts.nbytes <= FIELD_LIMIT:  # no field can be longer than all of them together
        return None
    lengths = pc.utf8_length(texts)
    longest = pc.max(lengths).as_py()
    if longest is None or longest <= FIELD_LIMIT:
        return None
    first: int = pc.indices_nonzero(pc.greater(lengths, FIELD_LIMIT))[0].as_py()
    if pa.types.is_dictionary(kind):  # the first row using that dictionary entry
        first = pc.indices_nonzero(pc.equal(column.indices, first))[0].as_py()
    return first


def _jsonl(path: Path, source: Any, block_size: int) -> Iterator[pa.RecordBatch]:
    """Parse JSON lines in blocks cut at line ends (bounded memory, as for CSV), two
    blocks at once (:data:`_PARSERS`), batches in the file's order.

    Quantities written as JSON numbers are read as ``decimal128`` (never float), as
    strings when written as strings; a nested ``attributes`` object becomes attribute
    columns.
    """
    import pyarrow.json as pj

    # Every block is read with quantities as text first, so each keeps the digits it was
    # written with (as read_usage keeps them); a block with JSON numbers as quantities
    # fails that at its first number (0.2 ms for 16 MB written with numbers) and is read
    # with decimal128 ones. So a block's batch depends on that block alone, whichever
    # thread parses it and whenever.
    text, numbers = pa.string(), pa.decimal128(38, SCALE)

    def parse_as(chunk: Any, quantity: pa.DataType) -> pa.Table:
        schema = pa.schema([("quantity", quantity), ("start", pa.string()), ("end", pa.string())])
        options = pj.ReadOptions(block_size=len(chunk) + 1, use_threads=False)
        return pj.read_json(
            pa.BufferReader(pa.py_buffer(chunk)),
            read_options=options,
            parse_options=pj.ParseOptions(explicit_schema=schema),
        )

    def parse(chunk: Any, offset: int) -> list[pa.RecordBatch]:
        raw = bytes(chunk)
        if not_utf8(raw, str(path)) is not None:  # Arrow's JSON reader does not check it
            # named by its line, counted from the file's start only now (counting at every
            # block read the file again up to it: quadratic in the file's size)
            bad = not_utf8(raw, str(path), _line_at(path, offset))
            assert bad is not None
            raise bad
        try:
            try:
                table = parse_as(chunk, text)
            except pa.ArrowInvalid:
                table = parse_as(chunk, numbers)
        except pa.ArrowInvalid as exc:
            raise _json_error(path, raw, exc, offset) from None
        if "attributes" in table.column_names and pa.types.is_struct(
            table.schema.field("attributes").type
        ):
            table = table.flatten()
        return table.to_batches()

    def located() -> Iterator[tuple[Any, int]]:
        offset = 0
        for chunk in _blocks(source, block_size, b""):
            yield chunk, offset
            offset += len(chunk)

    for parsed in _in_order(parse, located(), _PARSERS):
        yield from parsed


def _json_error(path: Path, chunk: bytes, exc: pa.ArrowInvalid, offset: int) -> ConfigError:
    """Why Arrow could not read *chunk* (at byte *offset*), found line by line as the
    per-record reader finds it: a line that is not JSON, a key given twice."""
    line = _line_at(path, offset)
    for text in chunk.decode("utf-8").split("\n"):
        if text.strip():
            try:
                json.loads(text, object_pairs_hook=unique_keys)
            except json.JSONDecodeError as bad:
                problem = Problem(f"line {line}", "bad_json", bad.msg, line=line, source=str(path))
                return ConfigError([problem], source=str(path))
            except RepeatedKeyError as repeated:
                return ConfigError([duplicate_key(repeated.key, line, str(path))], str(path))
        line += 1
    return _unreadable(path, exc)


def _unreadable(path: Path, exc: pa.ArrowInvalid) -> ConfigError:
    """A block the reader could not parse at all, reported as read_usage reports a bad file."""
    problem = Problem(
        "file", "bad_record", f"{exc}; see docs/batch.md for the column layout", source=str(path)
    )
    return ConfigError([problem], source=str(path))


def _blocks(source: Any, block_size: int, leftover: bytes) -> Iterator[Any]:
    """The bytes of *source* in blocks of about *block_size*, each ending at a line end."""
    while data := source.read(block_size):
        data = leftover + data
        cut = data.rfind(b"\n")
        if cut < 0:
            leftover = data
            continue
        leftover = data[cut + 1 :]
        yield memoryview(data)[: cut + 1]
    if leftover.strip():
        yield leftover


def _parquet(path: Path, source: Any, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The file's rows in batches of *batch_rows*, one column chunk read at a time:
    Arrow's pre-buffering and its threads read whole row groups ahead, which held 27
    bytes a record of a 10-row-group file at once (13 this way), the run no faster."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    dictionary = [c for c in ("account", "metric") if c in names]
    yield from pq.ParquetFile(source, read_dictionary=dictionary, pre_buffer=False).iter_batches(
        batch_size=batch_rows, use_threads=False
    )


class _ParquetProgress:
    """Bytes of a Parquet file read once its first *rows* rows are: the row groups up to
    them, by their column chunks' compressed sizes, and the share of the group they end
    in; the whole file (footer included) once every row is. (The reader reads at
    offsets, so the file's position says nothing.)

    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "u.parquet"
    >>> pq.write_table(pa.table({"x": list(range(100))}), path, row_group_size=50)
    >>> progress, size = _ParquetProgress(path), path.stat().st_size
    >>> 0 < progress(25, size) < progress(50, size) < progress(75, size) < size
    True
    >>> progress(100, size) == size
    True
    """

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        metadata = pq.read_metadata(path)
        self._rows, self._ends = [0], [4]  # the file starts with the 4 bytes "PAR1"
        for i in range(metadata.num_row_groups):
            group = metadata.row_group(i)
            chunks = sum(group.column(j).total_compressed_size for j in range(group.num_columns))
            self._rows.append(self._rows[-1] + group.num_rows)
            self._ends.append(self._ends[-1] + chunks)

    def __call__(self, rows: int, total: int) -> int:
        if rows >= self._rows[-1]:
            return total
        k = bisect.bisect_right(self._rows, rows)  # rows end inside group k - 1
        first, last = self._rows[k - 1], self._rows[k]
        start, end = self._ends[k - 1], self._ends[k]
        return min(total, start + (end - start) * (rows - first) // (last - first))


class ColumnarFile:
    """A usage file read as record batches, block by block, each time it is iterated.

    Batches carry the file and the line of their first row (schema metadata), so a bad
    row is reported with its line as :func:`cloudrate.read_usage` reports it; and usage
    the columnar engine cannot hold exactly is rated from the same file by
    :func:`cloudrate.rate` instead (:attr:`path`).
    """

    def __init__(
        self,
        path: Path,
        reader: Callable[..., Iterator[pa.RecordBatch]],
        size: int,
        on_progress: Callable[[int, int], object] | None,
        prefetch: bool,
    ) -> None:
        self.path = path
        self._reader, self._size = reader, size
        self._on_progress, self._prefetch = on_progress, prefetch
        self._current: Iterator[pa.RecordBatch] | None = None
        #: The rows read by the latest pass over the file (so far, while it runs).
        self.rows = 0

    @property
    def kind(self) -> str:
        """``csv``, ``jsonl`` or ``parquet``."""
        return _KINDS[self._reader]

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """A new pass over the file, from its first block."""
        stream = _stream(self.path, self._reader, self._size, self._on_progress)
        return self._counted(_prefetch(stream) if self._prefetch else stream)

    def _counted(self, stream: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        self.rows = 0
        try:
            for batch in stream:
                self.rows += batch.num_rows
                yield batch
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def __next__(self) -> pa.RecordBatch:
        """The next batch of one pass kept open by the file (``next(read_columnar(p))``)."""
        if self._current is None:
            self._current = iter(self)
        return next(self._current)

    def close(self) -> None:
        """End the pass :meth:`__next__` keeps open (and its background reader)."""
        current, self._current = self._current, None
        if current is not None and hasattr(current, "close"):
            current.close()


def read_columnar(
    path: str | Path,
    *,
    block_size: int = _BLOCK,
    batch_rows: int = 1 << 20,
    on_progress: Callable[[int, int], object] | None = None,
    prefetch: bool = True,
) -> ColumnarFile:
    """The record batches of a usage file: ``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``.

    Pass the result to :func:`rate_table`, :func:`account_totals` or
    :func:`partial_aggregate`; the file is read block by block as it is rated. *on_progress*,
    if given, is called after each batch with the bytes read so far and the file's size
    (for Parquet, the bytes of the row groups up to the batch's last row).
    With *prefetch* the next batch is read in a background thread while one is rated.

    >>> import cloudrate
    >>> from cloudrate.rating.columnar import rate_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> streamed = rate_table(plan, read_columnar(cloudrate.sample_usage_path()), period)
    >>> streamed == cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise UsageError(
            f"{path}: unknown usage file type {suffix!r}; use .csv, .jsonl or .parquet"
        )
    size = batch_rows if reader is _parquet else block_size
    return ColumnarFile(path, reader, size, on_progress, prefetch)


_READERS: dict[str, Callable[..., Iterator[pa.RecordBatch]]] = {
    ".csv": _csv,
    ".jsonl": _jsonl,
    ".ndjson": _jsonl,
    ".json": _jsonl,
    ".parquet": _parquet,
    ".pq": _parquet,
}
_KINDS = {_csv: "csv", _jsonl: "jsonl", _parquet: "parquet"}


def _prefetch(source: Iterator[pa.RecordBatch], depth: int = 1) -> Iterator[pa.RecordBatch]:
    """Read *source* in a background thread, at most *depth* batches ahead.

    pyarrow parses without holding the GIL, so the next block is read while this one is
    aggregated. Errors are raised here, in the consumer; stopping early stops the reader.
    """
    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(
        target=_read_ahead, args=(source, items, stop), name="cloudrate-read", daemon=True
    )
    thread.start()
    try:
        while True:
            kind, item = items.get()
            if kind == "batch":
                yield item
            elif kind == "end":
                return
            else:
                raise item
    finally:
        stop.set()
        thread.join()


def _read_ahead(
    source: Iterator[pa.RecordBatch], items: queue.Queue[tuple[str, Any]], stop: threading.Event
) -> None:
    """Put ``("batch", batch)`` on *items* for each batch of *source*, then ``("end",
    None)``, or ``("error", exc)`` for what it raised; give up when *stop* is set."""
    try:
        for batch in source:
            if not _put(items, ("batch", batch), stop):
                return
        _put(items, ("end", None), stop)
    except BaseException as exc:  # handed to the consumer, raised there
        _put(items, ("error", exc), stop)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # a reader stopped early ends its parsing threads here


def _put(items: queue.Queue[tuple[str, Any]], item: tuple[str, Any], stop: threading.Event) -> bool:
    """Put *item* on *items*, waiting while it is full; False if *stop* is set first."""
    while not stop.is_set():
        try:
            items.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _stream(
    path: Path,
    reader: Callable[..., Iterator[pa.RecordBatch]],
    size: int,
    on_progress: Callable[[int, int], object] | None,
) -> Iterator[pa.RecordBatch]:
    total = path.stat().st_size
    if total == 0:
        raise empty_file(str(path))
    # rows count lines in text files (the header is line 1 of a CSV file); in Parquet
    # files they are rows, reported as rows
    line = 2 if reader is _csv else 1
    text = reader is not _parquet
    progress = _ParquetProgress(path) if on_progress is not None and not text else None
    rows = 0
    # a native Arrow file: read without the GIL and without Python buffers
    with pa.OSFile(str(path), "rb") as source:
        for batch in reader(path, source, size):
            if text:
                meta = {SOURCE: str(path).encode(), FIRST_LINE: str(line).encode()}
                batch = batch.replace_schema_metadata(meta)
                line += batch.num_rows
            yield batch
            if on_progress is not None:
                rows += batch.num_rows
                done = min(source.tell(), total) if progress is None else progress(rows, total)
                on_progress(done, total)
