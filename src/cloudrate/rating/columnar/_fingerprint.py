"""Fingerprints of usage rows: one 64-bit hash of each row's identity, on whole columns.

The identity is :func:`cloudrate.usage.identity_key`'s: ``(account, record_id)`` for a
row with a ``record_id``, else the row's content, every column. A fingerprint depends on
the row's values only (account and metric through the aggregator's codes, one per name
for the whole run): rows with one identity always get one fingerprint, whatever the
batch, its column order, its dictionaries or the scale its quantities were parsed at, so
rows whose fingerprints all differ are certainly no copies of one another. Two rows with
one fingerprint may still differ (a hash can collide): :mod:`._dedup` compares those
exactly before it drops anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import SCALE, Batch

__all__ = ["Fingerprints", "string_hashes"]

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_ONE = np.uint64(1)
#: The low *k* bytes of a word (k = 0..8), to keep the bytes of a string's last word.
_TAIL = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)
#: Rows with a record_id hash under their own salt, apart from content fingerprints.
_ID_SALT = np.uint64(0x5851F42D4C957F2D)
#: Sorted fingerprints compared a block at a time (no mask as long as every row).
_STEP = 1 << 20
#: Rows a content fingerprint's arithmetic passes over at a time: 512 KiB of each
#: operand, so the ten passes read from the cache (4 ms a million rows, not 6).
_BLOCK = 1 << 16
#: The top bits of a short fingerprint that :class:`Widening` looks up first (a map of
#: 2**23 booleans: 8 MiB, while it lasts).
_FILTER_BITS = 23
_FILTER_SHIFT = np.uint32(32 - _FILTER_BITS)


def _mix(h: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, in place: every input bit moves every output bit."""
    h ^= h >> np.uint64(30)
    h *= _M1
    h ^= h >> np.uint64(27)
    h *= _M2
    h ^= h >> np.uint64(31)
    return h


def _salt(name: str) -> np.uint64:
    """A per-column constant, so equal values in different columns hash apart."""
    return np.uint64(hash(("cloudrate.column", name)) & (2**64 - 1))


def string_hashes(array: pa.Array) -> np.ndarray:
    """A uint64 hash of each string's bytes (a null's hash is meaningless: mask it).

    >>> h = string_hashes(pa.array(["eu", "us", "eu", "a long resource id, past 8 bytes"]))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1]), h.dtype.name
    (True, False, 'uint64')
    """
    if pa.types.is_dictionary(array.type):
        values = string_hashes(array.dictionary)
        codes = array.indices.fill_null(0).to_numpy(zero_copy_only=False)
        return values[codes] if len(values) else np.zeros(len(array), np.uint64)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    n = len(array)
    if n == 0:
        return np.zeros(0, np.uint64)
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    raw = np.frombuffer(array.buffers()[1], dtype=width, count=array.offset + n + 1)
    offsets: np.ndarray = raw[array.offset :].astype(np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    words = np.zeros((hi - lo) // 8 + 2, np.uint64)  # the bytes, then zeros to read past
    if hi > lo:
        words.view(np.uint8)[: hi - lo] = np.frombuffer(array.buffers()[2], np.uint8)[lo:hi]
    start = offsets[:-1] - lo
    length = offsets[1:] - offsets[:-1]
    h = length.astype(np.uint64) * _GOLD
    for k in range((int(length.max()) + 7) // 8):
        at = np.minimum(start + 8 * k, hi - lo)  # past its end a string's word is masked
        index, shift = at >> 3, ((at & 7) << 3).astype(np.uint64)
        # the 8 bytes from *at*, read from the two aligned words they straddle
        word = (words[index] >> shift) | ((words[index + 1] << _ONE) << (np.uint64(63) - shift))
        word &= _TAIL[np.clip(length - 8 * k, 0, 8)]
        word ^= h
        # only strings that have a k-th word take a round: the hash of a string does not
        # depend on the longest string beside it
        h = np.where(length > 8 * k, _mix(word), h)
    return h


class Fingerprints:
    """The fingerprint of every row aggregated, and which fingerprints repeat.

    :meth:`begin` is told each batch's size and :meth:`add` each slice's parsed
    :class:`Batch`, with its global account and metric codes, as the aggregator reads
    it; :meth:`repeated` sorts the fingerprints and gives those that more than one row
    has. Each row's fingerprint takes 8 bytes; *compact* ones keep its low 32 bits only
    (4 bytes a row, for usage held in memory): :meth:`repeated` then gives the short
    fingerprints that repeat, which :meth:`widen` turns into the full ones that do, on
    a second reading. *rows*, when known, is how many rows there will be: their
    fingerprints are kept in one array (else one per batch, joined at the end).
    """

    def __init__(self, *, compact: bool = False, rows: int | None = None) -> None:
        self.compact = compact
        self._kind = np.uint32 if compact else np.uint64
        self._parts: list[np.ndarray] = []
        self._cursor = 0
        self._reserved = rows is not None
        if rows is not None:
            self._parts.append(np.empty(rows, self._kind))
        self._scratch = np.zeros(0, np.uint64)  # a slice's full fingerprints (compact)
        # metric dictionary key -> (the dictionary, kept alive so its key stays valid;
        # the hashes of its names)
        self._known: dict[Any, tuple[pa.Array, np.ndarray]] = {}

    def begin(self, rows: int) -> None:
        """Make room for the fingerprints of a batch of *rows* rows."""
        if not self._reserved:
            self._parts.append(np.empty(rows, self._kind))
            self._cursor = 0

    def add(self, data: Batch, accounts: np.ndarray, metrics: np.ndarray) -> None:
        """Fingerprint a slice of the batch :meth:`begin` announced."""
        out = self._parts[-1][self._cursor : self._cursor + data.rows]
        self._cursor += data.rows
        if not self.compact:
            self.of(data, accounts, metrics, out)
            return
        if len(self._scratch) < data.rows:
            self._scratch = np.empty(data.rows, np.uint64)
        full = self.of(data, accounts, metrics, self._scratch[: data.rows])
        np.copyto(out, full, casting="unsafe")  # the low 32 bits

    def repeated(self) -> np.ndarray:
        """The fingerprints that more than one row has (sorted; usually none). The
        fingerprints are dropped: :meth:`of` gives them again on a second reading."""
        parts, self._parts = self._parts, []
        self._scratch = np.zeros(0, np.uint64)
        if not parts:
            return np.zeros(0, self._kind)
        every = parts[0] if len(parts) == 1 else np.concatenate(parts)
        del parts
        every.sort()
        found = [np.zeros(0, self._kind)]
        for lo in range(0, max(len(every) - 1, 0), _STEP):  # no mask as long as every row
            block = every[lo : lo + _STEP + 1]
            same = block[1:] == block[:-1]
            if same.any():
                found.append(block[1:][same])
        return np.unique(np.concatenate(found))

    def widen(self, short: np.ndarray) -> Widening:
        """Collect, slice by slice of a second reading (:meth:`Widening.add`), the full
        fingerprints of the rows whose compact one is in *short* (sorted)."""
        return Widening(self, short)

    # --- one slice ----------------------------------------------------------------------

    def of(
        self,
        data: Batch,
        accounts: np.ndarray,
        metrics: np.ndarray,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The fingerprint of each row of *data* (into *out* when given), from its
        account and metric codes in the aggregator (one code per name for the run)."""
        h = np.multiply(accounts, _GOLD, out=out, dtype=np.uint64, casting="unsafe")
        has_id = data.has_id
        if has_id is not None and has_id.all():
            return self._ids(data, h)
        content = self._content(data, h if has_id is None else h.copy(), metrics)
        if has_id is None:
            return content
        np.copyto(h, np.where(has_id, self._ids(data, h.copy()), content))
        return h

    def _names(self, data: Batch) -> np.ndarray:
        """The hashes of the batch's metric names, computed once per dictionary."""
        entry = self._known.get(data.metric_key)
        if entry is None:
            if len(self._known) >= 16:
                del self._known[next(iter(self._known))]
            hashes = string_hashes(data.metric_dict) | np.uint64(1 << 63)
            entry = self._known[data.metric_key] = (data.metric_dict, hashes)
        return entry[1]

    def _ids(self, data: Batch, h: np.ndarray) -> np.ndarray:
        """``(account, record_id)``, in place in *h* (the account's term)."""
        ids = data.strings("record_id")
        assert ids is not None, "rows with an id have a record_id column"
        h ^= string_hashes(ids)
        h ^= _ID_SALT
        return _mix(h)

    def _content(self, data: Batch, h: np.ndarray, metrics: np.ndarray) -> np.ndarray:
        """Account (in *h*), metric, quantity (by value, at 12 decimals), start and end,
        then a term per other column that has a value (a missing column and a null are
        alike). Few passes over the rows: odd multipliers between the values, one mixing
        step; the hash need not be strong (rows with one fingerprint are compared)."""
        unknown = metrics < 0  # metrics the plan does not price share one code: by name
        if unknown.any():
            term = metrics.astype(np.uint64)  # a copy: the caller's codes stay as they are
            term[unknown] ^= self._names(data)[data.metric_codes[unknown]]
        elif metrics.dtype == np.int64:
            term = metrics.view(np.uint64)
        else:
            term = metrics.astype(np.uint64)
        low, _ = data.low_words()  # the low 64 bits of each decimal128, at the batch scale
        factor = np.uint64(10 ** (SCALE - data.scale))
        low, start, end = low.view(np.uint64), data.start.view(np.uint64), data.end.view(np.uint64)
        for at in range(0, len(h), _BLOCK):  # a block's passes stay in the cache
            b = slice(at, at + _BLOCK)
            part = h[b]
            part ^= term[b]
            part *= _M1
            part ^= low[b] if factor == 1 else low[b] * factor
            part *= _M2
            part ^= start[b]
            part *= _M1
            part ^= end[b]
            part ^= part >> np.uint64(29)
            part *= _M2
        for name in ("resource_id", "service"):
            column = data.strings(name)
            if column is not None and column.null_count < len(column):
                _add_term(h, name, string_hashes(column), _values(column, empty=False))
        for key in data.attribute_names():
            column = data.attribute(key)
            if column is not None and column.null_count < len(column):
                _add_term(h, f"attr.{key}", string_hashes(column), _values(column, empty=True))
        return h


def _values(column: pa.Array, *, empty: bool) -> np.ndarray:
    """Which rows hold a value; an empty string counts only when *empty* (attributes keep
    ``""``; ``resource_id`` and ``service`` read it as missing, as :class:`Batch` does)."""
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    if empty:
        return valid
    text = column if not pa.types.is_dictionary(column.type) else column.cast(pa.string())
    sizes = pc.binary_length(text).fill_null(0).to_numpy(zero_copy_only=False)
    return valid & (sizes > 0)


def _add_term(h: np.ndarray, name: str, hashes: np.ndarray, present: np.ndarray) -> None:
    """``h += mix(value ^ salt)`` on the rows where the column has a value."""
    term = hashes ^ _salt(name)
    _mix(term)
    term[~present] = 0
    h += term


class Widening:
    """The full fingerprints of the rows whose compact fingerprint repeats, gathered on a
    second reading (see :meth:`Fingerprints.widen`): a look-up in a map of the short
    fingerprints' top bits first (one gather a row), then the exact test on the few rows
    it lets through."""

    def __init__(self, prints: Fingerprints, short: np.ndarray) -> None:
        self._prints, self._short = prints, short.astype(np.uint32)
        self._map = np.zeros(1 << _FILTER_BITS, np.bool_)
        self._map[self._short >> _FILTER_SHIFT] = True
        self._kept: list[np.ndarray] = []

    def add(self, data: Batch, accounts: np.ndarray, metrics: np.ndarray) -> None:
        """Keep the full fingerprints of the rows of *data* whose short one is wanted."""
        full = self._prints.of(data, accounts, metrics)
        low = full.astype(np.uint32)
        maybe = np.flatnonzero(self._map.take(low >> _FILTER_SHIFT))
        if len(maybe):
            wanted = low[maybe]
            at = np.minimum(np.searchsorted(self._short, wanted), len(self._short) - 1)
            self._kept.append(full[maybe[self._short[at] == wanted]])

    def repeated(self) -> np.ndarray:
        """The full fingerprints that more than one row has (sorted)."""
        kept = np.concatenate([np.zeros(0, np.uint64), *self._kept])
        kept.sort()
        return np.unique(kept[1:][kept[1:] == kept[:-1]])
