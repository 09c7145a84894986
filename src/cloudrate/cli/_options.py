"""Options several commands share, declared once."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from ._errors import MissingFileError
from ._streams import STREAM, UsageFormat

__all__ = ["InputPath", "json_option", "plan_option", "usage_option"]


class InputPath(click.Path):
    """An existing file (or ``-`` where *allow_dash*): a missing one is
    :class:`MissingFileError`, exit code 3, rather than click's usage error."""

    def __init__(self, *, allow_dash: bool = False, as_text: bool = False) -> None:
        super().__init__(exists=True, allow_dash=allow_dash, path_type=str if as_text else Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = os.fsdecode(value) if isinstance(value, bytes | os.PathLike) else str(value)
        if not (self.allow_dash and text == STREAM) and not os.path.lexists(text):
            raise MissingFileError(f"{text!r}: no such file (it does not exist)", ctx, param)
        return super().convert(value, param, ctx)


#: ``--plan PATH``: the plan file, passed as ``plan_path``.
plan_option = click.option(
    "--plan",
    "plan_path",
    required=True,
    type=InputPath(),
    help="Plan file (YAML).",
)

#: ``--json``, passed as ``as_json``; errors are then JSON on stderr too.
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output; errors as JSON on stderr.",
)


def usage_option(formats: Sequence[UsageFormat]) -> Callable[[Any], Any]:
    """``--usage PATH|-`` (passed as ``usage_name``, text) and ``--usage-format`` (passed
    as ``usage_fmt``), for a command that reads the usage *formats*."""
    listed = ", ".join(formats)

    def decorate(function: Any) -> Any:
        function = click.option(
            "--usage-format",
            "usage_fmt",
            type=click.Choice(list(formats)),
            help="Format of the usage; required for - and for names without a known suffix "
            "(.csv, .jsonl/.ndjson/.json, .parquet).",
        )(function)
        return click.option(
            "--usage",
            "usage_name",
            required=True,
            type=InputPath(allow_dash=True, as_text=True),
            help=f"Usage file ({listed}), or - for standard input.",
        )(function)

    return decorate
