"""Rate a :mod:`dask.dataframe` on a Dask cluster with the exact batch rater."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._partials import combine_blobs, finish_blobs, partial_blob, require

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan
    from cloudrate.rating import OnUnpriced, RatingResult

__all__ = ["rate_dask"]


def _partial_frame(frame: Any, plan: Plan, period: BillingPeriod) -> Any:
    """One partition (a pandas frame) to a one-row frame holding its partial as IPC."""
    pd = require("pandas", "dask")
    pa = require("pyarrow", "dask")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return pd.DataFrame({"partial": pd.Series([partial_blob(plan, table, period)], dtype=object)})


def _combine_frames(*frames: Any) -> Any:
    pd = require("pandas", "dask")
    blobs = [blob for frame in frames for blob in frame["partial"]]
    return pd.DataFrame({"partial": pd.Series([combine_blobs(blobs)], dtype=object)})


def rate_dask(
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
    fan_in: int = 8,
) -> RatingResult:
    """Rate a Dask DataFrame of usage (the batch column layout) on the current Dask
    scheduler and return the same result as rating it in one process.

    Each partition is reduced to exact integer partial sums on a worker
    (``map_partitions``), partials are combined on the workers in a tree of *fan_in*,
    and the one combined partial is rated and rounded here. Quantities must be decimal
    strings or ``pyarrow`` decimals, never floats.

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
    >>> result.totals() == cloudrate.rate(plan, usage, period).totals()
    True
    """
    if fan_in < 2:
        raise ValueError(f"fan_in must be at least 2 (got {fan_in})")
    dask = require("dask", "dask")
    pd = require("pandas", "dask")
    meta = pd.DataFrame({"partial": pd.Series([], dtype=object)})
    parts = frame.map_partitions(
        _partial_frame, plan, period, meta=meta, enforce_metadata=False
    ).to_delayed()
    combine = dask.delayed(_combine_frames, pure=True)
    while len(parts) > 1:
        parts = [combine(*parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    (combined,) = dask.compute(parts[0])
    return finish_blobs(
        plan,
        list(combined["partial"]),
        period,
        rounding=rounding,
        accounts=accounts,
        on_unpriced=on_unpriced,
    )
