"""Exact grouped sums of fixed-point quantities, the columnar engine's accumulator.

Sums stay int64 while they provably fit and move to Python ints before they could
overflow (:mod:`cloudrate._intmath`).
"""

from __future__ import annotations

import numpy as np

from cloudrate._intmath import LIMIT, to_int64_or_object

_MIXED = 1  # GroupSum.uniform when values had different exponents (real ones are <= 0)
_COUNT_LIMIT = 2**31 - 1  # the largest count an int32 holds

__all__ = ["GroupSum"]


class GroupSum:
    """Exact sums, counts and smallest exponents of non-negative int64 values by integer key.

    Keys are dense codes ``0..size-1``; the table grows as keys appear. Sums stay int64
    while a running bound (largest value x most rows per key, added up over the calls)
    proves they fit; before they could overflow, the int64 sums move into Python ints.
    Counts are int32 (4 bytes a key) until the values added could make one pass
    2**31 - 1, then int64.

    >>> g = GroupSum()
    >>> g.add(np.array([0, 1, 0]), np.array([2**62, 5, 2**62], dtype=np.int64), 0, 2)
    >>> g.value(0), g.value(1), g.counts.tolist()
    (9223372036854775808, 5, [2, 1])
    """

    def __init__(self) -> None:
        self.size = 0
        self.sums = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int32)
        self.added = 0  # values added so far: no count is larger
        self.exps = np.zeros(0, dtype=np.int32)
        self.big: dict[int, int] = {}
        self.bound = 0
        self.uniform: int | None = None  # one exponent shared by all values, while it is

    def grow(self, size: int) -> None:
        if size <= self.size:
            return
        new = max(size, 2 * self.size)
        for name in ("sums", "counts", "exps"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            arr[: len(old)] = old
            setattr(self, name, arr)
        self.size = new

    def flush(self) -> None:
        """Move the int64 sums into Python ints (before they could overflow)."""
        for key in np.flatnonzero(self.sums).tolist():
            self.big[key] = self.big.get(key, 0) + int(self.sums[key])
        self.sums[:] = 0
        self.bound = 0

    def rescale(self, factor: int) -> None:
        """Multiply every sum by *factor* (when later values carry more decimals)."""
        if self.bound * factor > LIMIT:
            self.flush()
        self.sums *= np.int64(factor)
        self.bound *= factor
        self.big = {k: v * factor for k, v in self.big.items()}

    def add(self, keys: np.ndarray, values: np.ndarray, exps: np.ndarray | int, size: int) -> None:
        """Add non-negative int64 *values* under *keys* (< *size*); *exps* per value or one."""
        self.grow(size)
        if len(keys) == 0:
            return
        self._count(len(keys))
        # a one of the counts' own type: a Python int would send ufunc.at down its slow,
        # casting path (40 times slower)
        np.add.at(self.counts, keys, self.counts.dtype.type(1))
        top = int(values.max())
        bound = top * len(keys)  # cheap and safe; refined below when it is not small enough
        counts = None
        if self.bound + bound > LIMIT:
            counts = np.bincount(keys, minlength=self.size)
            bound = top * int(counts.max())
        if self.bound + bound > LIMIT:
            self.flush()
        if bound > LIMIT:
            # Even one call could overflow: sum the high and low 32 bits apart (each fits).
            low = np.zeros(self.size, dtype=np.int64)
            high = np.zeros(self.size, dtype=np.int64)
            np.add.at(low, keys, values & np.int64(0xFFFFFFFF))
            np.add.at(high, keys, values >> np.int64(32))
            assert counts is not None
            for key in np.flatnonzero(counts).tolist():
                self.big[key] = self.big.get(key, 0) + (int(high[key]) << 32) + int(low[key])
        else:
            np.add.at(self.sums, keys, values)
            self.bound += bound
        if isinstance(exps, int):
            exps = min(exps, 0)
            if self.uniform is None or self.uniform == exps:
                self.uniform = exps
                return
            self._spread()
            touched = np.unique(keys)
            self.exps[touched] = np.minimum(self.exps[touched], exps)
        else:
            self._spread()
            np.minimum.at(self.exps, keys, exps)

    def _count(self, more: int) -> None:
        """Make room in the counts for *more* values (int64 once int32 could overflow)."""
        self.added += more
        if self.added > _COUNT_LIMIT and self.counts.dtype != np.int64:
            self.counts = self.counts.astype(np.int64)

    def _spread(self) -> None:
        """Leave the one-exponent-for-all mode: write it to every key seen so far."""
        if self.uniform is not None and self.uniform != _MIXED:
            self.exps[self.counts > 0] = np.minimum(self.exps[self.counts > 0], self.uniform)
        self.uniform = _MIXED

    def exponents(self, keys: np.ndarray) -> np.ndarray:
        """The smallest exponent of each key's values (0 at most)."""
        if self.uniform is not None and self.uniform != _MIXED:
            return np.minimum(self.exps[keys], self.uniform)
        return self.exps[keys]

    def add_one(self, key: int, value: int, exp: int, size: int) -> None:
        """Add one value too large for int64."""
        self.grow(size)
        self._spread()
        self._count(1)
        self.counts[key] += 1
        self.big[key] = self.big.get(key, 0) + value
        self.exps[key] = min(int(self.exps[key]), exp)

    def value(self, key: int) -> int:
        return int(self.sums[key]) + self.big.get(key, 0)

    def values(self, keys: np.ndarray) -> np.ndarray:
        """The exact sums of *keys*: int64 when all fit, else Python ints."""
        out = self.sums[keys]
        if not self.big:
            return out
        obj = out.astype(object)
        index = {int(k): i for i, k in enumerate(keys.tolist())}
        for key, extra in self.big.items():
            if key in index:
                obj[index[key]] += extra
        return to_int64_or_object(obj)
