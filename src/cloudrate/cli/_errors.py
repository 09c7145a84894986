"""How the ``cloudrate`` command fails: one exit code per kind of failure, and errors as
text or, under ``--json``, as one JSON document on stderr.

Every command's exceptions reach :func:`report` (through the group in ``_main``), which
picks the exit code and writes the error. The table is in docs/cli.md and in
``cloudrate --help``.

>>> from cloudrate.exceptions import UsageError
>>> describe(UsageError("usage.csv line 2: quantity -1 is negative; give 0 or more"))[0]
2
>>> describe(FileNotFoundError(2, "No such file or directory", "plan.yaml"))[1]["code"]
'file_not_found'
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterator
from typing import Any

import click

from cloudrate.exceptions import CloudrateError

__all__ = [
    "BAD_INPUT",
    "EPILOG",
    "INTERNAL",
    "MISSING_EXTRA",
    "MISSING_FILE",
    "OK",
    "MissingFileError",
    "alias",
    "describe",
    "error_code",
    "extra_of",
    "report",
]

#: The command did what was asked.
OK = 0
#: A bug in cloudrate (or in a host's plug-in): an exception nobody expected.
INTERNAL = 1
#: Bad input: an invalid plan, usage, customers file or option; the library refused it.
BAD_INPUT = 2
#: A file named on the command line is missing, or a file cannot be read or written.
MISSING_FILE = 3
#: The command needs an optional extra that is not installed (``pip install 'cloudrate[..]'``).
MISSING_EXTRA = 4

#: The exit codes, as ``cloudrate --help`` lists them.
EPILOG = f"""\b
Exit codes:
  {OK}  success
  {INTERNAL}  internal error (a bug: please report it with the traceback)
  {BAD_INPUT}  bad input: invalid plan, usage, customers file or option
  {MISSING_FILE}  a file is missing or cannot be read or written
  {MISSING_EXTRA}  an optional extra is missing: run the pip install command shown

With --json, errors are one JSON object on stderr: code, message, exit_code and,
for a plan or usage file, problems (every problem found, each with its code)."""

# The optional modules and the extra that installs each (pyproject's extras).
_EXTRAS = {
    "pyarrow": "batch",
    "numpy": "batch",
    "typst": "pdf",
    "jinja2": "html",
    "openpyxl": "xlsx",
    "pandas": "pandas",
    "altair": "charts",
    "vl_convert": "charts",
    "currency_converter": "fx",
    "psycopg": "postgres",
    "dask": "dask",
    "distributed": "dask",
    "pyspark": "spark",
}
_PIP = re.compile(r"pip install '?cloudrate\[([a-z0-9_,-]+)\]'?")
_ALIASES = "cloudrate.aliases"


class MissingFileError(click.BadParameter):
    """A file named on the command line does not exist (exit code :data:`MISSING_FILE`)."""

    exit_code = MISSING_FILE


def _snake(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return words.removesuffix("_error") or words


def error_code(exc: BaseException) -> str:
    """The stable code of *exc*: its ``code``, else one derived from its class name.

    >>> error_code(KeyError("x")), error_code(type("RateNotFoundError", (Exception,), {})())
    ('key', 'rate_not_found')
    """
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code else _snake(type(exc).__name__)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def extra_of(exc: BaseException) -> str | None:
    """The extra whose absence caused *exc* (an ``ImportError`` anywhere in its chain, or
    a message that says ``pip install 'cloudrate[...]'``), or None.

    >>> extra_of(ImportError("PDF invoices need Typst and fonts: pip install 'cloudrate[pdf]'"))
    'pdf'
    >>> extra_of(ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow"))
    'batch'
    >>> extra_of(ValueError("no"))
    """
    for link in _chain(exc):
        if not isinstance(link, ImportError) and link is not exc:
            continue
        found = _PIP.search(str(link))
        if found:
            return found.group(1)
        if isinstance(link, ImportError):
            name = (link.name or "").split(".")[0]
            if name in _EXTRAS:
                return _EXTRAS[name]
    return None


def _problems(exc: BaseException) -> list[dict[str, Any]] | None:
    problems = getattr(exc, "problems", None)
    if not problems:
        return None
    out = []
    for problem in problems:
        item: dict[str, Any] = {
            "path": getattr(problem, "path", ""),
            "code": getattr(problem, "code", "problem"),
            "message": getattr(problem, "message", str(problem)),
        }
        for name in ("line", "source"):
            if getattr(problem, name, None) is not None:
                item[name] = getattr(problem, name)
        value = getattr(problem, "value", None)
        if value is not None:
            item["value"] = value if isinstance(value, str | int | bool) else repr(value)
        out.append(item)
    return out


def describe(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The exit code for *exc* and its JSON form (``code``, ``message``, ``exit_code``,
    then ``problems``, ``install`` or the library error's fields where they apply)."""
    extra = extra_of(exc)
    data: dict[str, Any]
    if extra is not None:
        install = f"pip install 'cloudrate[{extra}]'"
        text = str(exc)
        message = text if install in text else f"{text}; install it with: {install}"
        data = {"code": "missing_extra", "message": message, "extra": extra, "install": install}
        return MISSING_EXTRA, {**data, "exit_code": MISSING_EXTRA}
    if isinstance(exc, MissingFileError):
        exit_code, data = MISSING_FILE, {"code": "file_not_found", "message": exc.format_message()}
    elif isinstance(exc, click.ClickException):  # options: usage errors, bad values
        exit_code, data = BAD_INPUT, {"code": "bad_option", "message": exc.format_message()}
    elif isinstance(exc, CloudrateError):
        data = {"code": error_code(exc), "message": str(exc)}
        to_dict = getattr(exc, "to_dict", None)
        if callable(to_dict):
            data = {**to_dict(), **data}
        exit_code = BAD_INPUT
    elif isinstance(exc, OSError):
        code = "file_not_found" if isinstance(exc, FileNotFoundError) else "file_error"
        exit_code, data = MISSING_FILE, {"code": code, "message": _os_message(exc)}
    else:
        message = f"{type(exc).__name__}: {exc}"
        exit_code, data = INTERNAL, {"code": "internal_error", "message": message}
    problems = _problems(exc)
    if problems is not None:
        data["problems"] = problems
    data["exit_code"] = exit_code
    return exit_code, data


def _os_message(exc: OSError) -> str:
    if exc.filename is None:
        return str(exc)
    return f"{exc.filename}: {exc.strerror or exc}"


def alias(real: str, shown: str) -> None:
    """Name the file *real* (a temporary copy of standard input) *shown* in error messages."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta.setdefault(_ALIASES, {})[real] = shown


def _shown(text: str, aliases: dict[str, str]) -> str:
    for real, shown in aliases.items():
        text = text.replace(real, shown)
    return text


def _replace(data: Any, aliases: dict[str, str]) -> Any:
    if isinstance(data, str):
        return _shown(data, aliases)
    if isinstance(data, dict):
        return {k: _replace(v, aliases) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace(v, aliases) for v in data]
    return data


def report(exc: BaseException, *, as_json: bool, ctx: click.Context | None = None) -> int:
    """Write *exc* to stderr (JSON under *as_json*) and return its exit code.

    An internal error's traceback is written too (in text mode), to report the bug with.
    """
    exit_code, data = describe(exc)
    aliases: dict[str, str] = {} if ctx is None else ctx.meta.get(_ALIASES, {})
    data = _replace(data, aliases)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str), err=True)
        return exit_code
    if exit_code == INTERNAL:
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
        click.echo(
            "cloudrate: internal error, a bug: please report it with the traceback above",
            err=True,
        )
    elif isinstance(exc, click.ClickException):
        exc.show()  # click's own form: the usage line, then the error
    else:
        click.echo(f"error: {data['message']}", err=True)
    return exit_code
