"""rate()'s period membership test is :func:`cloudrate.period.spans_within`, at the edges.

The per-record loop writes the rule out for speed; these tests pin it to the one rule,
for periods in several timezones and for a coverage (one side of a plan change).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod, spans_within
from cloudrate.rating import Coverage, rate

PLAN = cloudrate.load_plan(
    "name: P\ncurrency: EUR\ncharges:\n  - {name: c, metric: m, model: per_unit, unit_price: '1'}\n"
)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
#: Offsets from an edge: on it, a microsecond either side, an hour either side.
NEAR = (timedelta(0), timedelta(microseconds=1), timedelta(hours=1))


@st.composite
def near_edges(draw: st.DrawFn, lo: datetime, hi: datetime) -> tuple[datetime, datetime]:
    """A (start, end) with start <= end, each on, just before or just after an edge."""

    def moment() -> datetime:
        edge = draw(st.sampled_from((lo, hi)))
        step = draw(st.sampled_from(NEAR)) * draw(st.sampled_from((-1, 1)))
        return (edge + step).astimezone(UTC)

    start, end = sorted((moment(), moment()))
    return start, end


def _records(spans: list[tuple[datetime, datetime]]) -> list[cloudrate.UsageRecord]:
    return [
        cloudrate.UsageRecord(account="a", metric="m", quantity=i + 1, start=s, end=e)
        for i, (s, e) in enumerate(spans)
    ]


class TestMembership:
    @given(st.sampled_from(ZONES), st.data())
    def test_refused_exactly_when_a_record_is_outside(self, zone, data):
        """rate() refuses the usage when and only when some record is not spans_within
        the period, counting those records; else it bills every record."""
        period = BillingPeriod.month(2026, 10, zone)
        spans = data.draw(st.lists(near_edges(period.start, period.end), max_size=6))
        outside = [s for s in spans if not spans_within(*s, period.start, period.end)]
        records = _records(spans)
        if outside:
            with pytest.raises(RatingError, match=rf"^{len(outside)} record\(s\) lie outside"):
                rate(PLAN, records, period)
        else:
            bill = rate(PLAN, records, period, accounts=["a"]).bill("a")
            assert bill.exact_total.amount == sum((r.quantity for r in records), Decimal(0))

    @given(st.sampled_from(ZONES), st.data())
    def test_coverage_edges(self, zone, data):
        """With a coverage, membership is spans_within the coverage's span."""
        period = BillingPeriod.month(2026, 10, zone)
        middle = period.start + timedelta(days=15)
        side = data.draw(
            st.sampled_from(
                (
                    Coverage(start=period.start, end=middle),
                    Coverage(start=middle, end=period.end),
                )
            )
        )
        spans = data.draw(st.lists(near_edges(side.start, side.end), max_size=6))
        inside = [spans_within(*s, side.start, side.end) for s in spans]
        records = _records(spans)
        if not all(inside):
            with pytest.raises(RatingError, match="lie outside"):
                rate(PLAN, records, period, coverage=side)
        else:
            bill = rate(PLAN, records, period, coverage=side, accounts=["a"]).bill("a")
            assert bill.exact_total.amount == sum((r.quantity for r in records), Decimal(0))

    def test_zero_length_record_at_the_end_belongs_to_the_next_period(self):
        """A record of no length exactly at the period's end is outside it."""
        period = BillingPeriod.month(2026, 10, "Europe/Berlin")
        [record] = _records([(period.end, period.end)])
        with pytest.raises(RatingError, match="1 record"):
            rate(PLAN, [record], period)
        nxt = BillingPeriod.month(2026, 11, "Europe/Berlin")
        assert rate(PLAN, [record], nxt).bill("a").exact_total.amount == 1
