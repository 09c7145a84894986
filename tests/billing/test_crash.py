"""Crash and concurrency: billing runs killed with SIGKILL at random points, each followed
by a rerun, and four processes billing the same period at once, on both stores.

At the end every customer has exactly the documents its usage calls for, numbers are
unique and gapless per sequence and each belongs to a stored document, and every event is
in the outbox once.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cloudrate import load_plan, rate, sample_plan_path
from cloudrate.billing import BillingRun, DocumentStore, StoredDocument, line_key, open_store
from cloudrate.invoice import Invoice, assemble_all
from cloudrate.rating import RatingResult
from cloudrate.usage import UsageRecord

PLAN = load_plan(sample_plan_path())
CUSTOMERS = [f"c{n:02d}" for n in range(24)]
START = datetime(2026, 10, 1, tzinfo=UTC) - timedelta(hours=2)  # the plan's Berlin October
#: Each delivery changes most customers' usage, so every rerun issues corrections and a
#: customer's documents grow with the kills: the test's time grows with their square
#: (200 kills took 144 s on both stores, 120 take about a third of that).
KILLS = 120


def _usage(version: int) -> tuple[UsageRecord, ...]:
    """The period's usage as the *version*-th delivery has it: each customer's hours
    change from delivery to delivery (late records, corrections up and down)."""
    rng = random.Random(version)
    out = []
    for customer in CUSTOMERS:
        hours = 1 + (rng.randrange(40) if version else 20)
        out.extend(
            UsageRecord(
                account=customer,
                metric="vcpu_hours",
                quantity=Decimal(2),
                start=START + timedelta(hours=h),
                end=START + timedelta(hours=h + 1),
                record_id=f"{customer}-{h}",
                resource_id=f"vm-{customer}",
                service="Compute",
            )
            for h in range(hours)
        )
    return tuple(out)


def _wanted(invoice: Invoice) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in invoice.lines:
        out[line_key(line)] = out.get(line_key(line), Decimal(0)) + line.amount.amount
    return {k: v for k, v in out.items() if v != 0}


def _billed(documents: tuple[StoredDocument, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for d in documents:
        for b in d.billed:
            out[b.line] = out.get(b.line, Decimal(0)) + b.amount
    return {k: v for k, v in out.items() if v != 0}


def _assert_end_state(store: DocumentStore, result: RatingResult) -> None:
    for draft in assemble_all(result):
        documents = store.documents(customer=draft.customer.id, period=draft.period.label)
        assert documents, draft.customer.id
        assert documents[0].kind == "invoice"
        assert [d.revision for d in documents] == list(range(1, len(documents) + 1))
        assert _billed(documents) == _wanted(draft), draft.customer.id
    documents = store.documents()
    for sequence, last in store.sequences().items():
        seqs = sorted(d.seq for d in documents if d.sequence == sequence)
        assert seqs == list(range(1, last + 1)), sequence  # gapless, each held by a document
    assert len({d.number for d in documents}) == len(documents)
    events = store.events()
    assert len({e.id for e in events}) == len(events)
    assert sorted(e.subject for e in events) == sorted(d.number for d in documents)


def _child(location: str, result: RatingResult) -> None:
    """Run in a forked child: bill the period, then leave without pytest's teardown."""
    code = 1
    try:
        store = open_store(location)
        BillingRun(store=store).bill(result, batch=5)  # several transactions a run
        store.close()
        code = 0
    finally:
        os._exit(code)


def _fork(location: str, result: RatingResult) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        _child(location, result)
    return pid


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return status


def _run(location: str, result: RatingResult) -> None:
    store = open_store(location)
    try:
        BillingRun(store=store).bill(result, batch=5)  # several transactions a run
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_runs_killed_at_random_points_and_rerun_end_right(store_location: str) -> None:
    rng = random.Random(20261101)
    results = [rate(PLAN, _usage(v)) for v in range(KILLS)]
    began = time.perf_counter()
    _run(store_location, results[0])
    took = max(time.perf_counter() - began, 0.01)  # one whole run: the window kills fall in
    killed_mid_run = 0
    for version in range(1, KILLS):
        pid = _fork(store_location, results[version])
        time.sleep(rng.uniform(0, took))
        os.kill(pid, signal.SIGKILL)
        status = _wait(pid)
        killed_mid_run += os.WIFSIGNALED(status)
        _run(store_location, results[version])  # the rerun after the crash
    check = open_store(store_location)
    try:
        _assert_end_state(check, results[-1])
    finally:
        check.close()
    assert killed_mid_run > KILLS // 2  # most kills landed while the run was working


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_four_processes_billing_at_once_end_in_the_same_state(
    store_location: str, open_new: Callable[[], DocumentStore]
) -> None:
    for version in (0, 1, 2, 3, 0):
        result = rate(PLAN, _usage(version))
        pids = [_fork(store_location, result) for _ in range(4)]
        statuses = [_wait(pid) for pid in pids]
        assert all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)
        store = open_new()
        _assert_end_state(store, result)
        # and the state is the one a single process reaches: a rerun issues nothing
        assert BillingRun(store=store).bill(result).documents == ()
