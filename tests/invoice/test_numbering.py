"""Numbering: templates, gapless unique sequences, concurrency across processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import BillingPeriod
from cloudrate.exceptions import InvoiceError, InvoiceStateError, SequenceError
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
            try:
                numbers.append(
                    _draft(-1).finalise(numbering, store, issued_on=ON, terms=Net(30)).number
                )
            except InvoiceStateError:
                numbers.append("refused")
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
        ],
    )
    def test_bad_templates_are_refused(self, template, message):
        with pytest.raises(InvoiceError, match=message):
            Numbering(template)

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

    def test_gapless_and_finalising_twice_consumes_nothing(self, store):
        """A document holds one number; a second allocation is refused and takes none."""
        assert [store.allocate("k", d) for d in "abc"] == [1, 2, 3]
        with pytest.raises(InvoiceStateError, match="already holds number 2"):
            store.allocate("k", "b")
        assert store.last("k") == 3
        assert store.allocate("k", "d") == 4

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
        """The sequence lives in the file: a new store object continues it."""
        SQLiteSequenceStore(tmp_path / "s.db").allocate("k", "a")
        assert SQLiteSequenceStore(tmp_path / "s.db").allocate("k", "b") == 2

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
    a barrier, and all race to finalise one shared draft: the shared draft gets exactly one
    number and the 101 numbers are INV-2026-0001..0101, each exactly once."""
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
    assert numbers.count("refused") == workers - 1
    issued = sorted(n for n in numbers if n != "refused")
    assert issued == [f"INV-2026-{i:04d}" for i in range(1, workers * count + 2)]
    assert SQLiteSequenceStore(path).last("default/invoice/2026") == workers * count + 1


@given(st.lists(st.sampled_from("abcdefgh"), max_size=30))
def test_any_order_of_documents_numbers_each_once_without_gaps(documents):
    """Whatever documents ask, and however often, each first request gets the next number,
    every repeat is refused, and the numbers handed out are exactly 1..n."""
    store, seen, got = InMemorySequenceStore(), set(), []
    for doc in documents:
        if doc in seen:
            with pytest.raises(InvoiceStateError):
                store.allocate("k", doc)
        else:
            got.append(store.allocate("k", doc))
            seen.add(doc)
    assert got == list(range(1, len(seen) + 1)) and store.last("k") == len(seen)
