"""Price combined partial aggregates and round once: the last step of every batch run."""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pyarrow as pa

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import RatingError, UsageError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import RatingResult, rate
from cloudrate.rating._accumulate import Acc
from cloudrate.rating._pricing import price_bill
from cloudrate.rating._unpriced import OnUnpriced, UnpricedTally, check_on_unpriced
from cloudrate.rating._window import default_period as period_of

from ._columns import SCALE, FixedPointRangeError, RowError, _as_table, _times, batches, located
from ._dedup import aggregate
from ._io import ColumnarFile
from ._partials import combine_partials, decimal_ints, to_partials
from ._per_record import Replay, can_read_again, records_of
from ._values import decimal_of, from_micros

__all__ = ["finish", "partial_aggregate", "period_and_data", "rate_table"]


def partial_aggregate(plan: Plan, batch: Any, period: BillingPeriod) -> pa.Table:
    """The exact partial aggregates of one partition of usage (see ``PARTIAL_SCHEMA``).

    *batch* is a pyarrow Table or RecordBatch, a pandas or polars DataFrame, or an
    iterable of them. The function is pure: it runs unchanged under Spark's
    ``mapInArrow`` and Dask's ``map_partitions``; combine the results with
    :func:`combine_partials` and price them with :func:`finish`.

    Copies of a record within *batch* are billed once (:func:`cloudrate.usage.dedupe`)
    and counted in the partials; copies in different partitions are not compared, so
    partition by account (every copy of a record has its account) to drop them all.

    >>> import cloudrate
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> table = to_table(usage)
    >>> parts = [partial_aggregate(plan, table.slice(0, 300), period),
    ...          partial_aggregate(plan, table.slice(300), period)]
    >>> split = finish(plan, combine_partials(parts), period)
    >>> split.totals() == cloudrate.rate(plan, usage, period).totals()
    True
    """
    return _partials(plan, batch, period)


def _partials(plan: Plan, data: Any, period: BillingPeriod, again: Any = None) -> pa.Table:
    return to_partials(aggregate(plan, data, period, again=again))


#: The partial rows that count copies of records left out, and the result field of each.
_COPIES = {"duplicates": "duplicates_dropped", "corrections": "corrections"}


def _accs(
    plan: Plan, partials: pa.Table
) -> tuple[dict[tuple[str, int], Acc], set[str], list[dict[str, Any]], dict[str, int]]:
    index = {c.name: i for i, c in enumerate(plan.charges)}
    kinds = partials.column("kind").to_pylist()
    accounts = partials.column("account").to_pylist()
    charges = partials.column("charge").to_pylist()
    counts = partials.column("count").to_pylist()
    exps = partials.column("exponent").to_pylist()
    values = decimal_ints(partials.column("value"))
    accs: dict[tuple[str, int], Acc] = {}
    known: set[str] = set()
    others: list[int] = []
    copies = dict.fromkeys(_COPIES.values(), 0)
    for row, kind in enumerate(kinds):
        account = accounts[row]
        if kind == "account":
            known.add(account)
        elif kind in _COPIES:
            copies[_COPIES[kind]] += counts[row]
        elif kind in ("sum", "average"):
            accs[(account, _charge_index(index, charges[row]))] = Acc(
                decimal_of(values[row], SCALE, exps[row]), counts[row]
            )
        else:
            others.append(row)
    unpriced = _add_others(accs, index, partials, others, values, exps) if others else []
    return accs, known, unpriced, copies


def _add_others(
    accs: dict[tuple[str, int], Acc],
    index: dict[str, int],
    partials: pa.Table,
    rows: list[int],
    values: list[int],
    exps: list[Any],
) -> list[dict[str, Any]]:
    """Add the ``max``, ``latest``, ``unique``, ``resources``, ``monthly`` and
    ``transactions`` *rows*
    of *partials* to *accs*; return the ``unpriced`` rows. *values* and *exps* are the
    columns ``value`` and ``exponent`` of all the partials."""
    unpriced = []
    for row, data in zip(rows, partials.take(pa.array(rows)).to_pylist(), strict=True):
        kind = data["kind"]
        if kind == "unpriced":
            unpriced.append(data)
            continue
        key = (data["account"], _charge_index(index, data["charge"]))
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = Acc()
        acc.count += data["count"]
        if kind == "max":
            acc.value = decimal_of(values[row], SCALE, exps[row])
        elif kind == "monthly":
            when = from_micros(data["start_us"])
            month = (when.year, when.month)
            acc.months[month] = acc.months.get(month, Decimal(0)) + decimal_of(
                values[row], SCALE, exps[row]
            )
        elif kind == "transactions":
            acc.transactions.append(
                (
                    from_micros(data["start_us"]),
                    data["record_id"] or "",
                    decimal_of(values[row], SCALE, exps[row]),
                )
            )
        elif kind == "latest":
            acc.latest = (
                from_micros(data["end_us"]),
                from_micros(data["start_us"]),
                data["record_id"] or "",
                decimal_of(values[row], SCALE, exps[row]),
            )
        else:
            spans = acc.resources.setdefault(data["resource"], [])
            if data["start_us"] is not None:
                spans.append((from_micros(data["start_us"]), from_micros(data["end_us"])))
    return unpriced


def _charge_index(index: dict[str, int], name: str) -> int:
    try:
        return index[name]
    except KeyError:
        raise RatingError(
            f"the partials name the charge {name!r}, which the plan does not have; "
            "finish with the plan the partials were aggregated with"
        ) from None


def finish(
    plan: Plan,
    partials: Any,
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
    on_unpriced: OnUnpriced = "report",
) -> RatingResult:
    """Price combined partials and round once: the same result as :func:`cloudrate.rate`.

    *partials* is one partial table, or an iterable of them (combined first).
    """
    on_unpriced = check_on_unpriced(on_unpriced)
    plan.check_period(period)
    partials = combine_partials([partials] if isinstance(partials, pa.Table) else partials)
    policy = rounding or plan.rounding
    with decimal.localcontext(EXACT):
        accs, known, unpriced_rows, copies = _accs(plan, partials)
        known.update(accounts)
        tally = UnpricedTally()
        for row in unpriced_rows:
            tally.add(row["metric"], row["reason"], row["account"], row["count"])
        found = tally.settle(on_unpriced)
        bills = tuple(price_bill(plan, period, policy, account, accs) for account in sorted(known))
    return RatingResult(
        plan=plan, period=period, rounding=policy, bills=bills, unpriced=found, **copies
    )


def period_and_data(plan: Plan, data: Any) -> tuple[BillingPeriod, Any]:
    """The calendar month of the earliest record, as :func:`cloudrate.rate` chooses it.

    For a table or frame the earliest record of all; for a stream of batches (a file
    read by :func:`read_columnar`) the earliest of the first batch, so the stream is
    read once. When all records lie in one period both are the same; when they do not,
    both paths refuse the usage (with different first records named).
    Returns the period and the data to rate (a stream is rewound to its first batch;
    a :class:`ColumnarFile` stays readable again, from its first block).
    """
    if isinstance(data, pa.Table | pa.RecordBatch) or hasattr(data, "columns"):
        table = _as_table(data)
        starts, offset = [], 0
        for part in table.to_batches():
            if part.num_rows:
                starts.append(_first_start(part, offset))
            offset += part.num_rows
        earliest = from_micros(min(starts)) if starts else None
        return period_of(plan, earliest), table
    stream = batches(data)
    seen: list[pa.RecordBatch] = []
    for part in stream:
        seen.append(part)
        if part.num_rows:
            first = _first_start(part, 0)
            rest = itertools.chain(seen, stream)
            # a file is read once; when it must be read again, from its first block
            rewound = Replay(rest, data) if isinstance(data, ColumnarFile) else rest
            return period_of(plan, from_micros(first)), rewound
    return period_of(plan, None), iter(seen)  # raises: no usage and no period


def _first_start(part: pa.RecordBatch, offset: int) -> int:
    """The earliest start of a batch, in microseconds (a bad time is reported in place)."""
    if "start" not in part.schema.names:
        raise UsageError(
            "missing column(s) start; batch usage needs the columns account, metric, "
            "quantity, start, end (see docs/batch.md)"
        )
    try:
        return int(_times(part.column("start"), "start").min())
    except RowError as exc:
        raise located(part, offset, exc) from None


def rate_table(
    plan: Plan,
    table: Any,
    period: BillingPeriod | None = None,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
    on_unpriced: OnUnpriced = "report",
) -> RatingResult:
    """Rate columnar usage: the same :class:`~cloudrate.RatingResult` as :func:`cloudrate.rate`.

    *table* is a pyarrow Table or RecordBatch, a pandas or polars DataFrame, or an
    iterable of them (chunks, rated with bounded memory when *period* is given). The
    column layout is in ``docs/batch.md``.

    >>> import cloudrate
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> rate_table(plan, to_table(usage)) == cloudrate.rate(plan, usage)
    True
    """
    accounts = tuple(accounts)
    try:
        chosen, data = (period, table) if period is not None else period_and_data(plan, table)
        plan.check_period(chosen)
        return finish(
            plan,
            _partials(plan, data, chosen, table if can_read_again(table) else None),
            chosen,
            rounding=rounding,
            accounts=accounts,
            on_unpriced=on_unpriced,
        )
    except FixedPointRangeError:
        if not can_read_again(table):
            raise
    return rate(
        plan,
        records_of(table),
        period,
        accounts=accounts,
        rounding=rounding,
        on_unpriced=on_unpriced,
    )
