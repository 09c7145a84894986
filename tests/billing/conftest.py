"""Every billing test runs on both stores: an SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cloudrate.billing import DocumentStore, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store lives: an SQLite path or a PostgreSQL URL (a new database)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_database"))
    return str(tmp_path / "billing.db")


@pytest.fixture
def open_new(store_location: str) -> Iterator[Callable[[], DocumentStore]]:
    """Opens more store objects on the same database (as other processes would)."""
    opened: list[DocumentStore] = []

    def new() -> DocumentStore:
        store = open_store(store_location)
        opened.append(store)
        return store

    yield new
    for store in opened:
        store.close()


@pytest.fixture
def store(open_new: Callable[[], DocumentStore]) -> DocumentStore:
    return open_new()
