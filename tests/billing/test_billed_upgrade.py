"""Stores made before 2 December 2026 kept a row per billed line in ``cloudrate_billed``;
opening one moves them to a row per document (``cloudrate_billed_lines``), on both
stores, and the store then reads and bills exactly as one made new."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from moneyed import Money

from cloudrate import BillingPeriod, UsageRecord, rate
from cloudrate.billing import BillingRun, DocumentStore, open_store
from cloudrate.exceptions import StoreError
from cloudrate.plans import Charge, PerUnit, Plan
from cloudrate.rating.columnar import to_table

PERIOD = BillingPeriod.month(2026, 10, "UTC")
PLAN = Plan(
    name="p",
    currency="EUR",
    charges=[
        Charge(name="c0", metric="vcpu_hours", model=PerUnit(Money("0.0125", "EUR"))),
        Charge(name="c1", metric="ram_gb_hours", model=PerUnit(Money("0.004", "EUR"))),
    ],
)

#: The billed table of stores made before 2 December 2026, as they created it.
_OLD_BILLED = (
    "CREATE TABLE cloudrate_billed (tenant TEXT NOT NULL, number TEXT NOT NULL, "
    "customer TEXT NOT NULL, period TEXT NOT NULL, line TEXT NOT NULL, amount TEXT NOT NULL, "
    "quantity TEXT NOT NULL, PRIMARY KEY (tenant, number, line), FOREIGN KEY (tenant, number) "
    "REFERENCES cloudrate_document (tenant, number))"
)


def _usage(count: int, extra: int = 0) -> list[UsageRecord]:
    start = PERIOD.start
    return [
        UsageRecord(
            account=f"acct{i % count:03d}",
            metric=("vcpu_hours", "ram_gb_hours")[i // count % 2],
            quantity=Decimal(100 + i),
            start=start,
            end=start + timedelta(hours=1),
            record_id=f"r{i}",
        )
        for i in range(2 * count + extra)
    ]


@contextmanager
def _raw(location: str) -> Iterator[tuple[Any, Callable[[str], str]]]:
    """A plain connection to the store's database, and how its queries mark parameters."""
    if location.startswith("postgresql"):
        import psycopg

        with psycopg.connect(location) as conn:  # one transaction, committed at the end
            yield conn, lambda q: q.replace("?", "%s")
    else:
        with closing(sqlite3.connect(location)) as conn, conn:
            yield conn, lambda q: q


def _as_made_before(location: str) -> int:
    """Give the store the old layout: a row per billed line; the rows written."""
    with _raw(location) as (conn, sql):
        rows = conn.execute("SELECT * FROM cloudrate_billed_lines").fetchall()
        conn.execute(_OLD_BILLED)
        conn.execute("CREATE INDEX cloudrate_billed_period ON cloudrate_billed (tenant, period)")
        old = [(*row[:4], *line) for row in rows for line in json.loads(row[4])]
        conn.cursor().executemany(
            sql("INSERT INTO cloudrate_billed VALUES (?, ?, ?, ?, ?, ?, ?)"), old
        )
        conn.execute("DROP TABLE cloudrate_billed_lines")
    return len(old)


def _tables(location: str) -> set[str]:
    with _raw(location) as (conn, _):
        if location.startswith("postgresql"):
            query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {r[0] for r in conn.execute(query).fetchall()}


def _same(old: DocumentStore, new: DocumentStore) -> None:
    assert old.documents() == new.documents()
    assert old.events() == new.events()
    assert old.sequences() == new.sequences()
    assert old.period_billed(PERIOD.label) == new.period_billed(PERIOD.label)


def test_an_old_store_is_moved_over_and_bills_as_a_new_one(
    store_location: str, tmp_path: Path
) -> None:
    with open_store(store_location) as old, open_store(str(tmp_path / "new.db")) as new:
        BillingRun(store=old).bill_table(PLAN, to_table(_usage(30)), PERIOD, batch=7)
        BillingRun(store=new).bill(rate(PLAN, _usage(30), PERIOD))
        before = old.documents()
        _same(old, new)
    assert _as_made_before(store_location) == 60  # 30 invoices of two lines
    assert "cloudrate_billed_lines" not in _tables(store_location)
    with open_store(store_location) as old, open_store(str(tmp_path / "new.db")) as new:
        tables = _tables(store_location)
        assert "cloudrate_billed" not in tables and "cloudrate_billed_lines" in tables
        assert old.documents() == before
        assert all(len(d.billed) == 2 for d in before)
        _same(old, new)
        for usage in (_usage(30), _usage(30, extra=3)):  # a rerun, then late usage
            BillingRun(store=old).bill_table(PLAN, to_table(usage), PERIOD, batch=7)
            BillingRun(store=new).bill(rate(PLAN, usage, PERIOD))
            _same(old, new)
        after = old.documents()
        assert [d.kind for d in after].count("supplementary") == 3
    with open_store(store_location) as again:  # opening once more moves nothing
        assert again.documents() == after


def test_both_paths_store_the_same_billed_text(tmp_path: Path) -> None:
    """The columnar run writes the ``lines`` column as billed_json does, byte for byte."""
    paths = tmp_path / "fast.db", tmp_path / "objects.db"
    with open_store(str(paths[0])) as fast, open_store(str(paths[1])) as objects:
        BillingRun(store=fast).bill_table(PLAN, to_table(_usage(9)), PERIOD)
        BillingRun(store=objects).bill(rate(PLAN, _usage(9), PERIOD))
    texts = []
    for path in paths:
        with _raw(str(path)) as (conn, _):
            query = "SELECT number, lines FROM cloudrate_billed_lines ORDER BY number"
            texts.append(conn.execute(query).fetchall())
    assert texts[0] == texts[1]
    assert len(texts[0]) == 9
    assert json.loads(texts[0][0][1])[0][0] == "charge:c0"


@pytest.mark.parametrize(
    "written",
    ['[["charge:c0",1,"2"]]', '{"charge:c0": "1"}', "not json", '[["charge:c0","x","2"]]'],
)
def test_billed_amounts_changed_outside_cloudrate_are_refused_by_number(
    store_location: str, written: str
) -> None:
    with open_store(store_location) as store:
        BillingRun(store=store).bill_table(PLAN, to_table(_usage(2)), PERIOD)
        number = store.documents()[0].number
    with _raw(store_location) as (conn, sql):
        conn.execute(
            sql("UPDATE cloudrate_billed_lines SET lines = ? WHERE number = ?"), (written, number)
        )
    with open_store(store_location) as store:
        run, sequences = BillingRun(store=store), store.sequences()
        reads = [store.documents, lambda: run.bill_table(PLAN, to_table(_usage(2)), PERIOD)]
        if written != '[["charge:c0","x","2"]]':  # the shape is checked on every read
            reads.append(lambda: store.period_billed(PERIOD.label))
        for read in reads:
            with pytest.raises(StoreError, match=r"billed amounts? of ") as caught:
                read()
            assert number in str(caught.value) or "acct000" in str(caught.value)
            assert "restore it from a backup" in str(caught.value)
            assert caught.value.code == "store_unavailable"
        assert store.sequences() == sequences  # the refused run took no number
