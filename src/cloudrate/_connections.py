"""Database connections a store owns: closed when the store is forgotten, and said so;
and the storage faults of SQLite stores as errors that name the file and the fix.

Every SQLite store opens one connection and closes it in ``close()``. One never closed is
closed when its store is collected, with a :class:`ResourceWarning` naming the store, so a
leak is visible but never crashes (Python 3.13 reports unclosed connections itself).

A store on a read-only file, a full disk or a corrupted file would raise :mod:`sqlite3`'s
own errors, which name neither the store nor what to do. Store methods run under
:func:`storage_faults`, which turns them into a
:class:`~cloudrate.exceptions.StoreError` saying the file, what was being done, the
cause SQLite gave and what to do about it; the transaction is rolled back, so nothing of
the step was written.
"""

from __future__ import annotations

import functools
import sqlite3
import warnings
import weakref
from collections.abc import Callable
from os import PathLike
from typing import Protocol, TypeVar

from cloudrate.exceptions import StoreError

__all__ = ["closes_forgotten", "fault", "storage_faults"]


class _Closable(Protocol):
    def close(self) -> None: ...


def _close_forgotten(connection: _Closable, name: str) -> None:
    connection.close()
    warnings.warn(
        f"{name} was never closed; call close() or open it with `with`",
        ResourceWarning,
        stacklevel=2,
    )


def closes_forgotten(
    owner: object, connection: _Closable
) -> weakref.finalize[[_Closable, str], object]:
    """Close *connection* when *owner* is collected without closing it, and warn; call
    ``detach()`` on the result when the owner closes it itself.

    >>> import sqlite3
    >>> class Store:
    ...     def __init__(self):
    ...         self.db = sqlite3.connect(":memory:")
    ...         self.watch = closes_forgotten(self, self.db)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     forgotten = Store()
    ...     del forgotten
    >>> str(caught[0].message).endswith("was never closed; call close() or open it with `with`")
    True
    """
    return weakref.finalize(owner, _close_forgotten, connection, repr(owner))


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
        "was written.",
        path=str(path),
        value=cause,
        fix=fix,
    )
    error.cause = cause  # type: ignore[attr-defined]
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
