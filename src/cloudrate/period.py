"""Billing periods: half-open spans of time ``[start, end)`` in a named timezone."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta

from ._money import EXACT
from .exceptions import PlanError, RatingError

__all__ = [
    "BillingPeriod",
    "joined_spans",
    "one_month",
    "overlaps",
    "seconds_between",
    "spans_within",
    "strictly_within",
    "zone",
]

_UTC = UTC
#: The smallest step of time: a span's last moment is this before its end.
_TICK = timedelta(microseconds=1)
_MIDNIGHT = time(0)

T = TypeVar("T")


def spans_within(start: T, end: T, period_start: T, period_end: T) -> Any:
    """Whether usage from *start* to *end* belongs to the period ``[period_start, period_end)``.

    The one membership rule both rating engines apply: the usage starts inside the
    half-open period and ends no later than its end. So a zero-length record exactly at
    the period's end belongs to the next period, not to this one, and nothing is billed
    twice. Works on datetimes (giving a bool) and on numpy arrays of integer instants
    (giving a boolean array). ``rate()``'s record loop writes the same test out for
    speed, after :func:`strictly_within`; tests/rating/test_membership.py pins the two
    together.

    >>> p = BillingPeriod.month(2026, 10)
    >>> spans_within(p.start, p.end, p.start, p.end), spans_within(p.end, p.end, p.start, p.end)
    (True, False)
    """
    s: Any = start
    return (s >= period_start) & (s < period_end) & (end <= period_end)  # type: ignore[operator]


def overlaps(start: T, end: T, window_start: T, window_end: T) -> Any:
    """Whether usage from *start* to *end* falls in the window ``[window_start, window_end)``
    at all: it starts before the window ends and ends after it starts (a record of no
    length: its instant lies in the window).

    The one rule both rating engines apply to a charge's validity window
    (:class:`cloudrate.plans.Validity`): like CloudStack's quota tariffs, a record the
    window touches is priced whole. Works on datetimes (giving a bool) and on numpy
    arrays of integer instants (giving a boolean array).

    >>> p = BillingPeriod.month(2026, 10)
    >>> overlaps(p.start, p.end, p.end, p.end + timedelta(days=1))
    False
    >>> overlaps(p.end, p.end, p.end, p.end + timedelta(days=1))
    True
    """
    s: Any = start
    return (s < window_end) & ((end > window_start) | (s >= window_start))  # type: ignore[operator]


def one_month(period: BillingPeriod, timezone: str) -> tuple[int, int] | None:
    """The (year, month) of the calendar month, in *timezone*, that holds all of
    *period*, or None when the period spans more than one. A metric converted by each
    record's month (``month_hours='actual'``) rated over one month is summed as any
    metric and converted with that month's length, in both engines.

    >>> one_month(BillingPeriod.month(2026, 10, "Europe/Berlin"), "Europe/Berlin")
    (2026, 10)
    >>> print(one_month(BillingPeriod.month(2026, 10, "Europe/Berlin"), "UTC"))
    None
    """
    tz = zone(timezone)
    first = period.start.astimezone(tz)
    last = (period.end - timedelta(microseconds=1)).astimezone(tz)
    if (first.year, first.month) != (last.year, last.month):
        return None
    return first.year, first.month


def strictly_within(start: T, end: T, period_start: T, period_end: T) -> Any:
    """Whether usage from *start* to *end* starts in the period and ends before its end.

    For usage that does not end before it starts (every usage record: its constructor
    refuses ``end < start``) this implies :func:`spans_within` and differs from it only
    for usage ending exactly at the period's end, so it decides nearly every record with
    two comparisons instead of three. ``rate()``'s record loop tests it first, written
    out, and the full rule only for the records it does not accept;
    tests/rating/test_scan.py checks the two against each other at the period's edges.

    >>> p = BillingPeriod.month(2026, 10)
    >>> whole_month = (p.start, p.end, p.start, p.end)
    >>> strictly_within(p.start, p.start, p.start, p.end), strictly_within(*whole_month)
    (True, False)
    >>> spans_within(*whole_month)
    True
    """
    s: Any = start
    return (s >= period_start) & (end < period_end)  # type: ignore[operator]


def zone(name: str, where: str = "timezone") -> ZoneInfo:
    """The IANA timezone *name*, or an error naming the field.

    >>> zone("Europe/Berlin")
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PlanError(
            f"{where}: {name!r} is not an IANA timezone; write e.g. 'UTC' or 'Europe/Berlin'"
        ) from None


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """Exact elapsed seconds from *start* to *end* (aware datetimes, DST counted).

    >>> from zoneinfo import ZoneInfo
    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> day = datetime(2026, 10, 25, tzinfo=berlin), datetime(2026, 10, 26, tzinfo=berlin)
    >>> seconds_between(*day)
    Decimal('90000')
    """
    delta = end.astimezone(_UTC) - start.astimezone(_UTC)
    seconds = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
    return Decimal(seconds).scaleb(-6, EXACT) if delta.microseconds else Decimal(seconds // 10**6)


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise RatingError(
            f"period {attribute.name}: {value.isoformat()} has no timezone; "
            "build periods with BillingPeriod.month(year, month, timezone)"
        )


def _in_utc(value: datetime) -> datetime:
    """*value* in UTC; a time without a timezone is refused (never read in the machine's)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise RatingError(
            f"span {value.isoformat()} has no timezone; give usage times with one (UTC as "
            "usage records keep them)"
        )
    return value.astimezone(_UTC)


def joined_spans(
    spans: Iterable[tuple[datetime, datetime]],
) -> Iterator[tuple[datetime, datetime]]:
    """The union of *spans* (each of some length), in order: spans that overlap or meet
    joined into one.

    >>> t = lambda h: datetime(2026, 10, 1, h, tzinfo=UTC)
    >>> [(a.hour, b.hour) for a, b in joined_spans([(t(5), t(7)), (t(1), t(3)), (t(3), t(4))])]
    [(1, 4), (5, 7)]
    """
    current: tuple[datetime, datetime] | None = None
    for lo, hi in sorted(spans):
        if current is not None and lo <= current[1]:
            if hi > current[1]:
                current = (current[0], hi)
            continue
        if current is not None:
            yield current
        current = (lo, hi)
    if current is not None:
        yield current


def _last_day(lo: datetime, hi: datetime, tz: tzinfo) -> date:
    """The local day of the last moment of the span ``[lo, hi)`` (of an instant, its day),
    the same however *hi* is written: the day of the instant just before *hi*; and when
    *hi* is a local midnight, the day before that midnight too (a date the zone skipped
    there, Samoa's 30 December 2011, is the last day of a span ending where it ends)."""
    end = hi.astimezone(_UTC)
    if not lo < hi:
        return end.astimezone(tz).date()
    last = (end - _TICK).astimezone(tz).date()
    wall = end.astimezone(tz)
    if wall.time() == _MIDNIGHT:
        last = max(last, wall.date() - timedelta(days=1))
    return last


@attrs.frozen
class BillingPeriod:
    """The span ``[start, end)`` that a bill covers, and the timezone its days are counted in.

    >>> p = BillingPeriod.month(2026, 2, "UTC")
    >>> p.start.isoformat(), p.end.isoformat(), p.days
    ('2026-02-01T00:00:00+00:00', '2026-03-01T00:00:00+00:00', 28)
    >>> p.label
    '2026-02'
    """

    start: datetime = attrs.field(validator=_aware)
    end: datetime = attrs.field(validator=_aware)
    timezone: str = "UTC"

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise RatingError(
                f"period end {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        zone(self.timezone, "period timezone")

    @classmethod
    def month(cls, year: int, month: int, timezone: str = "UTC") -> BillingPeriod:
        """The calendar month *year*-*month* in *timezone* (months of the years 1 to 9999
        but the last, whose end Python's dates cannot hold)."""
        tz = zone(timezone)
        try:
            start = datetime(year, month, 1, tzinfo=tz)
            return cls(start, start + relativedelta(months=1), timezone)
        except (OverflowError, ValueError):
            raise RatingError(
                f"period {year}-{month}: a month from 0001-01 to 9999-11 (month 1 to 12; "
                "the end of December 9999 is past the dates Python holds)"
            ) from None

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> BillingPeriod:
        """``'2026-10'`` is a month; ``'2026-10-01..2026-10-15'`` a span of whole days
        (end inclusive) in *timezone*."""
        try:
            if ".." in text:
                first, last = (date.fromisoformat(part.strip()) for part in text.split("..", 1))
                tz = zone(timezone)
                start = datetime(first.year, first.month, first.day, tzinfo=tz)
                end = datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1)
                return cls(start, end, timezone)
            year, month = (int(part) for part in text.split("-"))
            return cls.month(year, month, timezone)
        except ValueError:
            raise RatingError(
                f"period {text!r}: write a month as 2026-10 or a span as 2026-10-01..2026-10-15"
            ) from None

    @classmethod
    def containing(cls, moment: datetime, timezone: str = "UTC") -> BillingPeriod:
        """The calendar month in *timezone* that holds *moment*."""
        local = moment.astimezone(zone(timezone))
        return cls.month(local.year, local.month, timezone)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def seconds(self) -> Decimal:
        """Length of the period in seconds (real elapsed time, DST included)."""
        return seconds_between(self.start, self.end)

    @functools.cached_property
    def days(self) -> int:
        """Number of calendar days in the period, in its timezone."""
        return len(self.local_days(((self.start, self.end),)))

    @functools.cached_property
    def is_month(self) -> bool:
        """Whether the period is exactly one calendar month in its timezone."""
        local = self.start.astimezone(self.tz)
        return (
            local.day == 1
            and local.time() == datetime.min.time()
            and self.end == local + relativedelta(months=1)
        )

    @functools.cached_property
    def label(self) -> str:
        """``'2026-10'`` for a calendar month, ``'2026-10-01..2026-10-15'`` otherwise."""
        local = self.start.astimezone(self.tz)
        if self.is_month:
            return f"{local.year:04d}-{local.month:02d}"
        last = (self.end.astimezone(self.tz) - timedelta(microseconds=1)).date()
        return f"{local.date().isoformat()}..{last.isoformat()}"

    def contains(self, start: datetime, end: datetime) -> bool:
        """Whether usage from *start* to *end* belongs to the period (:func:`spans_within`)."""
        first, last = self._utc_bounds
        return bool(spans_within(start, end, first, last))

    def clip(self, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """The part of ``[start, end)`` inside the period, or None."""
        first, last = self._utc_bounds  # max() and min() against the bounds, in UTC
        lo = start if start >= first else self.start
        hi = end if end <= last else self.end
        return (lo, hi) if lo < hi else None

    @functools.cached_property
    def _utc_bounds(self) -> tuple[datetime, datetime]:
        """The start and end in UTC, the zone records are in: a time of a ``ZoneInfo``
        zone compared with one of another zone asks the zone for its offset each time
        (1.6 us here, against 0.08 us for two times of one zone)."""
        return self.start.astimezone(_UTC), self.end.astimezone(_UTC)

    def local_days(
        self, spans: Iterable[tuple[datetime, datetime]], *, moments: bool = True
    ) -> set[date]:
        """The calendar days (in the period's timezone) that *spans* touch inside the period.

        A span touches a day when it covers any time of it; spans of zero length touch
        the day they fall on, unless *moments* is false (then only spans of some length
        inside the period count, as for a proration). A date the timezone skipped (Samoa
        went from 29 to 31 December 2011) counts for a span running across it, as it
        counts in :attr:`days`, however the span is cut into spans that meet: hourly
        records and one record of the same time touch the same days. A span ending at
        the instant the skip ends touches the skipped date too (it ends on the wall
        clock's midnight after it), whether its end is written in UTC or local time, so
        two contracts meeting at the skip count the period's days between them.
        """
        tz = self.tz
        days: set[date] = set()
        for lo, hi in self._touching(spans, moments):
            first = lo.astimezone(tz).date().toordinal()
            last = _last_day(lo, hi, tz).toordinal()
            days.update(map(date.fromordinal, range(first, last + 1)))
        return days

    def _touching(
        self, spans: Iterable[tuple[datetime, datetime]], moments: bool
    ) -> Iterator[tuple[datetime, datetime]]:
        """*spans* clipped to the period, those that touch it (*moments*: with those of
        zero length); the ones of some length joined where they overlap or meet (hourly
        records make one span a resource), which touches the same days: every day from
        the first span's to the last's."""
        joined: list[tuple[datetime, datetime]] = []
        first, last = self._utc_bounds
        for start, end in spans:
            # in UTC: two times of one zone compare by their wall clocks, so a repeated
            # hour's second midnight would not be after its first
            if start.tzinfo is not _UTC:
                start = _in_utc(start)
            if end.tzinfo is not _UTC:
                end = _in_utc(end)
            lo = start if start > first else first  # max() and min(), without the calls
            hi = end if end < last else last
            if lo < hi:
                joined.append((lo, hi))
            elif moments and lo == hi and first <= lo < last:
                yield lo, lo  # a moment: the day it falls on (not joined at a span's end)
        yield from joined_spans(joined)

    def to_dict(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": self.timezone,
            "label": self.label,
        }
