"""Date ranges of the usage page: last 7 days, last month, last 90 days, month to date,
or custom.

Ranges are whole calendar days in the account's timezone, computed from the ``now`` (an
aware datetime) or ``today`` (a date) you pass in: there is no hidden clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, get_args

import attrs
from dateutil.relativedelta import relativedelta

from cloudrate.exceptions import CloudrateError
from cloudrate.period import BillingPeriod, seconds_between, zone

__all__ = ["PRESETS", "DateRange", "Preset", "UsageViewError"]

#: A date range preset a usage page offers (``month_to_date``: the billing overview's).
Preset = Literal["last_7_days", "last_month", "last_90_days", "month_to_date"]
#: The presets a usage page offers, by name.
PRESETS: tuple[Preset, ...] = get_args(Preset)


#: The days a range may hold: a day inside Python's calendar on each side, so midnight of
#: the first and of the day after the last exist in every timezone.
_FIRST_DAY, _LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


class UsageViewError(CloudrateError, ValueError):
    """A usage view was asked for something that cannot be shown (bad range, preset...)."""


def _today(now: datetime | None, today: date | None, timezone: str) -> date:
    if (now is None) == (today is None):
        raise UsageViewError("pass exactly one of now= (an aware datetime) or today= (a date)")
    if now is not None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise UsageViewError(
                f"now: {now.isoformat()} has no timezone; pass an aware datetime such as "
                "datetime(2026, 11, 5, 9, 30, tzinfo=ZoneInfo('Europe/Berlin'))"
            )
        return now.astimezone(zone(timezone)).date()
    assert today is not None
    return today


@attrs.frozen
class DateRange:
    """The calendar days *first* to *last* (both included) in *timezone*.

    >>> r = DateRange.last_7_days(today=date(2026, 11, 5), timezone="Europe/Berlin")
    >>> r.first, r.last, r.days, r.preset
    (datetime.date(2026, 10, 30), datetime.date(2026, 11, 5), 7, 'last_7_days')
    >>> r.start.isoformat(), r.end.isoformat()
    ('2026-10-30T00:00:00+01:00', '2026-11-06T00:00:00+01:00')
    >>> DateRange.last_month(today=date(2026, 3, 15), timezone="UTC").label
    '2026-02-01..2026-02-28'
    """

    first: date
    last: date
    timezone: str = "UTC"
    preset: str = "custom"

    def __attrs_post_init__(self) -> None:
        zone(self.timezone, "date range timezone")
        if self.first < _FIRST_DAY or self.last > _LAST_DAY:
            raise UsageViewError(
                f"date range {self.first}..{self.last}: days from {_FIRST_DAY} to "
                f"{_LAST_DAY} only (the calendar Python's dates hold, with a day to spare "
                "for every timezone)"
            )
        if self.last < self.first:
            raise UsageViewError(
                f"date range: last day {self.last} is before first day {self.first}; swap them"
            )

    @classmethod
    def custom(cls, first: date, last: date, timezone: str = "UTC") -> DateRange:
        """The days *first* to *last*, both included."""
        return cls(first, last, timezone, "custom")

    @classmethod
    def last_7_days(
        cls, *, now: datetime | None = None, today: date | None = None, timezone: str = "UTC"
    ) -> DateRange:
        """Today and the 6 days before it."""
        end = _today(now, today, timezone)
        return cls(end - timedelta(days=6), end, timezone, "last_7_days")

    @classmethod
    def last_90_days(
        cls, *, now: datetime | None = None, today: date | None = None, timezone: str = "UTC"
    ) -> DateRange:
        """Today and the 89 days before it."""
        end = _today(now, today, timezone)
        return cls(end - timedelta(days=89), end, timezone, "last_90_days")

    @classmethod
    def last_month(
        cls, *, now: datetime | None = None, today: date | None = None, timezone: str = "UTC"
    ) -> DateRange:
        """The calendar month before the one holding today."""
        this_month = _today(now, today, timezone).replace(day=1)
        first = this_month - relativedelta(months=1)
        return cls(first, this_month - timedelta(days=1), timezone, "last_month")

    @classmethod
    def month_to_date(
        cls, *, now: datetime | None = None, today: date | None = None, timezone: str = "UTC"
    ) -> DateRange:
        """The first of this month to today (the billing overview's month)."""
        end = _today(now, today, timezone)
        return cls(end.replace(day=1), end, timezone, "month_to_date")

    @classmethod
    def preset_named(
        cls,
        name: Preset,
        *,
        now: datetime | None = None,
        today: date | None = None,
        timezone: str = "UTC",
    ) -> DateRange:
        """The preset *name* (one of :data:`PRESETS`).

        >>> DateRange.preset_named("last_90_days", today=date(2026, 11, 5)).first
        datetime.date(2026, 8, 8)
        >>> DateRange.preset_named("month_to_date", today=date(2026, 11, 5)).label
        '2026-11-01..2026-11-05'
        """
        if name not in PRESETS:
            raise UsageViewError(
                f"unknown date range preset {name!r}; use one of {', '.join(PRESETS)}, "
                "or DateRange.custom(first, last, timezone)"
            )
        factories = {
            "last_7_days": cls.last_7_days,
            "last_month": cls.last_month,
            "last_90_days": cls.last_90_days,
            "month_to_date": cls.month_to_date,
        }
        try:
            return factories[name](now=now, today=today, timezone=timezone)
        except CloudrateError:
            raise
        except (OverflowError, ValueError):  # a day before year 1 or after 9999
            raise UsageViewError(
                f"date range preset {name!r} of {today or now}: its days fall outside "
                f"{_FIRST_DAY} to {_LAST_DAY}, the calendar Python's dates hold"
            ) from None

    @property
    def start(self) -> datetime:
        """Midnight starting *first*, in the range's timezone."""
        return datetime(
            self.first.year, self.first.month, self.first.day, tzinfo=zone(self.timezone)
        )

    @property
    def end(self) -> datetime:
        """Midnight after *last* (the range is ``[start, end)``)."""
        after = self.last + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=zone(self.timezone))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def seconds(self) -> Decimal:
        """Elapsed seconds in the range (DST days count 23 or 25 hours)."""
        return seconds_between(self.start, self.end)

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def dates(self) -> list[date]:
        """Every day of the range, in order."""
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def months(self) -> list[BillingPeriod]:
        """The calendar months (billing periods) the range touches, in order."""
        periods = []
        month = self.first.replace(day=1)
        while month <= self.last:
            periods.append(BillingPeriod.month(month.year, month.month, self.timezone))
            month += relativedelta(months=1)
        return periods

    def to_dict(self) -> dict[str, str]:
        return {
            "preset": self.preset,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "timezone": self.timezone,
        }
