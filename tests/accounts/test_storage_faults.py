"""The SQLite wallet and promo stores on a read-only, full or corrupted file raise a
StoreError naming the file, the cause and what to do, never a raw sqlite3 error, and
leave the ledger as it was (issue 12, group 4)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from moneyed import Money

from cloudrate.accounts import Ledger, SQLiteLedgerStore, SQLiteRedemptionStore
from cloudrate.exceptions import CloudrateError, StoreError
from cloudrate.rules import Redemption

AT = datetime(2026, 11, 1, 9, tzinfo=UTC)


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """*path* read-only even for root (immutable), or skip where that cannot be done."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no way to make a file read-only")
    if (
        subprocess.run(["chattr", "+i", str(path)], check=False, capture_output=True).returncode
        != 0
    ):
        pytest.skip("this filesystem does not support immutable files")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def wallet(path: Path) -> None:
    with SQLiteLedgerStore(path) as store:
        ledger = Ledger(store)
        ledger.open("acme", "EUR", at=AT)
        ledger.recharge("acme", Money("10.00", "EUR"), key="pay-1", at=AT)


def check(error: StoreError, path: Path, doing: str, fix: str) -> None:
    text = str(error)
    assert str(path) in text and f"cannot {doing}" in text and fix in text
    assert isinstance(error, CloudrateError)
    assert isinstance(error.__cause__, sqlite3.Error)


def test_a_read_only_wallet_reads_but_refuses_entries_clearly(tmp_path):
    path = tmp_path / "wallet.db"
    wallet(path)
    with read_only(path):
        store = SQLiteLedgerStore(path)
        try:
            assert store.balance("acme") == Money("10.00", "EUR")
            with pytest.raises(StoreError) as info:
                Ledger(store).recharge("acme", Money("5.00", "EUR"), key="pay-2", at=AT)
            check(info.value, path, "record the entries", "read-only")
            assert store.balance("acme") == Money("10.00", "EUR")
        finally:
            store.close()


@pytest.mark.parametrize(
    "content", [b"not a database " * 100, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_a_corrupted_wallet_file(tmp_path, content):
    path = tmp_path / "wallet.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        SQLiteLedgerStore(path)
    check(info.value, path, "open the database", "backup")


def test_a_wallet_file_with_overwritten_pages(tmp_path):
    """A valid header over garbage pages (a torn copy, a bad disk): the file is named, and
    the fix is a backup, whether opening or reading finds it."""
    path = tmp_path / "wallet.db"
    wallet(path)
    with path.open("r+b") as f:
        f.seek(100)
        f.write(b"\xff" * 20000)
    with pytest.raises(StoreError) as info, SQLiteLedgerStore(path) as store:
        store.entries("acme")
    assert str(path) in str(info.value) and "backup" in str(info.value)


def test_a_full_wallet_keeps_the_ledger_as_it_was(tmp_path):
    """The database limited to its current size stands for a full disk."""
    path = tmp_path / "wallet.db"
    wallet(path)
    with SQLiteLedgerStore(path) as store:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        ledger = Ledger(store)
        with pytest.raises(StoreError) as info:
            ledger.post(
                [
                    *(ledger_entry(i) for i in range(400)),
                ]
            )
        check(info.value, path, "record the entries", "full")
        assert ledger.balance("acme") == Money("10.00", "EUR")
        assert len(ledger.entries("acme")) == 1


def ledger_entry(i: int):
    from cloudrate.accounts import LedgerEntry

    return LedgerEntry(account="acme", kind="recharge", amount=Money("1.00", "EUR"),
                       key=f"bulk-{i}-" + "x" * 200, at=AT, memo="m" * 500)  # fmt: skip


def test_a_missing_folder(tmp_path):
    path = tmp_path / "no" / "such" / "wallet.db"
    with pytest.raises(StoreError) as info:
        SQLiteLedgerStore(path)
    check(info.value, path, "open the database", "folder exists")


class TestPromoStore:
    def test_corrupted(self, tmp_path):
        path = tmp_path / "promo.db"
        path.write_bytes(b"garbage" * 1000)
        with pytest.raises(StoreError) as info:
            SQLiteRedemptionStore(path)
        check(info.value, path, "open the database", "backup")

    def test_read_only(self, tmp_path):
        path = tmp_path / "promo.db"
        redemption = Redemption("NEWUSER-7F3K9Q", "acme", AT)
        with SQLiteRedemptionStore(path) as store:
            assert store.add(redemption, None, 5)
        with read_only(path):
            store = SQLiteRedemptionStore(path)
            try:
                assert store.count("NEWUSER-7F3K9Q") == 1
                with pytest.raises(StoreError) as info:
                    store.add(redemption, None, 5)
                check(info.value, path, "record the redemption", "read-only")
                assert store.count("NEWUSER-7F3K9Q") == 1
            finally:
                store.close()


def test_the_budget_alert_store_names_its_file_and_the_fix(tmp_path: Path) -> None:
    """The alert store (portal) is held to the same rule: a corrupted file is a StoreError."""
    from cloudrate.portal.budget import SQLiteAlertStore

    path = tmp_path / "alerts.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as caught:
        SQLiteAlertStore(path)
    check(caught.value, path, "open the database or create its table", "not an intact SQLite")
    assert caught.value.to_dict()["path"] == str(path)


def test_the_budget_alert_store_on_a_read_only_file(tmp_path: Path) -> None:
    from cloudrate.portal.budget import SQLiteAlertStore

    path = tmp_path / "alerts.db"
    SQLiteAlertStore(path).close()
    with read_only(path), SQLiteAlertStore(path) as store, pytest.raises(StoreError) as caught:
        store.mark_sent(("acme", "2026-10", "50", "actual"))
    check(caught.value, path, "record the alert as sent", "read-only")
