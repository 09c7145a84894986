"""Numbering: templates, gapless unique sequences, concurrency across processes."""

from __future__ import annotations

import multiprocessing
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import BillingPeriod
from cloudrate.exceptions import InvoiceError, SequenceError
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Net,
    Numbering,
    SequenceStore,
    SQLiteSequenceStore,
    assemble,
)

from .conftest import bill_of

ON = date(2026, 11, 1)


def _draft(i: int):
    return assemble(
        bill_of("1.00"),
        Customer(id="acme", name="ACME"),
        BillingPeriod.month(2026, 10),
        invoice_id=f"draft-{i}",
    )


def _finalise_many(path: str, worker: int, count: int, barrier, out) -> None:
    """Runs in a child process: finalise *count* drafts against the shared SQLite file."""
    store = SQLiteSequenceStore(path)
    numbering = Numbering()
    barrier.wait()
    numbers = []
    for i in range(count):
        numbers.append(
            _draft(worker * 1000 + i).finalise(numbering, store, issued_on=ON, terms=Net(30)).number
        )
        if i == count // 2:  # every worker also races to finalise one shared draft
            shared = _draft(-1).finalise(numbering, store, issued_on=ON, terms=Net(30))
            numbers.append(f"shared {shared.number}")
    out.put(numbers)


class TestNumbering:
    def test_template_formats_the_issue_example(self):
        """INV-{year}-{seq:04} with 42 in 2026 is INV-2026-0042."""
        assert Numbering("INV-{year}-{seq:04}").format(42, on=ON) == "INV-2026-0042"
        assert Numbering("{tenant}-{year}{month}-{seq}").format(7, on=ON, tenant="eu") == (
            "eu-202611-7"
        )

    @pytest.mark.parametrize(
        ("template", "message"),
        [
            ("INV-{year}", "has no {seq}"),
            ("INV-{seq:04}", "has no {year}"),
            ("INV-{customer}-{seq}", "unknown field"),
            ("INV-{year-{seq}", "numbering template"),
            # {month} is text: refused here, not by format() once a number is taken
            ("INV-{year}-{month:d}-{seq}", r"\{month\} \(the text 01 to 12\)"),
            ("INV-{year:%Y}-{seq}", "Invalid format specifier"),
        ],
    )
    def test_bad_templates_are_refused(self, template, message):
        with pytest.raises(InvoiceError, match=message):
            Numbering(template)

    @pytest.mark.parametrize(
        ("template", "numbers"),
        [
            ("INV-{year}{month}-{seq:05}", ["INV-202611-00001", "INV-202701-1000000000000"]),
            ("{tenant:>4}/{seq:x}", ["  eu/1", "    /e8d4a51000"]),
        ],
    )
    def test_a_template_taken_formats_every_number(self, template, numbers):
        """A template the check takes formats any number, date and tenant."""
        n = Numbering(template, per_year=False)
        got = [n.format(1, on=ON, tenant="eu"), n.format(10**12, on=date(2027, 1, 31), tenant="")]
        assert got == numbers

    def test_template_without_year_allowed_when_not_per_year(self):
        n = Numbering("INV-{seq:06}", per_year=False)
        assert n.key("t", ON) == "t/invoice/all" and n.format(1, on=ON) == "INV-000001"

    def test_sequences_per_year_tenant_and_series(self):
        """Each (tenant, series, year) counts from 1 on its own."""
        store = InMemorySequenceStore()
        inv, cn = Numbering(), Numbering.credit_notes()
        assert inv.next(store, on=ON, document="a") == "INV-2026-0001"
        assert inv.next(store, on=ON, document="b") == "INV-2026-0002"
        assert inv.next(store, on=date(2027, 1, 2), document="c") == "INV-2027-0001"
        assert inv.next(store, on=ON, document="d", tenant="other") == "INV-2026-0001"
        assert cn.next(store, on=ON, document="e") == "CN-2026-0001"


@pytest.fixture(name="store", params=["memory", "sqlite"])
def _store(request, tmp_path) -> SequenceStore:
    if request.param == "memory":
        return InMemorySequenceStore()
    return SQLiteSequenceStore(tmp_path / "seq.sqlite")


class TestStores:
    def test_protocol(self, store):
        assert isinstance(store, SequenceStore)

    def test_gapless_and_allocating_again_returns_the_held_number(self, store):
        """A document holds one number; allocating again for it returns that number and
        consumes none, so the next document still gets the next number."""
        assert [store.allocate("k", d) for d in "abc"] == [1, 2, 3]
        assert store.allocate("k", "b") == 2
        assert store.last("k") == 3
        assert store.allocate("k", "d") == 4

    def test_held(self, store):
        """held() tells the number a document holds, per key, without taking one."""
        assert store.held("k", "a") is None
        store.allocate("k", "a")
        store.allocate("other", "b")
        assert store.held("k", "a") == 1 and store.held("k", "b") is None
        assert store.held("other", "b") == 1 and store.held("other", "a") is None
        assert store.last("k") == 1 and store.held("k", "z") is None and store.last("k") == 1

    def test_same_document_in_another_sequence_gets_its_own_number(self, store):
        """Holding a number in one key says nothing about another key."""
        store.allocate("k", "x")
        assert store.allocate("j", "y") == 1 and store.allocate("j", "x") == 2

    def test_threads_get_distinct_numbers(self, store):
        """Eight threads allocating at once get 1..80 exactly once each."""
        got: list[int] = []
        lock = threading.Lock()

        def work(t: int) -> None:
            for i in range(10):
                n = store.allocate("k", f"{t}-{i}")
                with lock:
                    got.append(n)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == list(range(1, 81))

    def test_sqlite_survives_reopening(self, tmp_path):
        """The sequence lives in the file: a new store object continues it, and a document
        numbered through an earlier object gets its number back."""
        SQLiteSequenceStore(tmp_path / "s.db").allocate("k", "a")
        again = SQLiteSequenceStore(tmp_path / "s.db")
        assert again.allocate("k", "b") == 2 and again.allocate("k", "a") == 1
        assert again.held("k", "a") == 1 and again.last("k") == 2

    def test_sqlite_read_errors_name_the_file(self, tmp_path):
        """A file that is not an SQLite database is a SequenceError naming it."""
        store = SQLiteSequenceStore(tmp_path / "s.db")
        (tmp_path / "s.db").write_bytes(b"not a database" * 100)
        with pytest.raises(SequenceError, match=r"s\.db: could not read the number 'a' holds"):
            store.held("k", "a")
        with pytest.raises(SequenceError, match="could not read the last number of 'k'"):
            store.last("k")

    def test_sqlite_lock_timeout_is_a_clear_error_and_consumes_nothing(self, tmp_path):
        """While another connection holds the write lock, allocation fails cleanly."""
        store = SQLiteSequenceStore(tmp_path / "s.db", timeout=0.05)
        store.allocate("k", "a")
        blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(SequenceError, match="nothing was consumed"):
                store.allocate("k", "b")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.allocate("k", "b") == 2

    def test_unopenable_path(self, tmp_path):
        with pytest.raises(SequenceError, match="cannot"):
            SQLiteSequenceStore(tmp_path / "missing-dir" / "s.db")


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_processes_finalising_at_once_get_no_duplicate_and_no_gap(tmp_path):
    """Four processes finalise 25 drafts each against one SQLite store, released together by
    a barrier, and all race to finalise one shared draft: every process gets the shared
    draft's one number back, and the 101 numbers are INV-2026-0001..0101, each exactly once."""
    ctx = multiprocessing.get_context("fork")
    path = str(tmp_path / "seq.sqlite")
    SQLiteSequenceStore(path)
    workers, count = 4, 25
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_finalise_many, args=(path, w, count, barrier, out))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    numbers = [n for _ in procs for n in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    shared = {n for n in numbers if n.startswith("shared ")}
    assert len(shared) == 1 and sum(n.startswith("shared ") for n in numbers) == workers
    issued = sorted(n.removeprefix("shared ") for n in {*numbers})
    assert issued == [f"INV-2026-{i:04d}" for i in range(1, workers * count + 2)]
    assert SQLiteSequenceStore(path).last("default/invoice/2026") == workers * count + 1


@given(st.lists(st.sampled_from("abcdefgh"), max_size=30))
def test_any_order_of_documents_numbers_each_once_without_gaps(documents):
    """Whatever documents ask, and however often, each first request gets the next number,
    every repeat gets the same number back, and the numbers handed out are exactly 1..n."""
    store, first = InMemorySequenceStore(), {}
    for doc in documents:
        assert store.held("k", doc) == first.get(doc)
        expected = first.setdefault(doc, len(first) + 1)
        assert store.allocate("k", doc) == expected
    assert sorted(first.values()) == list(range(1, len(first) + 1))
    assert store.last("k") == len(first)


# Runs in a fresh interpreter: allocate for draft-0, draft-1... in order, writing each
# number to the journal once it "stored the document"; right after allocating for the
# draft numbered *kill_at*, before anything else, the process SIGKILLs itself.
_CHILD = """
import os, signal, sys
from cloudrate.invoice import SQLiteSequenceStore

path, drafts, kill_at, journal = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = SQLiteSequenceStore(path)
with open(journal, "a", encoding="utf-8") as out:
    for i in range(drafts):
        number = store.allocate("default/invoice/2026", f"draft-{i}")
        if i == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        out.write(f"draft-{i} {number}\\n")
        out.flush()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_process_killed_after_allocating_gets_the_same_number_on_retry(tmp_path):
    """24 processes are each SIGKILLed right after taking a draft's number, before storing
    the draft; every retry of that draft id gets the same number back, and at the end the
    sequence is 1..N with no gap, each number held by exactly one draft."""
    path, journal, drafts = tmp_path / "seq.sqlite", tmp_path / "journal.txt", 30
    SQLiteSequenceStore(path)
    kills = [random.Random(9).randrange(drafts) for _ in range(24)]

    def run(kill_at: int) -> int:
        args = [sys.executable, "-c", _CHILD, str(path), str(drafts), str(kill_at), str(journal)]
        return subprocess.run(args, capture_output=True, timeout=60, check=False).returncode

    store = SQLiteSequenceStore(path)
    for done, kill_at in enumerate(kills, 1):
        assert run(kill_at) == -signal.SIGKILL
        # the killed draft holds its number, and nothing past it was taken
        furthest = max(kills[:done])
        assert store.held("default/invoice/2026", f"draft-{kill_at}") == kill_at + 1
        assert store.last("default/invoice/2026") == furthest + 1
    assert run(-1) == 0

    recorded: dict[str, set[int]] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        draft, number = line.split()
        recorded.setdefault(draft, set()).add(int(number))
    assert recorded == {f"draft-{i}": {i + 1} for i in range(drafts)}
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT seq, document FROM cloudrate_allocation ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    assert rows == [(i + 1, f"draft-{i}") for i in range(drafts)]
    assert store.last("default/invoice/2026") == drafts
