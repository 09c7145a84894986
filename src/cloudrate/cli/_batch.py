"""The batch path of ``cloudrate rate``: when to take it, and running it with progress.

Kept apart from :mod:`cloudrate.cli` so the command stays light: pyarrow is imported only
when the batch path runs.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import click

from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import RatingResult

__all__ = ["BATCH_ROWS", "copies_summary", "rate_batch", "wants_batch"]

#: Usage files with more rows than this are rated by the batch path.
BATCH_ROWS = 100_000


def wants_batch(path: Path, choice: bool | None) -> bool:
    """Whether to take the batch path: as chosen, else for Parquet or more than 100k rows.

    >>> wants_batch(Path("usage.parquet"), None), wants_batch(Path("x.csv"), False)
    (True, False)
    """
    if choice is not None:
        return choice
    if importlib.util.find_spec("pyarrow") is None:  # the extra is not installed
        return False
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    lines = 0
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            lines += block.count(b"\n")
            if lines > BATCH_ROWS + 1:
                return True
    return False


def rate_batch(
    plan: Plan, path: Path, period: BillingPeriod | None, strict: bool, progress: bool = True
) -> RatingResult:
    """Rate the usage file at *path* with :mod:`cloudrate.rating.columnar`, reporting on
    stderr: a progress bar, the records per second, and the copies of records dropped."""
    # Without the batch extra this raises ImportError naming `pip install 'cloudrate[batch]'`,
    # which the command reports as a missing extra (exit code 4).
    from cloudrate.rating.columnar import (
        finish,
        partial_aggregate,
        period_and_data,
        read_columnar,
    )

    started = time.perf_counter()
    bar = (
        click.progressbar(
            length=path.stat().st_size,
            label="rating",
            file=sys.stderr,
            show_eta=True,
            show_percent=True,
        )
        if progress
        else None
    )
    done = [0]

    def advance(read: int, _total: int) -> None:
        if bar is not None and read > done[0]:  # a second reading (copies found) stays
            bar.update(read - done[0])
        done[0] = max(done[0], read)

    try:
        # the file itself, not a one-shot stream of it: usage with copies of records is
        # read again to compare them (docs/batch.md)
        usage = read_columnar(path, on_progress=advance)
        data: Any = usage
        if period is None:
            period, data = period_and_data(plan, usage)
        plan.check_period(period)
        partials = partial_aggregate(plan, data, period)
    finally:
        if bar is not None:
            bar.render_finish()
    counted = usage.rows
    if progress:
        click.echo(
            f"aggregated {counted:,} records in {time.perf_counter() - started:.2f} s;"
            " pricing the bills",
            err=True,
        )
    result = finish(plan, partials, period, on_unpriced="error" if strict else "report")
    seconds = time.perf_counter() - started
    rate = counted / seconds if seconds > 0 else float("inf")
    click.echo(f"rated {counted:,} records in {seconds:.2f} s ({rate:,.0f} records/s)", err=True)
    click.echo(copies_summary(result), err=True)
    return result


def copies_summary(result: RatingResult) -> str:
    """The line that counts the copies of records not billed (docs/batch.md).

    >>> from cloudrate.rating import rate
    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> copies_summary(rate(plan, usage + usage[:3]))
    'duplicates dropped: 3, corrections: 0'
    """
    return f"duplicates dropped: {result.duplicates_dropped}, corrections: {result.corrections}"
