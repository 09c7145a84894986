"""Shared fixtures and Hypothesis profiles (``dev`` locally, ``ci`` when CI is set)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
# CI draws the same examples on every run (derandomize), so a submission's result does not
# depend on luck; local runs keep exploring new ones.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
