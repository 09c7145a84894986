"""Small value helpers of the batch path: times as integers, slots, exact Decimals."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from cloudrate._money import EXACT
from cloudrate.exceptions import RatingError
from cloudrate.plans import Flat, Plan
from cloudrate.rating._kernel import Acc

__all__ = ["Slot", "acc_of", "decimal_of", "from_micros", "micros", "plan_slots"]

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


@attrs.frozen
class Slot:
    """A charge that prices a metric: its index in the plan, aggregation and selector."""

    index: int
    name: str
    aggregation: str
    where: tuple[tuple[str, tuple[str, ...]], ...]


def plan_slots(plan: Plan) -> dict[str, list[Slot]]:
    """The charges of each metric, as :func:`cloudrate.rate` finds them."""
    slots: dict[str, list[Slot]] = defaultdict(list)
    for index, charge in enumerate(plan.charges):
        if charge.metric is not None:
            aggregation = (
                "resources"
                if isinstance(charge.model, Flat)
                else (plan.metric(charge.metric).aggregation)
            )
            slots[charge.metric].append(
                Slot(index, charge.name, aggregation, tuple(charge.where.items()))
            )
    return dict(slots)


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


def acc_of(value: Any, count: int) -> Acc:
    acc = Acc()
    acc.value = value
    acc.count = count
    return acc
