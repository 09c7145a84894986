"""lxml, imported only when an e-invoice is written, with a message naming the extra."""

from __future__ import annotations

from typing import Any

from cloudrate.exceptions import MissingExtraError

__all__ = ["etree"]


def etree() -> Any:
    """The ``lxml.etree`` module, or an ImportError saying how to install it."""
    try:
        from lxml import etree as module  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("e-invoices", "lxml", "einvoice") from None
    return module
