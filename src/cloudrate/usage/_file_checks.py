"""What a usage file must be before its records are read: the rules both engines' readers
apply, so a file one refuses the other refuses with the same problem.

- a file of 0 bytes is refused (a failed export, not an empty month: a month without
  usage is ``rate(plan, [], period)``, or a CSV file with only its header);
- the text is UTF-8; the first bytes that are not are named by line and byte;
- a CSV header names each column once;
- every CSV row has the header's number of fields;
- no field is longer than :data:`FIELD_LIMIT` characters;
- a JSON object gives each key once.

>>> empty_file("usage.csv").problems[0].code
'empty_file'
>>> [p.code for p in header_problems(["account", "quantity", "quantity"], "u.csv")]
['duplicate_column']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cloudrate.exceptions import ConfigError, Problem

__all__ = [
    "FIELD_LIMIT",
    "RepeatedKeyError",
    "duplicate_key",
    "empty_file",
    "field_too_long",
    "header_problems",
    "not_utf8",
    "unique_keys",
    "wrong_width",
]

#: The longest field a usage file may have, in characters (the csv module's default
#: limit): no account, metric, id or attribute needs more, and a longer one is a broken
#: file (an unclosed quote swallowing the lines after it).
FIELD_LIMIT = 131_072


_NO_USAGE = (
    "rated with no records and period= given (or written as a CSV file with only its header line)"
)


def empty_file(source: str, *, no_usage: str = _NO_USAGE) -> ConfigError:
    """The error for a usage file of 0 bytes; *no_usage* says how to write a period
    without usage in that kind of file."""
    return ConfigError(
        [
            Problem(
                "file",
                "empty_file",
                "the file is empty (0 bytes), which is what a failed export leaves; a "
                f"period without usage is {no_usage}",
                source=source,
            )
        ],
        source=source,
    )


def not_utf8(raw: bytes, source: str, first_line: int = 1) -> ConfigError | None:
    """The error naming the first bytes of *raw* that are not UTF-8, or None if it all is.

    *raw* starts at line *first_line* of the file.

    >>> print(not_utf8(b"a,b\\nx,\\xff\\n", "u.csv"))
    1 problem in u.csv:
      line 2 (line 2): not UTF-8: byte 3 of the line is ff (invalid start byte); save the \
file as UTF-8 [bad_encoding]
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + raw.count(b"\n", 0, exc.start)
        byte = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = Problem(
            f"line {line}",
            "bad_encoding",
            f"not UTF-8: byte {byte} of the line is {raw[exc.start : exc.end].hex(' ')} "
            f"({exc.reason}); save the file as UTF-8",
            line=line,
            source=source,
        )
        return ConfigError([problem], source=source)
    return None


def header_problems(names: Sequence[str], source: str) -> list[Problem]:
    """A problem for each column name a CSV header gives more than once."""
    first: dict[str, int] = {}
    problems = []
    for column, name in enumerate(names, 1):
        if name in first:
            problems.append(
                Problem(
                    "line 1",
                    "duplicate_column",
                    f"the header names the column {name!r} twice (columns {first[name]} "
                    f"and {column}); name each column once",
                    line=1,
                    source=source,
                )
            )
        else:
            first[name] = column
    return problems


def field_too_long(line: int, source: str) -> ConfigError:
    """The error for a field longer than :data:`FIELD_LIMIT` characters at *line*."""
    problem = Problem(
        f"line {line}",
        "field_too_long",
        f"a field has more than the {FIELD_LIMIT} characters a usage field may have; is "
        "a quote left open on an earlier line?",
        line=line,
        source=source,
    )
    return ConfigError([problem], source=source)


def wrong_width(fields: int, width: int) -> str:
    """What is wrong with a CSV row of *fields* fields under a header of *width*.

    >>> print(wrong_width(6, 5))
    6 fields where the header has 5; quote fields that hold a comma, and give every row the \
header's columns
    """
    return (
        f"{fields} fields where the header has {width}; quote fields that hold a comma, "
        "and give every row the header's columns"
    )


def duplicate_key(key: str, line: int, source: str) -> Problem:
    """The problem of a JSON line that gives *key* twice (never "the last one wins")."""
    return Problem(
        f"line {line}",
        "duplicate_key",
        f"the key {key!r} is given twice; keep one (which one was meant cannot be guessed)",
        line=line,
        source=source,
    )


class RepeatedKeyError(Exception):
    """A JSON object gave *key* twice (raised by :func:`unique_keys`, caught by the readers,
    which report it with its line as :func:`duplicate_key`)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict: ``json.loads(text, object_pairs_hook=unique_keys)``
    refuses a key given twice instead of keeping the last.

    >>> import json
    >>> json.loads('{"a": 1, "a": 2}', object_pairs_hook=unique_keys)
    Traceback (most recent call last):
    ...
    cloudrate.usage._file_checks.RepeatedKeyError: a
    """
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKeyError(key)
            seen.add(key)
    return found
