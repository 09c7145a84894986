"""Storage faults of the SQLite account stores, as errors that name the file and the fix.

A wallet or promo store on a read-only file, a full disk or a corrupted file would raise
:mod:`sqlite3`'s own errors, which name neither the store nor what to do. Every public
method of those stores runs under :func:`storage_faults`, which turns them into a
:class:`~cloudrate.exceptions.StoreError` saying the file, what was being done, the
cause SQLite gave and what to do about it; the transaction is rolled back, so nothing of
the step was written.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from os import PathLike
from typing import Protocol, TypeVar

from cloudrate.exceptions import StoreError

__all__ = ["fault", "storage_faults"]

R = TypeVar("R")

#: What SQLite says, and what to do about it.
_FIXES = (
    (
        "readonly",
        (
            "the file (or its folder) is read-only; give the process write access to both "
            "(SQLite writes -wal and -shm files beside the database)"
        ),
    ),
    ("disk is full", "the disk is full; free space on it, then retry"),
    ("disk i/o error", "the disk failed to read or write; check the disk, then retry"),
    (
        "not a database",
        (
            "the file is not an intact SQLite database; restore it from a backup, or point "
            "the store at a new file"
        ),
    ),
    (
        "malformed",
        "the file is corrupted; restore it from a backup, or point the store at a new file",
    ),
    (
        "locked",
        (
            "another process held the write lock longer than the store's timeout; retry, "
            "or open the store with a larger timeout"
        ),
    ),
    (
        "unable to open",
        "the file cannot be opened; check that its folder exists and is writable",
    ),
)


def fault(store: str, path: str | PathLike[str], doing: str, exc: sqlite3.Error) -> StoreError:
    """The :class:`StoreError` for *exc*, raised while *store* at *path* was *doing*.

    >>> import sqlite3
    >>> print(fault("wallet store", "/srv/wallet.db", "record the entries",
    ...             sqlite3.OperationalError("attempt to write a readonly database")))
    wallet store /srv/wallet.db: cannot record the entries (SQLite: attempt to write a \
readonly database); the file (or its folder) is read-only; give the process write access to \
both (SQLite writes -wal and -shm files beside the database). Nothing of this step was written.
    """
    cause = str(exc)
    fix = next(
        (text for needle, text in _FIXES if needle in cause.lower()),
        "check that the file is a writable SQLite database on a healthy disk",
    )
    error = StoreError(
        f"{store} {path}: cannot {doing} (SQLite: {cause}); {fix}. Nothing of this step "
        "was written."
    )
    error.path, error.cause, error.fix = str(path), cause, fix  # type: ignore[attr-defined]
    return error


class _Store(Protocol):
    path: str | PathLike[str]


def storage_faults(store: str, doing: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Run a store method so that SQLite's errors become :func:`fault`'s, with *store*
    naming the kind of store and *doing* what the method does."""

    def decorate(method: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(method)
        def wrapper(self: _Store, *args: object, **kwargs: object) -> R:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise fault(store, self.path, doing, exc) from exc

        return wrapper

    return decorate
