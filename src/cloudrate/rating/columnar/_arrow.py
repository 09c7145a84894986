"""The optional dependencies of :mod:`cloudrate.rating.columnar`, imported with a clear error."""

from __future__ import annotations

import importlib
from types import ModuleType

from cloudrate.exceptions import MissingExtraError

__all__ = ["require"]


def require(name: str) -> ModuleType:
    """Import *name* (``pyarrow``, ``numpy``...) or say which extra installs it.

    >>> require("numpy").__name__
    'numpy'
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtraError("cloudrate.rating.columnar", name.split(".")[0], "batch") from exc
