"""Columnar usage to every rated line as arrays, for runs that bill many accounts.

:func:`rate_lines` is :func:`~cloudrate.rating.columnar.rate_table` without building a
line object per account and charge: for a plan the columnar kernel prices line by line
(usage charges with a vectorised twin on summed metrics, flat fees without a metric,
lines rounded one by one), it returns :class:`LineColumns`, whose bills are built as
objects only on access; for any other plan the :class:`~cloudrate.rating.RatingResult`
of ``rate_table``. Both describe the same lines.

A distributed run builds them on its workers, one group of accounts at a time, from the
group's partials (:func:`lines_of_partials`), sends them to the driver as bytes
(:func:`lines_to_ipc`, :func:`lines_from_ipc`) and puts the groups together in account
order (:func:`join_lines`).

>>> import cloudrate
>>> from cloudrate.rating.columnar import to_table
>>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
>>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
>>> rated = rate_lines(plan, to_table(usage))
>>> rated == cloudrate.rate(plan, usage)  # the sample plan has a minimum: not columnar
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cloudrate._money import RoundingPolicy
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import RatingResult, rate

from ._columns import FixedPointRangeError
from ._dedup import aggregate
from ._finish import finish, period_and_data
from ._group_lines import join_lines, lines_from_ipc, lines_of_partials, lines_to_ipc
from ._lines import LineColumns, LineTexts
from ._partials import to_partials
from ._per_record import can_read_again, records_of
from ._texts import decimal_texts

__all__ = [
    "LineColumns",
    "LineTexts",
    "decimal_texts",
    "join_lines",
    "lines_from_ipc",
    "lines_of_partials",
    "lines_to_ipc",
    "rate_lines",
]

#: Rows aggregated at a time when rating lines: a billing run keeps every line and
#: writes documents after, so its aggregation keeps its temporaries small (about 20
#: bytes a row of a slice) and its fingerprints compact (``aggregate(compact=True)``).
SLICE = 1 << 18


def rate_lines(
    plan: Plan,
    data: Any,
    period: BillingPeriod | None = None,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
) -> LineColumns | RatingResult:
    """Rate columnar usage into :class:`LineColumns`, or the ``RatingResult`` of
    :func:`~cloudrate.rating.columnar.rate_table` when the kernel does not cover the plan.
    Arguments as ``rate_table``'s (usage without a price is not reported here)."""
    policy = rounding or plan.rounding
    accounts = tuple(accounts)
    try:
        again = data if can_read_again(data) else None
        chosen, rows = (period, data) if period is not None else period_and_data(plan, data)
        plan.check_period(chosen)
        agg = aggregate(plan, rows, chosen, again=again, compact=True, chunk=SLICE)
        lines = LineColumns.build(agg, accounts, policy)
        if lines is not None:
            return lines
        return finish(plan, to_partials(agg), chosen, rounding=policy, accounts=accounts)
    except FixedPointRangeError:
        if not can_read_again(data):
            raise
    return rate(plan, records_of(data), period, accounts=accounts, rounding=policy)
