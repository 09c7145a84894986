"""Benchmark of the billing run: usage to stored, numbered invoices, against the totals core.

    python benchmarks/bench_billing_run.py [--accounts 10000] [--per-account 10] [--batch 500]
    python benchmarks/bench_billing_run.py --records 10000000 --accounts 100000 [--parquet]

With ``--records``: the columnar billing run (``BillingRun.bill_table``) on the usage of
``bench_batch.py`` (10 metrics; per-unit, graduated, volume with free units, package), see
:func:`columnar_main`. Without it:

Generates synthetic usage (the sample plan's metrics, a few records per account) and
times, in this one process:

- ``account_totals`` (columnar, exact per-account totals): the core the issue measures
  the cycle against;
- ``rate()`` on the same usage: the per-record rating the billing run starts from;
- ``BillingRun.bill`` into a fresh SQLite document store: invoices assembled, numbered,
  stored with their billed amounts and events (one transaction per *batch* customers);
- a rerun of the same period (issues nothing: every customer compared and unchanged);
- one late record, then a rerun: only its customer gets a document.

It prints records/s, invoices/s and each stage's ratio to ``account_totals``, and checks
exactness: every stored invoice's total against ``rate()``'s bill of its account.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa

import cloudrate
from cloudrate.billing import BillingRun, SQLiteDocumentStore
from cloudrate.rating.columnar import account_totals, read_columnar, to_table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import PERIOD
from bench_batch import PLAN as BATCH_PLAN

METRICS = (("vcpu_hours", 48), ("memory_gb_hours", 98304), ("storage_gb_hours", 2400))


def usage(accounts: int, per_account: int) -> list[cloudrate.UsageRecord]:
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    out = []
    for a in range(accounts):
        for i in range(per_account):
            metric, quantity = METRICS[i % len(METRICS)]
            start = t0 + timedelta(days=1 + i % 27)
            out.append(
                cloudrate.UsageRecord(
                    account=f"acct{a:07d}",
                    metric=metric,
                    quantity=Decimal(quantity + a % 7),
                    start=start,
                    end=start + timedelta(days=1),
                    record_id=f"{a}-{i}",
                    resource_id=f"vm-{a}",
                    service="Compute",
                )
            )
    return out


def timed(label: str, work, *args, **kwargs):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = work(*args, **kwargs)
    took = time.perf_counter() - began
    print(f"{label:38} {took:8.3f} s")
    return result, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--per-account", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--records", type=int, help="the columnar run on this many records")
    parser.add_argument("--sample", type=int, default=300, help="accounts checked vs rate()")
    parser.add_argument("--parquet", action="store_true", help="the file run from Parquet")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each timed stage")
    args = parser.parse_args()
    if args.records:
        columnar_main(args)
        return
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    records = usage(args.accounts, args.per_account)
    n = len(records)
    print(f"{args.accounts} accounts, {n} records; load {os.getloadavg()[0]:.2f}")
    table = to_table(records)
    _, core = timed("account_totals (columnar core)", account_totals, plan, table)
    result, rating = timed("rate() (per record)", cloudrate.rate, plan, records)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteDocumentStore(Path(tmp) / "billing.db")
        run = BillingRun(store=store)
        summary, billing = timed(
            "BillingRun.bill (store, numbers)", run.bill, result, batch=args.batch
        )
        rerun, again = timed("rerun: nothing to issue", run.bill, result, batch=args.batch)
        # enough to pass the plan's minimum spend, so the late usage changes the total
        late = attrs.evolve(records[0], record_id="late-1", quantity=Decimal(4800))
        more, _ = timed("rate() with one late record", cloudrate.rate, plan, [*records, late])
        corrected, _ = timed("rerun with it", run.bill, more, batch=args.batch)
        documents = store.documents()
        store.close()
    assert summary.issued["invoice"] == args.accounts
    assert rerun.documents == ()
    assert {d.customer for d in corrected.documents} == {records[0].account}
    totals = result.totals()
    first = {d.customer: d.total for d in documents if d.kind == "invoice"}
    assert all(first[a] == m.amount for a, m in totals.items()), "stored totals differ"
    cycle = rating + billing
    print()
    print(
        f"records to stored invoices: {cycle:.3f} s = {n / cycle:,.0f} records/s, "
        f"{args.accounts / cycle:,.0f} invoices/s"
    )
    print(
        f"billing alone: {args.accounts / billing:,.0f} invoices/s; "
        f"rerun: {args.accounts / again:,.0f} customers compared/s"
    )
    print(f"ratio to account_totals: cycle {cycle / core:.0f}x, billing {billing / core:.0f}x")
    print("exact: every stored invoice total equals rate()'s bill of its account")


# --- the columnar billing run ---------------------------------------------------------


def _fresh_run(plan, data, tmp: str, tag: str, batch: int):  # type: ignore[no-untyped-def]
    """One columnar billing run into a fresh SQLite store: (wall s, cpu s, summary, path)."""
    path = Path(tmp) / f"{tag}.db"
    for extra in ("", "-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    store = SQLiteDocumentStore(path)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = BillingRun(store=store).bill_table(plan, data(), PERIOD, batch=batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    issued = summary.issued["invoice"]
    store.close()
    return wall, cpu, issued, path


def _best(fn, repeat: int):  # type: ignore[no-untyped-def]
    best = None
    for _ in range(repeat):
        got = fn()
        if best is None or got[0] < best[0]:
            best = got
    return best


def _totals_seconds(plan, data, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        account_totals(plan, data(), PERIOD)
        best = min(best, time.perf_counter() - t)
    return best


def _check_sample(path: Path, table, plan, accounts: int, sample: int) -> int:  # type: ignore[no-untyped-def]
    """Every stored invoice of *sample* random accounts against rate() on all their records."""
    from bench_batch import reference

    rng = np.random.default_rng(3)
    chosen = [f"acct-{i:06d}" for i in rng.choice(accounts, sample, replace=False)]
    want = reference(table, plan, chosen)
    with SQLiteDocumentStore(path) as store:
        for account in chosen:
            (doc,) = store.documents(customer=account, period=PERIOD.label)
            assert doc.total == want[account], (account, doc.total, want[account])
            assert doc.invoice().total.amount == want[account]
    return len(chosen)


def _memory(stage: str, records: int, accounts: int, path: str | None, batch: int) -> dict:
    code = (
        "import sys; sys.path[:0] = ['benchmarks']; import bench_billing_run as b, json; "
        f"print(json.dumps(b._memory_stage({stage!r}, {records}, {accounts}, {path!r}, {batch})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_stage(stage: str, records: int, accounts: int, path: str | None, batch: int) -> dict:
    """Peak RSS of one columnar billing run in a fresh process (VmHWM reset before it)."""
    import gc

    from bench_batch import _reset_peak, _status, generate

    plan = cloudrate.load_plan(BATCH_PLAN)
    table = generate(records, accounts) if stage == "memory" else None
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteDocumentStore(Path(tmp) / "m.db")
        _reset_peak()
        before = _status("VmRSS")
        data = table if table is not None else read_columnar(path)
        BillingRun(store=store).bill_table(plan, data, PERIOD, batch=batch)
        peak = _status("VmHWM")
        store.close()
    return {
        "input": 0 if table is None else table.nbytes / records,
        "before": before / records,
        "peak": peak / records,
        "growth": (peak - before) / records,
    }


def columnar_main(args: argparse.Namespace) -> None:
    """Columnar usage (an Arrow table, then a file) to stored invoices, against
    ``account_totals`` on the same data in the same run."""
    from bench_batch import generate, write_csv

    plan = cloudrate.load_plan(BATCH_PLAN)
    n, accounts, batch = args.records, args.accounts, args.batch if args.batch != 500 else 2000
    print(f"load before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    held = {"usage": generate(n, accounts)}  # dropped before the file run
    table = held["usage"]
    print(f"{n:,} records, {accounts:,} accounts, batch {batch}")
    core = _totals_seconds(plan, lambda: held["usage"], args.repeat + 1)
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu, issued, path = _best(
            lambda: _fresh_run(plan, lambda: held["usage"], tmp, "memory", batch), args.repeat
        )
        assert issued == accounts
        _report("in-memory Arrow table", n, accounts, core, wall, cpu)
        store = SQLiteDocumentStore(path)
        run = BillingRun(store=store)
        t = time.perf_counter()
        again = run.bill_table(plan, table, PERIOD, batch=batch)
        rerun = time.perf_counter() - t
        assert again.issued == {"invoice": 0, "supplementary": 0, "credit_note": 0}
        late = _late_row(table)
        t = time.perf_counter()
        more = run.bill_table(plan, pa.concat_tables([table, late]), PERIOD, batch=batch)
        corrected = time.perf_counter() - t
        touched = sorted({d.customer for d in more.documents})
        store.close()
        print(f"rerun, nothing issued: {rerun:.2f} s ({accounts / rerun:,.0f} customers/s)")
        print(f"rerun with one late record: {corrected:.2f} s, documents for {touched}")
        assert touched == ["acct-000007"], touched
        checked = _check_sample(path, table, plan, accounts, args.sample)
        print(f"exact: the stored invoices of {checked} random accounts equal rate()'s totals")
        mem = _memory("memory", n, accounts, None, batch)
        print(
            "peak memory (fresh process): input {input:.1f} B/record, RSS before {before:.1f}, "
            "peak {peak:.1f} (growth {growth:.1f}) B/record".format(**mem)
        )
        fpath = str(Path(tmp) / ("usage.parquet" if args.parquet else "usage.csv"))
        if args.parquet:
            import pyarrow.parquet as pq

            plain = table.set_column(0, "account", table.column("account").cast(pa.string()))
            plain = plain.set_column(1, "metric", plain.column("metric").cast(pa.string()))
            pq.write_table(plain, fpath)
        else:
            write_csv(table, fpath)
        del table
        held.clear()
        core = _totals_seconds(plan, lambda: read_columnar(fpath), args.repeat)
        wall, cpu, issued, _ = _best(
            lambda: _fresh_run(plan, lambda: read_columnar(fpath), tmp, "file", batch), args.repeat
        )
        assert issued == accounts
        _report(f"{'Parquet' if args.parquet else 'CSV'} file", n, accounts, core, wall, cpu)
        mem = _memory("file", n, accounts, fpath, batch)
        print(
            "peak memory, file run (fresh process): peak {peak:.1f} (growth {growth:.1f}) "
            "B/record".format(**mem)
        )
    print(f"load after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


def _late_row(table: pa.Table) -> pa.Table:
    """One more record for acct-000007 on m0 (per unit), enough to change its invoice."""
    row = table.slice(0, 1).to_pylist()[0]
    row.update(account="acct-000007", metric="m0", quantity=Decimal("40"))
    return _same_schema(row, table)


def _same_schema(row: dict, table: pa.Table) -> pa.Table:  # type: ignore[type-arg]
    columns = {}
    for field in table.schema:
        value = row[field.name]
        if pa.types.is_dictionary(field.type):
            columns[field.name] = pa.array([value]).dictionary_encode().cast(field.type)
        else:
            columns[field.name] = pa.array([value], field.type)
    return pa.table(columns)


def _report(what: str, n: int, accounts: int, core: float, wall: float, cpu: float) -> None:
    print(f"{what}:")
    print(f"  account_totals        {core:7.3f} s  {n / core / 1e6:6.1f} M records/s")
    print(
        f"  bill_table            {wall:7.3f} s  {n / wall / 1e6:6.2f} M records/s, "
        f"{accounts / wall:,.0f} invoices/s (CPU {cpu:.2f} s); ratio {wall / core:.1f}x"
    )


if __name__ == "__main__":
    main()
