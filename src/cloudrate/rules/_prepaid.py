"""Prepaid hourly billing (billing setting 6). Filled in below."""

from __future__ import annotations

import attrs

__all__ = ["PrepaidHourly"]


@attrs.frozen
class PrepaidHourly:
    """Deduct prepaid usage every hour when *enabled*, else every day (or month)."""

    enabled: bool = False
