"""The SQLite store's file layout: new files get large pages and a ``WITHOUT ROWID``
table of billed amounts; files made before with 4 KiB pages are read and written the same
way (tests/billing/test_billed_upgrade.py moves the billed rows of older files)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from moneyed import Money

from cloudrate import BillingPeriod, UsageRecord, rate
from cloudrate.billing import BillingRun, SQLiteDocumentStore
from cloudrate.billing._sqlite import PAGE_SIZE
from cloudrate.plans import Charge, PerUnit, Plan
from cloudrate.rating.columnar import to_table

PERIOD = BillingPeriod.month(2026, 10, "UTC")
PLAN = Plan(
    name="p",
    currency="EUR",
    charges=[Charge(name="c0", metric="vcpu_hours", model=PerUnit(Money("0.0125", "EUR")))],
)


def _layout(path: Path) -> tuple[int, str]:
    with sqlite3.connect(path) as conn:
        (page,) = conn.execute("PRAGMA page_size").fetchone()
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'cloudrate_billed_lines'"
        ).fetchone()
    conn.close()
    return page, sql


def _old_file(path: Path) -> None:
    """A store file as made before 1 December 2026: SQLite's default page size."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def _usage(count: int, extra: int = 0) -> list[UsageRecord]:
    start = PERIOD.start
    return [
        UsageRecord(
            account=f"acct{i % count:03d}",
            metric="vcpu_hours",
            quantity=Decimal(100 + i),
            start=start,
            end=start + timedelta(hours=1),
            record_id=f"r{i}",
        )
        for i in range(count + extra)
    ]


def test_a_new_file_has_large_pages_and_billed_amounts_without_rowid(tmp_path: Path) -> None:
    with SQLiteDocumentStore(tmp_path / "new.db"):
        pass
    page, sql = _layout(tmp_path / "new.db")
    assert page == PAGE_SIZE > 4096
    assert sql.rstrip().upper().endswith("WITHOUT ROWID")


def test_a_file_made_before_keeps_its_page_size_and_bills_the_same(tmp_path: Path) -> None:
    _old_file(tmp_path / "old.db")
    with (
        SQLiteDocumentStore(tmp_path / "old.db") as old,
        SQLiteDocumentStore(tmp_path / "new.db") as new,
    ):
        for usage in (_usage(30), _usage(30), _usage(30, extra=3)):  # a rerun, late usage
            BillingRun(store=old).bill_table(PLAN, to_table(usage), PERIOD, batch=7)
            BillingRun(store=new).bill(rate(PLAN, usage, PERIOD))
            assert old.documents() == new.documents()
            assert old.events() == new.events()
            assert old.sequences() == new.sequences()
            assert old.period_billed(PERIOD.label) == new.period_billed(PERIOD.label)
        assert [d.kind for d in old.documents()].count("supplementary") == 3
    assert _layout(tmp_path / "old.db")[0] == 4096


def test_every_document_is_read_back_under_sqlites_default_parameter_cap(tmp_path: Path) -> None:
    """Reading every document looks their billed amounts up a part of the numbers at a
    time: more documents than SQLite's default cap of 32,766 parameters a statement
    (builds such as Debian's raise the cap; it is set back to the default here)."""
    with SQLiteDocumentStore(tmp_path / "many.db") as store:
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
        usage = _usage(33_000)
        BillingRun(store=store).bill_table(PLAN, to_table(usage), PERIOD, batch=5000)
        found = store.documents()
        assert len(found) == 33_000
        assert all(len(d.billed) == 1 for d in found)
        assert found[0].billed[0].amount == rate(PLAN, usage[:1], PERIOD).total.amount
