"""Database connections a store owns: closed when the store is forgotten, and said so.

Every SQLite store opens one connection and closes it in ``close()``. One never closed is
closed when its store is collected, with a :class:`ResourceWarning` naming the store, so a
leak is visible but never crashes (Python 3.13 reports unclosed connections itself).
"""

from __future__ import annotations

import warnings
import weakref
from typing import Protocol

__all__ = ["closes_forgotten"]


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
