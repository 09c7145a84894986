"""Small value helpers of the columnar engine: times as integers, exact Decimals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cloudrate._money import EXACT
from cloudrate.exceptions import RatingError

__all__ = ["decimal_of", "from_micros", "micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime.

    >>> micros(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)), from_micros(1_000_000).second
    (1000000, 1)
    """
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def decimal_of(value: int, scale: int, exponent: int) -> Decimal:
    """The Decimal ``value * 10**-scale`` written with *exponent* (as rate() would have it).

    >>> decimal_of(1_500_000_000_000, 12, -2), decimal_of(0, 12, 0)
    (Decimal('1.50'), Decimal('0'))
    """
    if exponent >= 0:
        exact = Decimal(value).scaleb(-scale, EXACT)
        return exact.quantize(Decimal(1).scaleb(exponent), context=EXACT)
    shift = scale + exponent
    if shift < 0:
        return Decimal(value * 10**-shift).scaleb(exponent, EXACT)
    whole, rest = divmod(value, 10**shift)
    if rest:  # the exponent would drop digits: never round silently
        raise RatingError(
            f"internal: {Decimal(value).scaleb(-scale, EXACT)} cannot be written with "
            f"exponent {exponent}; please report this"
        )
    return Decimal(whole).scaleb(exponent, EXACT)
