"""The SQLite ledger across processes: killed mid-run, and two writers at once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from moneyed import Money

from cloudrate import UsageRecord, load_plan
from cloudrate.accounts import (
    Ledger,
    LedgerEntry,
    NegativeBalance,
    PrepaidHourly,
    SQLiteLedgerStore,
)
from cloudrate.exceptions import InsufficientFundsError

pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
    reason="needs fork and SIGKILL",
)

AT = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 7


def eur(value: object) -> Money:
    return Money(Decimal(str(value)), "EUR")


def _specs(n: int) -> list[tuple[str, Money]]:
    return [(f"usage:acme:{i:05d}", eur(Decimal(i % 7 + 1) / 100)) for i in range(n)]


def _deduct_in_batches(path: str, n: int) -> None:
    """Child: post the deductions of _specs(n) in batches of BATCH, skipping done ones."""
    ledger = Ledger(SQLiteLedgerStore(path))
    specs = _specs(n)
    for i in range(0, n, BATCH):
        ledger.post(
            [
                LedgerEntry.deduction("acme", amount, key=key, at=AT + timedelta(hours=j))
                for j, (key, amount) in enumerate(specs[i : i + BATCH], start=i)
            ]
        )
    os._exit(0)


def _count(path: str) -> int:
    db = sqlite3.connect(path, timeout=30)
    try:
        return int(
            db.execute("SELECT count(*) FROM entries WHERE kind = 'deduction'").fetchone()[0]
        )
    finally:
        db.close()


def _fork(target, *args):
    ctx = multiprocessing.get_context("fork")
    process = ctx.Process(target=target, args=args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        process.start()
    return process


def _kill_when(process, path: str, at_least: int, deadline: float = 30.0) -> int:
    """SIGKILL *process* once *at_least* deductions are stored; the count it died at."""
    stop = time.monotonic() + deadline
    while _count(path) < at_least:
        assert process.is_alive(), "the child finished before it could be killed"
        assert time.monotonic() < stop, "the child made no progress"
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert process.exitcode == -signal.SIGKILL
    return _count(path)


def test_killed_mid_run_loses_and_doubles_nothing(tmp_path):
    """A writer SIGKILLed twice in the middle of a run of deduction batches leaves only
    whole batches; running the same run again completes it with every deduction
    exactly once and the balance equal to the sum of the entries."""
    path = str(tmp_path / "ledger.db")
    n = 3000
    with SQLiteLedgerStore(path) as store:
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("10000.00"), key="pay-1", at=AT)
    died_at = []
    for threshold in (40, 400):
        child = _fork(_deduct_in_batches, path, n)
        died_at.append(_kill_when(child, path, threshold))
    assert all(count % BATCH == 0 for count in died_at), died_at  # no half batch
    assert died_at[-1] < n, "killed too late to test anything"
    _retry = _fork(_deduct_in_batches, path, n)
    _retry.join()
    assert _retry.exitcode == 0
    with SQLiteLedgerStore(path) as store:
        entries = store.entries("acme")
        keys = [e.key for e in entries if e.kind == "deduction"]
        assert keys == [key for key, _ in _specs(n)]  # none lost, none doubled, in order
        expected = Decimal("10000.00") - sum((a.amount for _, a in _specs(n)), Decimal(0))
        assert store.balance("acme") == eur(expected)
        assert store.balance("acme").amount == sum((e.amount.amount for e in entries), Decimal(0))
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.audit() == {}


PLAN = """
name: Prepaid
version: "1"
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
"""


def _apply_run(path: str, run) -> None:
    run.apply(Ledger(SQLiteLedgerStore(path)))
    os._exit(0)


def test_killed_prepaid_hourly_run_is_completed_by_retry(tmp_path):
    """An hourly prepaid run killed halfway and run again posts each hour once."""
    plan = load_plan(PLAN)
    hours = 24 * 20
    start = AT
    usage = [
        UsageRecord(
            account=a,
            metric="vcpu_hours",
            quantity=str(1 + h % 3),
            start=start + timedelta(hours=h),
            end=start + timedelta(hours=h + 1),
        )
        for h in range(hours)
        for a in ("acme", "globex")
    ]
    run = PrepaidHourly(enabled=True).deductions(
        plan, usage, start=start, end=start + timedelta(hours=hours)
    )
    path = str(tmp_path / "ledger.db")
    with SQLiteLedgerStore(path) as store:
        ledger = Ledger(store)
        for account in ("acme", "globex"):
            ledger.open(account, "EUR", at=AT)
            ledger.recharge(account, eur("500.00"), key=f"pay-{account}", at=AT)
    child = _fork(_apply_run, path, run)
    died = _kill_when(child, path, 100)
    assert died < len(run.deductions)
    with SQLiteLedgerStore(path) as store:
        report = run.apply(Ledger(store))
        assert report.existing == died and report.written == len(run.deductions) - died
        posted = [e for e in store.entries() if e.kind == "deduction"]
        assert [e.key for e in posted] == [d.key for d in run.deductions]
        for account in ("acme", "globex"):
            assert store.balance(account) == eur(Decimal("500.00") - run.total(account).amount)
        again = run.apply(Ledger(store))
        assert again.written == 0 and again.existing == len(run.deductions)
        assert store.audit() == {}


def _contend(path: str, who: str, barrier, results) -> None:
    ledger = Ledger(
        SQLiteLedgerStore(path, timeout=60),
        negative_balance=NegativeBalance(allowed=True, floor=eur("-5.00")),
    )
    barrier.wait()
    outcome = []
    for i in range(60):
        for key, amount in ((f"{who}-{i}", eur("1.00")), (f"shared-{i}", eur("0.25"))):
            try:
                result = ledger.post([LedgerEntry.deduction("acme", amount, key=key, at=AT)])
                outcome.append((key, str(amount.amount), len(result.written)))
            except InsufficientFundsError:
                outcome.append((key, str(amount.amount), -1))
            time.sleep(0.001)  # let the other process in between our transactions
    results.put((who, outcome))
    results.close()
    results.join_thread()
    os._exit(0)


def test_two_processes_deducting_at_once_stay_consistent(tmp_path):
    """Two processes racing over the same account: the floor holds, every key is
    written once, and the money the processes say they took is exactly what left the
    balance (no lost update)."""
    path = str(tmp_path / "ledger.db")
    with SQLiteLedgerStore(path) as store:
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", eur("50.00"), key="pay-1", at=AT)
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        procs = [
            ctx.Process(target=_contend, args=(path, who, barrier, results)) for who in ("p0", "p1")
        ]
        for p in procs:
            p.start()
    outcomes = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    taken = Decimal(0)
    refused = 0
    for outcome in outcomes.values():
        for _key, amount, written in outcome:
            if written == 1:
                taken += Decimal(amount)
            refused += written == -1
    with SQLiteLedgerStore(path) as store:
        entries = store.entries("acme")
        balance = store.balance("acme").amount
        assert balance == sum((e.amount.amount for e in entries), Decimal(0))
        assert balance == Decimal("50.00") - taken
        assert balance >= Decimal("-5.00")  # the floor held
        assert store.audit() == {}
        assert refused > 0  # the demand (135.00) was above what the floor allows (55.00)
        keys = [e.key for e in entries]
        assert len(keys) == len(set(keys))
        assert any(k.startswith("p0-") for k in keys) and any(k.startswith("p1-") for k in keys)
        shared_written = sum(
            1 for o in outcomes.values() for k, _a, w in o if k.startswith("shared-") and w == 1
        )
        assert shared_written == sum(1 for k in keys if k.startswith("shared-"))
