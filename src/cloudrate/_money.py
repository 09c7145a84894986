"""Exact numbers, currencies and the rounding policy.

Everything here works without the global :mod:`decimal` context: arithmetic that
could lose digits runs in :data:`EXACT`, a private context with enough precision for
any amount a bill can hold, and rounding always names its mode.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, ParamSpec, TypeVar, cast

import attrs
from babel.numbers import get_currency_precision, list_currencies
from moneyed import Money

from .exceptions import FloatNotAllowedError, PlanError

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "EXACT",
    "MAX_AMOUNT",
    "MODES",
    "PLACEMENTS",
    "Placement",
    "RoundingMode",
    "RoundingPolicy",
    "check_currency",
    "currency_digits",
    "divide_rounded",
    "exact",
    "exact_class",
    "money",
    "to_decimal",
    "zero",
]

#: Arithmetic context used for every multiplication and division: 60 significant
#: digits, traps on, independent of ``decimal.getcontext()``.
EXACT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

#: How an amount between two quanta is rounded: ties away from zero (``half_up``), ties to
#: the even quantum (``half_even``), towards zero (``down``), away from zero (``up``),
#: towards +infinity (``ceiling``) or towards -infinity (``floor``).
RoundingMode = Literal["half_up", "half_even", "down", "up", "ceiling", "floor"]
#: Where rounding happens: on every ``line``, or once on the ``total``.
Placement = Literal["line", "total"]

#: The rounding modes, in the order the documentation lists them.
MODES: tuple[RoundingMode, ...] = ("half_up", "half_even", "down", "up", "ceiling", "floor")
#: The placements, as plan files name them.
PLACEMENTS: tuple[Placement, ...] = ("line", "total")

N = TypeVar("N")


def divide_rounded(n: N, d: int, mode: RoundingMode) -> N:
    """``n / d`` rounded to a whole number with *mode*: the one definition of every mode.

    *n* is an int or a numpy array of integers (int64 or Python ints), *d* a positive
    int. Both engines round through here: :meth:`RoundingPolicy.round` on a Decimal's
    digits, the columnar engine on whole arrays of amounts. Nothing is multiplied, so
    int64 arrays cannot overflow.

    >>> [divide_rounded(n, 10, "half_up") for n in (125, 124, -125)]
    [13, 12, -13]
    >>> [divide_rounded(n, 10, "half_even") for n in (125, 135, -125)]
    [12, 14, -12]
    >>> [divide_rounded(-121, 10, m) for m in ("down", "up", "ceiling", "floor")]
    [-12, -13, -12, -13]
    """
    v = cast(Any, n)
    negative = v < 0
    magnitude = abs(v)
    q, r = magnitude // d, magnitude % d  # not divmod: numpy has none for Python ints
    if mode == "half_up":
        up = r >= d - r
    elif mode == "half_even":
        up = (r > d - r) | ((r == d - r) & (q % 2 == 1))
    elif mode == "up":
        up = r > 0
    elif mode == "ceiling":
        up = (r > 0) & (v > 0)
    elif mode == "floor":
        up = (r > 0) & negative
    elif mode == "down":
        up = r < 0  # never: the magnitude is truncated
    else:
        raise PlanError(f"rounding.mode: unknown mode {mode!r}; use one of {', '.join(MODES)}")
    return cast(N, (q + up) * (1 - 2 * negative))


def to_decimal(value: object, where: str = "value") -> Decimal:
    """Turn *value* (Decimal, int or numeric string) into a finite Decimal.

    Floats are refused because they cannot hold money exactly; so are booleans,
    NaN and infinities.

    >>> to_decimal("0.10")
    Decimal('0.10')
    >>> to_decimal(0.1, "unit_price")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.FloatNotAllowedError: unit_price: got the float 0.1; floats cannot hold \
money exactly, pass Decimal('0.1') or the string '0.1' instead
    """
    if type(value) is Decimal:
        result = value
    elif isinstance(value, bool):
        raise PlanError(f"{where}: expected a number, got the boolean {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        raise FloatNotAllowedError(value, where)
    elif isinstance(value, Decimal):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except decimal.InvalidOperation:
            raise PlanError(
                f"{where}: {value!r} is not a number; write digits with a '.' "
                "for decimals, such as '0.0125'"
            ) from None
    else:
        raise PlanError(
            f"{where}: expected a Decimal, an int or a numeric string, "
            f"got {type(value).__name__} {value!r}"
        )
    if not result.is_finite():
        raise PlanError(f"{where}: {value!r} is not a finite number; give a finite amount")
    return result


@functools.cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: object, where: str = "currency") -> str:
    """Return *code* if it is an ISO 4217 currency code Babel knows, else raise.

    >>> check_currency("EUR")
    'EUR'
    >>> check_currency("EURO")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: currency: not an ISO 4217 code such as "EUR" (got 'EURO')
    """
    if not isinstance(code, str) or code not in _known_currencies():
        raise PlanError(f'{where}: not an ISO 4217 code such as "EUR" (got {code!r})')
    return code


@functools.cache
def currency_digits(code: str) -> int:
    """The number of minor-unit digits of *code*, from Babel's CLDR data.

    >>> currency_digits("EUR"), currency_digits("JPY"), currency_digits("BHD")
    (2, 0, 3)
    """
    return int(get_currency_precision(check_currency(code)))


def money(amount: object, currency: str, where: str = "amount") -> Money:
    """Build a :class:`moneyed.Money` from an exact amount; floats are refused.

    >>> money("49.00", "EUR")
    Money('49.00', 'EUR')
    """
    return Money(to_decimal(amount, where), check_currency(currency, where + ".currency"))


def zero(currency: str) -> Money:
    """Zero in *currency*: the start value for ``sum(amounts, zero(currency))``."""
    return Money(Decimal(0), currency)


def _check_mode(_inst: object, _attr: object, value: str) -> None:
    if value not in MODES:
        raise PlanError(
            f"rounding.mode: unknown mode {value!r}; use one of {', '.join(sorted(MODES))}"
        )


def _check_placement(_inst: object, _attr: object, value: str) -> None:
    if value not in PLACEMENTS:
        raise PlanError(f"rounding.placement: must be 'line' or 'total' (got {value!r})")


def _check_digits(_inst: object, _attr: object, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise PlanError(
            f"rounding.digits: must be a whole number >= 0 or None for the currency's "
            f"minor units (got {value!r})"
        )


@attrs.frozen
class RoundingPolicy:
    """How exact amounts become amounts that can be billed.

    *mode* is the rounding rule (``half_up`` by default, ``half_even`` for banker's
    rounding). *placement* says where rounding happens: ``line`` rounds every line and
    adds the rounded lines up; ``total`` adds the exact lines, rounds the total once and
    spreads that total over the lines by largest remainder, so the lines still add up to
    it. *digits* is the number of decimals kept, ``None`` for the currency's minor units
    (from Babel: 2 for EUR, 0 for JPY, 3 for BHD).

    >>> policy = RoundingPolicy()
    >>> policy.round(Decimal("0.125"), "EUR")
    Decimal('0.13')
    >>> RoundingPolicy(mode="half_even").round(Decimal("0.125"), "EUR")
    Decimal('0.12')
    >>> policy.round(Decimal("1234.5"), "JPY")
    Decimal('1235')
    """

    mode: RoundingMode = attrs.field(default="half_up", validator=_check_mode)
    placement: Placement = attrs.field(default="line", validator=_check_placement)
    digits: int | None = attrs.field(default=None, validator=_check_digits)

    def digits_for(self, currency: str) -> int:
        """The number of decimals an amount in *currency* is rounded to."""
        return currency_digits(currency) if self.digits is None else self.digits

    def quantum(self, currency: str) -> Decimal:
        """The smallest step of a rounded amount, e.g. ``Decimal('0.01')`` for EUR."""
        return Decimal(1).scaleb(-self.digits_for(currency))

    def round(self, amount: Decimal, currency: str) -> Decimal:
        """Round *amount* to this policy's digits for *currency* with its mode.

        The digits of *amount* are divided by a power of ten with :func:`divide_rounded`,
        the same integer rounding the columnar engine applies to whole arrays.
        """
        digits = self.digits_for(currency)
        sign, coefficient, exponent = amount.as_tuple()
        if not isinstance(exponent, int):
            raise PlanError(f"rounding: {amount} is not a finite amount; give a finite amount")
        if exponent >= -digits:  # nothing to round: write it with the currency's digits
            zeros = (0,) * (exponent + digits) if any(coefficient) else ()
            return Decimal((sign, coefficient + zeros, -digits))
        # The digits themselves, as an int: no context, so nothing is rounded on the way.
        whole = int("".join(map(str, coefficient))) * (-1 if sign else 1)
        rounded = divide_rounded(whole, 10 ** (-digits - exponent), self.mode)
        keeps_sign = rounded < 0 or (rounded == 0 and sign)  # -0.001 rounds to -0.00
        return Decimal((int(keeps_sign), tuple(map(int, str(abs(rounded)))), -digits))

    def round_money(self, amount: Money) -> Money:
        """Round a :class:`moneyed.Money`, keeping its currency."""
        code = amount.currency.code
        return Money(self.round(amount.amount, code), code)

    def to_dict(self) -> dict[str, object]:
        """The policy as plain data, as a plan file writes it."""
        return {"mode": self.mode, "placement": self.placement, "digits": self.digits}

    def allocate(self, amounts: list[Decimal], currency: str) -> list[Decimal]:
        """Round *amounts* so they add up to the rounded sum of the exact amounts.

        Each amount is first rounded towards zero to the quantum; the units still
        missing from the rounded total go, one quantum each, to the amounts with the
        largest remainders (ties to the earlier amount). Used by ``placement='total'``.

        >>> RoundingPolicy().allocate([Decimal("0.333"), Decimal("0.333"), Decimal("0.334")],
        ...                           "EUR")
        [Decimal('0.33'), Decimal('0.33'), Decimal('0.34')]
        """
        # Room for every digit from the largest amount down to the quantum, so amounts
        # of any size are allocated exactly (EXACT's 60 digits would refuse 1E+58 EUR).
        quantum = self.quantum(currency)
        largest = max((a.adjusted() for a in amounts if a.is_finite() and a), default=0)
        wide = EXACT.copy()
        wide.prec = max(EXACT.prec, largest - quantum.as_tuple().exponent + len(amounts) + 10)  # type: ignore[operator]
        with decimal.localcontext(wide):
            return self._allocate(amounts, currency, wide)

    def _allocate(
        self, amounts: list[Decimal], currency: str, context: decimal.Context
    ) -> list[Decimal]:
        quantum = self.quantum(currency)
        total = self.round(sum(amounts, Decimal(0)), currency)
        floors = [
            a.quantize(quantum, rounding=decimal.ROUND_DOWN, context=context) for a in amounts
        ]
        missing = int(((total - sum(floors, Decimal(0))) / quantum).to_integral_value())
        if missing:
            step = quantum if missing > 0 else -quantum
            remainders = [
                (a - f) * (1 if missing > 0 else -1) for a, f in zip(amounts, floors, strict=True)
            ]
            order = sorted(range(len(amounts)), key=lambda i: (-remainders[i], i))
            for i in order[: abs(missing)]:
                floors[i] += step
        return [f.quantize(quantum, context=context) for f in floors]


#: The largest amount a line may come to, in any currency: 10**36. Beyond it no price
#: list is meant, and Arrow's widest decimal could no longer hold the total exactly.
MAX_AMOUNT = Decimal(10) ** 36


def exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run *function* in the :data:`EXACT` decimal context, whatever the caller's is."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with decimal.localcontext(EXACT):
            return function(*args, **kwargs)

    return wrapper


T = TypeVar("T", bound=type)

#: Methods an exact class runs in :data:`EXACT` besides its public ones (attrs' generated
#: ``__init__`` runs the converters, ``__attrs_post_init__`` the checks).
_EXACT_DUNDERS = ("__init__", "__attrs_post_init__")


def exact_class(cls: T) -> T:
    """Run every public method and property of *cls*, and its construction, in the
    :data:`EXACT` decimal context, whatever the caller's context is.

    >>> import attrs
    >>> @exact_class
    ... @attrs.frozen
    ... class Third:
    ...     value: Decimal
    ...     @property
    ...     def third(self) -> Decimal:
    ...         return self.value / 3
    >>> with decimal.localcontext(decimal.Context(prec=4)):
    ...     len(str(Third(Decimal(1)).third))
    62
    """
    for name, member in list(vars(cls).items()):
        if name.startswith("_") and name not in _EXACT_DUNDERS:
            continue
        if isinstance(member, property) and member.fget is not None:
            setattr(
                cls, name, property(exact(member.fget), member.fset, member.fdel, member.__doc__)
            )
        elif isinstance(member, functools.cached_property):
            continue
        elif callable(member) and not isinstance(member, type | staticmethod | classmethod):
            setattr(cls, name, exact(member))
        elif isinstance(member, staticmethod | classmethod):
            setattr(cls, name, type(member)(exact(member.__func__)))
    return cls
