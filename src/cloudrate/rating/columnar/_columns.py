"""The column layout of columnar usage, and turning one batch of it into exact arrays.

Columns (names as in :class:`cloudrate.UsageRecord`):

========== ============================================= ==========
column     type                                          required
========== ============================================= ==========
account    string (dictionary-encoded is fastest)        yes
metric     string (dictionary-encoded is fastest)        yes
quantity   decimal128 or decimal string (never float)    yes
start      timestamp with a timezone, or ISO 8601 string yes
end        timestamp with a timezone, or ISO 8601 string yes
record_id  string                                        no
revision   integer or digit text (0 or more, needs an id) no
resource_id string                                       no
service    string                                        no
others     attributes (``attr.NAME`` is read as NAME)    no
========== ============================================= ==========
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate._money import EXACT
from cloudrate.exceptions import (
    CloudrateError,
    ConfigError,
    FloatNotAllowedError,
    Problem,
    RatingError,
    UsageError,
    WrongTypeError,
)
from cloudrate.usage import (
    MAX_REVISION,
    RECORD_FIELDS,
    REQUIRED_FIELDS,
    UsageRecord,
    parse_quantity,
    parse_revision,
    parse_time,
    read_usage_text,
)

__all__ = [
    "CORE",
    "FIRST_LINE",
    "SCALE",
    "SOURCE",
    "Batch",
    "FixedPointRangeError",
    "RowError",
    "batches",
    "located",
    "to_table",
]

#: Schema metadata of batches read from a file: the file, and the line of the first row.
SOURCE, FIRST_LINE = b"cloudrate.source", b"cloudrate.first_line"


class RowError(UsageError):
    """Row *row* of a batch cannot be rated; *detail* says why (see :func:`located`)."""

    def __init__(self, row: int, detail: str) -> None:
        self.row, self.detail = row, detail
        super().__init__(f"row {row}: {detail}")


class FixedPointRangeError(UsageError, RatingError):
    """Usage the columnar engine's 128-bit fixed point cannot hold exactly (a quantity with
    more than 12 decimals, an aggregate of 10**26 units or more). ``rate_table`` and
    ``account_totals`` then rate the same usage with :func:`cloudrate.rate`; partial
    aggregates for a cluster refuse it."""


def located(batch: pa.RecordBatch, offset: int, error: RowError) -> CloudrateError:
    """*error* placed where the row is: the file and line of a batch read from a file
    (a :class:`~cloudrate.exceptions.ConfigError`, as :func:`cloudrate.read_usage` reports a
    bad row), else the row counted over every batch seen."""
    meta = batch.schema.metadata or {}
    if SOURCE in meta:
        source = meta[SOURCE].decode()
        line = int(meta[FIRST_LINE]) + error.row
        detail = _per_record_words(Path(source), line) or error.detail
        problem = Problem(f"line {line}", "bad_record", detail, line=line, source=source)
        return ConfigError([problem], source=source)
    return UsageError(f"row {offset + error.row}: {error.detail}")


def _per_record_words(path: Path, line: int) -> str | None:
    """What :func:`cloudrate.read_usage` says of line *line* of *path* (read again, only
    to report it), so both engines refuse a row in the same words; None if it reads the
    line without complaint or the file cannot be read again."""
    csv = path.suffix.lower() == ".csv"
    wanted = {1, line} if csv else {line}
    try:
        with path.open("rb") as file:
            lines = [text for number, text in enumerate(file, 1) if number in wanted]
    except OSError:
        return None
    try:
        read_usage_text(b"".join(lines).decode("utf-8-sig"), "csv" if csv else "jsonl")
    except ConfigError as exc:
        return exc.problems[0].message if exc.problems else None
    except CloudrateError as exc:
        return str(exc)
    return None


#: Columns with a meaning of their own; every other column is an attribute.
CORE = RECORD_FIELDS
_REQUIRED = REQUIRED_FIELDS

#: The largest number of decimals a quantity may have in the batch path.
SCALE = 12
_TS = pa.timestamp("us", "UTC")


def _as_table(data: Any) -> pa.Table:
    """A pyarrow Table from a Table, RecordBatch, pandas or polars frame."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return data.to_arrow()
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    raise WrongTypeError(
        f"expected a pyarrow Table or RecordBatch, a pandas or polars DataFrame, "
        f"got {type(data).__name__}"
    )


def batches(data: Any) -> Iterator[pa.RecordBatch]:
    """The record batches of *data* (a table, a frame, or an iterable of those)."""
    if isinstance(data, pa.RecordBatch):
        yield data
        return
    if isinstance(data, pa.RecordBatchReader):
        yield from data
        return
    if isinstance(data, Iterable) and not hasattr(data, "columns"):
        for part in data:
            yield from batches(part)
        return
    yield from _as_table(data).to_batches()


def to_table(records: Iterable[UsageRecord]) -> pa.Table:
    """Usage records as a table in the batch column layout (quantities as exact strings).

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    >>> t1 = datetime(2026, 10, 2, tzinfo=timezone.utc)
    >>> t = to_table([UsageRecord(account="a", metric="m", quantity="1.50", start=t0, end=t1,
    ...                           attributes={"zone": "eu"})])
    >>> t.column("quantity").to_pylist(), t.column("zone").to_pylist()
    (['1.50'], ['eu'])
    """
    rows = list(records)
    names = sorted({k for r in rows for k in r.attributes})
    data: dict[str, list[Any]] = {
        "account": [r.account for r in rows],
        "metric": [r.metric for r in rows],
        "quantity": [str(r.quantity) for r in rows],
        "start": [r.start for r in rows],
        "end": [r.end for r in rows],
        "record_id": [r.record_id for r in rows],
        "revision": [r.revision for r in rows],
        "resource_id": [r.resource_id for r in rows],
        "service": [r.service for r in rows],
    }
    for name in names:
        data[name if name not in CORE else f"attr.{name}"] = [r.attributes.get(name) for r in rows]
    types = {
        "account": pa.string(),
        "metric": pa.string(),
        "quantity": pa.string(),
        "start": _TS,
        "end": _TS,
        "record_id": pa.string(),
        "revision": pa.int64(),
        "resource_id": pa.string(),
        "service": pa.string(),
    }
    return pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in data.items()})


def _present(batch: pa.RecordBatch, name: str) -> np.ndarray | None:
    """Which rows hold a value (not null, not empty) in the optional string column
    *name*; None when the batch has no such column or no row has a value."""
    if name not in batch.schema.names:
        return None
    column = batch.column(name)
    if column.null_count == len(column):
        return None
    text = _strings(column)
    mask = pc.fill_null(pc.greater(pc.binary_length(text), 0), False)
    found = mask.to_numpy(zero_copy_only=False)
    return found if found.any() else None


def _revisions(column: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(revision, which rows have one) of a ``revision`` column, by the rule of
    :func:`cloudrate.usage.parse_revision` (integers or digit text, 0 to 2**63 - 1);
    None when no row has one."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if column.null_count == len(column):
        return None
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.utf8_trim_whitespace(column)
        digits = pc.fill_null(pc.match_substring_regex(text, "^[0-9]+$"), True)
        if not pc.all(digits).as_py() or pc.max(pc.binary_length(text)).as_py() > 18:
            # text that is not digits, or perhaps past 64 bits: the rule says which row
            column = pa.array(
                [_revision_at(row, v) for row, v in enumerate(column.to_pylist())], pa.int64()
            )
        else:
            column = text.cast(pa.int64())
    elif pa.types.is_integer(kind):
        if pc.min(column).as_py() < 0 or pc.max(column).as_py() > MAX_REVISION:
            for row, value in enumerate(column.to_pylist()):
                _revision_at(row, value)
        column = column.cast(pa.int64())
    else:  # booleans, floats, decimals: refused by the rule, at the first such row
        row = int(pc.index(pc.is_valid(column), True).as_py())
        _revision_at(row, column[row].as_py())
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    values = pc.fill_null(column, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, valid


def _revision_at(row: int, value: object) -> int | None:
    """:func:`cloudrate.usage.parse_revision` of the value in *row*, refused as a row error."""
    try:
        return parse_revision(value)
    except UsageError as exc:
        raise RowError(row, str(exc)) from None


def _strings(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column if column.type == pa.string() else column.cast(pa.string())


def _coded(column: pa.Array, name: str, cache: dict[Any, Any]) -> tuple[np.ndarray, pa.Array, Any]:
    """(codes, dictionary, dictionary key) of a string column; nulls and "" are refused.

    Batches sliced from one array share its dictionary: *cache* keeps what was learnt
    about a dictionary by the address of its buffers; it holds the dictionary itself, so
    those buffers cannot be freed and reused by another dictionary while cached.
    """
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(_strings(column))
    if column.null_count:
        row = int(pc.index(pc.is_null(column), True).as_py())
        raise RowError(row, f"{name} is missing; every record needs {name}")
    dictionary = column.dictionary
    key = (
        name,
        len(dictionary),
        dictionary.offset,
        tuple(b.address if b is not None else 0 for b in dictionary.buffers()),
    )
    if key not in cache:
        if len(dictionary) and pc.any(pc.equal(_strings(dictionary), "")).as_py():
            row = int(pc.index(pc.equal(_strings(column), ""), True).as_py())
            raise RowError(row, f"{name} is empty; every record needs {name}")
        if len(cache) >= 8:
            del cache[next(iter(cache))]
        cache[key] = [dictionary, None]
    codes = column.indices.to_numpy(zero_copy_only=False)
    return codes, dictionary, key


def _names(cache: dict[Any, Any], key: Any) -> list[str]:
    """The Python strings of a cached dictionary, read once."""
    entry = cache[key]
    if entry[1] is None:
        entry[1] = [str(v) for v in entry[0].to_pylist()]
    return entry[1]


def _times(column: pa.Array, name: str) -> np.ndarray:
    """Microseconds since the epoch (UTC) of an aware timestamp or ISO 8601 string column."""
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            raise UsageError(
                f"{name}: timestamps have no timezone; give aware times such as "
                "2026-10-01T00:00:00+00:00 (or cast with a timezone)"
            )
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = column.cast(_TS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            column = _times_by_rule(column, name)
    else:
        raise UsageError(f"{name}: expected timestamps with a timezone, got {column.type}")
    if column.null_count:
        row = int(pc.index(pc.is_null(column), True).as_py())
        raise RowError(row, f"{name} is missing; give an ISO 8601 time with offset")
    if column.type != _TS:
        column = column.cast(_TS)  # another unit or zone: same instants, in UTC microseconds
    return column.view(pa.int64()).to_numpy(zero_copy_only=False)


def _times_by_rule(column: pa.Array, name: str) -> pa.Array:
    """Times Arrow's fast parser refused, read one by one with the rule
    :func:`cloudrate.read_usage` applies (:func:`cloudrate.usage.parse_time`)."""
    moments: list[datetime | None] = []
    for row, text in enumerate(column.to_pylist()):
        if text is None:
            moments.append(None)
            continue
        try:
            moments.append(parse_time(text, name))
        except UsageError as exc:
            raise RowError(row, str(exc)) from None
    return pa.array(moments, _TS)


def _quantities(column: pa.Array, exponents: bool = True) -> tuple[pa.Array, np.ndarray | int]:
    """(decimal128 quantities, exponent per row or one exponent for all)."""
    kind = column.type
    _refuse_floats_and_nulls(column)
    if pa.types.is_decimal(kind):
        if kind.scale > SCALE:
            return _rescale(column, kind.scale), -SCALE
        return column, -kind.scale if kind.scale > 0 else 0
    if pa.types.is_integer(kind):
        return column.cast(pa.decimal128(38, 0)), 0
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise UsageError(f"quantity: expected decimal strings or decimal128, got {kind}")
    parsed, text = _parse(column)
    # untracked: one exponent that writes every value exactly (the parsed scale)
    return parsed, _exponents(text) if exponents else -int(parsed.type.scale)


def _refuse_floats_and_nulls(column: pa.Array) -> None:
    """Refuse a float quantity column (floats are not exact) and missing quantities."""
    if pa.types.is_floating(column.type):
        value = column.drop_null()[0].as_py() if len(column.drop_null()) else 0.0
        raise FloatNotAllowedError(value, "quantity column")
    if column.null_count:
        row = int(pc.index(pc.is_null(column), True).as_py())
        raise RowError(row, "quantity is missing; every record needs a quantity")


def _parse(column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(decimal128 quantities, the text read: *column*, or trimmed if it had to be) of
    decimal strings, at 6 decimals when they fit, else at :data:`SCALE`."""
    text = column
    for scale in (6, SCALE):
        try:
            parsed = _cast(text, scale)
        except pa.ArrowInvalid:
            if text is not column:
                raise _bad_quantity(text) from None
            text = pc.utf8_trim_whitespace(column)  # perhaps only surrounding spaces
            try:
                parsed = _cast(text, scale)
            except pa.ArrowInvalid:
                raise _bad_quantity(text) from None
        if parsed is not None and _exact_at(text, scale):
            _check_digits(text, 38 - scale)
            return parsed, text
    raise FixedPointRangeError(
        f"quantity: more than {SCALE} decimals; the columnar engine keeps {SCALE} decimals "
        "exactly, use cloudrate.rate() for such quantities"
    )


def _check_digits(text: pa.Array, digits: int) -> None:
    """Refuse quantities with more than *digits* digits before the point, which Arrow's
    cast to decimal128 would wrap around instead of refusing. The count is of bytes
    before the point, so a sign or leading zeros can only make it refuse more (and then
    :func:`cloudrate.rate` rates the usage, exactly)."""
    if not len(text):
        return
    if pc.max(pc.binary_length(text)).as_py() > digits:  # only then can a value be too long
        dot = pc.find_substring(text, ".")
        whole = pc.if_else(pc.less(dot, 0), pc.binary_length(text), dot)
        if pc.max(whole).as_py() > digits:
            raise FixedPointRangeError(_TOO_BIG)
    if _may_have_exponent(text):
        scientific = pc.match_substring(text, "e", ignore_case=True)
        for value in text.filter(scientific).to_pylist():
            number = Decimal(value)
            if number and number.adjusted() >= digits:
                raise FixedPointRangeError(_TOO_BIG)


def _exact_at(text: pa.Array, scale: int) -> bool:
    """Whether every quantity written with an exponent fits *scale* decimals: Arrow casts
    ``1E-80`` to 0 at any scale instead of refusing it as it refuses ``0.0000001``."""
    if not _may_have_exponent(text):
        return True
    scientific = pc.match_substring(text, "e", ignore_case=True)
    for value in text.filter(scientific).to_pylist():
        try:
            number = Decimal(value.strip())
        except ArithmeticError:  # not a number: refused row by row later
            continue
        exponent = number.normalize(EXACT).as_tuple().exponent
        if number and isinstance(exponent, int) and exponent < -scale:
            return False
    return True


def _string_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, bytes) of a string array: each value ``i`` is
    ``bytes[offsets[i] - offsets[0]:offsets[i + 1] - offsets[0]]``; None for another type."""
    if text.type not in (pa.string(), pa.large_string()):
        return None
    width = np.int64 if text.type == pa.large_string() else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)[
        text.offset : text.offset + len(text) + 1
    ]
    data = text.buffers()[2]
    if data is None:
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(data, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]


def _may_have_exponent(text: pa.Array) -> bool:
    """Whether any value of a string array holds an ``e`` or ``E`` (a scan of its bytes)."""
    found = _string_bytes(text)
    if found is None:
        return True
    return bool(((found[1] | 0x20) == ord("e")).any())


_TOO_BIG = (
    "quantity: a value has more digits before the point than the columnar engine's 128-bit "
    "fixed point holds; use cloudrate.rate() for such quantities"
)


def _cast(text: pa.Array, scale: int) -> pa.Array | None:
    """Decimal strings as decimal128(38, *scale*); None when a value has more decimals."""
    try:
        return text.cast(pa.decimal128(38, scale))
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "data loss" in message or "Rescaling" in message:
            return None
        raise


def _rescale(column: pa.Array, scale: int) -> pa.Array:
    try:
        return column.cast(pa.decimal128(38, SCALE))
    except pa.ArrowInvalid:
        raise FixedPointRangeError(
            f"quantity: decimal{column.type.precision}({column.type.precision}, {scale}) "
            f"values need more than {SCALE} decimals; use cloudrate.rate() for them"
        ) from None


def _bad_quantity(text: pa.Array) -> UsageError:
    """The first quantity that is not a number, or (all being numbers) the range error."""
    for row, value in enumerate(text.to_pylist()):
        try:
            parse_quantity(value)
        except UsageError as exc:
            return RowError(row, str(exc))
    return FixedPointRangeError(
        "quantity: a value has more digits than the columnar engine's 128-bit fixed point "
        "holds; use cloudrate.rate() for such quantities"
    )


def _exponents(text: pa.Array) -> np.ndarray:
    """The Decimal exponent of each quantity string (``'1.50'`` -> -2), as rate() sees it.

    *text* holds decimal strings Arrow has parsed: without an exponent, a value's is
    minus the digits after its point, found from the positions of the points in the
    array's bytes; values with an exponent are read by Decimal.
    """
    found = _string_bytes(text)
    if found is None or _may_have_exponent(text):
        return _exponents_by_value(text)
    offsets, chars = found
    ends = offsets[1:].astype(np.int64)
    dots = np.flatnonzero(chars == ord(".")) + int(offsets[0])  # at most one a value
    if len(dots) == len(text) and (dots < ends).all() and (dots[1:] >= ends[:-1]).all():
        return (dots - ends + 1).astype(np.int32)  # a point in every value (the usual case)
    exps = np.zeros(len(text), dtype=np.int32)
    rows = np.searchsorted(ends, dots, side="right")
    exps[rows] = dots - ends[rows] + 1
    return exps


def _exponents_by_value(text: pa.Array) -> np.ndarray:
    """:func:`_exponents` of values some of which have an exponent (``1.5E-3``)."""
    length = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int32)
    dot = pc.find_substring(text, ".").to_numpy(zero_copy_only=False).astype(np.int32)
    exps = np.where(dot >= 0, dot - length + 1, 0).astype(np.int32)
    odd = pc.match_substring_regex(text, "[eE]").to_numpy(zero_copy_only=False)
    if odd.any():
        values = text.to_pylist()
        for row in np.flatnonzero(odd):
            exps[row] = Decimal(values[row]).as_tuple().exponent
    return exps


class Batch:
    """One record batch turned into exact arrays; attribute columns are read on demand."""

    def __init__(
        self,
        batch: pa.RecordBatch,
        offset: int = 0,
        cache: dict[Any, Any] | None = None,
        exponents: bool = True,
    ) -> None:
        try:
            self._read(batch, offset, {} if cache is None else cache, exponents)
        except RowError as exc:
            raise located(batch, offset, exc) from None

    def _read(
        self, batch: pa.RecordBatch, offset: int, cache: dict[Any, Any], exponents: bool
    ) -> None:
        names = batch.schema.names
        missing = [c for c in _REQUIRED if c not in names]
        if missing:
            raise UsageError(
                f"missing column(s) {', '.join(missing)}; batch usage needs the columns "
                f"{', '.join(_REQUIRED)} (see docs/batch.md)"
            )
        self.rows = batch.num_rows
        self.offset = offset
        self.batch = batch
        self._cache = cache
        self.account_codes, self.account_dict, self.account_key = _coded(
            batch.column("account"), "account", cache
        )
        self.metric_codes, self.metric_dict, self.metric_key = _coded(
            batch.column("metric"), "metric", cache
        )
        raw = batch.column("quantity")
        self.text = (
            raw if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type) else None
        )
        self.quantity, self.exponent = _quantities(raw, exponents)
        self.scale = max(int(self.quantity.type.scale), 0)
        high = self._words()[:, 1]
        high_zero = not self.rows or not high.any()  # one pass in the usual case
        if not high_zero and int(high.min()) < 0:
            row = int(np.flatnonzero(high < 0)[0])
            seen = (self.text if self.text is not None else self.quantity)[row].as_py()
            try:  # the per-record rule, so both engines refuse it in the same words
                parse_quantity(seen)
            except UsageError as exc:
                raise RowError(row, str(exc)) from None
            raise RowError(row, f"quantity {seen} is negative; usage is never negative")
        low = self._words()[:, 0]
        fits = self.rows == 0 or (high_zero and int(low.min()) >= 0)
        #: rows whose quantity does not fit int64 (None: every one fits), for low_words
        self._wide = None if fits else (high != 0) | (low < 0)
        self.start = _times(batch.column("start"), "start")
        self.end = _times(batch.column("end"), "end")
        if self.rows and not (self.end >= self.start).all():
            row = int(np.flatnonzero(self.end < self.start)[0])
            raise RowError(row, "end is before start; swap them or fix the record's times")
        self._attrs = {
            (n.split(".", 1)[1] if n.startswith(("attr.", "attributes.")) else n): n
            for n in names
            if n not in CORE
        }
        self.has_id = _present(batch, "record_id")
        self.revision = _revisions(batch.column("revision")) if "revision" in names else None
        if self.revision is not None:
            orphan = self.revision[1] if self.has_id is None else self.revision[1] & ~self.has_id
            if orphan.any():
                row = int(np.flatnonzero(orphan)[0])
                raise RowError(
                    row,
                    f"revision: {int(self.revision[0][row])} on a record without record_id; a "
                    "revision numbers the corrections of one record_id, so give the record "
                    "its record_id",
                )

    @property
    def accounts(self) -> list[str]:
        """The account dictionary as Python strings."""
        return _names(self._cache, self.account_key)

    @property
    def metrics(self) -> list[str]:
        """The metric dictionary as Python strings."""
        return _names(self._cache, self.metric_key)

    def optional(self, name: str) -> list[str | None]:
        """The values of an optional string column, None where missing."""
        if name not in self.batch.schema.names:
            return [None] * self.rows
        return [
            None if v in (None, "") else str(v)
            for v in _strings(self.batch.column(name)).to_pylist()
        ]

    def attribute(self, key: str) -> pa.Array | None:
        """The attribute column *key* as strings, or None when there is no such column."""
        name = self._attrs.get(key)
        return None if name is None else _strings(self.batch.column(name))

    def attribute_names(self) -> list[str]:
        return list(self._attrs)

    def strings(self, name: str) -> pa.Array | None:
        """The optional column *name* (``record_id``, ``resource_id``, ``service``) as
        strings, or None when the batch has no such column."""
        if name not in self.batch.schema.names:
            return None
        return _strings(self.batch.column(name))

    def decimals(self, rows: Iterable[int]) -> list[Decimal]:
        """The quantities of *rows* as the Decimals :func:`cloudrate.rate` would see."""
        if self.text is not None:
            return [Decimal(self.text[i].as_py().strip()) for i in rows]
        return [self.quantity[i].as_py() for i in rows]

    def _words(self) -> np.ndarray:
        """The decimal128 quantities as (low, high) int64 pairs, without copying."""
        count = 2 * (self.quantity.offset + self.rows)
        words = np.frombuffer(self.quantity.buffers()[1], dtype=np.int64, count=count)
        return words[2 * self.quantity.offset :].reshape(-1, 2)

    def low_words(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(int64 quantity in units of 10**-scale, rows whose quantity does not fit int64,
        None when all fit)."""
        return self._words()[:, 0], self._wide
