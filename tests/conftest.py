"""Shared fixtures and Hypothesis profiles (``dev`` locally, ``ci`` when CI is set,
``CLOUDRATE_HYPOTHESIS_PROFILE`` to choose another)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from tests import _postgres

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
# The suite's second CI run, on the newest Python, is there for what differs between
# Pythons (warnings, typing, the standard library), not for more examples: fewer of them.
settings.register_profile("ci-newest", settings.get_profile("ci"), max_examples=25)
settings.load_profile(
    os.environ.get("CLOUDRATE_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def postgres_dsn(request: pytest.FixtureRequest) -> str:
    """A real PostgreSQL server's DSN: ``CLOUDRATE_TEST_POSTGRES_DSN``, or a throwaway server.

    Skips when PostgreSQL cannot run here, or fails with ``CLOUDRATE_REQUIRE_POSTGRES=1``
    (see tests/_postgres.py and docs/testing.md).
    """
    return _postgres.session_dsn(request)


@pytest.fixture
def postgres_database(postgres_dsn: str) -> Iterator[str]:
    """The DSN of a fresh database on that server, dropped after the test."""
    yield from _postgres.fresh_database(postgres_dsn)
