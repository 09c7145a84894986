"""Partial aggregates: what one partition of usage contributes, as an Arrow table.

A partial table has one row per piece of aggregate state (schema :data:`PARTIAL_SCHEMA`):

- ``account``: an account seen in the partition (it gets a bill even without charges);
- ``sum`` / ``average``: the exact sum (quantity, or quantity x seconds) of one account's
  records for one charge, as ``decimal128(38, 12)``, with the record count and the
  smallest Decimal exponent seen (so the result prints as :func:`cloudrate.rate` prints);
- ``max`` / ``latest``: the winning record's quantity (and, for latest, its times and id);
- ``unique`` / ``resources``: one row per resource (and active span) of an account;
- ``monthly``: the exact sum of one account's records for one charge in one calendar
  month (``month_hours='actual'``), the month's first instant in UTC as ``start_us``;
- ``transactions``: one row per record of a charge priced per transaction (its
  quantity, start and record id), kept as they are when partials combine;
- ``unpriced``: records of an account that no charge prices, with the reason;
- ``duplicates`` / ``corrections``: copies of records left out (see
  :func:`cloudrate.usage.dedupe`), counted; present only when not zero.

Partials of any partitioning combine (:func:`combine_partials`) into the partials of the
whole: integer sums add, maxima compare, sets unite. Nothing is rounded before
:func:`~cloudrate.rating.columnar.finish`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate._intmath import exact_mul
from cloudrate._money import EXACT
from cloudrate.rating._accumulate import Acc, latest_rank

from ._aggregate import Aggregator
from ._columns import SCALE, FixedPointRangeError
from ._values import micros

__all__ = ["PARTIAL_SCHEMA", "combine_partials", "decimal_ints", "month_key", "to_partials"]

VALUE = pa.decimal128(38, SCALE)
#: The smallest value :data:`VALUE` cannot hold, and its quantum.
_LARGEST = Decimal(10) ** (38 - SCALE)
_QUANTUM = Decimal(1).scaleb(-SCALE)

#: The schema of every partial table (fixed, so Spark's mapInArrow can declare it).
PARTIAL_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("account", pa.string()),
        ("charge", pa.string()),
        ("metric", pa.string()),
        ("count", pa.int64()),
        ("value", VALUE),
        ("exponent", pa.int32()),
        ("resource", pa.string()),
        ("start_us", pa.int64()),
        ("end_us", pa.int64()),
        ("record_id", pa.string()),
        ("reason", pa.string()),
    ]
)


def _decimals_from_ints(values: np.ndarray) -> pa.Array:
    """decimal128(38, 12) from integers in units of 10**-12 (int64 or Python ints)."""
    if values.dtype != object:
        words = np.empty((len(values), 2), dtype=np.int64)
        words[:, 0] = values
        words[:, 1] = values >> np.int64(63)
        return pa.Array.from_buffers(VALUE, len(values), [None, pa.py_buffer(words.tobytes())])
    for v in values:
        if abs(int(v)) >= 10**38:
            raise FixedPointRangeError(
                f"an aggregated quantity ({Decimal(int(v)).scaleb(-SCALE, EXACT)}) has more than "
                f"{38 - SCALE} digits before the point; rate such usage with cloudrate.rate() "
                "or in a larger unit"
            )
    return pa.array([Decimal(int(v)).scaleb(-SCALE, EXACT) for v in values], VALUE)


def decimal_ints(array: pa.Array) -> list[int]:
    """The integers (units of 10**-12) of a decimal128(38, 12) array, exactly."""
    if isinstance(array, pa.ChunkedArray):
        return [v for chunk in array.chunks for v in decimal_ints(chunk)]
    array = array.cast(VALUE) if array.type != VALUE else array
    if array.null_count:
        array = array.fill_null(Decimal(0))
    n = len(array)
    if n == 0:
        return []
    words = np.frombuffer(array.buffers()[1], dtype=np.int64, count=2 * (array.offset + n))
    words = words[2 * array.offset :].reshape(-1, 2)
    low, high = words[:, 0], words[:, 1]
    if np.array_equal(high, low >> np.int64(63)):
        return low.tolist()
    return [
        int(lo) % 2**64 + (int(hi) << 64)
        for lo, hi in zip(low.tolist(), high.tolist(), strict=True)
    ]


def month_key(year: int, month: int) -> int:
    """The ``start_us`` of a ``monthly`` row: the month's first instant in UTC (the
    month itself is the plan's; UTC only writes it down)."""
    return micros(datetime(year, month, 1, tzinfo=UTC))


def _value(d: Decimal) -> Decimal:
    """*d* as the partials hold it (12 decimals, 26 digits before the point), or
    :class:`FixedPointRangeError` (the callers that can read the usage again rate it
    with :func:`cloudrate.rate` instead)."""
    if d.copy_abs() >= _LARGEST:
        raise FixedPointRangeError(
            f"an aggregate ({d}) has more than {38 - SCALE} digits before the point; the "
            "columnar engine keeps fewer, use cloudrate.rate() for such usage"
        )
    # written with the scale of the column (the exponent column keeps how it was
    # written): Arrow refuses a value such as 0E+27 in decimal128(38, 12) as it stands
    held = d.quantize(_QUANTUM, context=EXACT)
    if held != d:
        raise FixedPointRangeError(
            f"an aggregate ({d}) needs more than {SCALE} decimals; the columnar engine keeps "
            f"{SCALE}, use cloudrate.rate() for such usage"
        )
    return held


def to_partials(agg: Aggregator) -> pa.Table:
    """The partial table of an :class:`Aggregator`'s state."""
    agg.check()
    pieces: list[pa.Table] = []
    names = pa.array(agg.account_names, pa.string())
    seen = agg.seen_accounts()
    pieces.append(_table("account", account=seen, count=[0] * len(seen)))
    factor = agg.scale_factor()
    for slot, codes, keys, group in agg.sum_groups():
        if len(codes) == 0:
            continue
        n = len(codes)
        values = exact_mul(group.values(keys), factor)
        pieces.append(
            pa.table(
                {
                    "kind": pa.array(["sum"] * n, pa.string()),
                    "account": names.take(pa.array(codes)),
                    "charge": pa.array([slot.name] * n, pa.string()),
                    "metric": pa.array([agg.plan.charges[slot.index].metric] * n, pa.string()),
                    "count": pa.array(group.counts[keys]),
                    "value": _decimals_from_ints(values),
                    "exponent": pa.array(group.exponents(keys).astype(np.int32)),
                }
            )
        )
    rows: dict[str, list[Any]] = {f.name: [] for f in PARTIAL_SCHEMA}
    aggregation_of = {s.index: s.aggregation for slots in agg.slots.values() for s in slots}
    for (account, index), acc in agg.slow.items():
        charge = agg.plan.charges[index]
        aggregation = aggregation_of[index]
        base = {
            "kind": aggregation,
            "account": account,
            "charge": charge.name,
            "metric": charge.metric,
        }
        _acc_rows(rows, base, aggregation, acc)
    for (metric, reason), accounts in sorted(agg.unpriced.counts.items()):
        for account, count in accounts.items():
            _row(rows, kind="unpriced", account=account, metric=metric, count=count, reason=reason)
    _copies(rows, agg)
    pieces.append(pa.table(rows, schema=PARTIAL_SCHEMA))
    return _concat(pieces)


def _acc_rows(rows: dict[str, list[Any]], base: dict[str, Any], aggregation: str, acc: Acc) -> None:
    """The rows of one (account, charge) aggregate kept record by record (*base* names
    it): a sum of records rounded one by one, a maximum, an average, monthly sums,
    transactions, the latest record or resources."""
    if aggregation in ("sum", "max", "average"):
        _row(
            rows,
            **base,
            count=acc.count,
            value=_value(acc.value),
            exponent=acc.value.as_tuple().exponent,
        )
    elif aggregation == "monthly":
        count = acc.count
        for (year, month), total in sorted(acc.months.items()):
            _row(
                rows,
                **base,
                count=count,
                value=_value(total),
                exponent=total.as_tuple().exponent,
                start_us=month_key(year, month),
            )
            count = 0
    elif aggregation == "transactions":
        for start, record_id, quantity in acc.transactions:
            _row(
                rows,
                **base,
                count=1,
                value=_value(quantity),
                exponent=quantity.as_tuple().exponent,
                start_us=micros(start),
                record_id=record_id,
            )
    elif aggregation == "latest":
        assert acc.latest is not None
        end, start, record_id, quantity = acc.latest
        _row(
            rows,
            **base,
            count=acc.count,
            value=_value(quantity),
            exponent=quantity.as_tuple().exponent,
            start_us=micros(start),
            end_us=micros(end),
            record_id=record_id,
        )
    else:
        count = acc.count
        for resource, spans in acc.resources.items():
            pairs: list[tuple[Any, Any]] = list(spans) or [(None, None)]
            for begin, finish in pairs:
                _row(
                    rows,
                    **base,
                    count=count,
                    resource=resource,
                    start_us=None if begin is None else micros(begin),
                    end_us=None if finish is None else micros(finish),
                )
                count = 0


def _copies(rows: dict[str, list[Any]], agg: Aggregator) -> None:
    """The ``duplicates`` and ``corrections`` rows, when not zero."""
    for kind, count in (("duplicates", agg.duplicates_dropped), ("corrections", agg.corrections)):
        if count:
            _row(rows, kind=kind, count=count)


def _row(rows: dict[str, list[Any]], **values: Any) -> None:
    for name, column in rows.items():
        column.append(values.get(name))


def _table(kind: str, **columns: list[Any]) -> pa.Table:
    n = len(next(iter(columns.values())))
    data = {
        f.name: columns.get(f.name, [kind] * n if f.name == "kind" else [None] * n)
        for f in PARTIAL_SCHEMA
    }
    return pa.table(data, schema=PARTIAL_SCHEMA)


def _concat(pieces: Iterable[pa.Table]) -> pa.Table:
    full = []
    for piece in pieces:
        missing = {
            f.name: pa.nulls(piece.num_rows, f.type)
            for f in PARTIAL_SCHEMA
            if f.name not in piece.schema.names
        }
        for name, column in missing.items():
            piece = piece.append_column(name, column)
        full.append(piece.select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA))
    return pa.concat_tables(full) if full else PARTIAL_SCHEMA.empty_table()


def combine_partials(tables: Iterable[Any]) -> pa.Table:
    """Merge partial tables (in partition order) into the partials of all their usage.

    Sums add exactly, counts add, the smallest exponent wins; maxima and latest records
    compare; resources and spans unite, keeping the first seen first; accounts unite;
    transactions are kept, every one.
    Combining is associative, so partials may be combined in any grouping.

    >>> combine_partials([]).num_rows
    0
    """
    parts = [
        t
        if isinstance(t, pa.Table)
        else pa.Table.from_batches([t])
        if isinstance(t, pa.RecordBatch)
        else pa.Table.from_pandas(t, preserve_index=False)
        for t in tables
    ]
    if not parts:
        return PARTIAL_SCHEMA.empty_table()
    whole = _concat(parts)
    kinds = whole.column("kind")
    additive = pc.is_in(kinds, pa.array(["sum", "average"]))
    pieces = []
    accounts = whole.filter(pc.equal(kinds, "account"))
    accounts = accounts.group_by("account", use_threads=False).aggregate([("count", "sum")])
    pieces.append(
        _table(
            "account", account=accounts.column("account").to_pylist(), count=[0] * accounts.num_rows
        )
    )
    pieces.append(_add_up(whole.filter(additive)))
    kept = pc.equal(kinds, "transactions")  # every record counts: nothing to merge
    pieces.append(whole.filter(kept))
    merged = pc.or_(pc.or_(additive, kept), pc.equal(kinds, "account"))
    others = whole.filter(pc.invert(merged))
    if others.num_rows:
        pieces.append(_merge_others(others))
    return _concat(pieces)


def _add_up(rows: pa.Table) -> pa.Table:
    if rows.num_rows == 0:
        return PARTIAL_SCHEMA.empty_table()
    ints = decimal_ints(rows.column("value"))
    largest = max(abs(min(ints)), abs(max(ints)))
    if largest * rows.num_rows < 10**37:
        grouped = rows.group_by(
            ["kind", "account", "charge", "metric"], use_threads=False
        ).aggregate([("count", "sum"), ("value", "sum"), ("exponent", "min")])
        return _concat(
            [
                grouped.rename_columns(
                    [n.replace("_sum", "").replace("_min", "") for n in grouped.schema.names]
                )
            ]
        )
    totals: dict[tuple[Any, ...], list[int]] = {}
    for key, value, count, exp in zip(
        zip(
            *(rows.column(n).to_pylist() for n in ("kind", "account", "charge", "metric")),
            strict=True,
        ),
        ints,
        rows.column("count").to_pylist(),
        rows.column("exponent").to_pylist(),
        strict=True,
    ):
        entry = totals.setdefault(key, [0, 0, 0])
        entry[0] += value
        entry[1] += count
        entry[2] = min(entry[2], exp)
    out: dict[str, list[Any]] = {f.name: [] for f in PARTIAL_SCHEMA}
    values = []
    for (kind, account, charge, metric), (value, count, exp) in totals.items():
        _row(
            out, kind=kind, account=account, charge=charge, metric=metric, count=count, exponent=exp
        )
        values.append(value)
    out.pop("value")
    table = pa.table({k: pa.array(v, PARTIAL_SCHEMA.field(k).type) for k, v in out.items()})
    return table.append_column("value", _decimals_from_ints(np.array(values, dtype=object)))


#: Kinds with one row per resource (and span) of an account and charge.
_PER_RESOURCE = ("unique", "resources")
#: Kinds with several rows per account and charge, the count kept on the first.
_SPLIT = (*_PER_RESOURCE, "monthly")


def _merge_others(rows: pa.Table) -> pa.Table:
    """Merge the ``max``, ``latest``, ``unique``, ``resources`` and ``unpriced`` rows."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows.to_pylist():
        key = _merge_key(row)
        old = merged.get(key)
        if old is None:
            merged[key] = dict(row)
        else:
            _merge_row(old, row)
    if any(k[0] in _SPLIT for k in merged):
        _count_on_first_rows(merged)
    return pa.Table.from_pylist(list(merged.values()), schema=PARTIAL_SCHEMA)


def _merge_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What rows of one piece of aggregate state have in common (kind first)."""
    kind = row["kind"]
    if kind == "unpriced":
        return (kind, row["account"], row["metric"], row["reason"])
    if kind in _PER_RESOURCE:
        return (
            kind,
            row["account"],
            row["charge"],
            row["resource"],
            row["start_us"],
            row["end_us"],
        )
    if kind == "monthly":
        return (kind, row["account"], row["charge"], row["start_us"])
    return (kind, row["account"], row["charge"])


def _merge_row(old: dict[str, Any], row: dict[str, Any]) -> None:
    """Merge *row* into *old*, of the same key: counts add, the larger maximum and the
    later latest record win."""
    count = old["count"] + row["count"]
    kind = row["kind"]
    if kind == "monthly":
        old["value"] = EXACT.add(old["value"], row["value"])
        old["exponent"] = min(old["exponent"], row["exponent"])
    elif (kind == "max" and row["value"] > old["value"]) or (
        kind == "latest" and _rank(row) > _rank(old)
    ):
        old.update(row)
    old["count"] = count


def _count_on_first_rows(merged: dict[tuple[Any, ...], dict[str, Any]]) -> None:
    """Keep each (account, charge)'s record count on its first per-resource row only."""
    totals: dict[tuple[Any, ...], int] = {}
    for key, row in merged.items():
        if key[0] in _SPLIT:
            group = (key[0], key[1], key[2])
            totals[group] = totals.get(group, 0) + row["count"]
            row["count"] = 0
    done: set[tuple[Any, ...]] = set()
    for key, row in merged.items():
        group = (key[0], key[1], key[2])
        if key[0] in _SPLIT and group not in done:
            row["count"] = totals[group]
            done.add(group)


def _rank(row: dict[str, Any]) -> tuple[Any, ...]:
    return latest_rank(row["end_us"], row["start_us"], row["record_id"], row["value"])
