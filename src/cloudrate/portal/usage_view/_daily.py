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
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, date
from decimal import Decimal
from fractions import Fraction

from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, currency_digits
from cloudrate.exceptions import OptionError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import RatedLine, rate
from cloudrate.usage import UsageRecord

from ._aggregate import Acc, OnePassError, Slot, add, combine, price_exact, slots, unread
from ._clip import _clip, clip_records
from ._ranges import DateRange

__all__ = ["DayCost", "daily_costs", "day_costs", "exact_decimal", "price_days"]

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
        raise OptionError(f"{value} has no finite decimal expansion")
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
    (*cards*: key -> the metrics whose lines are the card's), by cumulative cost.

    The records are read once: each goes to the day by whose end it is complete (a
    record across midnight also gives each day it spans its part up to that midnight;
    an instant goes to the day holding it, one at midnight to the day it starts),
    the aggregates are carried from day to day, and each day's cumulative aggregates
    are priced as rating prices them. Where that cannot give rating's exact figures
    (sums that would need rounding in another order, errors rating reports), the month
    is rated up to each day instead.
    """
    try:
        cumulative = _cumulative(
            plan, records, month, account=account, fixed=fixed, cards=cards, rounding=rounding
        )
    except OnePassError:
        cumulative = [
            _to_date(
                plan,
                records,
                month,
                day,
                account=account,
                fixed=fixed,
                cards=cards,
                rounding=rounding,
            )
            for day in month.dates()
        ]
    return day_costs(plan.currency, cumulative, cards)


def day_costs(
    currency: str, cumulative: Sequence[DayCost], cards: Mapping[str, object]
) -> list[tuple[Money, tuple[tuple[str, Money], ...]]]:
    """Each day's cost, and per card, from the costs up to the end of each day."""
    places = currency_digits(currency)
    before: DayCost = (Fraction(0), dict.fromkeys(cards, Fraction(0)))
    out = []
    for now in cumulative:
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


#: Rating's context, refusing to round: sums added in another order than rating's are
#: the same only when no addition rounds (usage is never negative, so then none does in
#: any order).
_NO_ROUNDING = EXACT.copy()
_NO_ROUNDING.traps[decimal.Inexact] = True


def _cumulative(  # noqa: C901 - the one pass, kept together
    plan: Plan,
    records: Sequence[UsageRecord],
    month: DateRange,
    *,
    account: str,
    fixed: set[str],
    cards: dict[str, tuple[str, ...]],
    rounding: RoundingPolicy | None,
) -> list[DayCost]:
    """The cost rated up to the end of each day of *month*, from one pass over *records*."""
    [period] = month.months()
    ends = [DateRange.custom(d, d, month.timezone).end for d in month.dates()]
    highs = [t.astimezone(UTC) for t in ends]  # UTC records compare to them faster
    routes = slots(plan, period)
    n_days = len(ends)
    whole: list[dict[int, Acc]] = [{} for _ in ends]  # records complete by each day's end
    parts: list[dict[int, Acc]] = [{} for _ in ends]  # pieces of records still running
    summed = {m: plan.metric(m).aggregation == "sum" for m in routes}
    try:
        with decimal.localcontext(_NO_ROUNDING):
            for record in records:
                if record.account != account:
                    continue
                mine = routes.get(record.metric)
                if not mine:
                    continue
                picked = [s for s in mine if s.matcher is None or s.matcher(record.attributes)]
                if not picked:
                    continue
                start, end = record.start, record.end
                # the day by whose end the record is complete; an instant's is the day
                # holding it (one at midnight: the day it starts, as rating's period rule)
                done = bisect_right(highs, start) if start == end else bisect_left(highs, end)
                if done >= n_days:
                    raise OnePassError("a record after the range")
                if start != end:
                    for d in range(bisect_right(highs, start), done):
                        piece = _clip(record, month.start, ends[d], summed[record.metric])
                        assert piece is not None
                        for s in picked:
                            add(parts[d].setdefault(s.index, Acc()), s.aggregation, piece, s.scale)
                for s in picked:
                    add(whole[done].setdefault(s.index, Acc()), s.aggregation, record, s.scale)
            cumulative = price_days(plan, period, rounding, whole, parts, fixed, cards)
    except decimal.Inexact:
        raise OnePassError("sums that round") from None
    return cumulative


def price_days(
    plan: Plan,
    period: BillingPeriod,
    rounding: RoundingPolicy | None,
    whole: Sequence[Mapping[int, Acc]],
    parts: Sequence[Mapping[int, Acc]],
    fixed: set[str],
    cards: dict[str, tuple[str, ...]],
) -> list[DayCost]:
    """The cost up to the end of each day, from the aggregates of the records complete
    by each day's end (*whole*, per charge index) and of the pieces of records still
    running then (*parts*): the days' aggregates carried, each day's priced."""
    routes = slots(plan)
    by_index = {s.index: s for group in routes.values() for s in group}
    carried: list[Acc | None] = [None] * len(plan.charges)
    cumulative: list[DayCost] = []
    try:
        with decimal.localcontext(_NO_ROUNDING):
            for done, running in zip(whole, parts, strict=True):
                today: list[Acc | None] = [None] * len(plan.charges)
                for index, acc in done.items():
                    carried[index] = combine(carried[index], acc, by_index[index].aggregation)
                for index, slot in by_index.items():
                    today[index] = combine(carried[index], running.get(index), slot.aggregation)
                cumulative.append(_priced(plan, period, rounding, today, by_index, fixed, cards))
    except decimal.Inexact:
        raise OnePassError("sums that round") from None
    return cumulative


def _priced(
    plan: Plan,
    period: BillingPeriod,
    rounding: RoundingPolicy | None,
    accs: list[Acc | None],
    by_index: dict[int, Slot],
    fixed: set[str],
    cards: dict[str, tuple[str, ...]],
) -> DayCost:
    policy = rounding or plan.rounding
    lines = [
        (charge, Fraction(amount))
        for charge, amount in price_exact(plan, period, policy, accs, by_index, unread(plan, fixed))
        if charge.name not in fixed
    ]
    total = sum((a for _, a in lines), Fraction(0))
    per_card = {
        key: sum((a for c, a in lines if c.metric in metrics), Fraction(0))
        for key, metrics in cards.items()
    }
    return total, per_card
