"""The Hypothesis entry point: ``st.from_type(Plan)`` and ``st.from_type(UsageRecord)`` draw
from :mod:`cloudrate.testing`.

Hypothesis runs :func:`setup` while it is itself being imported, which may happen in the
middle of importing :mod:`cloudrate.testing`; the strategies are therefore looked up only
when first drawn (``st.deferred``), never at registration.
"""

from __future__ import annotations

import importlib
from typing import Any

from hypothesis import strategies as st

from cloudrate.plans import Plan
from cloudrate.usage import UsageRecord

__all__ = ["setup"]


def _strategy(name: str) -> st.SearchStrategy[Any]:
    """The strategy *name* of :mod:`cloudrate.testing`, looked up when first drawn."""

    def build() -> st.SearchStrategy[Any]:
        strategy: st.SearchStrategy[Any] = getattr(
            importlib.import_module("cloudrate.testing"), name
        )()
        return strategy

    return st.deferred(build)


def setup() -> None:
    """Register cloudrate's strategies for ``st.from_type``."""
    st.register_type_strategy(Plan, _strategy("plans"))
    st.register_type_strategy(UsageRecord, _strategy("usage_records"))
