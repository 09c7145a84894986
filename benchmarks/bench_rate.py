"""Rate N in-memory usage records with ``cloudrate.rate()`` and with a naive Decimal loop.

Run: ``python benchmarks/bench_rate.py [--records N] [--profile] [--floor]`` (default
1,000,000).

The records (100 accounts x 5 metrics, quantities with up to 6 decimals, unit prices
with 4 to 6 decimals, one hour each in October 2026) are built before any timing, so
:class:`cloudrate.UsageRecord` construction is not measured. In the same run the script
times ``rate()`` and the loop a portal developer would write instead::

    totals[record.account] += record.quantity * prices[record.metric]

then rounds each account total half-up to cents. ``rate()`` is called with
``placement="total"`` so its account totals mean the same thing; the script checks that
both give identical exact and rounded totals for every account, then prints
records/s for each and the ratio. ``--floor`` also times, per record, the parts any exact
rating of these records must do in CPython (see :func:`floor`).
"""

from __future__ import annotations

import argparse
import decimal
import gc
import operator
import random
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import cloudrate
from cloudrate._money import EXACT

ACCOUNTS = 100
#: metric -> unit price (4 to 6 decimals, like public cloud price lists).
PRICES: dict[str, str] = {
    "vcpu_hours": "0.0125",
    "memory_gb_hours": "0.004512",
    "storage_gb_hours": "0.00013",
    "bandwidth_gb": "0.01875",
    "public_ip_hours": "0.005",
}
CENT = Decimal("0.01")


def make_plan(where: bool = False) -> cloudrate.Plan:
    """A plan with one per-unit charge per metric, rounding each account total once.

    With *where*, every charge selects records by a ``zone`` attribute, which sends
    them through rate()'s general path instead of its summing fast path.
    """
    selector = {"where": {"zone": "z1"}} if where else {}
    return cloudrate.load_plan(
        {
            "name": "Benchmark",
            "currency": "EUR",
            "rounding": {"placement": "total"},
            "charges": [
                {
                    "name": metric,
                    "metric": metric,
                    "model": "per_unit",
                    "unit_price": price,
                    **selector,
                }
                for metric, price in PRICES.items()
            ],
        }
    )


def make_records(count: int, seed: int = 2026, where: bool = False) -> list[cloudrate.UsageRecord]:
    """*count* records spread over the accounts, metrics and hours of October 2026."""
    attributes = {"zone": "z1"} if where else {}
    rng = random.Random(seed)
    accounts = [f"acct-{i:03d}" for i in range(ACCOUNTS)]
    metrics = list(PRICES)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    hours = [t0 + timedelta(hours=h) for h in range(31 * 24 + 1)]
    records = []
    for i in range(count):
        h = i % (31 * 24)
        quantity = Decimal(rng.randrange(0, 10**9)).scaleb(-rng.randrange(0, 7))
        records.append(
            cloudrate.UsageRecord(
                account=accounts[i % ACCOUNTS],
                metric=metrics[(i // ACCOUNTS) % len(metrics)],
                quantity=quantity,
                start=hours[h],
                end=hours[h + 1],
                resource_id=f"res-{i % 5000}",
                attributes=attributes,
            )
        )
    return records


def naive_totals(
    records: Sequence[cloudrate.UsageRecord],
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The per-record loop a portal developer writes: exact totals, then rounded ones."""
    prices = {metric: Decimal(price) for metric, price in PRICES.items()}
    with decimal.localcontext(EXACT):
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for record in records:
            totals[record.account] += record.quantity * prices[record.metric]
        rounded = {a: t.quantize(CENT, rounding=ROUND_HALF_UP) for a, t in totals.items()}
    return dict(totals), rounded


T = TypeVar("T")


def timed(function: Callable[..., T], *args: object) -> tuple[T, float]:
    """(result, seconds): CPU seconds of this process, which other load on a shared
    machine disturbs less than wall-clock time (the two agree on an idle machine)."""
    gc.collect()
    start = time.process_time()
    value = function(*args)
    return value, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--where", action="store_true", help="select records by attribute (rate()'s general path)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile rate() with cProfile instead of timing it"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the parts every exact per-record rating must do, alone",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time dedupe() and rate() of a few records (the bill lines) alone",
    )
    args = parser.parse_args(argv)

    plan = make_plan(args.where)
    print(f"building {args.records:,} usage records ...", flush=True)
    records, build = timed(make_records, args.records, 2026, args.where)
    print(f"built in {build:.1f} s ({args.records / build:,.0f} records/s, not counted below)")

    if args.profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profiler:
            cloudrate.rate(plan, records)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
        return 0

    best_rate = best_naive = float("inf")
    for _ in range(args.repeat):  # alternate, keep the best of each
        result, seconds = timed(cloudrate.rate, plan, records)
        best_rate = min(best_rate, seconds)
        (exact, rounded), seconds = timed(naive_totals, records)
        best_naive = min(best_naive, seconds)

    bills = {bill.account: bill for bill in result.bills}
    assert bills.keys() == exact.keys(), "both must bill the same accounts"
    for account, bill in bills.items():
        assert bill.exact_total.amount == exact[account], account
        assert bill.total.amount == rounded[account], account
    print(
        f"totals agree for {len(bills)} accounts "
        f"(grand total {result.total.amount} {result.currency})"
    )

    n = args.records
    print(f"cloudrate.rate(): {best_rate:7.3f} s  {n / best_rate:>12,.0f} records/s")
    print(f"naive loop:       {best_naive:7.3f} s  {n / best_naive:>12,.0f} records/s")
    print(f"ratio rate()/naive: {best_naive / best_rate:.2f}x")
    if args.breakdown:
        breakdown(plan, records, best_rate, best_naive, args.repeat)
    if args.floor:
        floor(records, args.repeat)
    return 0


def breakdown(
    plan: cloudrate.Plan,
    records: list[cloudrate.UsageRecord],
    best_rate: float,
    best_naive: float,
    repeat: int,
) -> None:
    """Where rate()'s time goes, per record: dedupe(), building the bill lines (rate()
    of one record per account and metric, which builds every line), the rest (the scan)."""
    few = records[: ACCOUNTS * len(PRICES)]
    best_dedupe = best_lines = float("inf")
    for _ in range(repeat):
        best_dedupe = min(best_dedupe, timed(cloudrate.usage.dedupe, records)[1])
        best_lines = min(best_lines, timed(cloudrate.rate, plan, few)[1])
    n = len(records)
    scan = best_rate - best_dedupe - best_lines
    print(
        f"per record: dedupe {best_dedupe / n * 1e9:.0f} ns, scan {scan / n * 1e9:.0f} ns, "
        f"bill lines {best_lines / n * 1e9:.0f} ns ({best_lines * 1e3:.1f} ms for "
        f"{len(few)} lines); naive loop {best_naive / n * 1e9:.0f} ns"
    )


def _loop(records: Sequence[cloudrate.UsageRecord]) -> None:
    for _record in records:
        pass


def _read_quantities(records: Sequence[cloudrate.UsageRecord]) -> None:
    for record in records:
        record.quantity  # noqa: B018 - the read is what is timed


def _one_sum(records: Sequence[cloudrate.UsageRecord]) -> None:
    total = Decimal(0)
    for record in records:
        total += record.quantity


def _sum_per_account(records: Sequence[cloudrate.UsageRecord]) -> None:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        totals[record.account] += record.quantity


def _identity_hashes(records: Sequence[cloudrate.UsageRecord]) -> None:
    import numpy as np

    identity = operator.attrgetter("_identity")
    np.sort(np.fromiter(map(identity, records), dtype=np.int64, count=len(records)))


def _each(function: Callable[..., object], *more: object) -> Callable[[list[Decimal]], None]:
    """*function* applied to every quantity (and the items of *more*), in C."""
    return lambda quantities: deque(map(function, quantities, *more), maxlen=0) and None


def floor(records: list[cloudrate.UsageRecord], repeat: int) -> None:
    """Per record, best of *repeat*: the parts of rating these records that no exact
    per-record engine in CPython avoids, each alone, and what an integer sum would cost.

    - a Python loop over the records, touching each; the same reading each quantity
      (each its own Decimal object);
    - adding every quantity into one Decimal, in the exact context (one addition a record
      is the least an exact sum of Decimals takes), and into a dict of Decimals by
      account (one lookup more);
    - reading every record's identity hash into numpy and sorting them, what ``dedupe``
      does when no record repeats;
    - turning each quantity into an integer (or its digits), which an integer sum would
      need first, against one Decimal addition: each over a list of the quantities, in C.
    """
    quantities = [r.quantity for r in records]
    over_records: list[tuple[str, Callable[[Sequence[cloudrate.UsageRecord]], None]]] = [
        ("loop over the records", _loop),
        ("loop, reading each quantity", _read_quantities),
        ("one Decimal sum of the quantities", _one_sum),
        ("Decimal sum per account", _sum_per_account),
        ("identity hashes into numpy, sorted", _identity_hashes),
    ]
    over_quantities: list[tuple[str, Callable[[list[Decimal]], None]]] = [
        ("Decimal + Decimal (in C)", _each(operator.add, quantities)),
        ("int(Decimal.scaleb(6))", _each(lambda q: int(q.scaleb(6)))),
        ("int(Decimal)", _each(int)),
        ("Decimal.as_integer_ratio()", _each(Decimal.as_integer_ratio)),
        ("Decimal.as_tuple()", _each(Decimal.as_tuple)),
        ("str(Decimal)", _each(str)),
    ]
    n = len(records)
    print("per record, alone:")
    with decimal.localcontext(EXACT):
        for name, part in over_records:
            best = min(timed(part, records)[1] for _ in range(repeat))
            print(f"  {name:38s} {best / n * 1e9:6.1f} ns")
        for name, convert in over_quantities:
            best = min(timed(convert, quantities)[1] for _ in range(repeat))
            print(f"  {name:38s} {best / n * 1e9:6.1f} ns")


if __name__ == "__main__":
    sys.exit(main())
