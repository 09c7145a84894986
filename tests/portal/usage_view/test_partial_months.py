"""Issue 12: ``usage_view(adjust=...)`` on partial months, and the ``month_to_date`` preset.

A billing policy whose rules read the usage (the IP rules check that the context holds
the records each line rated) could not be applied to a range that covers part of a
month: the adjust function got the month's result but not the usage it rated. A
two-argument adjust now gets both. The ranges drawn here start and end on any day, cross
month ends, and lie in timezones whose clocks change inside the months drawn.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import RatedLine, UsageRecord
from cloudrate.portal.usage_view import (
    PRESETS,
    DateRange,
    UsageViewError,
    billing_overview,
    clip_records,
    usage_view,
)
from cloudrate.rules import FreeFirstIp, RuleContext, chain
from cloudrate.usage import dedupe

#: Zones whose clocks change in the months drawn (Europe on 29 March and 25 October
#: 2026, New York on 8 March and 1 November, Sydney on 5 April and 4 October), and two
#: that never do.
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")

PLAN = """
name: IPs
currency: EUR
timezone: {tz}
metrics:
  vcpu_hours:      {{unit: vCPU-hour}}
  public_ip_hours: {{unit: IP-hour}}
charges:
  - {{name: compute, service: Compute, metric: vcpu_hours, model: per_unit,
     unit_price: "0.0125"}}
  - {{name: public_ip, service: Network, metric: public_ip_hours, model: per_unit,
     unit_price: "0.005"}}
  - {{name: platform, service: Platform, model: flat, price: "5.00"}}
"""

POLICY = chain(FreeFirstIp())


def plan_in(tz: str) -> cloudrate.Plan:
    return cloudrate.load_plan(PLAN.format(tz=tz))


def with_policy(result: cloudrate.RatingResult, usage) -> cloudrate.RatingResult:
    """The policy, with the context of the usage the result rated."""
    return POLICY.apply_result(result, RuleContext.for_result(result, usage))


@st.composite
def usages(draw: st.DrawFn) -> list[UsageRecord]:
    """Records of two IPs and some compute from February to April and September to
    November 2026 (both clock changes of every zone), some across midnight and month
    ends, some instants."""
    out = []
    for n in range(draw(st.integers(0, 30))):
        month = draw(st.sampled_from([2, 3, 4, 9, 10, 11]))
        start = datetime(2026, month, 1, tzinfo=UTC) + timedelta(
            hours=draw(st.integers(-36, 30 * 24 + 36))
        )
        length = timedelta(hours=draw(st.sampled_from([0, 1, 5, 24, 50])))
        metric = draw(st.sampled_from(["vcpu_hours", "public_ip_hours"]))
        out.append(
            UsageRecord(
                account=draw(st.sampled_from(["acme", "acme", "globex"])),
                metric=metric,
                quantity=draw(st.decimals(0, 100, places=2)),
                start=start,
                end=start + length,
                resource_id=draw(st.sampled_from(["ip-1", "ip-2"])),
                record_id=f"r{n}",
            )
        )
    return out


@st.composite
def ranges(draw: st.DrawFn) -> DateRange:
    """A range starting on any day of the months drawn, 1 to 75 days long."""
    tz = draw(st.sampled_from(ZONES))
    first = draw(st.dates(date(2026, 2, 1), date(2026, 11, 30)))
    last = first + timedelta(days=draw(st.integers(0, 74)))
    return DateRange.custom(first, last, tz)


def reference_lines(plan, usage, date_range, account, adjust):
    """The lines of the view by the reference path: each month of the range rated on its
    own from the records cut to the month and the range, then adjusted."""
    lines: list[RatedLine] = []
    fixed = {"platform"}
    for period in date_range.months():
        lo, hi = max(period.start, date_range.start), min(period.end, date_range.end)
        part = dedupe(clip_records(plan, usage, lo, hi, account)).records
        result = cloudrate.rate(plan, part, period, accounts=[account])
        result = adjust(result, part)
        lines.extend(x for x in result.bill(account).lines if x.charge not in fixed)
    return lines


class TestAdjustOnPartialMonths:
    @settings(max_examples=80, deadline=None)
    @given(usage=usages(), date_range=ranges(), plan_tz=st.sampled_from(ZONES))
    def test_a_policy_that_reads_the_usage(self, usage, date_range, plan_tz):
        """The IP rule runs on every range, whole or partial months, and the view holds
        the lines of the reference path: each month rated and adjusted on its own."""
        plan = plan_in(plan_tz)
        view = usage_view(plan, usage, account="acme", date_range=date_range, adjust=with_policy)
        expected = reference_lines(plan, usage, date_range, "acme", with_policy)
        assert [x.to_dict() for x in view.lines] == [x.to_dict() for x in expected]
        assert view.total == sum((x.rounded for x in expected), Money(0, "EUR"))

    @settings(max_examples=40, deadline=None)
    @given(usage=usages(), date_range=ranges())
    def test_the_usage_given_is_the_usage_rated(self, usage, date_range):
        """The usage an adjust function gets, month by month, is the range's records of
        the account cut to that month: together, the view's records."""
        plan = plan_in(date_range.timezone)
        given_usage: list[tuple[str, tuple[UsageRecord, ...]]] = []

        def keep(result, rated):
            given_usage.append((result.period.label, rated))
            return result

        view = usage_view(plan, usage, account="acme", date_range=date_range, adjust=keep)
        assert [label for label, _ in given_usage] == [p.label for p in date_range.months()]
        for (_, rated), period in zip(given_usage, date_range.months(), strict=True):
            assert all(r.account == "acme" for r in rated)
            assert all(period.start <= r.start and r.end <= period.end for r in rated)
        if len(given_usage) == 1:
            assert given_usage[0][1] == view.records

    def test_one_argument_adjust_still_gets_the_result(self):
        plan = plan_in("UTC")
        seen = []
        view = usage_view(
            plan,
            [],
            account="acme",
            date_range=DateRange.custom(date(2026, 10, 5), date(2026, 11, 3)),
            adjust=lambda result: seen.append(result.period.label) or result,
        )
        assert seen == ["2026-10", "2026-11"]
        assert view.total == Money(0, "EUR")

    def test_a_partial_month_used_to_fail(self):
        """The case of the issue: the rule refused a context of the whole usage; given the
        usage rated, it credits the first IP."""
        plan = plan_in("Europe/Berlin")
        t0 = datetime(2026, 10, 3, 8, tzinfo=UTC)
        usage = [
            UsageRecord(
                account="acme",
                metric="public_ip_hours",
                quantity="10",
                start=t0 + timedelta(days=d),
                end=t0 + timedelta(days=d, hours=10),
                resource_id="ip-1",
            )
            for d in range(20)
        ]
        r = DateRange.custom(date(2026, 10, 10), date(2026, 10, 15), "Europe/Berlin")
        whole = POLICY.apply_result  # the one-argument form with the whole usage refuses
        with pytest.raises(cloudrate.exceptions.RatingError, match="were rated"):
            usage_view(
                plan,
                usage,
                account="acme",
                date_range=r,
                adjust=lambda res: whole(res, RuleContext.for_result(res, usage)),
            )
        view = usage_view(plan, usage, account="acme", date_range=r, adjust=with_policy)
        [network] = view.services
        costs = [(i.quantity, i.cost.amount) for i in network.items]  # the line, its credit
        assert costs == [(Decimal(60), Decimal("0.30")), (Decimal(60), Decimal("-0.30"))]
        assert view.total.amount == 0  # 6 days x 10 IP-hours of the first IP: free

    def test_adjust_must_be_callable(self):
        with pytest.raises(UsageViewError, match=r"adjust: .* is not callable"):
            usage_view(
                plan_in("UTC"),
                [],
                account="acme",
                date_range=DateRange.custom(date(2026, 10, 5), date(2026, 10, 6)),
                adjust=chain(FreeFirstIp()),  # type: ignore[arg-type]
            )


class TestMonthToDate:
    def test_is_a_preset(self):
        assert "month_to_date" in PRESETS

    @settings(max_examples=200, deadline=None)
    @given(
        moment=st.datetimes(datetime(2025, 12, 20), datetime(2027, 1, 10)),
        tz=st.sampled_from(ZONES),
        given_in=st.sampled_from(ZONES),
    )
    def test_the_first_of_the_month_to_today(self, moment, tz, given_in):
        """From any instant, in any zone: the 1st of the month holding the instant's day
        in *tz*, to that day; one calendar month, starting at the month's start."""
        now = moment.replace(tzinfo=ZoneInfo(given_in))
        r = DateRange.preset_named("month_to_date", now=now, timezone=tz)
        today = now.astimezone(ZoneInfo(tz)).date()
        assert r == DateRange.month_to_date(now=now, timezone=tz)
        assert (r.first, r.last, r.preset) == (today.replace(day=1), today, "month_to_date")
        [period] = r.months()
        assert period.start == r.start
        assert r.end <= period.end
        assert (r.end == period.end) == ((today + timedelta(days=1)).day == 1)

    @settings(max_examples=30, deadline=None)
    @given(today=st.dates(date(2026, 2, 1), date(2026, 11, 30)), tz=st.sampled_from(ZONES))
    def test_the_overview_month_is_the_preset(self, today, tz):
        ov = billing_overview(plan_in(tz), [], account="acme", today=today, timezone=tz)
        assert ov.month == DateRange.preset_named("month_to_date", today=today, timezone=tz)
        assert [d.day for d in ov.daily] == ov.month.dates()

    def test_a_usage_view_of_the_month_to_date(self):
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        r = DateRange.preset_named("month_to_date", today=date(2026, 10, 20), timezone="UTC")
        view = usage_view(plan, usage, account="acme", date_range=r)
        assert view.to_dict()["range"]["preset"] == "month_to_date"
        assert view.date_range.label == "2026-10-01..2026-10-20"


class TestInstantsAtAMonthEnd:
    """An instant at the end of a month belongs to the next month, as rating's period
    says (:func:`cloudrate.period.spans_within`); cutting a range into months kept it in
    the month it ends, whose rating then refused it as outside."""

    def _instant(self, at: datetime) -> UsageRecord:
        return UsageRecord(
            account="acme", metric="vcpu_hours", quantity="8", start=at, end=at, record_id="moment"
        )

    @pytest.mark.parametrize("tz", ZONES)
    def test_a_range_across_the_month_end_bills_it_once_in_the_next_month(self, tz):
        plan = plan_in(tz)
        month_end = datetime(2026, 11, 1, tzinfo=ZoneInfo(tz))
        records = [self._instant(month_end.astimezone(UTC))]
        both = DateRange.custom(date(2026, 10, 15), date(2026, 11, 15), tz)
        view = usage_view(plan, records, account="acme", date_range=both)
        compute = [x for x in view.lines if x.charge == "compute"]
        november = cloudrate.rate(plan, records, cloudrate.BillingPeriod.month(2026, 11, tz))
        assert sum(x.usage_quantity for x in compute) == Decimal(8)
        assert [x.rounded for x in compute] == [
            x.rounded for x in november.bill("acme").lines if x.charge == "compute"
        ]

    def test_clip_records_takes_an_instant_at_the_start_not_at_the_end(self):
        plan = plan_in("UTC")
        lo, hi = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
        assert clip_records(plan, [self._instant(lo)], lo, hi) == [self._instant(lo)]
        assert clip_records(plan, [self._instant(hi)], lo, hi) == []
