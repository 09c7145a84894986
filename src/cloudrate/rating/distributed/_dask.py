"""Rate a :mod:`dask.dataframe` on a Dask cluster: partials, groups and lines on the workers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import OptionError
from cloudrate.rating._unpriced import check_on_unpriced
from cloudrate.rating.columnar import partial_aggregate

from ._groups import (
    check_groups,
    dumps,
    grouped_accounts,
    loads,
    merge_results,
    rate_group,
    split_partial,
)
from ._partials import combine_blobs, from_ipc, partial_blob, require, to_ipc

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan
    from cloudrate.rating import OnUnpriced, RatingResult

__all__ = ["dask_compute", "dask_groups", "group_count", "rate_dask"]

#: The most account groups chosen by default.
MAX_GROUPS = 32


def _split(frame: Any, plan: Plan, period: BillingPeriod, groups: int) -> tuple[bytes, ...]:
    """One partition (a pandas frame) to its partial, cut into *groups* IPC blobs."""
    pa = require("pyarrow", "dask")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return tuple(to_ipc(p) for p in split_partial(partial_aggregate(plan, table, period), groups))


def _combine(*blobs: bytes) -> bytes:
    return combine_blobs(blobs)


def _rate_group(
    plan: Plan,
    period: BillingPeriod,
    rounding: RoundingPolicy | None,
    accounts: Sequence[str],
    *blobs: bytes,
) -> RatingResult:
    return rate_group(
        plan, [from_ipc(b) for b in blobs], period, rounding=rounding, accounts=accounts
    )


def _partial(frame: Any, plan: Plan, period: BillingPeriod) -> bytes:
    pa = require("pyarrow", "dask")
    return partial_blob(plan, pa.Table.from_pandas(frame, preserve_index=False), period)


def dask_groups(
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    finish_group: Callable[..., Any],
    extra: Sequence[Sequence[Any]],
    *,
    groups: int | None = None,
    fan_in: int = 8,
    by_account: bool = False,
    client: Any = None,
) -> list[Any]:
    """Dask tasks (delayed), one per account group: each partition's partial is cut into
    *groups* (by default :func:`group_count`'s), each group's pieces combined in
    a tree of *fan_in*, and ``finish_group(*extra[g], *pieces)`` run on a worker, the
    pieces as Arrow IPC bytes.

    With *by_account* (every account's usage in one partition) there is no shuffle: one
    task per partition, ``finish_group(*extra[0], partial)``. The building block of
    :func:`rate_dask` and of distributed billing runs; compute the tasks with
    :func:`dask_compute` (on *client*, which also sets the default *groups*).
    """
    if fan_in < 2:
        raise OptionError(f"fan_in must be at least 2 (got {fan_in})", path="fan_in")
    dask = require("dask", "dask")
    # not pure: the keys need no token of the plan or the customers
    finish = dask.delayed(finish_group, pure=False)
    if by_account:
        partial = dask.delayed(_partial, pure=False)
        return [finish(*extra[0], partial(part, plan, period)) for part in frame.to_delayed()]
    k = group_count(frame, groups, client)
    split = dask.delayed(_split, nout=k, pure=False)
    cuts = [split(part, plan, period, k) for part in frame.to_delayed()]
    combine = dask.delayed(_combine, pure=True)
    tasks = []
    for g in range(k):
        pieces = [cut[g] for cut in cuts]
        while len(pieces) > fan_in:
            pieces = [combine(*pieces[i : i + fan_in]) for i in range(0, len(pieces), fan_in)]
        tasks.append(finish(*extra[g], *pieces))
    return tasks


def group_count(frame: Any, groups: int | None, client: Any = None) -> int:
    """*groups*, checked, or by default one per worker thread of *client*'s cluster (else
    of the current ``distributed`` client's), at most one per partition of *frame* and at
    most 32; one per partition, at most 32, when no running cluster is known. The threads
    are counted when the run starts: on a cluster still scaling up, pass *groups*.

    One group per thread: every piece of a partition's partial is a task and a transfer
    of its own, so more groups than threads to finish them cost scheduling and gain
    nothing (the groups are of equal size in expectation, by a hash of the account). On
    two one-thread workers, billing a month of hourly usage over 4,000 accounts in 16
    partitions ran 1.37x to 1.47x faster than on one with a group per partition, and
    1.56x to 1.61x with a group per thread (benchmarks/README.md).

    >>> import dask.dataframe as dd, pandas as pd
    >>> frame = dd.from_pandas(pd.DataFrame({"account": list("abcdef")}), npartitions=3)
    >>> group_count(frame, None), group_count(frame, 5)
    (3, 5)
    """
    if groups is not None:
        return check_groups(groups)
    threads = _threads(client)
    return check_groups(min(frame.npartitions, threads or MAX_GROUPS, MAX_GROUPS))


def _threads(client: Any) -> int | None:
    """The worker threads of *client*'s cluster, or of the current ``distributed``
    client's; None when there is none to ask (no client, ``distributed`` not imported,
    an asynchronous or closed client: the run then says what is wrong, as before)."""
    if client is None:
        distributed = sys.modules.get("distributed")
        if distributed is None:  # never imported: no client can exist
            return None
        try:
            client = distributed.default_client()
        except ValueError:  # no client: the local scheduler
            return None
    if getattr(client, "asynchronous", False) or getattr(client, "status", None) != "running":
        return None
    return sum(client.nthreads().values()) or None


def dask_compute(tasks: Sequence[Any], client: Any = None) -> list[Any]:
    """The values of Dask *tasks*: on *client* when given, else on the current scheduler.

    With a *client*, the values come straight from the workers (``direct=True``; keys a
    worker cannot hand over come through the scheduler) unless the client was made with
    ``direct_to_workers=False``: relayed by the scheduler, every byte of the results
    crosses the network twice (a run's invoices are tens of megabytes), and with a
    ``LocalCluster`` the scheduler's share of that runs in this process."""
    if client is not None:
        futures = client.compute(list(tasks))
        direct = getattr(client, "direct_to_workers", None)
        return list(client.gather(futures, direct=True if direct is None else direct))
    dask = require("dask", "dask")
    return list(dask.compute(*tasks))


def rate_dask(
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
    fan_in: int = 8,
    groups: int | None = None,
    by_account: bool = False,
    client: Any = None,
) -> RatingResult:
    """Rate a Dask DataFrame of usage (the batch column layout) on the current Dask
    scheduler (or *client*) and return the same result as rating it in one process.

    Each partition is reduced to exact integer partial sums on a worker, and the partial
    is cut into *groups* by a hash of the account (by default one group per worker thread:
    :func:`group_count`). Each group's pieces are combined on the workers in a tree of *fan_in*,
    and one worker builds the group's lines (``finish``). The client only puts the
    groups' bills back in account order. With *by_account* (every account's usage in
    one partition, e.g. read from files partitioned by account) each partition is rated
    where it is, with no shuffle. Quantities must be decimal strings or ``pyarrow``
    decimals, never floats.

    *rounding*, *accounts* and *on_unpriced* are those of :func:`cloudrate.rate`.
    Requires ``pip install 'cloudrate[dask]'``. With a process-based cluster, create it
    under ``if __name__ == "__main__":``.

    >>> import cloudrate, dask, dask.dataframe as dd
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> frame = dd.from_pandas(to_table(usage).to_pandas(), npartitions=3)
    >>> with dask.config.set(scheduler="sync"):  # or a distributed.Client
    ...     result = rate_dask(plan, frame, period)
    >>> result == cloudrate.rate(plan, usage, period)
    True
    """
    if fan_in < 2:
        raise OptionError(f"fan_in must be at least 2 (got {fan_in})", path="fan_in")
    on_unpriced = check_on_unpriced(on_unpriced)
    plan.check_period(period)
    accounts = tuple(accounts)
    k = 1 if by_account else group_count(frame, groups, client)
    # with by_account the accounts without usage are billed here, after the run
    extras = [
        (plan, period, rounding, a) for a in grouped_accounts(() if by_account else accounts, k)
    ]
    tasks = dask_groups(
        plan,
        frame,
        period,
        _rate_group_blob,
        extras,
        groups=k,
        fan_in=fan_in,
        by_account=by_account,
    )
    results = [loads(b) for b in dask_compute(tasks, client)]
    if by_account:
        seen = {b.account for r in results for b in r.bills}
        extra = sorted(set(accounts) - seen)
        if extra:  # accounts without usage: flat fees only, priced here
            results.append(_rate_group(plan, period, rounding, extra))
    return merge_results(plan, period, results, rounding=rounding, on_unpriced=on_unpriced)


def _rate_group_blob(
    plan: Plan,
    period: BillingPeriod,
    rounding: RoundingPolicy | None,
    accounts: Sequence[str],
    *blobs: bytes,
) -> bytes:
    """:func:`_rate_group`, pickled for the way back (unpickled with the collector paused)."""
    return dumps(_rate_group(plan, period, rounding, accounts, *blobs))
