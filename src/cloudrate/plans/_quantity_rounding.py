"""Rounding of a metric's quantity before it is priced: round, ceil or floor at a precision.

A metric may round what its charges price, as Lago's billable metrics do with their
``rounding_function`` and ``rounding_precision``: the aggregated quantity (``per:
aggregate``, Lago's rule), or each record's quantity before the records are aggregated
(``per: record``, as CloudStack's quota rounds each usage record's bytes to GiB). Both
engines and the usage page round through :meth:`QuantityRounding.apply`, and the
columnar engine's fast totals through its vectorised twin
:meth:`QuantityRounding.apply_scaled`; both round with :func:`cloudrate._money.divide_rounded`,
the one integer rounding of every mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from cloudrate._documents import join_path
from cloudrate._money import MAX_PLACES, RoundingMode, divide_rounded
from cloudrate.exceptions import PlanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

__all__ = [
    "MAX_PRECISION",
    "MIN_PRECISION",
    "QUANTITY_ROUNDING_MODES",
    "ROUNDING_PER",
    "QuantityRounding",
    "QuantityRoundingMode",
    "RoundingPer",
    "read_quantity_rounding",
]

#: How a quantity between two steps of the precision is rounded: ``round`` to the nearest
#: step, ties away from zero (Ruby's ``round``, as Lago applies it); ``half_even`` to the
#: nearest step, ties to the even step; ``ceil`` up; ``floor`` down.
QuantityRoundingMode = Literal["round", "half_even", "ceil", "floor"]
QUANTITY_ROUNDING_MODES: tuple[QuantityRoundingMode, ...] = ("round", "half_even", "ceil", "floor")
#: What is rounded: the ``aggregate`` (the aggregated quantity, after unit conversion and
#: before free units) or each ``record``'s quantity (converted into the metric's unit)
#: before the records are aggregated.
RoundingPer = Literal["aggregate", "record"]
ROUNDING_PER: tuple[RoundingPer, ...] = ("aggregate", "record")

#: Precisions are whole numbers from -35 (to multiples of 10**35: quantities are below
#: 10**36) to 100 decimals (the most a quantity may have).
MIN_PRECISION = -35
MAX_PRECISION = MAX_PLACES

#: Each mode as the rounding kernel names it (quantities are never negative, so ``ceil``
#: and ``floor`` are ``ceiling`` and ``floor`` whatever the sign convention).
_KERNEL: dict[QuantityRoundingMode, RoundingMode] = {
    "round": "half_up",
    "half_even": "half_even",
    "ceil": "ceiling",
    "floor": "floor",
}


def _check_mode(_inst: object, _attr: object, value: object) -> None:
    if value not in QUANTITY_ROUNDING_MODES:
        raise PlanError(
            f"rounding.mode: must be one of {', '.join(QUANTITY_ROUNDING_MODES)} (got {value!r})"
        )


def _check_precision(_inst: object, _attr: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(
            f"rounding.precision: expected a whole number of decimals (negative for tens, "
            f"hundreds...), got {value!r}"
        )
    if not MIN_PRECISION <= value <= MAX_PRECISION:
        raise PlanError(
            f"rounding.precision: must be from {MIN_PRECISION} to {MAX_PRECISION} (got {value})"
        )


def _check_per(_inst: object, _attr: object, value: object) -> None:
    if value not in ROUNDING_PER:
        raise PlanError(f"rounding.per: must be one of {', '.join(ROUNDING_PER)} (got {value!r})")


@attrs.frozen
class QuantityRounding:
    """Round a metric's quantity to *precision* decimals with *mode* before pricing.

    A negative *precision* rounds to tens (-1), hundreds (-2) and so on. *per* says what
    is rounded: the aggregated quantity (``aggregate``, after unit conversion and before
    free units) or each record's quantity converted into the metric's unit
    (``record``), before the records are aggregated.

    Lago's published examples (https://getlago.com/docs/guide/billable-metrics/rounding):

    >>> q = Decimal("123.4567")
    >>> [QuantityRounding("round", p).apply(q) for p in (0, 2, -1)]
    [Decimal('123'), Decimal('123.46'), Decimal('120')]
    >>> QuantityRounding("ceil", -2).apply(Decimal(1234)), QuantityRounding("floor").apply(q)
    (Decimal('1300'), Decimal('123'))

    A quantity with no digits past the precision is kept as it is written.

    .. versionadded:: 0.2
    """

    mode: QuantityRoundingMode = attrs.field(validator=_check_mode)
    precision: int = attrs.field(default=0, validator=_check_precision)
    per: RoundingPer = attrs.field(default="aggregate", validator=_check_per, kw_only=True)

    def apply(self, quantity: Decimal) -> Decimal:
        """*quantity* rounded: to ``precision`` decimals (exponent ``-precision``), or
        for a negative precision to a whole multiple of ``10**-precision`` (exponent 0).

        Exact whatever the decimal context: the digits are divided as integers.
        """
        sign, digits, exponent = quantity.as_tuple()
        if not isinstance(exponent, int):
            raise PlanError(f"rounding: {quantity} is not a finite quantity")
        if exponent >= -self.precision:
            return quantity  # nothing past the precision
        whole = int("".join(map(str, digits))) * (-1 if sign else 1)
        steps = divide_rounded(whole, 10 ** (-self.precision - exponent), _KERNEL[self.mode])
        if self.precision >= 0:
            keeps_sign = steps < 0 or (steps == 0 and sign)
            return Decimal((int(keeps_sign), tuple(map(int, str(abs(steps)))), -self.precision))
        return Decimal(steps * 10**-self.precision)

    def apply_scaled(
        self, qty: np.ndarray, exps: np.ndarray | int, s: int
    ) -> tuple[np.ndarray, np.ndarray | int]:
        """The vectorised twin of :meth:`apply`: quantities as integers at scale *s*
        (``q / 10**s``) written with the Decimal exponents *exps*, rounded; returns the
        integers (int64, or Python ints where int64 would overflow) and their exponents.

        >>> import numpy as np
        >>> qty, exps = QuantityRounding("ceil", -2).apply_scaled(np.array([12340, 1000]), 0, 1)
        >>> qty.tolist(), exps  # 1234.0 and 100.0 at scale 1: 1300 and 100
        ([13000, 1000], 0)
        """
        import numpy as np

        from cloudrate._intmath import LIMIT, exact_mul, to_int64_or_object

        if self.precision >= s:
            return qty, exps  # every quantity at scale s has at most s decimals
        d = 10 ** (s - self.precision)
        values = qty.astype(object) if qty.dtype != object and d > LIMIT else qty
        steps = divide_rounded(values, d, _KERNEL[self.mode])
        if steps.dtype == object:
            steps = to_int64_or_object(steps)
        rounded = to_int64_or_object(np.asarray(exact_mul(steps, d)))
        kept = min(-self.precision, 0)
        if isinstance(exps, int):
            return rounded, (kept if exps < -self.precision else exps)
        return rounded, np.where(exps < -self.precision, kept, exps)

    def to_dict(self) -> dict[str, Any]:
        """Plain data as a plan file writes it."""
        out: dict[str, Any] = {"mode": self.mode, "precision": self.precision}
        if self.per != "aggregate":
            out["per"] = self.per
        return out


def read_quantity_rounding(
    r: FieldReader, data: Mapping[str, Any], path: str
) -> QuantityRounding | None:
    """A metric's ``rounding`` in a plan file, or None (absent, or after recording every
    problem it has)."""
    raw = data.get("rounding")
    if raw is None:
        return None
    where = join_path(path, "rounding")
    fields = r.mapping(raw, where, ("mode", "precision", "per"))
    if not fields:
        return None
    ok = True
    if fields.get("mode") is None:
        r.doc.problem(
            join_path(where, "mode"),
            "missing",
            f"mode is required: one of {', '.join(QUANTITY_ROUNDING_MODES)}",
        )
        ok = False
    count = len(r.doc.problems)
    mode = r.choice(fields, "mode", where, QUANTITY_ROUNDING_MODES, "round")
    per = r.choice(fields, "per", where, ROUNDING_PER, "aggregate")
    precision = _read_precision(r, fields, where)
    if not ok or precision is None or len(r.doc.problems) > count:
        return None
    return QuantityRounding(mode, precision, per=per)


def _read_precision(r: FieldReader, fields: Mapping[str, Any], where: str) -> int | None:
    value = fields.get("precision", 0)
    if value is None:
        return 0
    if (
        isinstance(value, bool)
        or not isinstance(value, int | Decimal)
        or (isinstance(value, Decimal) and value != value.to_integral_value())
    ):
        r.doc.problem(
            join_path(where, "precision"),
            "not_whole",
            "expected a whole number of decimals (negative for tens, hundreds...)",
            str(value) if isinstance(value, Decimal) else value,
        )
        return None
    if not MIN_PRECISION <= value <= MAX_PRECISION:
        r.doc.problem(
            join_path(where, "precision"),
            "out_of_range",
            f"must be from {MIN_PRECISION} to {MAX_PRECISION}",
            str(value),
        )
        return None
    return int(value)
