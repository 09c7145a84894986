"""Which period usage is rated in: the default period, and the error for usage outside it.

Membership itself is :func:`cloudrate.period.spans_within`, the one rule both engines
apply to every record.
"""

from __future__ import annotations

from datetime import datetime

from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan

__all__ = ["default_period", "outside_error"]


def default_period(plan: Plan, earliest: datetime | None) -> BillingPeriod:
    """The calendar month, in the plan's timezone, of the *earliest* record's start.

    >>> from datetime import UTC, datetime
    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> default_period(plan, datetime(2026, 10, 31, 23, tzinfo=UTC)).label
    '2026-11'
    """
    if earliest is None:
        raise RatingError("no usage and no period: pass period= to rate an empty period")
    return BillingPeriod.containing(earliest, plan.timezone)


def outside_error(
    period: BillingPeriod, count: int, account: str, metric: str, start: datetime, end: datetime
) -> RatingError:
    """The error for *count* records outside *period*, naming the first of them."""
    tz = period.tz
    return RatingError(
        f"{count} record(s) lie outside the period {period.label} "
        f"({period.start.isoformat()} to {period.end.isoformat()}), the first for "
        f"{account!r} {metric!r} from {start.astimezone(tz).isoformat()} to "
        f"{end.astimezone(tz).isoformat()}; pass a period that covers them or split the usage "
        "by period"
    )
