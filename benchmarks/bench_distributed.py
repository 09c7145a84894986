"""Distributed rating: 1 vs 2 workers on Dask and Spark, with an exactness check.

Writes synthetic usage as Parquet files (decimal128 quantities with up to 6 places),
rates them in one process (cloudrate.rating.distributed.rate_partitions over the same files),
then with Dask on a LocalCluster of 1 and 2 worker processes and with Spark in
local[1] and local[2], and checks every result against the one-process result to the
cent. Prints records per second; start-up of the cluster or JVM is reported apart.

    python benchmarks/bench_distributed.py --records 2000000 --files 8

Run it as a script: worker processes re-import the main module, hence the guard below.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from cloudrate import BillingPeriod, load_plan
from cloudrate.rating.distributed import rate_dask, rate_partitions, rate_spark

#: One line of the results: engine, exactness check, start-up seconds, timed runs.
Row = tuple[str, str, float, list[float]]

PLAN = """
name: Benchmark
currency: EUR
timezone: UTC
charges:
  - {name: m0, metric: m0, model: per_unit, unit_price: "0.0123"}
  - {name: m1, metric: m1, model: per_unit, unit_price: "0.04567"}
  - {name: m2, metric: m2, model: per_unit, unit_price: "0.000891"}
  - {name: m3, metric: m3, model: per_unit, unit_price: "1.2345"}
  - {name: m4, metric: m4, model: per_unit, unit_price: "0.00525"}
  - {name: m5, metric: m5, free_units: "10", model: per_unit, unit_price: "0.011111"}
  - name: m6
    metric: m6
    model: graduated
    tiers:
      - {up_to: 1000, unit_price: "0.0021"}
      - {up_to: null, unit_price: "0.0015"}
  - name: m7
    metric: m7
    model: volume
    tiers:
      - {up_to: 5000, unit_price: "0.00031"}
      - {up_to: null, unit_price: "0.00027"}
  - {name: m8, metric: m8, model: per_unit, unit_price: "0.1"}
  - {name: m9, metric: m9, model: per_unit, unit_price: "0.333333"}
"""


def write_usage(directory: Path, records: int, files: int, accounts: int, seed: int) -> None:
    """*records* rows in *files* Parquet files: 10 metrics, *accounts* accounts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-10-01T00:00:00", "us")
    per_file = -(-records // files)
    for index in range(files):
        n = min(per_file, records - index * per_file)
        hours = rng.integers(0, 30 * 24, n)
        t0 = start + hours.astype("timedelta64[h]")
        micro = pa.array(rng.integers(0, 10**9, n)).cast(pa.decimal128(20, 0))
        quantity = pa.compute.multiply(micro, pa.scalar(Decimal("0.000001"), pa.decimal128(7, 6)))
        account = pa.array([f"acct-{i:06d}" for i in range(accounts)])
        table = pa.table(
            {
                "account": pa.DictionaryArray.from_arrays(
                    pa.array(rng.integers(0, accounts, n), pa.int32()), account
                ),
                "metric": pa.DictionaryArray.from_arrays(
                    pa.array(rng.integers(0, 10, n), pa.int8()),
                    pa.array([f"m{i}" for i in range(10)]),
                ),
                "quantity": quantity.cast(pa.decimal128(20, 6)),
                "start": pa.array(t0).cast(pa.timestamp("us", "UTC")),
                "end": pa.array(t0 + np.timedelta64(1, "h")).cast(pa.timestamp("us", "UTC")),
            }
        )
        pq.write_table(table, directory / f"part-{index:03d}.parquet")


def same(a, b) -> bool:
    return a.totals() == b.totals() and a.total == b.total


def timed(repeat: int, run, *args):
    """The result of ``run(*args)`` and the seconds of each of *repeat* runs."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = run(*args)
        times.append(time.perf_counter() - t)
    return result, times


def dask_rows(plan, period, paths: list[str], reference, repeat: int) -> list[Row]:
    """Dask on a LocalCluster of 1 and 2 worker processes, each checked against *reference*."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    rows: list[Row] = []
    for workers in (1, 2):
        t = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):
            # warm-up: workers import cloudrate, pyarrow and numpy once
            warm = dd.read_parquet(paths[:workers], dtype_backend="pyarrow").head(
                1000, npartitions=-1
            )
            rate_dask(plan, dd.from_pandas(warm, npartitions=workers), period)
            startup = time.perf_counter() - t
            frame = dd.read_parquet(paths, dtype_backend="pyarrow")
            result, seconds = timed(repeat, rate_dask, plan, frame, period)
        assert same(result, reference), "Dask totals differ from one process"
        rows.append((f"Dask LocalCluster, {workers} worker process(es)", "exact", startup, seconds))
    return rows


def spark_rows(plan, period, paths: list[str], reference, repeat: int) -> list[Row]:
    """Spark in local[1] and local[2], each checked against *reference*."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    rows: list[Row] = []
    for cores in (1, 2):
        t = time.perf_counter()
        spark = (
            SparkSession.builder.master(f"local[{cores}]")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "200000")
            # one partition per file, as Dask reads them
            .config("spark.sql.files.openCostInBytes", str(2**30))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        rate_spark(plan, spark.read.parquet(paths[0]).limit(1000), period)  # warm-up
        startup = time.perf_counter() - t
        frame = spark.read.parquet(*paths)
        result, seconds = timed(repeat, rate_spark, plan, frame, period)
        spark.stop()
        assert same(result, reference), "Spark totals differ from one process"
        rows.append((f"Spark local[{cores}]", "exact", startup, seconds))
    return rows


def print_table(rows: list[Row], records: int, reference) -> None:
    print(
        f"{'engine':44} {'start+warm s':>12} {'best s':>7} {'median s':>8} "
        f"{'best records/s':>14}  totals"
    )
    for name, check, startup, times in rows:
        best, median = min(times), statistics.median(times)
        print(
            f"{name:44} {startup:12.1f} {best:7.2f} {median:8.2f} "
            f"{records / best:14,.0f}  {check if check != '-' else 'reference'}"
        )
    print(
        f"grand total {reference.total.amount} {reference.currency} "
        f"over {len(reference.bills):,} accounts"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per engine; the best and the median are shown",
    )
    parser.add_argument("--skip-spark", action="store_true")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    plan = load_plan(PLAN)
    period = BillingPeriod.month(2026, 10, "UTC")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_usage(directory, args.records, args.files, args.accounts, seed=1)
        paths = sorted(str(p) for p in directory.glob("*.parquet"))
        print(
            f"{args.records:,} records, {args.accounts:,} accounts, {len(paths)} files, "
            f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        )
        reference, seconds = timed(
            args.repeat, lambda: rate_partitions(plan, (pq.read_table(p) for p in paths), period)
        )
        rows: list[Row] = [("one process (rate_partitions)", "-", 0.0, seconds)]
        rows += dask_rows(plan, period, paths, reference, args.repeat)
        if not args.skip_spark:
            rows += spark_rows(plan, period, paths, reference, args.repeat)
    print_table(rows, args.records, reference)


if __name__ == "__main__":
    main()
