"""Billing periods (``cloudrate.period``)."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
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
        assert not p.contains(before, p.end)
        assert p.contains(p.start, p.end)

    def test_local_days(self):
        """Days are counted in the period's timezone; an instant touches its day."""
        p = BillingPeriod.month(2026, 10, "Europe/Berlin")
        late = datetime(2026, 10, 1, 22, 30, tzinfo=UTC)  # 2 October 00:30 in Berlin
        assert p.local_days([(late, late + timedelta(minutes=10))]) == {date(2026, 10, 2)}
        assert p.local_days([(late, late)]) == {date(2026, 10, 2)}


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
