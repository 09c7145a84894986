"""Paths of the sample plan and usage shipped inside the package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["sample_plan_path", "sample_usage_path"]


def _data(name: str) -> Path:
    return Path(str(files("cloudrate.cli") / "data" / name))


def sample_plan_path() -> Path:
    """The sample plan: a small CloudStack-like cloud priced in EUR."""
    return _data("sample_plan.yaml")


def sample_usage_path() -> Path:
    """A month (October 2026) of usage of a few accounts, as CSV."""
    return _data("sample_usage.csv")
