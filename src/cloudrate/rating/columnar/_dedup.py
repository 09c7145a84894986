"""Copies of usage rows in the columnar engine: found by fingerprint, decided exactly.

The rule is the one :func:`cloudrate.rate` applies (:mod:`cloudrate.usage._identity`):
exact duplicates are dropped, the highest ``revision`` of a ``record_id`` is kept, two
different copies of one revision are a :class:`~cloudrate.exceptions.DuplicateUsageError`.
The engine applies it to whole columns, in up to three passes:

1. every row is aggregated while its fingerprint is kept (8 bytes a row,
   :mod:`._fingerprint`); the fingerprints are sorted once at the end. When none
   repeats, no row is a copy of another: the aggregates stand (the usual case, one pass);
2. otherwise the usage is read again and the rows whose fingerprint repeats are
   gathered with their exact values, and the rule decides, on Arrow group-bys, which to
   drop (a conflict raises here, naming both rows, before anything is priced);
3. when some row is to be dropped, the usage is aggregated again without those rows.

Passes 2 and 3 read the usage again, so input with copies must be readable again (a
table, a frame, a list of them, a file read with ``read_columnar``); a one-shot iterator
with copies is refused.

With ``compact=True`` (the billing run's line kernel), usage held in memory keeps only
the low 32 bits of each fingerprint in pass 1 (4 bytes a row). Among millions of rows
some short fingerprints repeat by chance, so a reading in between widens them: the full
fingerprints of just the rows whose short one repeats, of which those that repeat go to
pass 2 as above. The outcome is the same; the memory of pass 1 is half.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate.exceptions import CloudrateError, UsageError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.usage import conflict_error, record_from_mapping

from ._aggregate import CHUNK, Aggregator
from ._columns import FIRST_LINE, SCALE, SOURCE, Batch, FixedPointRangeError, _strings, batches
from ._fingerprint import Fingerprints
from ._per_record import can_read_again

__all__ = ["aggregate"]

#: The optional string columns, where an empty string is missing (as in :class:`Batch`).
_OPTIONAL = ("record_id", "resource_id", "service")


def aggregate(
    plan: Plan,
    data: Any,
    period: BillingPeriod,
    *,
    exponents: bool = True,
    again: Any = None,
    compact: bool = False,
    chunk: int = CHUNK,
) -> Aggregator:
    """The aggregates of *data* for *plan* and *period*, each record once; a conflict
    raises here, before anything is priced.

    *again* is the same usage in a form that can be read again, when *data* (a stream
    already started, say) cannot be. With *compact*, usage held in memory (tables and
    record batches) keeps 4 bytes of fingerprint a row instead of 8, for one more
    reading of it when some short fingerprints repeat (see :mod:`._fingerprint`).
    Batches are aggregated in slices of at most *chunk* rows.
    """
    held = _rows_held(data)
    prints = Fingerprints(compact=compact and held is not None, rows=held)
    agg = Aggregator(plan, period, exponents=exponents, fingerprints=prints, chunk=chunk)
    for part in batches(data):
        agg.add(part)
    repeated = prints.repeated()
    if not len(repeated):
        return agg
    source = again if again is not None else data
    if not can_read_again(source):
        raise UsageError(
            f"{len(repeated)} identities repeat in the usage (copies of a record, to be "
            "compared field by field), but the usage is a one-shot iterator of batches "
            "that cannot be read again; pass a table, a list of batches or a file read "
            "with read_columnar"
        )
    if prints.compact:
        repeated = _widen(agg, prints, source, repeated, chunk)
        if not len(repeated):  # short fingerprints that collide: no copies
            return agg
    candidates = _gather(agg, prints, source, repeated, chunk)
    if candidates.table.num_rows < 2:  # pragma: no cover - the same rows, read again
        return agg
    found = _resolve(candidates)
    if not len(found.drop):  # only fingerprints that collide: no copies after all
        return agg
    rated = Aggregator(plan, period, exponents=exponents, drop=found.drop, chunk=chunk)
    for part in batches(source):
        rated.add(part)
    rated.duplicates_dropped, rated.corrections = found.duplicates, found.corrections
    return rated


def _rows_held(data: Any) -> int | None:
    """How many rows *data* holds when it is held in memory as Arrow (a table, a record
    batch, a list or tuple of those), else None (a stream, a file, a frame)."""
    if isinstance(data, pa.Table | pa.RecordBatch):
        return int(data.num_rows)
    if isinstance(data, list | tuple):
        counts = [_rows_held(part) for part in data]
        if all(c is not None for c in counts):
            return sum(c for c in counts if c is not None)
    return None


def _widen(
    agg: Aggregator, prints: Fingerprints, source: Any, short: np.ndarray, chunk: int
) -> np.ndarray:
    """The full fingerprints that repeat among the rows whose compact one repeats
    (*short*), from reading *source* again."""
    wide = prints.widen(short)
    cache: dict[Any, Any] = {}
    position = 0
    for part in _slices(source, chunk):
        data = Batch(part, position, cache, False)
        wide.add(data, *agg.codes(data))
        position += part.num_rows
    return wide.repeated()


@attrs.frozen
class _Candidates:
    """The rows whose fingerprint repeats: their exact values (one column per field,
    attributes as ``attr:NAME``, plus ``_pos`` and ``_where``), and the usage they are
    from (read again for the two rows a conflict shows)."""

    table: pa.Table
    source: Any

    def row(self, position: int) -> dict[str, Any]:
        """The row at *position* (over every batch) as read."""
        offset = 0
        for part in _slices(self.source):
            if position < offset + part.num_rows:
                return dict(part.slice(position - offset, 1).to_pylist()[0])
            offset += part.num_rows
        raise AssertionError(position)  # pragma: no cover - every candidate was read before


@attrs.frozen
class _Found:
    drop: np.ndarray
    duplicates: int
    corrections: int


def _gather(
    agg: Aggregator, prints: Fingerprints, source: Any, repeated: np.ndarray, chunk: int
) -> _Candidates:
    """Read *source* again and keep the rows whose fingerprint is in *repeated* (with the
    account and metric codes of *agg*, the first reading's)."""
    tables: list[pa.Table] = []
    position = 0
    for part in _slices(source, chunk):
        data = Batch(part, position, {}, False)
        hit = np.flatnonzero(np.isin(prints.of(data, *agg.codes(data)), repeated))
        if len(hit):
            taken = part.take(pa.array(hit))
            positions = hit.astype(np.int64) + position
            tables.append(_exact(taken, positions, _places(part, hit, positions)))
        position += part.num_rows
    table = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
    return _Candidates(table, source)


def _slices(source: Any, chunk: int = CHUNK) -> Iterator[pa.RecordBatch]:
    """The batches of *source* in slices of at most *chunk* rows, each slice of a
    file's batch with the line of its own first row."""
    for part in batches(source):
        for offset in range(0, part.num_rows, chunk):
            piece = part.slice(offset, chunk)
            meta = piece.schema.metadata or {}
            if offset and FIRST_LINE in meta:
                line = str(int(meta[FIRST_LINE]) + offset).encode()
                piece = piece.replace_schema_metadata({**meta, FIRST_LINE: line})
            yield piece


def _places(part: pa.RecordBatch, rows: np.ndarray, positions: np.ndarray) -> list[str]:
    """Where each row is: ``FILE line N`` for a file's rows, else ``row N`` (from 0, over
    every batch), as the engine names a bad row."""
    meta = part.schema.metadata or {}
    if SOURCE in meta:
        source, first = meta[SOURCE].decode(), int(meta[FIRST_LINE])
        return [f"{source} line {first + int(r)}" for r in rows]
    return [f"row {int(p)}" for p in positions]


def _exact(taken: pa.RecordBatch, positions: np.ndarray, places: list[str]) -> pa.Table:
    """The exact values of *taken*: what makes two rows the same record or not."""
    data = Batch(taken, 0, {}, False)
    columns: dict[str, pa.Array] = {
        "_pos": pa.array(positions, pa.int64()),
        "_where": pa.array(places, pa.string()),
        "account": pc.take(_strings(data.account_dict), pa.array(data.account_codes)),
        "metric": pc.take(_strings(data.metric_dict), pa.array(data.metric_codes)),
        "quantity": _scaled(data.quantity),
        "start": pa.array(data.start, pa.int64()),
        "end": pa.array(data.end, pa.int64()),
    }
    for name in _OPTIONAL:
        text = data.strings(name)
        if text is None:
            text = pa.nulls(data.rows, pa.string())
        columns[name] = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if data.revision is None:
        columns["revision"] = pa.nulls(data.rows, pa.int64())
    else:
        values, valid = data.revision
        columns["revision"] = pa.array(values, pa.int64(), mask=~valid)
    for key in data.attribute_names():
        column = data.attribute(key)
        assert column is not None, "an attribute the batch names"
        columns[f"attr:{key}"] = column
    return pa.table(columns)


def _scaled(quantity: pa.Array) -> pa.Array:
    """Quantities at 12 decimals, so equal values compare equal whatever their scale."""
    try:
        return quantity.cast(pa.decimal128(38, SCALE))
    except pa.ArrowInvalid:
        raise FixedPointRangeError(
            "quantity: a value has more than 26 digits before the point, more than the "
            "columnar engine compares exactly; use cloudrate.rate() for such quantities"
        ) from None


def _resolve(candidates: _Candidates) -> _Found:
    """Decide with the rule which candidate rows to drop; raise on a conflict."""
    table = candidates.table
    content = [c for c in table.column_names if not c.startswith("_")]
    with_id = pc.is_valid(table.column("record_id"))
    keep: list[pa.Array] = []
    duplicates = corrections = 0
    plain = table.filter(pc.invert(with_id))
    if plain.num_rows:
        copies = plain.group_by(content, use_threads=False).aggregate(
            [("_pos", "min"), ("_pos", "count")]
        )
        keep.append(copies.column("_pos_min").combine_chunks())
        duplicates += plain.num_rows - copies.num_rows
    ids = table.filter(with_id)
    if ids.num_rows:
        ranked = ids.append_column("_rank", pc.fill_null(ids.column("revision"), -1))
        # one row per distinct content of each version: its first position and copies
        versions = ranked.group_by([*content, "_rank"], use_threads=False).aggregate(
            [("_pos", "min"), ("_pos", "count")]
        )
        _refuse_conflicts(versions, candidates)
        top = versions.group_by(["account", "record_id"], use_threads=False).aggregate(
            [("_rank", "max")]
        )
        joined = versions.join(top, keys=["account", "record_id"])
        best = pc.equal(joined.column("_rank"), joined.column("_rank_max"))
        winners, losers = joined.filter(best), joined.filter(pc.invert(best))
        keep.append(winners.column("_pos_min").combine_chunks())
        duplicates += int(pc.sum(winners.column("_pos_count")).as_py() or 0) - winners.num_rows
        corrections += int(pc.sum(losers.column("_pos_count")).as_py() or 0)
    kept = pa.concat_arrays(keep) if keep else pa.array([], pa.int64())
    every = table.column("_pos").combine_chunks()
    dropped = every.filter(pc.invert(pc.is_in(every, value_set=kept)))
    drop = np.sort(dropped.to_numpy(zero_copy_only=False).astype(np.int64))
    return _Found(drop, duplicates, corrections)


def _refuse_conflicts(versions: pa.Table, candidates: _Candidates) -> None:
    """Raise when one (account, record_id, revision) has two different contents: the
    conflict whose second content arrives first, with the first copy of its first
    content, the pair :func:`cloudrate.usage.dedupe` meets first reading in order."""
    keys = ["account", "record_id", "_rank"]
    counts = versions.group_by(keys, use_threads=False).aggregate([("_pos_min", "count")])
    if pc.max(counts.column("_pos_min_count")).as_py() <= 1:
        return
    clashing = counts.filter(pc.greater(counts.column("_pos_min_count"), 1))
    rows = versions.join(clashing.select(keys), keys=keys, join_type="inner")
    firsts: dict[tuple[Any, ...], list[int]] = {}
    for row in rows.select([*keys, "_pos_min"]).to_pylist():
        firsts.setdefault(tuple(row[k] for k in keys), []).append(row["_pos_min"])
    first, second = min((sorted(p)[:2] for p in firsts.values()), key=lambda pair: pair[1])
    raise conflict_error(_shown(candidates, first), _shown(candidates, second))


def _shown(candidates: _Candidates, position: int) -> tuple[str, dict[str, Any]]:
    """(where, content) of the candidate at *position*, the content as ``rate()`` reads
    the row (:meth:`cloudrate.UsageRecord.to_dict`)."""
    table = candidates.table
    index = pc.index(table.column("_pos"), position).as_py()
    where = table.column("_where")[index].as_py()
    try:
        content = record_from_mapping(candidates.row(position)).to_dict()
    except CloudrateError:  # pragma: no cover - the row was read by the same rules
        content = {k: v for k, v in table.slice(index, 1).to_pylist()[0].items() if k[0] != "_"}
    return where, content
