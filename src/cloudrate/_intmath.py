"""Exact integer arithmetic on numpy arrays: int64 while it provably fits, Python ints after.

numpy's int64 multiply and add wrap silently on overflow, even under
``np.errstate(all="raise")``. Every operation here first bounds the result from the
largest magnitudes involved; when the bound passes 2**63 - 1 it computes on an object
array of Python ints instead, which never overflows. The charge models' vectorised
prices and the columnar engine compute on these.

Requires numpy (``pip install 'cloudrate[batch]'``); nothing imports this module on the
per-record path.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from cloudrate._money import EXACT

__all__ = [
    "LIMIT",
    "decimal_places",
    "exact_add",
    "exact_mul",
    "magnitude",
    "scaled_int",
    "to_int64_or_object",
]

#: The largest int64.
LIMIT = 2**63 - 1


def magnitude(values: np.ndarray) -> int:
    """The largest absolute value in *values* (0 when empty), as a Python int.

    >>> magnitude(np.array([3, -7, 2]))
    7
    """
    if len(values) == 0:
        return 0
    if values.dtype == object:
        return max(abs(int(v)) for v in values)
    return max(abs(int(values.max())), abs(int(values.min())))


def to_int64_or_object(values: np.ndarray) -> np.ndarray:
    """*values* as int64 when every one fits, else as Python ints."""
    if values.dtype != object or magnitude(values) <= LIMIT:
        return values.astype(np.int64)
    return values


def exact_mul(values: np.ndarray, factor: int) -> np.ndarray:
    """*values* times the integer *factor*, exactly.

    >>> exact_mul(np.array([2**62], dtype=np.int64), 4).tolist()
    [18446744073709551616]
    >>> exact_mul(np.array([0, 1], dtype=np.int64), 10**19).tolist()
    [0, 10000000000000000000]
    """
    fits = abs(factor) <= LIMIT and magnitude(values) * abs(factor) <= LIMIT
    if values.dtype != object and fits:
        return values * np.int64(factor)
    return values.astype(object) * factor


def exact_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` elementwise, exactly."""
    if a.dtype != object and b.dtype != object and magnitude(a) + magnitude(b) <= LIMIT:
        return a + b
    return a.astype(object) + b.astype(object)


def decimal_places(d: Decimal) -> int:
    """The decimal places *d* needs (trailing zeros do not count).

    >>> [decimal_places(Decimal(d)) for d in ("0.0125", "1.50", "7")]
    [4, 1, 0]
    """
    exponent = d.normalize(EXACT).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def scaled_int(d: Decimal, scale: int) -> int | None:
    """``d * 10**scale`` when it is a whole number, else None.

    >>> scaled_int(Decimal("0.0125"), 4), scaled_int(Decimal("0.0125"), 2)
    (125, None)
    """
    v = d.scaleb(scale, EXACT)
    return int(v) if v == v.to_integral_value() else None
