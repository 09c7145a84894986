"""Distributed rating and billing: 1 vs 2 workers on Dask, Spark results equal.

Writes synthetic usage as Parquet files (10 metrics, decimal128 quantities with up to 6
places), then, in one run:

- the reference in one process: ``rate_partitions`` over the files and
  ``BillingRun.bill`` of its result into a fresh SQLite store;
- the cost model: each stage of a distributed billing run timed apart in one process
  (CPU seconds), per record, per line and per invoice (docs/distributed.md uses them);
- Dask on a ``LocalCluster`` of 1 and 2 worker processes (one thread each): ``rate_dask``
  (lines on the workers) and ``bill_dask`` (drafts on the workers, numbered and stored
  here), wall clock, best and median of *repeat*, the load average before and after;
- Spark in ``local[1]`` and ``local[2]``: ``rate_spark`` and ``bill_spark``.

Every result is checked: ``rate_*`` equal (==) to the one-process result, every store
holds exactly the reference store's documents (numbers, JSON bodies, billed lines), and
a sample of accounts is rated again with ``cloudrate.rate()`` from its records and
compared with its stored invoice.

    python benchmarks/bench_distributed.py --records 2000000 --accounts 20000 --files 8

Run it as a script: worker processes re-import the main module, hence the guard below.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from cloudrate import BillingPeriod, UsageRecord, load_plan, rate
from cloudrate.billing import BillingRun, SQLiteDocumentStore, bill_dask, bill_spark
from cloudrate.rating.distributed import rate_dask, rate_partitions, rate_spark

#: One line of the results: engine, what ran, start-up seconds, timed runs, load before
#: and after.
Row = tuple[str, str, float, list[float], str, str]

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


def write_usage(
    directory: Path, records: int, files: int, accounts: int, seed: int, record_ids: bool = False
) -> None:
    """*records* rows in *files* Parquet files: 10 metrics, *accounts* accounts (and a
    unique ``record_id`` per row with *record_ids*)."""
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
        if record_ids:
            first = index * per_file
            table = table.append_column(
                "record_id", pa.array([f"r{first + i:010d}" for i in range(n)])
            )
        pq.write_table(table, directory / f"part-{index:03d}.parquet")


def load() -> str:
    """The 1-minute load average and running/total tasks (``/proc/loadavg``)."""
    fields = Path("/proc/loadavg").read_text().split()
    return f"{fields[0]} ({fields[3]})"


def timed(repeat: int, run: Callable[[], Any]) -> tuple[Any, list[float]]:
    """The result of ``run()`` and the wall seconds of each of *repeat* runs."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t)
    return result, times


class Stores:
    """A fresh SQLite store for every billing run, in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.count = directory, 0

    def new(self) -> SQLiteDocumentStore:
        self.count += 1
        return SQLiteDocumentStore(self.directory / f"run-{self.count}.db")


def billed(stores: Stores, work: Callable[[BillingRun], Any]) -> Callable[[], Any]:
    """A run of *work* into a fresh store; returns the store's documents."""

    def run() -> Any:
        with stores.new() as store:
            work(BillingRun(store=store))
            return store.documents()

    return run


def sample_check(plan, period, tables, documents, accounts: int) -> str:
    """Rate *accounts* sampled accounts with ``cloudrate.rate()`` from their records and
    compare each with its stored invoice (total and every line's billed amount)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = sorted({d.customer for d in documents})
    step = max(1, len(names) // accounts)
    sample = names[::step][:accounts]
    records = []
    for table in tables:
        picked = table.filter(pc.is_in(pc.cast(table["account"], pa.string()), pa.array(sample)))
        records.extend(
            UsageRecord(
                account=row["account"],
                metric=row["metric"],
                quantity=row["quantity"],
                start=row["start"],
                end=row["end"],
                record_id=row.get("record_id"),
            )
            for row in picked.to_pylist()
        )
    expected = rate(plan, records, period, accounts=sample)
    by_customer = {d.customer: d for d in documents}
    for bill in expected.bills:
        invoice = by_customer[bill.account].invoice()
        assert invoice.total == bill.total, bill.account
        assert [x.amount for x in invoice.lines] == [x.rounded for x in bill.lines], bill.account
    return f"{len(sample)} accounts ({len(records):,} records) equal to rate()"


def cost_model(plan, period, tables, groups: int, stores: Stores) -> dict[str, float]:
    """Each stage of a distributed billing run, in this process: CPU seconds."""
    from cloudrate.invoice import assemble_all
    from cloudrate.rating.distributed import (
        combine_blobs,
        dumps,
        from_ipc,
        loads,
        partial_blob,
        paused_gc,
        rate_group,
        split_blob,
    )

    costs: dict[str, float] = {}

    def stage(name: str, work: Callable[[], Any]) -> Any:
        t = time.process_time()
        out = work()
        costs[name] = time.process_time() - t
        return out

    blobs = stage("partials", lambda: [partial_blob(plan, t, period) for t in tables])
    cuts = stage("split", lambda: [split_blob(b, groups) for b in blobs])
    pieces = stage("combine", lambda: [combine_blobs([c[g] for c in cuts]) for g in range(groups)])
    results = stage("lines", lambda: [rate_group(plan, [from_ipc(p)], period) for p in pieces])

    def drafts_of(result: Any) -> tuple[tuple[Any, ...]]:
        """As a bill_dask worker does: assemble_all 256 bills at a time, no collector."""
        with paused_gc():
            bills = result.bills
            return (
                tuple(
                    d
                    for i in range(0, len(bills), 256)
                    for d in assemble_all(result.with_bills(bills[i : i + 256]))
                ),
            )

    drafts = stage("assemble", lambda: [drafts_of(r) for r in results])
    sent = stage("pickle", lambda: [dumps(d) for d in drafts])
    got = stage("unpickle (driver)", lambda: [loads(s) for s in sent])
    invoices = sorted((d for g in got for d in g[0]), key=lambda d: d.customer.id)
    with stores.new() as store:
        day = period.end.date()
        stage(
            "bill_invoices (driver)",
            lambda: BillingRun(store=store).bill_invoices(invoices, issued_on=day),
        )
    return costs


def dask_rows(plan, period, paths, reference, documents, repeat, stores) -> list[Row]:
    """Dask on LocalClusters of 1 and 2 worker processes, both up at once and timed in
    turns (1, 2, 1, 2, ...) so that both see the same load; each result checked."""
    from contextlib import ExitStack

    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        clients, startups = {}, {}
        for workers in (1, 2):
            t = time.perf_counter()
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            )
            client = stack.enter_context(Client(cluster, set_as_default=False))
            warm = dd.read_parquet(paths[:workers], dtype_backend="pyarrow").head(
                1000, npartitions=-1
            )
            rate_dask(plan, dd.from_pandas(warm, npartitions=workers), period, client=client)
            clients[workers], startups[workers] = client, time.perf_counter() - t
        frame = dd.read_parquet(paths, dtype_backend="pyarrow")
        times: dict[tuple[int, str], list[float]] = {}
        loads: dict[tuple[int, str], list[str]] = {}
        for what in ("rate_dask", "bill_dask"):
            for _ in range(repeat):
                for workers, client in clients.items():
                    before = load()
                    t = time.perf_counter()
                    if what == "rate_dask":
                        result = rate_dask(plan, frame, period, client=client)
                        took = time.perf_counter() - t
                        assert result == reference, "Dask result differs from one process"
                    else:
                        with stores.new() as store:
                            bill_dask(BillingRun(store=store), plan, frame, period, client=client)
                            took = time.perf_counter() - t
                            got = store.documents()
                        assert got == documents, "Dask documents differ from one process"
                    times.setdefault((workers, what), []).append(took)
                    loads.setdefault((workers, what), []).extend((before, load()))
    return [
        (
            f"Dask, {workers} worker(s)",
            what,
            startups[workers] if what == "rate_dask" else 0.0,
            seconds,
            loads[(workers, what)][0],
            loads[(workers, what)][-1],
        )
        for (workers, what), seconds in times.items()
    ]


def spark_rows(plan, period, paths, reference, documents, repeat, stores) -> list[Row]:
    """Spark in local[1] and local[2], each checked."""
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
            .config("spark.sql.files.openCostInBytes", str(2**30))  # a partition per file
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        rate_spark(plan, spark.read.parquet(paths[0]).limit(1000), period)  # warm-up
        startup = time.perf_counter() - t
        frame = spark.read.parquet(*paths)
        before = load()
        result, seconds = timed(repeat, lambda f=frame: rate_spark(plan, f, period))
        rows.append((f"Spark local[{cores}]", "rate_spark", startup, seconds, before, load()))
        assert result == reference, "Spark result differs from one process"
        before = load()
        got, seconds = timed(
            repeat, billed(stores, lambda run, f=frame: bill_spark(run, plan, f, period))
        )
        rows.append((f"Spark local[{cores}]", "bill_spark", 0.0, seconds, before, load()))
        assert got == documents, "Spark documents differ from one process"
        spark.stop()
    return rows


def print_rows(rows: list[Row], records: int, invoices: int) -> None:
    print(
        f"{'engine':22} {'run':16} {'start s':>7} {'best s':>7} {'median s':>8} "
        f"{'records/s':>10} {'invoices/s':>10}  load before -> after"
    )
    for name, what, startup, times, before, after in rows:
        best, median = min(times), statistics.median(times)
        print(
            f"{name:22} {what:16} {startup:7.1f} {best:7.2f} {median:8.2f} "
            f"{records / best:10,.0f} {invoices / best:10,.0f}  {before} -> {after}"
        )


def ratios(rows: list[Row]) -> None:
    best = {(name, what): min(times) for name, what, _, times, _, _ in rows}
    for what in ("rate_dask", "bill_dask"):
        one, two = best.get(("Dask, 1 worker(s)", what)), best.get(("Dask, 2 worker(s)", what))
        if one and two:
            print(f"{what}: 2 workers {one / two:.2f}x the speed of 1 (best of each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each")
    parser.add_argument("--sample", type=int, default=25, help="accounts checked with rate()")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument(
        "--record-ids", action="store_true", help="give every record a record_id (dedupe)"
    )
    args = parser.parse_args()

    import pyarrow.parquet as pq

    plan = load_plan(PLAN)
    period = BillingPeriod.month(2026, 10, "UTC")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_usage(
            directory, args.records, args.files, args.accounts, seed=1, record_ids=args.record_ids
        )
        paths = sorted(str(p) for p in directory.glob("*.parquet"))
        stores = Stores(directory)
        print(
            f"{args.records:,} records, {args.accounts:,} accounts, {len(paths)} files, "
            f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; load {load()}"
        )
        tables = [pq.read_table(p) for p in paths]
        before = load()
        reference, seconds = timed(args.repeat, lambda: rate_partitions(plan, tables, period))
        rows: list[Row] = [("one process", "rate_partitions", 0.0, seconds, before, load())]
        before = load()
        documents, seconds = timed(
            args.repeat,
            billed(stores, lambda run: run.bill(rate_partitions(plan, tables, period))),
        )
        rows.append(("one process", "rate + bill", 0.0, seconds, before, load()))
        print("sample:", sample_check(plan, period, tables, documents, args.sample))
        costs = cost_model(plan, period, tables, len(paths), stores)
        lines, invoices = len(reference.lines), len(documents)
        print(f"cost model, CPU s in one process ({lines:,} lines, {invoices:,} invoices):")
        per = {"partials": args.records, "split": args.records, "combine": args.records}
        for name, seconds_ in costs.items():
            unit, n = ("record", per[name]) if name in per else ("invoice", invoices)
            if name == "lines":
                unit, n = "line", lines
            print(f"  {name:24} {seconds_:7.2f} s  {seconds_ / n * 1e6:8.2f} us per {unit}")
        workers = sum(v for k, v in costs.items() if "driver" not in k)
        driver = sum(v for k, v in costs.items() if "driver" in k)
        share = driver / (workers + driver)
        print(
            f"  workers {workers:.2f} s, driver {driver:.2f} s: driver share {share:.0%}, "
            f"so 2 workers can be at most {1 / (share + (1 - share) / 2):.2f}x 1 worker"
        )
        if not args.skip_dask:
            rows += dask_rows(plan, period, paths, reference, documents, args.repeat, stores)
        if not args.skip_spark:
            rows += spark_rows(plan, period, paths, reference, documents, args.repeat, stores)
    print_rows(rows, args.records, invoices)
    ratios(rows)
    print(f"grand total {reference.total.amount} {reference.currency}; every result exact")


if __name__ == "__main__":
    main()
