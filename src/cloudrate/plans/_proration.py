"""How a partial period is measured: the proration rules of flat fees and coverages.

Each rule turns the active spans of a resource (or the span a plan covers) into the share
of a billing period they are charged for. ``days`` and ``seconds`` measure the period's own
length; ``days_of_30`` counts days over a fixed 30; ``thirty_day_months`` is Kill Bill's
fixed 30-day months (``org.killbill.invoice.proration.fixed.days=30``,
``InvoiceDateUtils.daysBetweenWithFixedDaysInMonth`` in killbill/killbill), where every
month counts 30 days.
"""

from __future__ import annotations

import calendar
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from cloudrate._money import exact
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod, seconds_between

__all__ = [
    "PRORATIONS",
    "RENAMED_PRORATIONS",
    "Proration",
    "current_proration",
    "proration_factor",
]

#: How a partial period is charged, by name.
Proration = Literal["days", "seconds", "days_of_30", "thirty_day_months", "none"]
PRORATIONS: tuple[Proration, ...] = ("days", "seconds", "days_of_30", "thirty_day_months", "none")
#: Former names of prorations, still read (with a ``DeprecationWarning``) as the new one.
RENAMED_PRORATIONS: Mapping[str, Proration] = MappingProxyType({"days30": "days_of_30"})


def current_proration(value: object, where: str = "proration") -> Any:
    """*value*, or the current name of the proration it formerly named, with a
    ``DeprecationWarning`` naming *where* and the new name, shown at the first caller
    outside cloudrate. Other values are returned as given, for the validator to judge.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     current_proration("days30")
    'days_of_30'
    >>> print(caught[0].message)
    proration: 'days30' was renamed 'days_of_30' (days touched / 30, at most 1)
    """
    if isinstance(value, str) and value in RENAMED_PRORATIONS:
        new = RENAMED_PRORATIONS[value]
        warnings.warn(
            f"{where}: {value!r} was renamed {new!r} (days touched / 30, at most 1)",
            DeprecationWarning,
            stacklevel=_outside_level(),
        )
        return new
    return value


#: Where cloudrate's own files are: a warning is shown at the first frame outside them.
_PACKAGE = str(Path(__file__).parent.parent) + os.sep


def _outside_level() -> int:
    """The ``stacklevel`` of the first frame outside cloudrate (and attrs' generated
    methods), for a warning raised by the function that calls this one."""
    level, frame = 2, sys._getframe(2)  # 2: the caller of that function
    while frame.f_code.co_filename.startswith((_PACKAGE, "<attrs generated")):
        if frame.f_back is None:
            break
        level, frame = level + 1, frame.f_back
    return level


@exact
def proration_factor(
    spans: Iterable[tuple[datetime, datetime]],
    period: BillingPeriod,
    proration: Proration = "days",
    digits: int | None = None,
) -> Decimal:
    """The share of *period* that *spans* cover, measured as *proration* says (see
    :class:`Flat`); *digits* rounds it half-up. The one rule for flat fees and for the part
    of a period a subscription covers.

    >>> period = BillingPeriod.month(2026, 10, "UTC")
    >>> proration_factor([(datetime(2026, 10, 16, tzinfo=period.tz), period.end)], period)
    Decimal('0.516129032258064516129032258064516129032258064516129032258065')
    """
    if proration in ("none", "seconds"):
        clipped = [c for s, e in spans if (c := period.clip(s, e)) is not None]
        if not clipped:
            return Decimal(0)
        if proration == "none":
            return Decimal(1)
        covered = sum((seconds_between(s, e) for s, e in _merge(clipped)), Decimal(0))
        share = covered / period.seconds
    else:  # the days the spans of some length cover inside the period (none: no share)
        touched = period.local_days(spans, moments=False)
        if not touched:
            return Decimal(0)
        if proration == "thirty_day_months":
            share = _thirty_day_months(touched, period)
        else:
            share = Decimal(len(touched))
            share /= Decimal(30) if proration == "days_of_30" else period.days
            share = min(share, Decimal(1))
    if digits is not None:
        share = share.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return share


def _thirty_day_months(days: set[date], period: BillingPeriod) -> Decimal:
    """Kill Bill's fixed 30-day months: the weight of *days* over 30 per month of *period*
    (1 when every day of the period is touched, as Kill Bill bills a whole period)."""
    months = _whole_months(period)
    if len(days) == period.days:
        return Decimal(1)
    return Decimal(sum(map(_weight, days))) / (30 * months)


def _weight(day: date) -> int:
    """A day counted in a 30-day month: 1, but a month's last day absorbs the difference
    (31 minus the month's length: 0 for the 31st, 1 for the 30th of a 30-day month, 2 for
    29 February and 3 for 28 February in a common year)."""
    length = calendar.monthrange(day.year, day.month)[1]
    return 31 - length if day.day == length else 1


def _whole_months(period: BillingPeriod) -> int:
    """How many months *period* spans, by its local dates: calendar months, or months
    counted from an anchor day, where a month too short for it ends on its last day
    (31 January to 28 February to 31 March); refused when the period is not whole months."""
    tz = period.tz
    first, end = period.start.astimezone(tz).date(), period.end.astimezone(tz).date()
    months = (end.year - first.year) * 12 + end.month - first.month
    if months >= 1 and (
        first.day == end.day
        or (first.day < end.day and first.day == calendar.monthrange(first.year, first.month)[1])
        or (first.day > end.day and end.day == calendar.monthrange(end.year, end.month)[1])
    ):
        return months
    raise RatingError(
        f"proration thirty_day_months: the period {period.label} is not a whole number of "
        "months; Kill Bill's fixed 30-day months prorate monthly periods: bill months, or "
        "use proration days or seconds",
        path="proration",
        value=period.label,
        expected="a period of whole months",
        fix="bill calendar or anniversary months, or use proration days",
    )


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Union of overlapping spans, so overlapping records are not counted twice."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
