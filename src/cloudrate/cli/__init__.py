"""The ``cloudrate`` command line: one module per command group, driving the layers below.

The sample plan and usage the demo rates ship in ``cloudrate/cli/data``
(:mod:`cloudrate.cli.samples`). Click is imported only when :func:`main` is reached.
"""

from __future__ import annotations

from typing import Any

from .samples import sample_plan_path, sample_usage_path

__all__ = ["main", "sample_plan_path", "sample_usage_path"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from ._main import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
