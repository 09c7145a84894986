"""Exact numbers, currencies and the rounding policy.

Everything here works without the global :mod:`decimal` context: arithmetic that
could lose digits runs in :data:`EXACT`, a private context with enough precision for
any amount a bill can hold, and rounding always names its mode.
"""

from __future__ import annotations

import decimal
import functools
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, ParamSpec, TypeVar, cast

import attrs
from babel.numbers import get_currency_precision, list_currencies
from moneyed import Money

from .exceptions import FloatNotAllowedError, MissingExtraError, PlanError

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "EXACT",
    "MAX_AMOUNT",
    "MAX_DIGITS",
    "MAX_PLACES",
    "MAX_QUANTITY",
    "MAX_RATE",
    "MINOR_UNITS",
    "MIN_RATE",
    "MODES",
    "PLACEMENTS",
    "MinorUnits",
    "Placement",
    "RoundingMode",
    "RoundingPolicy",
    "bound_problem",
    "check_amount",
    "check_currency",
    "check_money",
    "check_payable",
    "check_quantity",
    "check_rate",
    "currency_digits",
    "divide_rounded",
    "exact",
    "exact_class",
    "float_noise",
    "money",
    "to_decimal",
    "unlike_float",
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

#: Where a currency's minor-unit digits come from: ``cldr`` (Babel's CLDR data, the
#: default) or ``iso4217`` (the ISO 4217 table, from the ``iso4217`` package). They differ
#: for a few currencies (IQD: 0 in CLDR, 3 in ISO 4217); docs/rounding.md lists them.
MinorUnits = Literal["cldr", "iso4217"]
#: The minor-unit sources, default first.
MINOR_UNITS: tuple[MinorUnits, ...] = ("cldr", "iso4217")

#: The rounding modes, in the order the documentation lists them.
MODES: tuple[RoundingMode, ...] = ("half_up", "half_even", "down", "up", "ceiling", "floor")
#: The placements, as plan files name them.
PLACEMENTS: tuple[Placement, ...] = ("line", "total")

#: The largest amount a line may come to, in any currency: 10**36. Beyond it no price
#: list is meant, and Arrow's widest decimal could no longer hold the total exactly.
#: Every price and amount cloudrate takes is below it.
MAX_AMOUNT = Decimal(10) ** 36
#: The largest quantity (usage, tier bounds, free units, block sizes): 10**36 too.
MAX_QUANTITY = MAX_AMOUNT
#: The most decimals a :class:`RoundingPolicy` (or a proration factor) keeps: 24. An
#: amount below :data:`MAX_AMOUNT` (36 integer digits) rounded to 24 decimals has at most
#: 60 significant digits, all of which :data:`EXACT` holds, so rounding is always exact.
MAX_DIGITS = 24
#: The most decimal places a price, an amount or a quantity given to cloudrate may have:
#: 100. Exact products need no bound here (the rounding of a product below
#: :data:`MAX_AMOUNT` to :data:`MAX_DIGITS` is exact whatever its factors' decimals), but
#: the columnar engine computes at a fixed-point scale of that many decimals, so
#: ``1E-999999`` would make integers of a million digits. A price of 1E-30 is fine.
MAX_PLACES = 100
#: Exchange rates lie in ``[MIN_RATE, MAX_RATE]``: 10**-18 to 10**18, with at most
#: :data:`EXACT`'s 60 significant digits (an inverted rate has exactly 60).
MIN_RATE = Decimal("1E-18")
MAX_RATE = Decimal("1E+18")

Refusal = Callable[[str], Exception]

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
def _iso4217_table() -> dict[str, str]:
    try:
        import iso4217
    except ImportError:
        raise MissingExtraError("ISO 4217 minor units", "the iso4217 package", "einvoice") from None
    return {code: str(row["CcyMnrUnts"]) for code, row in iso4217.raw_table.items()}


def _iso4217_digits(code: str) -> int:
    units = _iso4217_table().get(code)
    if units is None or not units.isdigit():
        raise PlanError(
            f"currency: ISO 4217 gives {code} no minor units "
            f"({'not in its current table' if units is None else units}); "
            "use minor_units='cldr' or give rounding.digits"
        )
    return int(units)


@functools.cache
def currency_digits(code: str, source: MinorUnits = "cldr") -> int:
    """The number of minor-unit digits of *code*, from Babel's CLDR data (``cldr``, the
    default) or from the ISO 4217 table (``iso4217``, needs the ``iso4217`` package).

    >>> currency_digits("EUR"), currency_digits("JPY"), currency_digits("BHD")
    (2, 0, 3)
    >>> currency_digits("IQD"), currency_digits("IQD", "iso4217")
    (0, 3)

    .. versionchanged:: 0.2
       *source* chooses between CLDR and ISO 4217.
    """
    check_currency(code)
    if source == "cldr":
        return int(get_currency_precision(code))
    if source == "iso4217":
        return _iso4217_digits(code)
    raise PlanError(
        f"rounding.minor_units: unknown source {source!r}; use one of {', '.join(MINOR_UNITS)}"
    )


def money(amount: object, currency: str, where: str = "amount") -> Money:
    """Build a :class:`moneyed.Money` from an exact amount; floats are refused.

    >>> money("49.00", "EUR")
    Money('49.00', 'EUR')
    """
    return Money(to_decimal(amount, where), check_currency(currency, where + ".currency"))


def zero(currency: str) -> Money:
    """Zero in *currency*: the start value for ``sum(amounts, zero(currency))``."""
    return Money(Decimal(0), currency)


def _places(value: Decimal) -> int:
    """The decimal places *value* needs (trailing zeros do not count); no context used."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent >= 0:
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing) if any(digits) else 0


def bound_problem(value: Decimal, what: str = "amount") -> str | None:
    """Why *value* is beyond the bounds of a price or amount (*what* ``"amount"``) or a
    quantity (``"quantity"``), or None when it is within them; the plan readers report it
    as a problem at the field's path.

    >>> bound_problem(Decimal("0.0125")) is None
    True
    >>> bound_problem(Decimal("1E-400"), "quantity")
    'has 400 decimal places, more than the 100 cloudrate computes exactly; round it to at \
most 100 places, or price a larger unit'
    """
    if not value.is_finite():
        return f"is not a finite number; give a finite {what}"
    limit = MAX_AMOUNT if what == "amount" else MAX_QUANTITY
    if value.copy_abs() >= limit:
        return (
            f"is beyond the largest {what} cloudrate computes exactly (below "
            f"10**{limit.adjusted()}); check the value, or bill it in a larger unit"
        )
    places = _places(value)
    if places > MAX_PLACES:
        return (
            f"has {places} decimal places, more than the {MAX_PLACES} cloudrate computes "
            f"exactly; round it to at most {MAX_PLACES} places, or price a larger unit"
        )
    return None


def _bounded(value: Decimal, where: str, what: str, error: Refusal) -> Decimal:
    problem = bound_problem(value, what)
    if problem is not None:
        raise error(f"{where}: {value} {problem}")
    return value


def check_amount(value: Decimal, where: str = "amount", error: Refusal = PlanError) -> Decimal:
    """*value* if it is a price or amount cloudrate can compute exactly: finite, below
    :data:`MAX_AMOUNT` in size and with at most :data:`MAX_PLACES` decimals. Otherwise
    *error* (a :class:`~cloudrate.exceptions.CloudrateError` class) is raised, naming
    *where*, the value and the bound.

    >>> check_amount(Decimal("0.0125"))
    Decimal('0.0125')
    >>> check_amount(Decimal("1E+400"), "unit_price")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: unit_price: 1E+400 is beyond the largest amount cloudrate \
computes exactly (below 10**36); check the value, or bill it in a larger unit
    """
    return _bounded(value, where, "amount", error)


def check_quantity(value: Decimal, where: str = "quantity", error: Refusal = PlanError) -> Decimal:
    """*value* if it is a quantity cloudrate can compute exactly: finite, below
    :data:`MAX_QUANTITY` and with at most :data:`MAX_PLACES` decimals; else *error*.

    Meant for every quantity cloudrate takes, usage quantities included (with
    ``error=UsageError``), so both engines refuse the same quantities alike.

    >>> from cloudrate.exceptions import UsageError
    >>> check_quantity(Decimal("1" * 40), error=UsageError)
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.UsageError: quantity: 1111111111111111111111111111111111111111 is \
beyond the largest quantity cloudrate computes exactly (below 10**36); check the value, or \
bill it in a larger unit
    """
    return _bounded(value, where, "quantity", error)


def check_rate(value: Decimal, where: str = "rate", error: Refusal = PlanError) -> Decimal:
    """*value* if it is an exchange rate cloudrate can apply exactly: from
    :data:`MIN_RATE` to :data:`MAX_RATE`, with at most 60 significant digits.

    >>> check_rate(Decimal("1.0842"))
    Decimal('1.0842')
    >>> check_rate(Decimal("1E+400"))
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: rate: 1E+400 is outside the exchange rates cloudrate \
applies (1E-18 to 1E+18); check the rate, and that base and quote are not swapped
    """
    if not value.is_finite() or not MIN_RATE <= value <= MAX_RATE:
        raise error(
            f"{where}: {value} is outside the exchange rates cloudrate applies "
            f"({MIN_RATE} to {MAX_RATE}); check the rate, and that base and quote are "
            "not swapped"
        )
    digits = len(value.as_tuple().digits)
    if digits > EXACT.prec:
        raise error(
            f"{where}: {value} has {digits} significant digits, more than the {EXACT.prec} "
            f"cloudrate computes with; round it to {EXACT.prec} significant digits"
        )
    return value


#: The tail float noise leaves in the decimals: a run of zeros or nines, then at most two
#: digits (0.30000000000000004, 0.7999999999999999, 1.1500000000000001).
_NOISE = re.compile(r"(?:0{5,}|9{5,})\d{0,2}$")


def float_noise(amount: Decimal) -> bool:
    """Whether *amount* is what py-moneyed makes of a float that missed its decimal value:
    written exactly as the float's shortest text, with 16 or more significant digits
    whose decimals end in a run of zeros or nines and at most two more digits.

    ``Money(0.1 + 0.2, "EUR")`` holds ``0.30000000000000004``; ``Money(0.1, "EUR")`` holds
    ``0.1``, which is what was meant and is not noise. An exact amount that happens to read
    like float noise is still accepted written with a trailing zero
    (``Decimal("0.300000000000000040")``).

    >>> float_noise(Decimal(str(0.1 + 0.2))), float_noise(Decimal(str(0.8 - 0.1)))
    (True, True)
    >>> float_noise(Decimal("0.3")), float_noise(Decimal("12345678901234.56"))
    (False, False)
    >>> float_noise(Decimal("0.300000000000000040"))
    False
    """
    if not amount.is_finite():
        return False
    _sign, digits, exponent = amount.as_tuple()
    if len(digits) < 16 or not isinstance(exponent, int) or exponent >= 0:
        return False
    decimals = "".join(map(str, digits[exponent:]))
    if not _NOISE.search(decimals):
        return False
    as_float = float(amount)
    return math.isfinite(as_float) and repr(as_float) == str(amount)


def unlike_float(amount: Decimal) -> Decimal:
    """*amount* itself, written with one trailing zero more when it reads like float noise
    (:func:`float_noise`), so that an exact amount drawn or computed by a program is never
    refused as a float's; the value is unchanged.

    >>> unlike_float(Decimal("124999999.9999901")), unlike_float(Decimal("0.3"))
    (Decimal('124999999.99999010'), Decimal('0.3'))
    """
    if not float_noise(amount):
        return amount
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # float_noise holds only for finite amounts
    return Decimal((sign, (*digits, 0), exponent - 1))


def check_money(
    value: object,
    where: str = "amount",
    *,
    payable: bool = False,
    currency: str | None = None,
    error: Refusal = PlanError,
) -> Money:
    """*value* as a fresh :class:`moneyed.Money` wherever cloudrate takes one, refusing with
    *error* what cannot be billed exactly:

    - not a Money, or a currency Babel does not know;
    - an amount that is float noise (:func:`float_noise`): build Money from a string;
    - an amount beyond the bounds of :func:`check_amount`;
    - with *payable*, an amount finer than the currency's minor units (a recharge, a
      payment, a fixed discount);
    - with *currency*, an amount in another currency.

    >>> check_money(Money("33.33", "EUR"), "recharge", payable=True)
    Money('33.33', 'EUR')
    >>> check_money(Money("33.325", "EUR"), "recharge", payable=True)
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: recharge: 33.325 EUR has more decimals than the 2 minor \
units of EUR; give it in steps of 0.01, such as 33.32 or 33.33
    >>> check_money(Money(0.1 + 0.2, "EUR"), "unit_price")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: unit_price: 0.30000000000000004 EUR looks like a float's \
rounding noise (Money built from a float); build it from a string or Decimal, such as \
Money('0.30', 'EUR')
    """
    if not isinstance(value, Money):
        raise error(f"{where}: expected Money such as Money('10.00', 'EUR'), got {value!r}")
    code = value.currency.code
    if currency is not None and code != currency:
        raise error(f"{where}: {value.amount} {code} is not in {currency}; give it in {currency}")
    try:
        check_currency(code, where + ".currency")
    except PlanError as exc:
        raise error(str(exc)) from None
    amount = value.amount
    if not isinstance(amount, Decimal):  # py-moneyed keeps Decimals; a subclass may not
        amount = to_decimal(amount, where)
    if float_noise(amount):
        meant = format(Decimal(repr(round(float(amount), currency_digits(code)))), "f")
        if _places(Decimal(meant)) < currency_digits(code):
            meant = str(Decimal(meant).quantize(Decimal(1).scaleb(-currency_digits(code))))
        raise error(
            f"{where}: {amount} {code} looks like a float's rounding noise (Money built "
            f"from a float); build it from a string or Decimal, such as "
            f"Money('{meant}', '{code}')"
        )
    check_amount(amount, where, error)
    if payable:
        check_payable(amount, code, where, error)
    return Money(amount, code)


def check_payable(
    amount: Decimal, currency: str, where: str = "amount", error: Refusal = PlanError
) -> Decimal:
    """*amount* if it is a whole number of *currency*'s minor units (Babel's digits), else
    *error* naming the two nearest amounts that are.

    >>> check_payable(Decimal("24.95"), "EUR")
    Decimal('24.95')
    >>> check_payable(Decimal("100.5"), "JPY", "payment")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: payment: 100.5 JPY has more decimals than the 0 minor \
units of JPY; give it in steps of 1, such as 100 or 101
    """
    digits = currency_digits(currency)
    if _places(amount) <= digits:
        return amount
    quantum = Decimal(1).scaleb(-digits)
    below = RoundingPolicy(mode="floor", digits=digits).round(amount, currency)
    above = RoundingPolicy(mode="ceiling", digits=digits).round(amount, currency)
    raise error(
        f"{where}: {amount} {currency} has more decimals than the {digits} minor units of "
        f"{currency}; give it in steps of {quantum}, such as {below} or {above}"
    )


def _check_mode(_inst: object, _attr: object, value: str) -> None:
    if value not in MODES:
        raise PlanError(
            f"rounding.mode: unknown mode {value!r}; use one of {', '.join(sorted(MODES))}"
        )


def _check_placement(_inst: object, _attr: object, value: str) -> None:
    if value not in PLACEMENTS:
        raise PlanError(f"rounding.placement: must be 'line' or 'total' (got {value!r})")


def _check_digits(_inst: object, _attr: object, value: int | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIGITS
    ):
        raise PlanError(
            f"rounding.digits: must be a whole number from 0 to {MAX_DIGITS}, or None for "
            f"the currency's minor units (got {value!r})"
        )


def _check_minor_units(_inst: object, _attr: object, value: str) -> None:
    if value not in MINOR_UNITS:
        raise PlanError(
            f"rounding.minor_units: must be one of {', '.join(MINOR_UNITS)} (got {value!r})"
        )


@attrs.frozen(repr=False)
class RoundingPolicy:
    """How exact amounts become amounts that can be billed.

    *mode* is the rounding rule (``half_up`` by default, ``half_even`` for banker's
    rounding). *placement* says where rounding happens: ``line`` rounds every line and
    adds the rounded lines up; ``total`` adds the exact lines, rounds the total once and
    spreads that total over the lines by largest remainder, so the lines still add up to
    it. *digits* is the number of decimals kept, ``None`` for the currency's minor units
    (from Babel: 2 for EUR, 0 for JPY, 3 for BHD). *minor_units* says where those
    digits come from: ``cldr`` (Babel's CLDR data, the default) or ``iso4217`` (the ISO
    4217 table); they differ for a few currencies, such as IQD (0 in CLDR, 3 in ISO 4217).

    >>> policy = RoundingPolicy()
    >>> policy.round(Decimal("0.125"), "EUR")
    Decimal('0.13')
    >>> RoundingPolicy(mode="half_even").round(Decimal("0.125"), "EUR")
    Decimal('0.12')
    >>> policy.round(Decimal("1234.5"), "JPY")
    Decimal('1235')
    >>> policy.round(Decimal("1000.1235"), "IQD")
    Decimal('1000')
    >>> RoundingPolicy(minor_units="iso4217").round(Decimal("1000.1235"), "IQD")
    Decimal('1000.124')

    .. versionchanged:: 0.2
       *minor_units* (``cldr`` or ``iso4217``).
    """

    mode: RoundingMode = attrs.field(default="half_up", validator=_check_mode)
    placement: Placement = attrs.field(default="line", validator=_check_placement)
    digits: int | None = attrs.field(default=None, validator=_check_digits)
    minor_units: MinorUnits = attrs.field(
        default="cldr", validator=_check_minor_units, kw_only=True
    )

    def __repr__(self) -> str:
        # minor_units only when it is not the default, so reprs written before it stay true
        extra = "" if self.minor_units == "cldr" else f", minor_units={self.minor_units!r}"
        return (
            f"RoundingPolicy(mode={self.mode!r}, placement={self.placement!r}, "
            f"digits={self.digits!r}{extra})"
        )

    def digits_for(self, currency: str) -> int:
        """The number of decimals an amount in *currency* is rounded to."""
        if self.digits is not None:
            return self.digits
        return currency_digits(currency, self.minor_units)

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
        data: dict[str, object] = {
            "mode": self.mode,
            "placement": self.placement,
            "digits": self.digits,
        }
        if self.minor_units != "cldr":  # the default is not written, so plan files stay
            data["minor_units"] = self.minor_units
        return data

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
