"""Opening a document store from the text a user writes: a file path or a PostgreSQL URL."""

from __future__ import annotations

import os

from ._postgres import PostgresDocumentStore
from ._sqlite import SQLiteDocumentStore
from ._store import DocumentStore

__all__ = ["open_store"]

_POSTGRES = ("postgresql://", "postgres://")


def open_store(location: str | os.PathLike[str]) -> DocumentStore:
    """A PostgreSQL store for a ``postgresql://`` URL, otherwise an SQLite store at the path.

    >>> import tempfile, os
    >>> store = open_store(os.path.join(tempfile.mkdtemp(), "billing.db"))
    >>> store  # doctest: +ELLIPSIS
    SQLiteDocumentStore('.../billing.db')
    >>> store.close()
    """
    text = os.fspath(location)
    if text.startswith(_POSTGRES):
        return PostgresDocumentStore(text)
    return SQLiteDocumentStore(text)
