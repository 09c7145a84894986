"""Benchmark of exact columnar batch rating (cloudrate.rating.columnar) against its baselines.

    python benchmarks/bench_batch.py [--records 10000000] [--accounts 100000] [--csv] [--copies]

Generates synthetic usage (10 metrics, prices with 4 to 6 decimals, quantities with up to
6), then times, in this one process:

- ``account_totals`` on an in-memory Arrow table (dictionary-encoded account and metric,
  decimal128 quantities, UTC timestamps): exact per-account totals;
- a pandas float64 groupby computing the same totals (inexact: the notebook way);
- the naive Decimal loop (a Python loop summing Decimals per account and metric, then
  pricing and rounding), on a subset, extrapolated per record;
- end to end from a CSV file to per-account totals (``--csv``), streamed in chunks;
- with ``--copies``, the in-memory totals of the same usage with 1% of its rows given
  twice (the copies are found, compared and left out) and with a record_id per row;

and checks exactness: the totals of a sample of accounts (all their records) against
``cloudrate.rate()``, the Decimal reference. Peak memory is measured with tracemalloc
(Python objects and numpy arrays), the Arrow memory pool's peak, and the whole process's
peak RSS (Linux VmHWM, reset with /proc/self/clear_refs just before the run), each stage
in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import cloudrate
from cloudrate import BillingPeriod, UsageRecord
from cloudrate.rating.columnar import account_totals, read_columnar

PERIOD = BillingPeriod.month(2026, 10, "UTC")
METRICS = [f"m{i}" for i in range(10)]
PRICES = [
    "0.0125",
    "0.0045",
    "0.000137",
    "0.05",
    "0.00834",
    "0.1234",
    "0.000021",
    "0.015",
    "0.0009",
    "0.27315",
]
PLAN = (
    """
name: Bench
currency: EUR
charges:
"""
    + "".join(
        f'  - {{name: c{i}, metric: m{i}, model: per_unit, unit_price: "{p}"}}\n'
        for i, p in enumerate(PRICES[:7])
    )
    + """  - name: c7
    metric: m7
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.015"}
      - {up_to: null, unit_price: "0.0105"}
  - name: c8
    metric: m8
    model: volume
    free_units: 10
    tiers:
      - {up_to: 1000, unit_price: "0.0009"}
      - {up_to: null, unit_price: "0.000712"}
  - {name: c9, metric: m9, model: package, block_size: 10, block_price: "0.27315"}
"""
)


def generate(n: int, accounts: int, seed: int = 7) -> pa.Table:
    """Synthetic usage: random accounts and metrics, 1-hour records in October 2026."""
    rng = np.random.default_rng(seed)
    acct = rng.integers(0, accounts, n, dtype=np.int32)
    metric = rng.integers(0, len(METRICS), n, dtype=np.int8)
    micro = rng.integers(0, 50_000_000, n, dtype=np.int64)  # up to 50 with 6 decimals
    words = np.zeros((n, 2), dtype=np.int64)
    words[:, 0] = micro
    quantity = pa.Array.from_buffers(pa.decimal128(18, 6), n, [None, pa.py_buffer(words)])
    start_us = int(PERIOD.start.timestamp()) * 1_000_000
    hours = rng.integers(0, 31 * 24 - 1, n, dtype=np.int64)
    start = start_us + hours * 3_600_000_000
    names = pa.array([f"acct-{i:06d}" for i in range(accounts)])
    return pa.table(
        {
            "account": pa.DictionaryArray.from_arrays(pa.array(acct), names),
            "metric": pa.DictionaryArray.from_arrays(pa.array(metric), pa.array(METRICS)),
            "quantity": quantity,
            "start": pa.array(start, pa.timestamp("us", "UTC")),
            "end": pa.array(start + 3_600_000_000, pa.timestamp("us", "UTC")),
        }
    )


def timed(fn, *args, repeat: int = 3, **kw):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(*args, **kw)
        best = min(best, time.perf_counter() - t)
    return best, result


def pandas_float(table: pa.Table, plan) -> dict[str, float]:
    """What a notebook user writes: float64 sums and prices, the same charge models."""
    import pandas as pd

    df = pd.DataFrame(
        {
            "account": table.column("account").to_pandas(),
            "metric": table.column("metric").to_pandas(),
            "quantity": table.column("quantity").cast(pa.float64()).to_numpy(),
        }
    )
    sums = df.groupby(["account", "metric"], observed=True)["quantity"].sum().reset_index()
    q = sums["quantity"].to_numpy()
    metric = sums["metric"].astype(str).to_numpy()
    amount = np.zeros(len(q))
    for i, price in enumerate(PRICES[:7]):
        amount = np.where(metric == f"m{i}", q * float(price), amount)
    graduated = np.minimum(q, 100) * 0.015 + np.maximum(q - 100, 0) * 0.0105
    amount = np.where(metric == "m7", graduated, amount)
    billable = np.maximum(q - 10, 0)
    volume = billable * np.where(billable <= 1000, 0.0009, 0.000712)
    amount = np.where(metric == "m8", volume, amount)
    amount = np.where(metric == "m9", np.ceil(q / 10) * 0.27315, amount)
    sums["amount"] = np.round(amount, 2)
    return sums.groupby("account", observed=True)["amount"].sum()


def naive_loop(rows: list[tuple[str, str, Decimal]], plan) -> dict[str, Decimal]:
    """The naive Decimal loop: sum Decimals per (account, metric), price, round, add up."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for account, metric, quantity in rows:
        sums[(account, metric)] += quantity
    by_metric = {c.metric: c for c in plan.charges}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    cent = Decimal("0.01")
    for (account, metric), q in sums.items():
        charge = by_metric[metric]
        amount = charge.model.price(max(q - charge.free_units, Decimal(0))).amount.amount
        totals[account] += amount.quantize(cent, rounding=ROUND_HALF_UP)
    return totals


def reference(table: pa.Table, plan, sample: list[str]) -> dict[str, Decimal]:
    """cloudrate.rate() on every record of the sample accounts."""
    mask = pc.is_in(table.column("account").cast(pa.string()), pa.array(sample))
    part = table.filter(mask)
    records = [
        UsageRecord(account=a, metric=m, quantity=q, start=s, end=e)
        for a, m, q, s, e in zip(
            *(
                part.column(c).to_pylist()
                for c in ("account", "metric", "quantity", "start", "end")
            ),
            strict=True,
        )
    ]
    result = cloudrate.rate(plan, records, PERIOD)
    return {a: m.amount for a, m in result.totals().items()}


def stage_memory(stage: str, records: int, accounts: int, path: str | None) -> dict:
    """Run one stage in a fresh process and report its peak memory per record."""
    code = (
        f"import benchmarks.bench_batch as b, json; "
        f"print(json.dumps(b._memory_stage({stage!r}, {records}, {accounts}, {path!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _status(field: str) -> int:
    """A size from /proc/self/status in bytes (Linux): VmRSS now, VmHWM the peak."""
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def _memory_stage(stage: str, records: int, accounts: int, path: str | None) -> dict:
    """Peak memory of one run, measured three ways, in a fresh process.

    (ru_maxrss is not used: Linux carries it over from the parent across exec.)
    """
    import gc
    import tracemalloc

    plan = cloudrate.load_plan(PLAN)
    out: dict[str, float] = {}
    if stage == "memory":
        table = generate(records, accounts)
        out["input_bytes_per_record"] = table.nbytes / records
        data = table
    else:
        data = None
    gc.collect()
    _reset_peak()
    before = _status("VmRSS")
    pool_before = pa.total_allocated_bytes()
    tracemalloc.start()
    account_totals(plan, data if data is not None else read_columnar(path), PERIOD)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.update(
        {
            "rss_before_per_record": before / records,
            "rss_peak_per_record": _status("VmHWM") / records,
            "rss_growth_per_record": (_status("VmHWM") - before) / records,
            "tracemalloc_peak_per_record": peak / records,
            "arrow_pool_peak_per_record": (pa.default_memory_pool().max_memory() - pool_before)
            / records,
        }
    )
    return out


def copies(plan, table: pa.Table, totals: pa.Table) -> None:
    """De-duplication: the same usage with 1% of its rows delivered twice (read again,
    compared, rated a third time without them), and with a unique record_id per row."""
    n = table.num_rows
    extra = table.slice(0, n // 100)
    doubled = pa.concat_tables([table, extra]).combine_chunks()
    seconds, got = timed(account_totals, plan, doubled, PERIOD)
    same = totals_equal(got, totals)
    meta = got.schema.metadata
    print(
        f"with {extra.num_rows:,} copies (1%) of rows: {seconds:7.3f} s  "
        f"{doubled.num_rows / seconds / 1e6:6.1f} M rec/s; duplicates dropped "
        f"{meta[b'duplicates_dropped'].decode()}, totals equal to the usage once: {same}"
    )
    ids = pa.array([f"rec-{i:010d}" for i in range(n)], pa.string())
    with_ids = table.append_column("record_id", ids)
    seconds, got = timed(account_totals, plan, with_ids, PERIOD)
    print(
        f"with a record_id per row (15-byte strings): {seconds:7.3f} s  "
        f"{n / seconds / 1e6:6.1f} M rec/s, totals equal: {totals_equal(got, totals)}"
    )


def totals_equal(a: pa.Table, b: pa.Table) -> bool:
    """Equal totals (schema metadata, which counts the copies, aside)."""
    return a.replace_schema_metadata(None).equals(b.replace_schema_metadata(None))


def write_csv(table: pa.Table, path: str) -> None:
    import pyarrow.csv as pcsv

    plain = table.set_column(0, "account", table.column("account").cast(pa.string()))
    plain = plain.set_column(1, "metric", plain.column("metric").cast(pa.string()))
    pcsv.write_csv(plain, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=200_000, help="records for the naive loop")
    parser.add_argument("--sample", type=int, default=300, help="accounts checked vs rate()")
    parser.add_argument("--csv", action="store_true", help="also time CSV -> totals")
    parser.add_argument(
        "--copies",
        action="store_true",
        help="also time usage with copies of records and with record ids (de-duplication)",
    )
    args = parser.parse_args()
    n = args.records
    plan = cloudrate.load_plan(PLAN)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or ''}"
        f" Python {platform.python_version()}, pyarrow {pa.__version__}, numpy {np.__version__}"
    )
    t = time.perf_counter()
    table = generate(n, args.accounts)
    print(
        f"generated {n:,} records, {args.accounts:,} accounts in {time.perf_counter() - t:.1f} s"
        f" ({table.nbytes / n:.0f} bytes/record in Arrow)"
    )

    batch_s, totals = timed(account_totals, plan, table, PERIOD)
    rate = n / batch_s
    print(
        f"cloudrate.rating.columnar.account_totals (exact):   {batch_s:7.3f} s  "
        f"{rate / 1e6:6.1f} M rec/s"
    )

    pandas_s, approx = timed(pandas_float, table, plan, repeat=2)
    print(
        f"pandas float64 groupby (inexact):          {pandas_s:7.3f} s  "
        f"{n / pandas_s / 1e6:6.1f} M rec/s  -> cloudrate is {pandas_s / batch_s:.1f}x"
    )

    sub = table.slice(0, args.naive)
    rows = list(
        zip(
            sub.column("account").to_pylist(),
            sub.column("metric").to_pylist(),
            sub.column("quantity").to_pylist(),
            strict=True,
        )
    )
    naive_s, _ = timed(naive_loop, rows, plan, repeat=1)
    per = naive_s / len(rows)
    print(
        f"naive Decimal loop ({len(rows):,} records, extrapolated): {per * n:7.1f} s  "
        f"{1 / per / 1e6:6.2f} M rec/s  -> cloudrate is {per * n / batch_s:.0f}x"
    )

    got = dict(zip(totals["account"].to_pylist(), totals["total"].to_pylist(), strict=True))
    rng = np.random.default_rng(1)
    sample = [f"acct-{i:06d}" for i in rng.choice(args.accounts, args.sample, replace=False)]
    t = time.perf_counter()
    ref = reference(table, plan, sample)
    exact = all(got[a] == ref[a] for a in sample)
    approx_off = sum(
        1 for a in sample if abs(Decimal(str(float(approx[a]))) - ref[a]) >= Decimal("0.005")
    )
    print(
        f"exactness vs cloudrate.rate() on {len(sample)} accounts (all their records): "
        f"{'EXACT' if exact else 'MISMATCH'}; pandas float totals off by >= half a cent: "
        f"{approx_off} ({time.perf_counter() - t:.1f} s)"
    )

    mem = stage_memory("memory", n, args.accounts, None)
    print(
        "memory, in-memory run (fresh process): input table {input_bytes_per_record:.0f} "
        "B/record; process RSS before rating {rss_before_per_record:.1f}, peak while rating "
        "{rss_peak_per_record:.1f} (growth {rss_growth_per_record:.1f}) B/record; "
        "tracemalloc peak {tracemalloc_peak_per_record:.1f}, Arrow pool peak "
        "{arrow_pool_peak_per_record:.1f} B/record".format(**mem)
    )

    if args.copies:
        copies(plan, table, totals)

    if args.csv:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "usage.csv")
            write_csv(table, path)
            size = Path(path).stat().st_size
            del table
            csv_s, csv_totals = timed(
                lambda: account_totals(plan, read_columnar(path), PERIOD), repeat=1
            )
            same = totals_equal(csv_totals, totals)
            print(
                f"CSV ({size / 1e9:.2f} GB) -> per-account totals, streamed: {csv_s:7.2f} s  "
                f"{n / csv_s / 1e6:6.2f} M rec/s, totals equal to in-memory: {same}"
            )
            mem = stage_memory("csv", n, args.accounts, path)
            print(
                "memory, CSV run (fresh process): whole-process peak RSS "
                "{rss_peak_per_record:.1f} B/record (growth {rss_growth_per_record:.1f}); "
                "tracemalloc peak {tracemalloc_peak_per_record:.1f}, Arrow pool peak "
                "{arrow_pool_peak_per_record:.1f} B/record".format(**mem)
            )


if __name__ == "__main__":
    main()
