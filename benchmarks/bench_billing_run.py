"""Benchmark of the billing run: usage to stored, numbered invoices, against the totals core.

    python benchmarks/bench_billing_run.py [--accounts 10000] [--per-account 10] [--batch 500]

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
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs

import cloudrate
from cloudrate.billing import BillingRun, SQLiteDocumentStore
from cloudrate.rating.columnar import account_totals, to_table

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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
