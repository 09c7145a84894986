"""Options several commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["plan_option", "usage_option"]

#: ``--plan PATH``: the plan file, passed as ``plan_path``.
plan_option = click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Plan file (YAML).",
)


def usage_option(kinds: str) -> Callable[[Any], Any]:
    """``--usage PATH``: the usage file, passed as ``usage_path``; *kinds* names the types."""
    return click.option(
        "--usage",
        "usage_path",
        required=True,
        type=click.Path(exists=True, path_type=Path),
        help=f"Usage file ({kinds}).",
    )
