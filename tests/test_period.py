"""Billing periods (``cloudrate.period``)."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import BillingPeriod, PlanError, RatingError
from cloudrate.period import seconds_between

BERLIN = ZoneInfo("Europe/Berlin")


class TestBillingPeriod:
    @given(
        st.integers(2000, 2100),
        st.integers(1, 12),
        st.sampled_from(("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")),
    )
    def test_month(self, year, month, tz):
        """A month starts on the 1st at midnight local time and is labelled YYYY-MM."""
        p = BillingPeriod.month(year, month, tz)
        local = p.start.astimezone(ZoneInfo(tz))
        assert (local.day, local.hour, local.minute) == (1, 0, 0)
        assert p.label == f"{year:04d}-{month:02d}"
        assert p.is_month
        nxt = date(year + month // 12, month % 12 + 1, 1)
        assert p.days == (nxt - date(year, month, 1)).days

    def test_dst_months_in_berlin(self):
        """March 2026 loses an hour (29th), October gains one (25th)."""
        march = BillingPeriod.month(2026, 3, "Europe/Berlin")
        october = BillingPeriod.month(2026, 10, "Europe/Berlin")
        assert march.seconds == 31 * 86400 - 3600
        assert october.seconds == 31 * 86400 + 3600

    def test_parse(self):
        """'2026-10' is a month; '2026-10-01..2026-10-15' whole days, end inclusive."""
        assert BillingPeriod.parse("2026-10") == BillingPeriod.month(2026, 10)
        span = BillingPeriod.parse("2026-10-01..2026-10-15", "Europe/Berlin")
        assert span.days == 15
        assert span.label == "2026-10-01..2026-10-15"
        assert not span.is_month

    @pytest.mark.parametrize("text", ["October", "2026-13", "2026-10-01..", "2026/10"])
    def test_parse_errors(self, text):
        """Unreadable periods say how to write one."""
        with pytest.raises(RatingError, match="write a month as 2026-10"):
            BillingPeriod.parse(text)

    def test_containing(self):
        """The month holding an instant is found in the given timezone."""
        instant = datetime(2026, 9, 30, 23, tzinfo=UTC)  # 1 October 01:00 in Berlin
        assert BillingPeriod.containing(instant, "Europe/Berlin").label == "2026-10"
        assert BillingPeriod.containing(instant, "UTC").label == "2026-09"

    def test_naive_and_reversed(self):
        """Naive bounds and empty periods are refused."""
        with pytest.raises(RatingError, match="has no timezone"):
            BillingPeriod(datetime(2026, 10, 1), datetime(2026, 11, 1, tzinfo=UTC))
        t = datetime(2026, 10, 1, tzinfo=UTC)
        with pytest.raises(RatingError, match="is not after start"):
            BillingPeriod(t, t)

    def test_unknown_timezone(self):
        """Timezones are IANA names."""
        with pytest.raises(PlanError, match="not an IANA timezone"):
            BillingPeriod.month(2026, 10, "CEST")

    def test_clip_and_contains(self):
        """clip() keeps the part inside; contains() needs the whole span inside."""
        p = BillingPeriod.month(2026, 10)
        before = p.start - timedelta(days=1)
        assert p.clip(before, p.start + timedelta(hours=1)) == (
            p.start,
            p.start + timedelta(hours=1),
        )
        assert p.clip(before, p.start) is None
        berlin = BillingPeriod.month(2026, 10, "Europe/Berlin")
        utc_hour = (berlin.start.astimezone(UTC) - timedelta(hours=1), berlin.start.astimezone(UTC))
        assert berlin.clip(*utc_hour) is None  # the hour before a Berlin month, written in UTC
        clipped = berlin.clip(utc_hour[0], utc_hour[1] + timedelta(hours=1))
        assert clipped == (berlin.start, berlin.start + timedelta(hours=1))
        assert not p.contains(before, p.end)
        assert p.contains(p.start, p.end)

    def test_local_days(self):
        """Days are counted in the period's timezone; an instant touches its day."""
        p = BillingPeriod.month(2026, 10, "Europe/Berlin")
        late = datetime(2026, 10, 1, 22, 30, tzinfo=UTC)  # 2 October 00:30 in Berlin
        assert p.local_days([(late, late + timedelta(minutes=10))]) == {date(2026, 10, 2)}
        assert p.local_days([(late, late)]) == {date(2026, 10, 2)}

    def test_local_days_at_the_period_edges(self):
        """A moment at the period's start touches its first day, one at its end nothing; a
        span ending at local midnight does not touch the next day, and spans an hour apart
        across midnight touch both days, spans a day apart not the day between."""
        p = BillingPeriod.month(2026, 10, "Europe/Berlin")
        hour = timedelta(hours=1)
        midnight = datetime(2026, 10, 4, 22, tzinfo=UTC)  # 5 October 00:00 in Berlin
        assert p.local_days([(p.start, p.start)]) == {date(2026, 10, 1)}
        assert p.local_days([(p.end, p.end), (p.end - hour, p.end + hour)]) == {date(2026, 10, 31)}
        assert p.local_days([(midnight - hour, midnight)]) == {date(2026, 10, 4)}
        assert p.local_days([(midnight - hour, midnight), (midnight, midnight)]) == {
            date(2026, 10, 4),
            date(2026, 10, 5),
        }
        apart = [(midnight - 2 * hour, midnight - hour), (midnight + hour, midnight + 2 * hour)]
        assert p.local_days(apart) == {date(2026, 10, 4), date(2026, 10, 5)}
        day_apart = [(midnight - hour, midnight), (midnight + 24 * hour, midnight + 25 * hour)]
        assert p.local_days(day_apart) == {date(2026, 10, 4), date(2026, 10, 6)}

    @pytest.mark.parametrize(
        ("timezone", "year", "month"),
        [("America/Havana", 2020, 11), ("America/Asuncion", 2017, 10)],  # midnight repeats
    )
    def test_a_moment_at_a_repeated_midnight_counts_in_any_zone(self, timezone, year, month):
        """The period starts at a local midnight that happens twice; a moment at that
        instant touches the first day whether it is written in the period's zone or in
        UTC (Python finds neither equal to the other zone's time)."""
        p = BillingPeriod.month(year, month, timezone)
        first = {date(year, month, 1)}
        assert p.local_days([(p.start, p.start)]) == first
        at = p.start.astimezone(UTC)
        assert p.local_days([(at, at)]) == first

    def test_a_moment_at_a_skipped_midnight_counts_the_day_it_falls_on(self):
        """Kwajalein skipped 21 August 1993: the period of 21 to 22 August starts at the
        instant 22 August began there, and a moment then touches 22 August only."""
        p = BillingPeriod.parse("1993-08-21..1993-08-22", "Pacific/Kwajalein")
        at = p.start.astimezone(UTC)
        assert p.local_days([(at, at)]) == {date(1993, 8, 22)}
        assert p.local_days([(p.start, p.start)]) == {date(1993, 8, 22)}

    def test_a_period_ending_on_a_skipped_date_counts_it(self):
        """Samoa skipped 30 December 2011: a period of 29 and 30 December has both days,
        as its label says, and six hours of the 29th are half of it."""
        p = BillingPeriod.parse("2011-12-29..2011-12-30", "Pacific/Apia")
        assert p.days == 2
        assert p.label == "2011-12-29..2011-12-30"
        start = p.start.astimezone(UTC)
        assert p.local_days([(start, start + timedelta(hours=6))]) == {date(2011, 12, 29)}

    def test_a_skipped_date_counts_however_the_time_is_cut(self):
        """Samoa skipped 30 December 2011: one span across it touches it, as the period's
        own days count it, and so do hourly spans that meet across it."""
        p = BillingPeriod.month(2011, 12, "Pacific/Apia")
        skip, hour = datetime(2011, 12, 30, 10, tzinfo=UTC), timedelta(hours=1)
        one = p.local_days([(skip - hour, skip + hour)])
        assert one == {date(2011, 12, 29), date(2011, 12, 30), date(2011, 12, 31)}
        assert p.local_days([(skip - hour, skip), (skip, skip + hour)]) == one
        first = p.start.astimezone(UTC)  # hours of real time (the month has 30 days of it)
        hourly = [(first + h * hour, first + (h + 1) * hour) for h in range(24 * 30)]
        assert hourly[-1][1] == p.end
        assert len(p.local_days(hourly)) == len(p.local_days([(p.start, p.end)])) == p.days

    def test_a_span_ending_at_a_skip_touches_the_same_days_in_any_zone(self):
        """Samoa skipped 30 December 2011: a span ending the instant 31 December began
        touches the 30th whether its end is written in Apia time or in UTC, and the days
        of two spans meeting there add up to the month's."""
        p = BillingPeriod.month(2011, 12, "Pacific/Apia")
        apia = ZoneInfo("Pacific/Apia")
        skip = datetime(2011, 12, 31, tzinfo=apia)
        assert skip.astimezone(UTC) == datetime(2011, 12, 30, 10, tzinfo=UTC)
        for written in (skip, skip.astimezone(UTC)):
            before = p.local_days([(p.start, written)], moments=False)
            after = p.local_days([(written, p.end)], moments=False)
            assert max(before) == date(2011, 12, 30)
            assert min(after) == date(2011, 12, 31)
            assert len(before) + len(after) == p.days == 31

    def test_a_span_without_a_timezone_is_refused(self):
        """It was read in the machine's own zone (the days then hung on TZ)."""
        p = BillingPeriod.month(2026, 10)
        with pytest.raises(RatingError, match="has no timezone"):
            p.local_days([(datetime(2026, 10, 5), datetime(2026, 10, 6, tzinfo=UTC))])

    @pytest.mark.parametrize(
        ("tz", "year", "month", "change"),
        [  # clocks changing at a local midnight, forward and back
            ("Atlantic/Azores", 2026, 3, datetime(2026, 3, 29, 1, tzinfo=UTC)),
            ("America/Havana", 2026, 3, datetime(2026, 3, 8, 5, tzinfo=UTC)),
            ("America/Havana", 2026, 11, datetime(2026, 11, 1, 5, tzinfo=UTC)),
            ("America/Santiago", 2026, 9, datetime(2026, 9, 6, 4, tzinfo=UTC)),
            ("America/Santiago", 2026, 4, datetime(2026, 4, 5, 3, tzinfo=UTC)),
            ("Africa/Cairo", 2026, 4, datetime(2026, 4, 23, 22, tzinfo=UTC)),
            ("Africa/Cairo", 2026, 10, datetime(2026, 10, 29, 21, tzinfo=UTC)),
        ],
    )
    @settings(max_examples=40)
    @given(before=st.integers(0, 36 * 60), after=st.integers(-36 * 60, 36 * 60))
    def test_spans_around_a_midnight_clock_change_touch_the_days_of_their_minutes(
        self, tz, year, month, change, before, after
    ):
        """Where clocks change at a local midnight (no date skipped), a span touches the
        local days of the minutes it holds, whether its end is written in UTC or local
        time (drawn in minutes around the change, ends on it included)."""
        p = BillingPeriod.month(year, month, tz)
        zone = ZoneInfo(tz)
        lo = change - timedelta(minutes=before)
        hi = max(lo + timedelta(minutes=1), change + timedelta(minutes=after))
        minutes = int((hi - lo).total_seconds() // 60)
        expected = {
            (lo + timedelta(minutes=m)).astimezone(zone).date()
            for m in range(minutes)
            if p.start <= lo + timedelta(minutes=m) < p.end
        }
        for end in (hi, hi.astimezone(zone)):
            assert p.local_days([(lo, end)], moments=False) == expected

    @given(
        st.lists(
            st.tuples(
                st.one_of(  # minutes from the period's start: on the hour, or anywhere
                    st.integers(-30, 32 * 24).map(lambda h: 60 * h),
                    st.integers(-30 * 60, 32 * 24 * 60),
                ),
                st.one_of(st.sampled_from((0, 60)), st.integers(0, 180), st.integers(0, 4320)),
            ),
            max_size=12,
        ),
        st.sampled_from(("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")),
        st.sampled_from((3, 10, 11)),  # the months of the DST changes, and one without
    )
    def test_local_days_of_many_spans_are_the_days_of_each(self, spans, tz, month):
        """Spans joined where they meet or overlap touch the days each touches on its own,
        by the rule for one span: a span of some length every day it covers time of, a
        moment the day it falls on, only inside the period (drawn in minutes around the
        period's edges, with moments, overlaps and spans meeting at midnight)."""
        p = BillingPeriod.month(2026, month, tz)
        zone = ZoneInfo(tz)
        given = [
            (p.start + timedelta(minutes=a), p.start + timedelta(minutes=a + b)) for a, b in spans
        ]
        expected: set[date] = set()
        for start, end in given:
            lo, hi = max(start, p.start), min(end, p.end)
            if lo < hi:
                day, last = lo.astimezone(zone).date(), (hi - timedelta(microseconds=1))
                while day <= last.astimezone(zone).date():
                    expected.add(day)
                    day += timedelta(days=1)
            elif lo == hi and p.start <= lo < p.end:
                expected.add(lo.astimezone(zone).date())
        assert p.local_days(given) == expected
        assert p.local_days(reversed(given)) == expected
        in_utc = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in given]  # the records' zone
        assert p.local_days(in_utc) == expected
        lasting = [(s, e) for s, e in given if max(s, p.start) < min(e, p.end)]
        assert p.local_days(given, moments=False) == p.local_days(lasting)


class TestSecondsBetween:
    def test_exact_with_microseconds(self):
        """Microseconds are kept exactly, whatever the caller's decimal context."""
        a = datetime(2026, 10, 1, tzinfo=UTC)
        b = a + timedelta(days=400, microseconds=1)
        with decimal.localcontext() as ctx:
            ctx.prec = 3
            assert seconds_between(a, b) == Decimal("34560000.000001")

    def test_across_dst(self):
        """A Berlin calendar day in October 2026 can be 25 hours long."""
        assert (
            seconds_between(
                datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN)
            )
            == 90000
        )
