"""Where the commands read usage from and write documents to: files, or ``-`` for the
standard streams.

``--usage -`` reads standard input; its format cannot come from a suffix, so
``--usage-format`` is required then (and for a file whose name has no known suffix).
Standard input is copied into a temporary file named for its format, so every reader,
the columnar one included (which reads a file twice when it holds copies of records),
reads it exactly as it reads a file; messages name it ``<stdin>``.

>>> usage_format("usage.CSV", None, USAGE_FORMATS)
'csv'
>>> usage_format("-", None, USAGE_FORMATS)
Traceback (most recent call last):
...
cloudrate.exceptions.UsageError: --usage -: standard input has no file name to tell its \
format; give --usage-format csv, jsonl, parquet or cloudstack
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, get_args

import attrs
import click

from cloudrate.exceptions import UsageError
from cloudrate.integrations.cloudstack import read_cloudstack
from cloudrate.usage import UsageRecord, read_usage_csv, read_usage_jsonl

from ._errors import alias

__all__ = [
    "STDIN_NAME",
    "STREAM",
    "USAGE_FORMATS",
    "UsageFormat",
    "UsageInput",
    "open_usage",
    "read_records",
    "usage_format",
]

#: The formats ``--usage-format`` names: CSV with a header, JSON lines, Parquet (the
#: columnar path only) and CloudStack ``listUsageRecords`` responses (JSON or XML).
UsageFormat = Literal["csv", "jsonl", "parquet", "cloudstack"]
USAGE_FORMATS: tuple[UsageFormat, ...] = get_args(UsageFormat)
#: ``--usage -`` and ``--out -``: the standard stream.
STREAM = "-"
#: How messages name standard input.
STDIN_NAME = "<stdin>"

# The suffixes the readers know (a .json file is JSON lines, as cloudrate.read_usage reads
# it); CloudStack files are only read as such when --usage-format says so.
_SUFFIXES: dict[str, UsageFormat] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SUFFIX_OF: dict[UsageFormat, str] = {
    "csv": ".csv",
    "jsonl": ".jsonl",
    "parquet": ".parquet",
    "cloudstack": ".json",
}


def _listed(formats: Sequence[str]) -> str:
    return ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]


def usage_format(
    name: str, given: UsageFormat | None, allowed: Sequence[UsageFormat]
) -> UsageFormat:
    """The format of the usage named *name*: *given*, else from its suffix.

    Raises:
        UsageError: *name* is ``-`` or has no known suffix and no format is given, or the
            format is not one of *allowed* (the formats the command reads).
    """
    if given is None:
        if name == STREAM:
            raise UsageError(
                "--usage -: standard input has no file name to tell its format; give "
                f"--usage-format {_listed(allowed)}"
            )
        suffix = Path(name).suffix.lower()
        found = _SUFFIXES.get(suffix)
        if found is None:
            what = f"suffix {suffix!r} is not one cloudrate reads" if suffix else "has no suffix"
            raise UsageError(
                f"--usage {name}: the file name {what}, so its format is unknown; give "
                f"--usage-format {_listed(allowed)}, or name the file .csv, .jsonl or .parquet"
            )
        given = found
    if given not in allowed:
        raise UsageError(
            f"--usage {name}: this command does not read {given} usage; give "
            f"{_listed(allowed)} usage"
        )
    return given


@attrs.frozen
class UsageInput:
    """Usage to read: *path* is a file whose suffix is its format's (a temporary copy of
    standard input, or a link to a file named otherwise); *shown* names it in messages."""

    path: Path
    fmt: UsageFormat
    shown: str


@contextlib.contextmanager
def open_usage(
    name: str, given: UsageFormat | None, allowed: Sequence[UsageFormat]
) -> Iterator[UsageInput]:
    """The usage *name* (a file, or ``-`` for standard input) in its format, readable by
    every reader while the ``with`` block runs."""
    fmt = usage_format(name, given, allowed)
    suffix = _SUFFIX_OF[fmt]
    if name != STREAM and Path(name).suffix.lower() == suffix:
        yield UsageInput(Path(name), fmt, name)
        return
    with tempfile.TemporaryDirectory(prefix="cloudrate-usage-") as tmp:
        path = Path(tmp) / f"usage{suffix}"
        if name == STREAM:
            with path.open("wb") as copy:
                shutil.copyfileobj(click.open_file("-", "rb"), copy)
            shown = STDIN_NAME
        else:
            _link(Path(name), path)
            shown = name
        alias(str(path), shown)
        yield UsageInput(path, fmt, shown)


def _link(source: Path, target: Path) -> None:
    """*target* as a name for *source*: a symbolic link, or a copy where links are refused."""
    try:
        target.symlink_to(source.absolute())
    except OSError:  # pragma: no cover - file systems without links (some Windows setups)
        shutil.copyfile(source, target)


def read_records(source: UsageInput) -> list[UsageRecord]:
    """The usage records of *source*, with the per-record reader of its format; CloudStack
    warnings (usage types not imported) go to stderr.

    Raises:
        UsageError: Parquet, which only the columnar path reads.
    """
    if source.fmt == "csv":
        return read_usage_csv(source.path)
    if source.fmt == "jsonl":
        return read_usage_jsonl(source.path)
    if source.fmt == "cloudstack":
        result = read_cloudstack(source.path)
        for warning in result.warnings():
            click.echo(f"warning: {source.shown}: {warning}", err=True)
        return list(result.records)
    raise UsageError(
        f"--usage {source.shown}: Parquet usage is read by the columnar path only: rate it "
        "with `cloudrate rate --batch` or `cloudrate bill`, or convert it to CSV or JSON lines"
    )
