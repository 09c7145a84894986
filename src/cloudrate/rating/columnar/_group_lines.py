"""The line kernel on a group of accounts' partials, and lines moved between processes.

A distributed run aggregates partitions into partials (:mod:`._partials`), cuts them
into groups of accounts and combines each group on a worker. :func:`lines_of_partials`
turns a group's combined partials back into the aggregator state they were written
from and builds the group's :class:`~._lines.LineColumns` with the kernel itself
(:meth:`LineColumns.build`), so the lines are those one process builds for the same
accounts. :func:`lines_to_ipc` / :func:`lines_from_ipc` carry them to the driver as
Arrow IPC bytes (arrays, no objects), and :func:`join_lines` puts the groups' bills
together in account order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate._intmath import LIMIT, exact_mul, to_int64_or_object
from cloudrate._money import RoundingPolicy
from cloudrate.exceptions import OptionError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan

from ._aggregate import Aggregator
from ._columns import SCALE
from ._exact import GroupSum
from ._fast import _vectorisable
from ._lines import _TYPES, LineColumns
from ._partials import combine_partials, decimal_ints

__all__ = ["join_lines", "lines_from_ipc", "lines_of_partials", "lines_to_ipc"]

#: The partial rows the kernel reads (``unpriced`` rows are settled apart by the caller).
_READ = frozenset({"account", "sum", "unpriced", "duplicates", "corrections"})


def lines_of_partials(
    plan: Plan,
    partials: Any,
    period: BillingPeriod,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
) -> LineColumns | None:
    """The :class:`LineColumns` of the accounts of *partials* (a partial table, or an
    iterable of them, combined first) and of *accounts* (billed without usage): the
    lines :func:`~cloudrate.rating.columnar.lines.rate_lines` builds from those
    accounts' usage. None when the kernel does not cover the plan, the policy or the
    partials (other aggregations than sums): price them with ``finish`` instead.
    Unpriced usage is not reported here (the partials' ``unpriced`` rows)."""
    policy = rounding or plan.rounding
    if not _vectorisable(plan) or policy.placement != "line":
        return None
    table = partials if isinstance(partials, pa.Table) else combine_partials(partials)
    kinds = table.column("kind")
    if not set(pc.unique(kinds).to_pylist()) <= _READ:
        return None
    agg = _aggregator(plan, period, table, kinds)
    if agg is None:
        return None
    return LineColumns.build(agg, accounts, policy)


def _aggregator(
    plan: Plan, period: BillingPeriod, table: pa.Table, kinds: Any
) -> Aggregator | None:
    """An :class:`Aggregator` holding the state *table* was written from (see
    :func:`~._partials.to_partials`): the accounts, the sums with their counts and
    exponents, the copies left out; None if a sum does not fit the kernel's scale."""
    agg = Aggregator(plan, period)
    names = table.filter(pc.equal(kinds, "account")).column("account").to_pylist()
    agg.account_names = names
    agg._account_code = None  # built from the names on first use
    agg.seen = np.ones(len(names), dtype=bool)
    for kind, field in (("duplicates", "duplicates_dropped"), ("corrections", "corrections")):
        counts = table.filter(pc.equal(kinds, kind)).column("count")
        setattr(agg, field, int(pc.sum(counts).as_py() or 0))
    sums = table.filter(pc.equal(kinds, "sum"))
    if sums.num_rows == 0:
        return agg
    exps = sums.column("exponent").to_numpy(zero_copy_only=False).astype(np.int64)
    # the smallest scale that holds every sum exactly, as an aggregator widens to it
    scale = min(SCALE, max(agg.scale, -int(exps.min())))
    values = _at_scale(decimal_ints(sums.column("value")), scale)
    if values is None:
        return None
    agg.scale = scale
    code = _codes(sums.column("account"), names)
    charge = _codes(sums.column("charge"), [c.name for c in plan.charges])
    if code is None or charge is None:  # finish() says what is wrong
        return None
    counts = sums.column("count").to_numpy(zero_copy_only=False).astype(np.int64)
    for slots in agg.slots.values():
        for slot in slots:
            if not slot.adds_raw:
                continue
            rows = np.flatnonzero(charge == slot.index)
            group, keys = agg.slot_sums(slot, code[rows])  # where the aggregator keeps them
            _fill(group, keys, values[rows], counts[rows], exps[rows])
    return agg


def _codes(column: Any, names: list[str]) -> np.ndarray | None:
    """The index in *names* of each value of *column*; None if one is not there."""
    found = pc.index_in(column, value_set=pa.array(names, pa.string()))
    if found.null_count:
        return None
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def _at_scale(values: list[int], scale: int) -> np.ndarray | None:
    """Integers at :data:`SCALE` places as integers at *scale* (int64 where they fit),
    or None if one has more places."""
    factor = 10 ** (SCALE - scale)
    try:
        ints = np.array(values, dtype=np.int64)
    except OverflowError:
        ints = np.array(values, dtype=object)
    if bool((ints % factor != 0).any()):
        return None
    ints = ints // factor
    return to_int64_or_object(ints) if ints.dtype == object else ints


def _fill(
    group: GroupSum, keys: np.ndarray, values: np.ndarray, counts: np.ndarray, exps: np.ndarray
) -> None:
    """Set *group*'s sums, counts and smallest exponents at *keys*."""
    group._spread()  # exponents by key
    group.counts[keys] = counts
    group.exps[keys] = exps
    if values.dtype != object:
        group.sums[keys] = values
        return
    for key, value in zip(keys.tolist(), values.tolist(), strict=True):
        if abs(value) <= LIMIT:
            group.sums[key] = value
        else:
            group.big[key] = value


# --- between processes ------------------------------------------------------------------


def lines_to_ipc(lines: LineColumns) -> bytes:
    """*lines* as bytes for another process: its columns and accounts as Arrow IPC."""
    columns = {}
    wide = []
    for name in _SHIPPED:
        values = getattr(lines, _ATTRIBUTE[name])
        if values.dtype == object:  # integers beyond int64, as their decimal text
            columns[name] = pa.array([str(int(v)) for v in values], pa.string())
            wide.append(name)
        else:
            columns[name] = pa.array(values)
    meta = {
        "scale": str(lines.scale),
        "duplicates_dropped": str(lines.duplicates_dropped),
        "corrections": str(lines.corrections),
        "wide": ",".join(wide),
    }
    table = pa.table(columns).replace_schema_metadata(meta)
    names = pa.table({"account": pa.array(lines.accounts, pa.string())})
    return _pack([_ipc(table), _ipc(names)])


#: The columns shipped between processes and joined: the line columns and each line's
#: bill (which :class:`LineColumns` keeps as where each bill starts).
_SHIPPED: dict[str, Any] = {"bill": np.int32, **_TYPES}

#: The attribute of :class:`LineColumns` that holds each column.
_ATTRIBUTE = {
    "bill": "bill_of",
    "charge": "charge",
    "used": "used",
    "used_exp": "used_exp",
    "records": "records",
    "rounded": "rounded",
}


def lines_from_ipc(
    plan: Plan, period: BillingPeriod, policy: RoundingPolicy, data: bytes
) -> LineColumns:
    """The :class:`LineColumns` :func:`lines_to_ipc` wrote (for *plan*, *period* and
    *policy*, those it was built with)."""
    table_bytes, names_bytes = _unpack(data)
    table = _read(table_bytes)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    wide = set(filter(None, meta["wide"].split(",")))
    columns = {}
    for name, dtype in _SHIPPED.items():
        column = table.column(name)
        if name in wide:
            columns[name] = to_int64_or_object(
                np.array([int(v) for v in column.to_pylist()], dtype=object)
            )
        else:
            columns[name] = column.to_numpy().astype(dtype, copy=False)
    agg = Aggregator(plan, period)
    agg.scale = int(meta["scale"])
    agg.duplicates_dropped = int(meta["duplicates_dropped"])
    agg.corrections = int(meta["corrections"])
    names = _read(names_bytes).column("account").to_pylist()
    return LineColumns(agg, policy, names, columns)


def join_lines(parts: Sequence[LineColumns]) -> tuple[LineColumns, np.ndarray]:
    """The bills of all *parts* (of one plan, period and policy, each with its own
    accounts) as one :class:`LineColumns` in account order, and where each part's bills
    went: bill ``j`` of part ``p`` is bill ``rank[offset + j]``, *offset* the bills of
    the parts before it."""
    if not parts:
        raise OptionError(
            "parts: at least one LineColumns to join (got none); pass the lines of every "
            "group, an empty group's too",
            path="parts",
            value=[],
        )
    first = parts[0]
    scale = max(p.scale for p in parts)
    names = [name for p in parts for name in p.accounts]
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(names), dtype=np.int64)
    pieces: dict[str, list[np.ndarray]] = {name: [] for name in _SHIPPED}
    offset = 0
    for p in parts:
        pieces["bill"].append(rank[p.bill_of.astype(np.int64) + offset])
        pieces["used"].append(exact_mul(p.used, 10 ** (scale - p.scale)))
        for name in ("charge", "used_exp", "records", "rounded"):
            pieces[name].append(getattr(p, _ATTRIBUTE[name]))
        offset += len(p.accounts)
    columns: dict[str, np.ndarray] = {}
    for name, dtype in _SHIPPED.items():
        arrays = pieces[name]
        if any(a.dtype == object for a in arrays):
            columns[name] = np.concatenate([a.astype(object) for a in arrays])
        else:
            columns[name] = np.concatenate([a.astype(dtype, copy=False) for a in arrays])
    at = np.lexsort((columns["charge"], columns["bill"]))
    for name in list(columns):
        columns[name] = columns[name][at]
    agg = Aggregator(first.plan, first.period)
    agg.scale = scale
    agg.duplicates_dropped = sum(p.duplicates_dropped for p in parts)
    agg.corrections = sum(p.corrections for p in parts)
    return LineColumns(agg, first.policy, [names[i] for i in order], columns), rank


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _read(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _pack(blobs: Sequence[bytes]) -> bytes:
    """*blobs* in one, each after its length."""
    return b"".join(struct.pack("<Q", len(b)) + b for b in blobs)


def _unpack(data: bytes) -> list[bytes]:
    out, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from("<Q", data, at)
        out.append(data[at + 8 : at + 8 + size])
        at += 8 + size
    return out
