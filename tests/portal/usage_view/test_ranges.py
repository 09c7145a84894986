"""Date range presets: whole days in the account's timezone, from the now/today passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import CloudrateError
from cloudrate.portal.usage_view import PRESETS, DateRange, UsageViewError

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


class TestPresets:
    def test_now_is_read_in_the_account_timezone(self):
        """23:30 UTC on Oct 31 is already Nov 1 in Berlin: the range ends on Nov 1."""
        now = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
        berlin = DateRange.last_7_days(now=now, timezone="Europe/Berlin")
        utc = DateRange.last_7_days(now=now, timezone="UTC")
        assert (berlin.first, berlin.last) == (date(2026, 10, 26), date(2026, 11, 1))
        assert (utc.first, utc.last) == (date(2026, 10, 25), date(2026, 10, 31))
        assert berlin.start == datetime(2026, 10, 26, tzinfo=ZoneInfo("Europe/Berlin"))

    def test_last_month_across_a_year(self):
        """In January, last month is the December before."""
        r = DateRange.last_month(today=date(2027, 1, 1), timezone="UTC")
        assert (r.first, r.last, r.days) == (date(2026, 12, 1), date(2026, 12, 31), 31)

    def test_last_month_in_march_is_february(self):
        """Leap years give February 29 days."""
        assert DateRange.last_month(today=date(2028, 3, 31)).days == 29

    @given(days)
    def test_preset_lengths(self, today):
        """Last 7 and last 90 days end today and hold 7 and 90 days; last month ends the
        day before this month starts."""
        r7 = DateRange.preset_named("last_7_days", today=today)
        r90 = DateRange.preset_named("last_90_days", today=today)
        month = DateRange.preset_named("last_month", today=today)
        assert (r7.last, r7.days, len(r7.dates())) == (today, 7, 7)
        assert (r90.last, r90.days) == (today, 90)
        assert month.last == today.replace(day=1) - timedelta(days=1)
        assert month.first.day == 1 and month.first.month == month.last.month

    def test_dst_day_counts_its_real_length(self):
        """The week holding Berlin's clock change lasts 7 days and 1 hour."""
        r = DateRange.custom(date(2026, 10, 25), date(2026, 10, 31), "Europe/Berlin")
        assert r.seconds == Decimal(7 * 86400 + 3600)

    def test_months_split(self):
        """A range over a month end touches both calendar months."""
        r = DateRange.custom(date(2026, 10, 28), date(2026, 11, 3), "UTC")
        assert [p.label for p in r.months()] == ["2026-10", "2026-11"]


class TestBadInput:
    def test_unknown_preset_names_the_choices(self):
        with pytest.raises(
            UsageViewError, match="unknown date range preset 'last_week'.*" + ", ".join(PRESETS)
        ):
            DateRange.preset_named("last_week", today=date(2026, 1, 1))

    def test_reversed_custom_range(self):
        with pytest.raises(UsageViewError, match="before first day"):
            DateRange.custom(date(2026, 10, 5), date(2026, 10, 1))

    def test_naive_now_is_refused(self):
        """A naive datetime has no timezone to read today in."""
        with pytest.raises(UsageViewError, match="has no timezone"):
            DateRange.last_7_days(now=datetime(2026, 10, 5))

    def test_now_or_today_exactly_one(self):
        with pytest.raises(UsageViewError, match="exactly one"):
            DateRange.last_7_days()

    def test_bad_timezone(self):
        """Errors are CloudrateErrors and ValueErrors."""
        with pytest.raises(CloudrateError, match="not an IANA timezone"):
            DateRange.custom(date(2026, 10, 1), date(2026, 10, 2), "Mars/Olympus")
        assert issubclass(UsageViewError, ValueError)
