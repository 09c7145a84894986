"""Partials: the exact integer sums of one partition, moved between processes as Arrow IPC.

Every engine runs the same three steps of :mod:`cloudrate.rating.columnar`: each partition
is reduced to exact partial sums (:func:`cloudrate.rating.columnar.partial_aggregate`),
partials are combined (:func:`cloudrate.rating.columnar.combine_partials`, associative and
exact, so the order and grouping of partitions do not matter), and the combined partial is
rated and rounded once (:func:`cloudrate.rating.columnar.finish`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import MissingExtraError
from cloudrate.rating.columnar import PARTIAL_SCHEMA, combine_partials, finish, partial_aggregate

from ._groups import check_groups, grouped_accounts, merge_results, rate_group, split_partial

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan
    from cloudrate.rating import OnUnpriced, RatingResult

__all__ = [
    "combine_blobs",
    "finish_blobs",
    "from_ipc",
    "partial_blob",
    "rate_partitions",
    "require",
    "split_blob",
    "to_ipc",
]


def require(name: str, extra: str) -> ModuleType:
    """Import *name* or say which extra of cloudrate installs it.

    >>> require("json", "dask").__name__
    'json'
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtraError("cloudrate.rating.distributed", name.split(".")[0], extra) from exc


def to_ipc(table: pa.Table) -> bytes:
    """*table* as Arrow IPC stream bytes (exact: decimals and big integers kept)."""
    pa = require("pyarrow", "batch")
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def from_ipc(data: bytes) -> pa.Table:
    """The table written by :func:`to_ipc`."""
    pa = require("pyarrow", "batch")
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def partial_blob(plan: Plan, data: Any, period: BillingPeriod) -> bytes:
    """The exact partial of one partition (table, batch or frame), as IPC bytes."""
    return to_ipc(partial_aggregate(plan, data, period))


def combine_blobs(blobs: Iterable[bytes]) -> bytes:
    """Combine partials given as IPC bytes into one (exact, order-independent)."""
    return to_ipc(combine_partials([from_ipc(b) for b in blobs]))


def split_blob(blob: bytes, groups: int) -> list[bytes]:
    """The partial *blob* cut into *groups* partials by account (see
    :func:`~cloudrate.rating.distributed.group_of`), as IPC bytes."""
    return [to_ipc(part) for part in split_partial(from_ipc(blob), groups)]


def finish_blobs(
    plan: Plan,
    blobs: Iterable[bytes],
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
) -> RatingResult:
    """Rate and round the combined partials once; the options are those of
    :func:`cloudrate.rate`."""
    combined = combine_partials([from_ipc(b) for b in blobs])
    return finish(
        plan, combined, period, rounding=rounding, accounts=accounts, on_unpriced=on_unpriced
    )


def rate_partitions(
    plan: Plan,
    partitions: Iterable[Any],
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
    groups: int | None = None,
    by_account: bool = False,
) -> RatingResult:
    """Rate *partitions* (tables, batches or frames) one by one in this process, exactly
    as the Dask and Spark runners do across processes: the same result as rating all the
    usage at once, however it is split. The options are those of :func:`cloudrate.rate`.

    With *groups*, every partition's partial is split into that many account groups and
    each group is finished apart, as the runners build lines on their workers; with
    *by_account* (every account's usage in one partition), each partition is finished
    on its own. Either way the result is the same.

    >>> import cloudrate
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> table = to_table(usage)
    >>> parts = [table.slice(0, 250), table.slice(250)]
    >>> rate_partitions(plan, parts, period).total == cloudrate.rate(plan, usage, period).total
    True
    >>> rate_partitions(plan, parts, period, groups=3) == cloudrate.rate(plan, usage, period)
    True
    """
    plan.check_period(period)
    accounts = tuple(accounts)
    partials = [partial_aggregate(plan, part, period) for part in partitions]
    if by_account:
        results = [rate_group(plan, [p], period, rounding=rounding) for p in partials]
        seen = {b.account for r in results for b in r.bills}
        extra = sorted(set(accounts) - seen)
        results.append(
            rate_group(
                plan, [PARTIAL_SCHEMA.empty_table()], period, rounding=rounding, accounts=extra
            )
        )
        return merge_results(plan, period, results, rounding=rounding, on_unpriced=on_unpriced)
    if groups is not None:
        k = check_groups(groups)
        cut = [split_partial(p, k) for p in partials]
        extras = grouped_accounts(accounts, k)
        results = [
            rate_group(
                plan,
                [parts[g] for parts in cut],
                period,
                rounding=rounding,
                accounts=extras[g],
            )
            for g in range(k)
        ]
        return merge_results(plan, period, results, rounding=rounding, on_unpriced=on_unpriced)
    combined = combine_partials(partials)
    return finish(
        plan, combined, period, rounding=rounding, accounts=accounts, on_unpriced=on_unpriced
    )
