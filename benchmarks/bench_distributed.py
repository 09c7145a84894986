"""Distributed rating and billing: 1 vs 2 workers on Dask, Spark results equal.

Writes synthetic usage as Parquet files (10 metrics, decimal128 quantities with up to 6
places), then, in one run:

- the references in one process: ``BillingRun.bill_table`` of all the files (the
  columnar billing run) and, once, ``BillingRun.bill`` of ``rate_partitions`` (the
  object path), each into a fresh SQLite store; both must store the same rows;
- the cost model: each stage of a distributed billing run timed apart in one process
  (CPU seconds), per record and per invoice, on the workers' side (read, partials,
  groups, lines, invoices written without numbers) and on the driver's (decode, join,
  number and store), with the driver's share and the bound on 2 workers against 1 it
  implies, 1 / (driver + workers / 2) (docs/distributed.md uses the per-unit costs);
- Dask on a ``LocalCluster`` of 1 and 2 worker processes (one thread each): ``rate_dask``
  and ``bill_dask`` (lines and invoices written on the workers, numbered and stored
  here), wall clock, best and median of *repeat*, the load average before and after,
  and the CPU seconds of this process (driver, scheduler, the store's writer thread)
  and of the workers in each run (with the workers' system time apart: with Dask's
  default worker environment, which hands freed memory back to the system at once,
  every run faults its pages in again); ``--keep-memory`` runs the workers with
  :data:`KEEP_MEMORY` instead;
- Spark in ``local[1]`` and ``local[2]``: ``rate_spark`` and ``bill_spark``.

Every result is checked: ``rate_*`` equal (==) to the one-process result, every store
holds exactly the reference store's rows (documents byte for byte, billed rows,
sequences, events), and a sample of accounts is rated again with ``cloudrate.rate()``
from its records and compared with its stored invoice.

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
#: and after, and the CPU seconds in each run (Dask) of the driver, of the workers, and
#: the workers' share of that in the kernel (system time: page faults, mostly).
Row = tuple[str, str, float, list[float], str, str, list[tuple[float, float, float]]]

#: ``--keep-memory``: the environment of the Dask workers, on top of Dask's own, that has
#: them keep the memory they free for their next allocations instead of handing it back
#: to the system (which makes every run fault its pages in again, in system time): one
#: glibc heap for all threads, grown with brk only (no mmap'd blocks) and trimmed only
#: past 16 GiB free, and Arrow allocating from that heap. Memory a worker has used then
#: stays with it until it exits.
KEEP_MEMORY = {
    "MALLOC_ARENA_MAX": "1",
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(16 << 30),
    "ARROW_DEFAULT_MEMORY_POOL": "system",
}

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


def state(store: SQLiteDocumentStore) -> tuple[Any, ...]:
    """Every row a billing run leaves: documents (bodies, billed rows), sequences, events."""
    return store.documents(), sorted(store.sequences().items()), store.events()


def billed(stores: Stores, work: Callable[[BillingRun], Any]) -> Callable[[], Any]:
    """A run of *work* into a fresh store; returns the store's rows (:func:`state`)."""

    def run() -> Any:
        with stores.new() as store:
            work(BillingRun(store=store))
            return state(store)

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


def cost_model(
    plan, period, paths, groups: int, stores: Stores, units: dict[str, int]
) -> dict[str, float]:
    """Each stage of a distributed billing run, in this process, as the workers and the
    driver of ``bill_dask`` run them: CPU seconds (stages of the driver end in
    "(driver)"). *units* gets the partial rows the groups combine and the lines."""
    import pandas as pd
    import pyarrow.parquet as pq

    from cloudrate.billing import _distributed, _shipped
    from cloudrate.billing._fast import bill_written
    from cloudrate.rating.columnar import combine_partials
    from cloudrate.rating.columnar.lines import join_lines, lines_of_partials, lines_to_ipc
    from cloudrate.rating.distributed import dumps, from_ipc, merge_results, to_ipc
    from cloudrate.rating.distributed._dask import _split

    costs: dict[str, float] = {}
    units["partial rows"] = units["lines"] = 0

    def stage(name: str, work: Callable[[], Any]) -> Any:
        t = time.process_time()
        out = work()
        costs[name] = costs.get(name, 0.0) + time.process_time() - t
        return out

    frames = stage(
        "read", lambda: [pq.read_table(p).to_pandas(types_mapper=pd.ArrowDtype) for p in paths]
    )
    cuts = stage(
        "partials + cut into groups",
        lambda frames=frames: [_split(f, plan, period, groups) for f in frames],
    )
    del frames
    with stores.new() as store:
        run = BillingRun(store=store)
        options = _distributed._check(plan, period, None, None, "total", "zero", None, "error")
        options = _distributed._issuing(run, period, options, None, 2000)
        sent = []
        for g in range(groups):
            partials = [from_ipc(c[g]) for c in cuts]
            units["partial rows"] += sum(p.num_rows for p in partials)
            combined = stage("combine each group", lambda p=partials: combine_partials(p))
            lines = stage("lines", lambda c=combined: lines_of_partials(plan, c, period))
            units["lines"] += len(lines.charge)
            written = stage(
                "invoices written", lambda x=lines: _shipped.write_group(options.issue, x, {})
            )
            sent.append(
                stage(
                    "encode",
                    lambda x=lines, w=written, c=combined: dumps(
                        ("written", lines_to_ipc(x), w, to_ipc(c.slice(0, 0)))
                    ),
                )
            )
        del cuts
        parts = stage(
            "decode (driver)", lambda: [_distributed._part(plan, period, options, b) for b in sent]
        )
        stage(
            "settle unpriced usage (driver)",
            lambda: merge_results(
                plan,
                period,
                [_distributed._settled(plan, period, p, options) for p in parts],
                on_unpriced="error",
            ),
        )
        joined, rank = stage(
            "join lines in account order (driver)", lambda: join_lines([p.lines for p in parts])
        )

        def read() -> list[Any]:
            out: list[Any] = [None] * len(joined.accounts)
            offset = 0
            for p in parts:
                for i, x in zip(
                    rank[offset : offset + len(p.lines.accounts)].tolist(),
                    _shipped._read_group(p.invoices),
                    strict=True,
                ):
                    out[i] = x
                offset += len(p.lines.accounts)
            return out

        writer = _shipped._Shipped(run, joined, {}, None, "total", options.issue.day)
        writer.invoices = stage("read the invoices (driver)", read)
        stage("number + store, SQLite (driver)", lambda: bill_written(run, writer, 2000))
    return costs


#: The unit each stage of the cost model is counted in (the rest: per invoice).
UNITS = {
    "read": "record",
    "partials + cut into groups": "record",
    "combine each group": "partial row",
    "lines": "line",
}


def print_costs(costs: dict[str, float], units: dict[str, int]) -> None:
    print(
        f"cost model, CPU s in one process ({units['invoice']:,} invoices, "
        f"{units['line']:,} lines, {units['partial row']:,} partial rows combined):"
    )
    for name, seconds in costs.items():
        unit = UNITS.get(name, "invoice")
        print(
            f"  {name:38} {seconds:7.2f} s  {seconds / units[unit] * 1e6:8.3f} us per {unit:11}"
            f" {seconds / units['invoice'] * 1e6:7.1f} us per invoice"
        )
    workers = sum(v for k, v in costs.items() if "driver" not in k)
    driver = sum(v for k, v in costs.items() if "driver" in k)
    share = driver / (workers + driver)
    print(
        f"  workers {workers:.2f} s, driver {driver:.2f} s: driver share {share:.0%}, "
        f"so 2 workers can be at most {1 / (share + (1 - share) / 2):.2f}x 1 worker"
    )


def _cpu() -> tuple[float, float]:
    """(user + system, system) CPU seconds of this process so far."""
    times = os.times()
    return times.user + times.system, times.system


def _workers_cpu(client: Any) -> tuple[float, float]:
    """(user + system, system) CPU seconds of *client*'s workers so far."""
    found = client.run(_cpu).values()
    return sum(c[0] for c in found), sum(c[1] for c in found)


def settle(clients: list[Any], quiet: float = 0.02, most: float = 10.0) -> None:
    """Wait (at most *most* seconds) until the workers of every cluster are idle: under
    *quiet* CPU seconds in a quarter of a second. A worker goes on releasing and freeing
    a run's memory after the run has returned, which would otherwise be the next run's
    load (and the other cluster's, since both are up at once)."""
    deadline = time.perf_counter() + most
    spent = sum(_workers_cpu(c)[0] for c in clients)
    while time.perf_counter() < deadline:
        time.sleep(0.25)
        now = sum(_workers_cpu(c)[0] for c in clients)
        if now - spent < quiet:
            return
        spent = now


def dask_rows(
    plan, period, paths, reference, documents, repeat, stores, keep_memory: bool = False
) -> list[Row]:
    """Dask on LocalClusters of 1 and 2 worker processes, both up at once and timed in
    turns (1, 2, 1, 2, ...) so that both see the same load, each run once every worker
    is idle (:func:`settle`); each result checked. With
    *keep_memory* the workers run with :data:`KEEP_MEMORY` in their environment."""
    from contextlib import ExitStack

    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if keep_memory:
        environ.update(KEEP_MEMORY)
    with ExitStack() as stack:
        stack.enter_context(dask.config.set({"distributed.nanny.pre-spawn-environ": environ}))
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
            small = dd.from_pandas(warm, npartitions=workers)
            rate_dask(plan, small, period, client=client)
            with stores.new() as store:  # the workers import the billing modules too
                bill_dask(BillingRun(store=store), plan, small, period, client=client)
            clients[workers], startups[workers] = client, time.perf_counter() - t
        frame = dd.read_parquet(paths, dtype_backend="pyarrow")
        times: dict[tuple[int, str], list[float]] = {}
        loads: dict[tuple[int, str], list[str]] = {}
        cpus: dict[tuple[int, str], list[tuple[float, float]]] = {}
        for what in ("rate_dask", "bill_dask"):
            for _ in range(repeat):
                for workers, client in clients.items():
                    settle(list(clients.values()))
                    before = load()
                    worker_cpu, worker_sys = _workers_cpu(client)
                    cpu = time.process_time()
                    t = time.perf_counter()
                    if what == "rate_dask":
                        result = rate_dask(plan, frame, period, client=client)
                        took = time.perf_counter() - t
                        spent = time.process_time() - cpu
                        assert result == reference, "Dask result differs from one process"
                    else:
                        with stores.new() as store:
                            bill_dask(BillingRun(store=store), plan, frame, period, client=client)
                            took = time.perf_counter() - t
                            spent = time.process_time() - cpu
                            got = state(store)
                        assert got == documents, "Dask rows differ from one process"
                    after_cpu, after_sys = _workers_cpu(client)
                    cpus.setdefault((workers, what), []).append(
                        (spent, after_cpu - worker_cpu, after_sys - worker_sys)
                    )
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
            cpus[(workers, what)],
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
        rows.append((f"Spark local[{cores}]", "rate_spark", startup, seconds, before, load(), []))
        assert result == reference, "Spark result differs from one process"
        before = load()
        got, seconds = timed(
            repeat, billed(stores, lambda run, f=frame: bill_spark(run, plan, f, period))
        )
        rows.append((f"Spark local[{cores}]", "bill_spark", 0.0, seconds, before, load(), []))
        assert got == documents, "Spark rows differ from one process"
        spark.stop()
    return rows


def print_rows(rows: list[Row], records: int, invoices: int) -> None:
    print(
        f"{'engine':22} {'run':22} {'start s':>7} {'best s':>7} {'median s':>8} "
        f"{'records/s':>10} {'invoices/s':>10}  {'CPU driver/workers (sys)':>24}  "
        "load before -> after"
    )
    for name, what, startup, times, before, after, cpus in rows:
        best, median = min(times), statistics.median(times)
        cpu = ""
        if cpus:
            driver = statistics.median(c[0] for c in cpus)
            workers = statistics.median(c[1] for c in cpus)
            system = statistics.median(c[2] for c in cpus)
            cpu = f"{driver:.2f} / {workers:.2f} ({system:.2f}) s"
        print(
            f"{name:22} {what:22} {startup:7.1f} {best:7.2f} {median:8.2f} "
            f"{records / best:10,.0f} {invoices / best:10,.0f}  {cpu:>24}  {before} -> {after}"
        )


def ratios(rows: list[Row]) -> None:
    found = {(name, what): (times, cpus) for name, what, _, times, _, _, cpus in rows}
    for what in ("rate_dask", "bill_dask"):
        one, two = found.get(("Dask, 1 worker(s)", what)), found.get(("Dask, 2 worker(s)", what))
        if not (one and two):
            continue
        best = min(one[0]) / min(two[0])
        median = statistics.median(one[0]) / statistics.median(two[0])
        print(
            f"{what}: 2 workers {best:.2f}x the speed of 1 (best of each), {median:.2f}x (median)"
        )
        driver = statistics.median(c[0] for c in one[1])
        workers = statistics.median(c[1] for c in one[1])
        share = driver / (driver + workers)
        print(
            f"  measured CPU with 1 worker: driver {driver:.2f} s, worker {workers:.2f} s: "
            f"driver share {share:.0%}, bound {1 / (share + (1 - share) / 2):.2f}x"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each")
    parser.add_argument("--sample", type=int, default=25, help="accounts checked with rate()")
    parser.add_argument(
        "--object-repeat", type=int, default=1, help="timed runs of the object path (slow)"
    )
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument(
        "--keep-memory",
        action="store_true",
        help="Dask workers keep the memory they free (KEEP_MEMORY in their environment)",
    )
    parser.add_argument(
        "--record-ids", action="store_true", help="give every record a record_id (dedupe)"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()

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
        import pyarrow as pa

        table = pa.concat_tables(tables)
        before = load()
        reference, seconds = timed(args.repeat, lambda: rate_partitions(plan, tables, period))
        rows: list[Row] = [("one process", "rate_partitions", 0.0, seconds, before, load(), [])]
        before = load()
        documents, seconds = timed(
            args.repeat, billed(stores, lambda run, t=table: run.bill_table(plan, t, period))
        )
        rows.append(("one process", "bill_table", 0.0, seconds, before, load(), []))
        before = load()
        objects, seconds = timed(
            args.object_repeat,
            billed(stores, lambda run: run.bill(rate_partitions(plan, tables, period))),
        )
        rows.append(("one process", "rate_partitions + bill", 0.0, seconds, before, load(), []))
        assert objects == documents, "bill_table rows differ from BillingRun.bill's"
        del objects
        print("sample:", sample_check(plan, period, tables, documents[0], args.sample))
        invoices = len(documents[0])
        del table
        before = load()
        counted: dict[str, int] = {}
        costs = cost_model(plan, period, paths, len(paths), stores, counted)
        print(f"  (load {before} -> {load()})")
        units = {
            "record": args.records,
            "invoice": invoices,
            "line": counted["lines"],
            "partial row": counted["partial rows"],
        }
        print_costs(costs, units)
        if not args.skip_dask:
            rows += dask_rows(
                plan, period, paths, reference, documents, args.repeat, stores, args.keep_memory
            )
        if not args.skip_spark:
            rows += spark_rows(plan, period, paths, reference, documents, args.repeat, stores)
    print_rows(rows, args.records, invoices)
    ratios(rows)
    print(f"grand total {reference.total.amount} {reference.currency}; every result exact")


if __name__ == "__main__":
    main()
