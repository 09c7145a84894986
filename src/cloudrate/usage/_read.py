"""Readers that load usage records from CSV and JSON lines.

A usage record says that *account* used *quantity* of *metric* between *start* and
*end*. Quantities are Decimals in the unit the plan declares as the metric's
``usage_unit``; times are timezone-aware.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO, Any

from cloudrate.exceptions import CloudrateError, ConfigError, Problem, UsageError

from ._arrow_csv import RefusedError, csv_columns
from ._file_checks import (
    RepeatedKeyError,
    duplicate_key,
    empty_file,
    field_too_long,
    header_problems,
    not_utf8,
    unique_keys,
    wrong_width,
)
from ._identity import _attribute_items, _quantity_keys, parse_revision
from ._record import _EMPTY, UsageRecord, _FrozenAttrs, _quantities, parse_quantity

__all__ = [
    "MISSING_TEXTS",
    "RECORD_FIELDS",
    "REQUIRED_FIELDS",
    "is_missing",
    "parse_time",
    "read_usage",
    "read_usage_csv",
    "read_usage_jsonl",
    "read_usage_text",
    "record_from_mapping",
]


#: The texts that mean "no value" in a usage file: only the empty field. Every other text
#: ("NA", "N/A", "null", "NaN", "-", ...) is kept as written, by this reader and by the
#: columnar engine's readers alike, so an attribute ``region=NA`` is selected by
#: ``where: {region: NA}`` on both paths.
MISSING_TEXTS: tuple[str, ...] = ("",)

#: The fields of a usage record with a meaning of their own, in file order; every other
#: column or key is an attribute. Both engines' readers read these.
RECORD_FIELDS = (
    "account",
    "metric",
    "quantity",
    "start",
    "end",
    "record_id",
    "revision",
    "resource_id",
    "service",
)
#: The fields every usage record must have.
REQUIRED_FIELDS = ("account", "metric", "quantity", "start", "end")


_TOO_FINE = re.compile(r"[.,]\d{7,}")  # a fraction of a second past microseconds


def parse_time(text: object, field: str) -> datetime:
    """An aware datetime from ISO 8601 text as usage files write it: the one rule both
    engines' readers apply (surrounding spaces ignored, an offset or ``Z`` required, at
    most 6 decimals of a second).

    >>> parse_time(" 2026-10-01T02:00:00+02:00 ", "start").isoformat()
    '2026-10-01T02:00:00+02:00'
    """
    if isinstance(text, datetime):
        return text
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{field}: missing; give an ISO 8601 time with offset")
    if _TOO_FINE.search(text):
        raise UsageError(
            f"{field}: {text.strip()!r} has more than 6 decimals of a second; times are exact "
            "to the microsecond, round the time to at most 6 decimals"
        )
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{field}: {text!r} is not an ISO 8601 time; write e.g. 2026-10-01T00:00:00+00:00"
        ) from None
    if moment.utcoffset() is None:
        raise UsageError(
            f"{field}: {moment.isoformat()} has no timezone; give an aware datetime "
            "such as 2026-10-01T00:00:00+00:00"
        )
    return moment


def record_from_mapping(row: Mapping[str, Any], origin: str | None = None) -> UsageRecord:
    """Build a record from a dict as CSV or JSON give it (strings for numbers and times).

    Columns beyond the record's own fields become attributes; in CSV, columns named
    ``attr.NAME`` (or ``attributes.NAME``) do too, without the prefix. ``record_id`` and
    ``revision`` are optional (see :func:`cloudrate.usage.dedupe`); *origin* says where
    the row was read, for messages.
    """
    if None in row:  # csv.DictReader's key for values beyond the header's columns
        raise UsageError(
            "the row has more fields than the header; quote fields that hold a comma, and "
            "give every row the header's columns"
        )
    missing = [f for f in REQUIRED_FIELDS if is_missing(row.get(f))]
    if missing:
        raise UsageError(
            f"missing {', '.join(missing)}; every record needs {', '.join(REQUIRED_FIELDS)}"
        )
    attributes: dict[str, object] = {}
    nested = row.get("attributes")
    if isinstance(nested, Mapping):
        attributes.update(nested)
    elif not is_missing(nested):
        raise UsageError(f"attributes: expected an object of name: value, got {nested!r}")
    for key, value in row.items():
        if key in RECORD_FIELDS or key == "attributes" or is_missing(value):
            continue
        name = key.split(".", 1)[1] if key.startswith(("attr.", "attributes.")) else key
        attributes[name] = value
    return UsageRecord(
        account=str(row["account"]),
        metric=str(row["metric"]),
        quantity=row["quantity"],
        start=parse_time(row["start"], "start"),
        end=parse_time(row["end"], "end"),
        record_id=_opt(row.get("record_id")),
        revision=None if is_missing(row.get("revision")) else row["revision"],
        resource_id=_opt(row.get("resource_id")),
        service=_opt(row.get("service")),
        attributes=attributes,
        origin=origin,
    )


def is_missing(value: object) -> bool:
    """Whether a field read from a usage file holds no value (absent, null or empty).

    >>> is_missing(""), is_missing(None), is_missing("NA"), is_missing("null")
    (True, True, False, False)
    """
    return value is None or value in MISSING_TEXTS


def _opt(value: object) -> str | None:
    return None if is_missing(value) else str(value)


def _collect(rows: Iterable[tuple[int, Mapping[str, Any]]], source: str) -> list[UsageRecord]:
    records: list[UsageRecord] = []
    problems: list[Problem] = []
    for line, row in rows:
        try:
            records.append(record_from_mapping(row, f"{source} line {line}"))
        except CloudrateError as exc:
            problems.append(
                Problem(f"line {line}", "bad_record", str(exc), line=line, source=source)
            )
    if problems:
        raise ConfigError(problems, source=source)
    return records


def _open_text(source: str | Path | IO[str]) -> tuple[IO[str], str, bool]:
    if isinstance(source, str | Path):
        # utf-8-sig: spreadsheet exports start with a byte-order mark, which would
        # otherwise become part of the first column's name.
        return Path(source).open(encoding="utf-8-sig", newline=""), str(source), True
    return source, getattr(source, "name", "<stream>"), False


def read_usage_csv(source: str | Path | IO[str]) -> list[UsageRecord]:
    """Read usage records from CSV with a header row; every bad row is reported at once.

    >>> import io
    >>> text = '''account,metric,quantity,start,end,offering
    ... acme,vcpu_hours,2,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,small
    ... '''
    >>> [r] = read_usage_csv(io.StringIO(text))
    >>> r.quantity, r.attributes["offering"]
    (Decimal('2'), 'small')

    Rows are built a batch at a time, with Python's cyclic garbage collector paused
    while the records are built (they hold no reference cycles; it is turned back on
    after). A file of 8 MiB or more without quotes is split into rows by pyarrow's CSV
    parser when pyarrow is installed, which gives the rows the csv module gives (the
    same records, origins and errors), about three times faster.
    """
    if isinstance(source, str | Path):
        found = csv_columns(Path(source), _BATCH)
        if found is not None:  # a large file pyarrow splits into the same rows
            names, batches = found
            try:
                with _collector_paused():
                    rows = _CsvRows([n.strip() for n in names], str(source))
                    return rows.collect_columns(batches)
            except RefusedError:
                pass  # pyarrow refused a row further on: the csv module reads the file
    stream, name, close = _open_text(source)
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None:
            raise empty_file(name)
        names = [n.strip() for n in header]  # " region" names the column region, as in batch
        problems = header_problems(names, name)
        if problems:
            raise ConfigError(problems, source=name)
        with _collector_paused():
            return _CsvRows(names, name).collect(reader)
    except UnicodeDecodeError as exc:
        raise _undecodable(source, name, exc) from None
    except csv.Error as exc:
        line = reader.line_num
        if "field limit" in str(exc):
            raise field_too_long(line, name) from None
        problem = Problem(f"line {line}", "bad_record", f"CSV: {exc}", line=line, source=name)
        raise ConfigError([problem], source=name) from None
    finally:
        if close:
            stream.close()


def _undecodable(source: str | Path | IO[str], name: str, exc: UnicodeDecodeError) -> ConfigError:
    """The error for text that is not UTF-8: the line and byte, read again from the file
    (a stream names the byte of its decoding step only)."""
    if isinstance(source, str | Path):
        try:
            found = not_utf8(Path(source).read_bytes(), name)
        except OSError:
            found = None
        if found is not None:
            return found
    problem = Problem(
        "file", "bad_encoding", f"not UTF-8 ({exc.reason}); save the file as UTF-8", source=name
    )
    return ConfigError([problem], source=name)


class _CollectorPause:
    """Python's cyclic garbage collector paused while readers build their records.

    Records, their rows and their values hold no reference cycles, so the collector has
    nothing to find among them; but it counts every row and record allocated and walks
    all of them again and again as the list grows, which took about a third of the time
    of reading a large CSV. It is turned back on (if it was on) when the last reader
    running ends, so nested and concurrent reads leave it as they found it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0  # readers running with the collector paused
        self.resume = False  # whether the last of them turns it back on

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.running == 0:
                self.resume = gc.isenabled()
                gc.disable()
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if self.running == 0 and self.resume:
                    gc.enable()


_collector_paused = _CollectorPause()


#: The most entries each cache of one CSV file keeps (it starts again when full).
_CACHE_SIZE = 1 << 16
#: The rows read and built together, a column at a time.
_BATCH = 4096


class _CsvRows:
    """The records of one CSV file, a batch of rows at a time.

    Rows are read in batches of :data:`_BATCH`, from :func:`csv.reader` (:meth:`collect`)
    or as columns from pyarrow's parser (:meth:`collect_columns`). A batch of ordinary
    rows (all as wide as the header, every value one the rules take, no revisions and no
    ``attributes`` column with a value) is built a column at a time (:meth:`columns`,
    :meth:`UsageRecord._checked_columns`), most of it in C. The rows of any other batch
    are built one by one: rows the fast path takes with :meth:`UsageRecord._checked`
    from the columns by position, with the same rules as :func:`record_from_mapping`
    (the same parsers, their results cached per text: timestamps and quantities repeat
    on many rows of an hourly export; account, metric and attribute texts shared). Any
    row it does not take (a missing or empty required field, a row of another width, an
    ``attributes`` column with a value, any value a rule refuses) goes through
    :func:`record_from_mapping` as the dict :class:`csv.DictReader` gives, so a record
    and every error message are the same whichever way the row went.
    """

    def __init__(self, names: list[str], source: str) -> None:
        self.names, self.source, self.width = names, source, len(names)
        where = {n: i for i, n in enumerate(names)}
        # A name used twice (the last column wins in a dict) or a missing required
        # column: every row goes the dict way.
        self.fast = len(where) == len(names) and all(f in where for f in REQUIRED_FIELDS)
        self.at = tuple(where.get(f, -1) for f in RECORD_FIELDS)
        self.nested = where.get("attributes", -1)
        self.attrs = tuple(
            (n.split(".", 1)[1] if n.startswith(("attr.", "attributes.")) else n, i)
            for i, n in enumerate(names)
            if n not in RECORD_FIELDS and n != "attributes"
        )
        self.times: dict[str, datetime] = {}
        self.quantities: dict[str, Decimal] = {}
        self.texts: dict[str, str] = {}
        # attribute values of a row (by self.attrs) -> its attributes, and their form
        # in the identity key; records with the same attributes share them (read-only)
        self.attribute_sets: dict[Any, tuple[Mapping[str, str], tuple[tuple[str, str], ...]]] = {}
        self.records: list[UsageRecord] = []
        self.problems: list[Problem] = []
        self.line = 1  # of the last row read: the header's first

    def collect(self, rows: Iterable[list[str]]) -> list[UsageRecord]:
        """The records of the rows :func:`csv.reader` gives after the header."""
        rows = iter(rows)
        while chunk := list(islice(rows, _BATCH)):
            batch = list(filter(None, chunk))  # csv.DictReader skips empty rows, uncounted
            if batch:
                self.take(self.batch(batch, self.line + 1) if self.fast else None, batch)
        return self.result()

    def collect_columns(self, batches: Iterable[list[list[str]]]) -> list[UsageRecord]:
        """The records of the rows after the header given a batch at a time as columns
        (as :func:`~cloudrate.usage._arrow_csv.csv_columns` gives them: empty rows
        skipped, every row as wide as the header)."""
        for columns in batches:
            if columns and columns[0]:
                built = self.columns(columns, self.line + 1) if self.fast else None
                rows = [] if built is not None else [list(r) for r in zip(*columns, strict=True)]
                self.take(built, rows)
        return self.result()

    def take(self, built: list[UsageRecord] | None, rows: list[list[str]]) -> None:
        """Add the records of a batch: *built* a column at a time, else each of *rows*."""
        if built is not None:
            self.records += built
            self.line += len(built)
            return
        for row in rows:
            self.line += 1
            try:
                self.records.append(self.one(row, self.line))
            except CloudrateError as exc:
                line = self.line
                self.problems.append(
                    Problem(f"line {line}", "bad_record", str(exc), line=line, source=self.source)
                )

    def result(self) -> list[UsageRecord]:
        """The records read, or every problem found."""
        if self.problems:
            raise ConfigError(self.problems, source=self.source)
        return self.records

    def one(self, row: list[str], line: int) -> UsageRecord:
        """The record of the row at *line* (raises what :func:`record_from_mapping` does)."""
        if len(row) != self.width:  # never guessed: which field is extra or missing?
            raise UsageError(wrong_width(len(row), self.width))
        origin = f"{self.source} line {line}"
        if self.fast and len(row) == self.width:
            try:
                return self.record(row, origin)
            except Exception:  # the dict way below says what is wrong, if anything
                pass
        return record_from_mapping(self.mapping(row), origin)

    def batch(self, rows: list[list[str]], first: int) -> list[UsageRecord] | None:
        """The records of *rows* (non-empty; the first at line *first*) built a column at
        a time, or None when any row is not an ordinary one (build them one by one).

        Each column goes through the rules of :meth:`record`: the same parsers and
        caches, the same texts shared, the same records.
        """
        width = self.width
        if not all(map(width.__eq__, map(len, rows))):
            return None
        return self.columns(list(zip(*rows, strict=False)), first)  # widths checked above

    def columns(self, columns: Sequence[Sequence[str]], first: int) -> list[UsageRecord] | None:
        """The records of the rows whose *columns* these are (one per header name, the
        first row at line *first*), or None as :meth:`batch` says."""
        i_account, i_metric, i_quantity, i_start, i_end, i_id, i_rev, i_res, i_svc = self.at
        if (i_rev >= 0 and any(columns[i_rev])) or (self.nested >= 0 and any(columns[self.nested])):
            return None  # revisions and nested attributes: row by row
        accounts, metrics = columns[i_account], columns[i_metric]
        if not (all(accounts) and all(metrics)):
            return None
        texts = columns[i_quantity]
        quantities = _quantities(texts)
        if quantities is None:
            return None
        self.bound()
        try:
            starts, ends = self.time_column(columns[i_start]), self.time_column(columns[i_end])
        except CloudrateError:
            return None
        n = len(accounts)
        nothing: list[None] = [None] * n
        attributes, items = self.attribute_columns(columns, n)
        share = self.texts.setdefault
        prefix = f"{self.source} line "
        record_ids = _optional(columns, i_id, nothing)
        # the identity hash reads the quantities' texts only for records without an id
        keys = None if any(record_ids) else _quantity_keys(texts, quantities)
        return UsageRecord._checked_columns(
            list(map(share, accounts, accounts)),
            list(map(share, metrics, metrics)),
            quantities,
            starts,
            ends,
            record_ids,
            nothing,
            _optional(columns, i_res, nothing),
            _optional(columns, i_svc, nothing),
            attributes,
            items,
            list(map(prefix.__add__, map(str, range(first, first + n)))),
            keys,
        )

    def bound(self) -> None:
        """Start the caches again when one holds more than :data:`_CACHE_SIZE` entries
        (so a batch always fits in them)."""
        for cache in (self.times, self.texts, self.attribute_sets):
            if len(cache) > _CACHE_SIZE:
                cache.clear()

    def time_column(self, texts: Sequence[str]) -> list[datetime]:
        """:meth:`time` of every text (raises what :func:`parse_time` raises)."""
        times = self.times
        found = list(map(times.get, texts))
        if not all(found):  # a datetime is always true: None marks a text not seen yet
            for i, text in enumerate(texts):
                if found[i] is None:
                    found[i] = times.get(text) or times.setdefault(text, _moment(text))
        return found  # type: ignore[return-value]

    def attribute_columns(
        self, columns: Sequence[Sequence[str]], n: int
    ) -> tuple[list[Mapping[str, str]], list[tuple[tuple[str, str], ...]]]:
        """The attributes of each row, as :meth:`record` builds them, and their form in
        the identity key."""
        if not self.attrs:
            return [_EMPTY] * n, [()] * n
        keys: Sequence[Any] = (
            columns[self.attrs[0][1]]
            if len(self.attrs) == 1
            else list(zip(*(columns[i] for _, i in self.attrs), strict=True))
        )
        known, texts = self.attribute_sets, self.texts
        for key in set(keys).difference(known):
            values = (key,) if len(self.attrs) == 1 else key
            found = {
                name: texts.get(v) or self.text(v)
                for (name, _), v in zip(self.attrs, values, strict=True)
                if v
            }
            mapping: Mapping[str, str] = _FrozenAttrs(found) if found else _EMPTY
            known[key] = (mapping, _attribute_items(mapping))
        pairs = list(map(known.__getitem__, keys))
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def record(self, row: list[str], origin: str) -> UsageRecord:
        """The record of a row as wide as the header (raises on anything unusual)."""
        i_account, i_metric, i_quantity, i_start, i_end, i_id, i_rev, i_res, i_svc = self.at
        account, metric, amount = row[i_account], row[i_metric], row[i_quantity]
        if not (account and metric and amount) or (self.nested >= 0 and row[self.nested]):
            raise UsageError("not for the fast path")
        texts, times = self.texts, self.times
        account = texts.get(account) or self.text(account)
        metric = texts.get(metric) or self.text(metric)
        quantity = self.quantities.get(amount)
        if quantity is None:
            quantity = self.quantity(amount)
        start = times.get(row[i_start]) or self.time(row[i_start])
        end = times.get(row[i_end]) or self.time(row[i_end])
        attributes: Mapping[str, str] = _EMPTY
        if self.attrs:
            found = {n: texts.get(v) or self.text(v) for n, i in self.attrs if (v := row[i])}
            if found:
                attributes = _FrozenAttrs(found)
        return UsageRecord._checked(
            account,
            metric,
            quantity,
            start,
            end,
            (row[i_id] or None) if i_id >= 0 else None,
            parse_revision(row[i_rev] or None) if i_rev >= 0 else None,
            (row[i_res] or None) if i_res >= 0 else None,
            (row[i_svc] or None) if i_svc >= 0 else None,
            attributes,
            origin,
        )

    def text(self, text: str) -> str:
        """*text*, shared by every row that has it (a cache miss of :meth:`record`)."""
        if len(self.texts) > _CACHE_SIZE:
            self.texts.clear()
        self.texts[text] = text
        return text

    def time(self, text: str) -> datetime:
        """:func:`parse_time` in UTC, as a record keeps it (a cache miss of :meth:`record`)."""
        if len(self.times) > _CACHE_SIZE:
            self.times.clear()
        moment = self.times[text] = _moment(text)
        return moment

    def quantity(self, text: str) -> Decimal:
        """:func:`parse_quantity` (a cache miss of :meth:`record`)."""
        if len(self.quantities) > _CACHE_SIZE:
            self.quantities.clear()
        value = self.quantities[text] = parse_quantity(text)
        return value

    def mapping(self, row: list[str]) -> dict[Any, Any]:
        """The row as :class:`csv.DictReader` gives it (``None`` holds extra values)."""
        names = self.names
        found: dict[Any, Any] = dict(zip(names, row, strict=False))
        if len(row) > len(names):
            found[None] = row[len(names) :]
        else:
            for name in names[len(row) :]:
                found[name] = None
        return found


def _moment(text: str) -> datetime:
    """A time of a CSV row as a record keeps it: :func:`parse_time` in UTC."""
    return parse_time(text, "time").astimezone(UTC)


def _optional(
    columns: Sequence[Sequence[str]], at: int, nothing: list[None]
) -> Sequence[str | None]:
    """The optional text column at position *at* (-1: absent), empty texts as None."""
    if at < 0:
        return nothing
    column = columns[at]
    return column if all(column) else [v or None for v in column]


def _jsonl_rows(stream: IO[str], name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text, parse_float=Decimal, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                [Problem(f"line {number}", "bad_json", exc.msg, line=number, source=name)],
                source=name,
            ) from None
        except RepeatedKeyError as exc:
            raise ConfigError([duplicate_key(exc.key, number, name)], source=name) from None
        if not isinstance(row, dict):
            raise ConfigError(
                [Problem(f"line {number}", "bad_json", "expected a JSON object", row, number)],
                source=name,
            )
        yield number, row


def read_usage_jsonl(source: str | Path | IO[str]) -> list[UsageRecord]:
    """Read usage records from JSON lines (one object per line).

    Numbers may be JSON numbers (read exactly, never through float) or strings.

    >>> import io
    >>> line = ('{"account": "acme", "metric": "bandwidth_gb", "quantity": 0.1, '
    ...         '"start": "2026-10-01T00:00:00+00:00", "end": "2026-10-02T00:00:00+00:00"}')
    >>> read_usage_jsonl(io.StringIO(line))[0].quantity
    Decimal('0.1')
    """
    if isinstance(source, str | Path) and Path(source).stat().st_size == 0:
        raise empty_file(str(source))
    stream, name, close = _open_text(source)
    try:
        return _collect(_jsonl_rows(stream, name), name)
    except UnicodeDecodeError as exc:
        raise _undecodable(source, name, exc) from None
    finally:
        if close:
            stream.close()


def read_usage(path: str | Path) -> list[UsageRecord]:
    """Read a usage file, choosing the reader by its suffix (.csv, .jsonl, .ndjson, .json)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return read_usage_csv(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return read_usage_jsonl(path)
    raise UsageError(f"{path}: unknown usage file type {suffix!r}; use .csv or .jsonl")


def read_usage_text(text: str, fmt: str = "csv") -> list[UsageRecord]:
    """Read usage from a string in *fmt* (``csv`` or ``jsonl``)."""
    stream = io.StringIO(text)
    return read_usage_csv(stream) if fmt == "csv" else read_usage_jsonl(stream)
