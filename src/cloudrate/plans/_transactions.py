"""The arithmetic of a percentage of transactions: on the period's totals, or one by one.

:func:`in_total` follows Lago's ``PercentageService`` without a per-transaction minimum
or maximum (the free amount and free transactions from the running totals of the first
transactions), :func:`one_by_one` with one (each transaction priced, then raised or
lowered); :func:`explain` writes the details of either. The rules are listed in
:class:`~cloudrate.plans.TransactionPercentage`. Every function runs in the caller's
decimal context (the model's methods run in :data:`cloudrate._money.EXACT`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs
from moneyed import Money

from ._priced import Detail, Note

__all__ = ["Fees", "Outcome", "explain", "in_total", "one_by_one"]


@attrs.frozen(kw_only=True)
class Fees:
    """A transaction percentage's settings as plain Decimals (None: not given)."""

    percent: Decimal
    fixed: Decimal | None
    free_count: int
    free_amount: Decimal
    low: Decimal | None
    high: Decimal | None

    @property
    def has_free(self) -> bool:
        return bool(self.free_count) or bool(self.free_amount)

    @property
    def one_by_one(self) -> bool:
        return self.low is not None or self.high is not None


@attrs.frozen(kw_only=True)
class Outcome:
    """What pricing the transactions came to, part by part."""

    count: int
    total: Decimal
    free_count: int
    free_value: Decimal
    base: Decimal
    rate_part: Decimal
    fixed_count: int
    fixed_part: Decimal
    raised: int = 0
    raised_by: Decimal = Decimal(0)
    lowered: int = 0
    lowered_by: Decimal = Decimal(0)


def _free_in_total(fees: Fees, amounts: Sequence[Decimal]) -> tuple[Decimal, int]:
    """The free amount and the number of free transactions on the period's totals.

    The running totals are Lago's: those of the first *free_count* transactions when
    it is given, else those up to and including the first above *free_amount*.
    """
    first, limit = fees.free_count, fees.free_amount
    if not first and not limit:
        return Decimal(0), 0
    running: list[Decimal] = []
    total = Decimal(0)
    for amount in amounts[:first] if first else amounts:
        if not first and limit < total:
            break
        total += amount
        running.append(total)
    last = running[-1] if running else Decimal(0)
    if last == 0:
        value = Decimal(0)
    elif not limit or last <= limit:
        value = last
    else:
        value = limit
    below = sum(1 for t in running if t < limit)
    counted = [c for c in (first, below) if c]  # Lago drops a zero count
    return value, min(counted, default=0)


def in_total(fees: Fees, amounts: Sequence[Decimal]) -> Outcome:
    """The transactions priced on the period's totals (no minimum, no maximum)."""
    count = len(amounts)
    total = sum(amounts, Decimal(0))
    free_value, free_count = _free_in_total(fees, amounts)
    base = Decimal(0) if free_value > total else total - free_value
    charged = 0 if total == 0 or fees.fixed is None or free_count >= count else count - free_count
    return Outcome(
        count=count,
        total=total,
        free_count=free_count,
        free_value=free_value,
        base=base,
        rate_part=base * fees.percent / 100,
        fixed_count=charged,
        fixed_part=Decimal(0) if fees.fixed is None else charged * fees.fixed,
    )


def one_by_one(fees: Fees, amounts: Sequence[Decimal]) -> Outcome:
    """The transactions priced one at a time, each raised to the minimum or lowered to
    the maximum; the free settings as Lago applies them then (rule 5)."""
    left_count, left_amount = fees.free_count, fees.free_amount
    fixed = Decimal(0) if fees.fixed is None else fees.fixed
    free_count, free_value, base, rate_part, paying = 0, Decimal(0), Decimal(0), Decimal(0), 0
    raised, raised_by, lowered, lowered_by = 0, Decimal(0), 0, Decimal(0)
    for amount in amounts:
        value = amount
        if left_count > 0 or left_amount > 0:
            left_count -= 1
            if not left_amount > 0 or left_amount > value:
                left_amount = left_amount - value if left_amount > 0 else left_amount
                free_count += 1
                free_value += value
                continue
            free_value += left_amount
            value -= left_amount
            left_amount, left_count = Decimal(0), 0
        paying += 1
        part = value * fees.percent / 100
        base += value
        rate_part += part
        cost = part + fixed
        if fees.low is not None and cost < fees.low:
            raised += 1
            raised_by += fees.low - cost
        elif fees.high is not None and cost > fees.high:
            lowered += 1
            lowered_by += cost - fees.high
    return Outcome(
        count=len(amounts),
        total=sum(amounts, Decimal(0)),
        free_count=free_count,
        free_value=free_value,
        base=base,
        rate_part=rate_part,
        fixed_count=paying if fees.fixed is not None else 0,
        fixed_part=paying * fixed if fees.fixed is not None else Decimal(0),
        raised=raised,
        raised_by=raised_by,
        lowered=lowered,
        lowered_by=lowered_by,
    )


def _many(count: int) -> str:
    return f"{count} transaction{'' if count == 1 else 's'}"


def explain(fees: Fees, out: Outcome, currency: str) -> tuple[Detail, ...]:
    """The details of *out*: notes on the transactions and what was free (amount 0),
    then the rate part, the fixed fees and the minimum's and maximum's adjustments,
    which add up to the price."""
    cur = currency
    how = ", priced one by one" if fees.one_by_one else ""
    details: list[Detail] = [Note.saying(f"{_many(out.count)}, {out.total} {cur} in all{how}", cur)]
    if fees.has_free:
        what = "at no cost" if fees.one_by_one else "without the fixed fee"
        details.append(
            Note.saying(
                f"free: {_many(out.free_count)} {what}, {out.free_value} {cur} without "
                "the percentage",
                cur,
            )
        )
    details.append(
        Detail(f"{fees.percent}% of {out.base} {cur}", None, None, Money(out.rate_part, cur))
    )
    if fees.fixed is not None:
        details.append(
            Detail(
                "fixed fee per transaction",
                Decimal(out.fixed_count),
                Money(fees.fixed, cur),
                Money(out.fixed_part, cur),
            )
        )
    if fees.low is not None:
        details.append(
            Detail(
                f"minimum {fees.low} {cur} per transaction ({_many(out.raised)} raised)",
                None,
                None,
                Money(out.raised_by, cur),
            )
        )
    if fees.high is not None:
        details.append(
            Detail(
                f"maximum {fees.high} {cur} per transaction ({_many(out.lowered)} lowered)",
                None,
                None,
                Money(0 - out.lowered_by, cur),
            )
        )
    return tuple(details)
