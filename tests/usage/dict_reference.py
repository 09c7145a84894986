"""The reference the fast CSV paths are tested against: the file rules of
:mod:`cloudrate.usage` (a header names each column once, every row has the header's
width), then each row as :class:`csv.DictReader` gives it through
:func:`cloudrate.usage.record_from_mapping`."""

from __future__ import annotations

import csv
import io

from cloudrate.exceptions import CloudrateError, ConfigError, Problem
from cloudrate.usage import UsageRecord, header_problems, record_from_mapping, wrong_width


def dict_path(text: str, source: str = "<stream>") -> list[UsageRecord]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        raise ConfigError([Problem("file", "empty_file", "empty", source=source)], source)
    names = [n.strip() for n in header]
    problems = header_problems(names, source)
    if problems:
        raise ConfigError(problems, source=source)
    records: list[UsageRecord] = []
    line = 1
    for row in rows:
        if not row:
            continue  # csv.DictReader skips empty rows, uncounted
        line += 1
        try:
            if len(row) != len(names):
                raise ValueError(wrong_width(len(row), len(names)))
            records.append(
                record_from_mapping(dict(zip(names, row, strict=True)), f"{source} line {line}")
            )
        except (CloudrateError, ValueError) as exc:
            problems.append(
                Problem(f"line {line}", "bad_record", str(exc), line=line, source=source)
            )
    if problems:
        raise ConfigError(problems, source=source)
    return records
