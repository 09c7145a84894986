"""Decimal text of whole arrays: ``str(Decimal)`` of every value, without a Decimal each.

A value is an integer at a fixed *scale* (``value * 10**-scale``) written with the
Decimal exponent it would have on the per-record path. Plain notation (the usual case:
exponent <= 0, at most six zeros after the point before the first digit) is formatted by
Arrow's decimal-to-text cast, one exponent at a time; every other value (scientific
notation, more than 38 digits) goes through :class:`~decimal.Decimal` itself, so the text
is always exactly ``str()`` of the Decimal.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa

from cloudrate._money import EXACT
from cloudrate.exceptions import OptionError

__all__ = ["decimal_texts", "decimal_values"]

#: Coefficients below this fit decimal128 (and int64) for Arrow's cast.
_FITS = 10**18


def decimal_values(values: np.ndarray, scale: int, exps: np.ndarray | int) -> list[Decimal]:
    """The Decimals of :func:`decimal_texts` (for the rows materialised as objects)."""
    exps_list = [exps] * len(values) if isinstance(exps, int) else exps.tolist()
    return [
        _decimal(int(v), scale, int(e)) for v, e in zip(values.tolist(), exps_list, strict=True)
    ]


def _decimal(value: int, scale: int, exp: int) -> Decimal:
    shift = scale + exp
    if shift >= 0:
        coefficient, rest = divmod(value, 10**shift)
        if rest:
            raise OptionError(f"{value}e-{scale} cannot be written with exponent {exp}")
    else:
        coefficient = value * 10**-shift
    return Decimal(coefficient).scaleb(exp, EXACT)


def decimal_texts(values: np.ndarray, scale: int, exps: np.ndarray | int) -> list[str]:
    """``str()`` of each Decimal ``values[i] * 10**-scale`` written with exponent ``exps[i]``.

    >>> decimal_texts(np.array([1_500_000, 0, 7]), 6, np.array([-2, -6, -6]))
    ['1.50', '0.000000', '0.000007']
    >>> decimal_texts(np.array([0, 100]), 2, np.array([-9, 0]))
    ['0E-9', '1']
    """
    n = len(values)
    exp_arr = np.full(n, exps, dtype=np.int64) if isinstance(exps, int) else exps
    out: list[str] = [""] * n
    if n == 0:
        return out
    if values.dtype == object:
        return [str(d) for d in decimal_values(values, scale, exp_arr)]
    found = np.unique(exp_arr).tolist()
    if len(found) == 1:
        return _texts_at(values, scale, int(found[0]))
    for exp in found:
        rows = np.flatnonzero(exp_arr == exp)
        for i, text in zip(rows.tolist(), _texts_at(values[rows], scale, int(exp)), strict=True):
            out[i] = text
    return out


def _texts_at(values: np.ndarray, scale: int, exp: int) -> list[str]:
    """The texts of int64 *values* (at *scale*) that share one exponent."""
    shift = scale + exp
    if exp > 0 or shift < 0 or 10**shift > _FITS:
        return [str(_decimal(int(v), scale, exp)) for v in values.tolist()]
    coefficient = values // np.int64(10**shift) if shift else values
    if shift and bool((coefficient * np.int64(10**shift) != values).any()):
        raise OptionError(f"values at scale {scale} cannot be written with exponent {exp}")
    big = np.abs(coefficient) >= _FITS
    # plain notation needs the adjusted exponent >= -6: |value| >= 10**-6, or zero with
    # exponent >= -6
    small = (coefficient != 0) & (np.abs(coefficient) < 10 ** max(0, -exp - 6))
    if exp < -6:
        small |= coefficient == 0
    odd = big | small
    n = len(values)
    words = np.zeros((n, 2), dtype=np.int64)
    plain = np.where(odd, 0, coefficient)
    words[:, 0] = plain
    words[:, 1] = plain >> np.int64(63)
    array = pa.Array.from_buffers(pa.decimal128(38, -exp), n, [None, pa.py_buffer(words)])
    texts: list[str] = array.cast(pa.string()).to_pylist()
    if odd.any():
        for i in np.flatnonzero(odd).tolist():
            texts[i] = str(_decimal(int(values[i]), scale, exp))
    return texts
