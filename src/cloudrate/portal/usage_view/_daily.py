"""Cost per day of the month's usage graph, as the day's exact share of each line.

A line's cost is attributed to days by its **cumulative cost**: the month is rated again
up to the end of each day (the same plan, period and rounding as the month's estimate),
and a day's cost is the cost up to the end of that day minus the cost up to the end of
the day before. The days of a line therefore add up to exactly the line's cost (the
differences telescope), whatever the charge model:

* per unit: the day's quantity x the unit price (the records' quantities per day);
* free units: the first days of the month use them up and cost nothing;
* tiers (graduated, volume, package): each day pays the price of the units it adds, at
  the tier the month has reached (a volume tier crossed mid-month reprices the units
  before it on that day, which may even be negative);
* prorated fees on a metric (a licence per VM): what the day adds to the fee;
* percentages of other charges: the share of the day's charges.

Charges that do not depend on usage (flat fees without a metric, the minimum-spend
true-up) are not spread over days: :attr:`BillingOverview.fixed_cost` holds them.

The arithmetic is on fractions, so nothing is lost to a decimal context's precision:
the day costs are exact decimals that may have many digits (GB-month prices divide by
the month's hours). Add them up with :class:`fractions.Fraction` or in a wide decimal
context to get the month's exact cost back.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from moneyed import Money

from cloudrate._money import RoundingPolicy, currency_digits
from cloudrate.plans import Plan
from cloudrate.rating import RatedLine, rate
from cloudrate.usage import UsageRecord

from ._clip import clip_records
from ._ranges import DateRange

__all__ = ["DayCost", "daily_costs", "exact_decimal"]

#: One day's cost: the total of every usage line, and each card's share, exact.
DayCost = tuple[Fraction, dict[str, Fraction]]


def exact_decimal(value: Fraction, places: int = 0) -> Decimal:
    """The decimal equal to *value*, whose denominator must divide a power of ten, with
    at least *places* decimals.

    >>> exact_decimal(Fraction(1, 8)), exact_decimal(Fraction(-3, 1), 2)
    (Decimal('0.125'), Decimal('-3.00'))
    """
    num, den = value.numerator, value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        raise ValueError(f"{value} has no finite decimal expansion")
    places = max(twos, fives, places)
    scaled = num * 2 ** (places - twos) * 5 ** (places - fives)
    return Decimal(scaled).scaleb(-places, context=_room(scaled))


def _room(scaled: int) -> decimal.Context:
    """A context with room for every digit of *scaled* (scaleb rounds to precision)."""
    return decimal.Context(prec=max(len(str(abs(scaled))) + 2, 28))


def _to_date(
    plan: Plan,
    records: Sequence[UsageRecord],
    month: DateRange,
    day: date,
    *,
    account: str,
    fixed: set[str],
    cards: dict[str, tuple[str, ...]],
    rounding: RoundingPolicy | None,
) -> DayCost:
    """The exact cost of the usage lines rated up to the end of *day*, and per card."""
    end = DateRange.custom(day, day, month.timezone).end
    [period] = month.months()
    part = clip_records(plan, records, month.start, end)
    lines: list[RatedLine] = [
        x
        for x in rate(plan, part, period, accounts=[account], rounding=rounding).bill(account).lines
        if x.charge not in fixed
    ]
    total = sum((Fraction(x.amount.amount) for x in lines), Fraction(0))
    per_card = {
        key: sum((Fraction(x.amount.amount) for x in lines if x.metric in metrics), Fraction(0))
        for key, metrics in cards.items()
    }
    return total, per_card


def daily_costs(
    plan: Plan,
    records: Sequence[UsageRecord],
    month: DateRange,
    *,
    account: str,
    fixed: set[str],
    cards: dict[str, tuple[str, ...]],
    rounding: RoundingPolicy | None,
) -> list[tuple[Money, tuple[tuple[str, Money], ...]]]:
    """Each day's cost of *month* (a range within one calendar month), and per card
    (*cards*: key -> the metrics whose lines are the card's), by cumulative cost."""
    currency = plan.currency
    places = currency_digits(currency)
    before: DayCost = (Fraction(0), dict.fromkeys(cards, Fraction(0)))
    out = []
    for day in month.dates():
        now = _to_date(
            plan,
            records,
            month,
            day,
            account=account,
            fixed=fixed,
            cards=cards,
            rounding=rounding,
        )
        out.append(
            (
                Money(exact_decimal(now[0] - before[0], places), currency),
                tuple(
                    (key, Money(exact_decimal(now[1][key] - before[1][key], places), currency))
                    for key in cards
                ),
            )
        )
        before = now
    return out
