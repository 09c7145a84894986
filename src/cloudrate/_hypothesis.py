"""The Hypothesis entry point: ``st.from_type(Plan)`` and ``st.from_type(UsageRecord)`` draw
from :mod:`cloudrate.testing`.

Hypothesis runs :func:`setup` while it is itself being imported, which may happen in the
middle of importing :mod:`cloudrate.testing`; the strategies are therefore looked up only
when first drawn (``st.deferred``), never at registration.
"""

from __future__ import annotations

from hypothesis import strategies as st

from cloudrate.plans import Plan
from cloudrate.usage import UsageRecord

__all__ = ["setup"]


def setup() -> None:
    """Register cloudrate's strategies for ``st.from_type``."""

    def testing():  # type: ignore[no-untyped-def]
        from cloudrate import testing as strategies

        return strategies

    st.register_type_strategy(Plan, st.deferred(lambda: testing().plans()))
    st.register_type_strategy(UsageRecord, st.deferred(lambda: testing().usage_records()))
