"""Flat recurring fees and their proration (``cloudrate.plans._flat``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from moneyed import Money

import cloudrate
from cloudrate import BillingPeriod, Charge, Flat, PlanError, UsageRecord
from cloudrate._money import EXACT
from cloudrate.plans import PRORATIONS

D = Decimal


def ratio(a: object, b: object) -> Decimal:
    """a / b in cloudrate's exact context (60 digits), as the library computes it."""
    return EXACT.divide(D(a), D(b))


BERLIN = ZoneInfo("Europe/Berlin")
# October 2026 in Berlin: DST ends on Sunday the 25th, so the month lasts 31 days + 1 hour.
OCTOBER = BillingPeriod.month(2026, 10, "Europe/Berlin")
OCTOBER_SECONDS = D(31 * 86400 + 3600)
FROM_21ST = [(datetime(2026, 10, 21, 9, tzinfo=BERLIN), OCTOBER.end)]


def _fee(**kwargs) -> Flat:
    return Flat(Money("49.00", "EUR"), **kwargs)


class TestFlatFactor:
    def test_period_counts_the_dst_hour(self):
        """The Berlin October period is 31 days and 3,601 hours long."""
        assert OCTOBER.days == 31
        assert OCTOBER.seconds == OCTOBER_SECONDS

    def test_days_by_default(self):
        """By days: a VM started on the 21st touches days 21..31, 11 of 31."""
        assert _fee().factor(FROM_21ST, OCTOBER) == ratio(11, 31)

    def test_seconds(self):
        """By seconds: 21 Oct 09:00 CEST (07:00 UTC) to 1 Nov 00:00 CET (31 Oct 23:00 UTC) is
        10 days and 16 hours, over the month's 2,682,000 seconds."""
        active = D(10 * 86400 + 16 * 3600)
        fee = _fee(proration="seconds")
        assert fee.factor(FROM_21ST, OCTOBER) == ratio(active, OCTOBER_SECONDS)

    def test_seconds_over_the_dst_day(self):
        """The 25th lasts 25 hours in Berlin: seconds proration charges 90,000 s of it."""
        day = [(datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN))]
        assert _fee(proration="seconds").factor(day, OCTOBER) == ratio(90000, OCTOBER_SECONDS)
        assert _fee().factor(day, OCTOBER) == ratio(1, 31)

    def test_days_of_30(self):
        """Days over a fixed 30: 11 days are 11/30; a whole 31-day month is capped at 1."""
        assert _fee(proration="days_of_30").factor(FROM_21ST, OCTOBER) == ratio(11, 30)
        whole = [(OCTOBER.start, OCTOBER.end)]
        assert _fee(proration="days_of_30").factor(whole, OCTOBER) == 1

    def test_days_of_30_short_month(self):
        """As documented, days_of_30 counts the days touched: all of February is 28/30."""
        feb = BillingPeriod.month(2026, 2, "UTC")
        assert _fee(proration="days_of_30").factor([(feb.start, feb.end)], feb) == ratio(28, 30)

    def test_thirty_day_months(self):
        """Kill Bill's fixed 30-day months: 21-31 October is 10 days (the 31st weighs
        nothing) of 30; the whole month is 1."""
        assert _fee(proration="thirty_day_months").factor(FROM_21ST, OCTOBER) == ratio(10, 30)

    def test_none(self):
        """proration=none: any activity pays the whole period; no activity pays nothing."""
        minute = [(OCTOBER.start, OCTOBER.start + timedelta(minutes=1))]
        assert _fee(proration="none").factor(minute, OCTOBER) == 1
        assert _fee(proration="none").factor([], OCTOBER) == 0

    @pytest.mark.parametrize(
        ("digits", "expected"),
        [(None, ratio(11, 31)), (0, D(0)), (2, D("0.35")), (4, D("0.3548")), (6, D("0.354839"))],
    )
    def test_proration_digits(self, digits, expected):
        """proration_digits rounds the factor half-up (11/31 = 0.3548387...)."""
        assert _fee(proration_digits=digits).factor(FROM_21ST, OCTOBER) == expected

    def test_whole_month_is_one(self):
        """Active the whole period is a factor of exactly 1 for every proration."""
        whole = [(OCTOBER.start, OCTOBER.end)]
        for proration in PRORATIONS:
            assert _fee(proration=proration).factor(whole, OCTOBER) == 1

    def test_overlapping_spans_count_once(self):
        """Two records covering the same hours do not pay twice."""
        start = datetime(2026, 10, 1, tzinfo=BERLIN)
        spans = [
            (start, start + timedelta(hours=10)),
            (start + timedelta(hours=5), start + timedelta(hours=12)),
        ]
        fee = _fee(proration="seconds")
        assert fee.factor(spans, OCTOBER) == ratio(12 * 3600, OCTOBER_SECONDS)

    def test_spans_outside_the_period_are_clipped(self):
        """Only the part of a span inside the period counts."""
        spans = [(datetime(2026, 9, 20, tzinfo=BERLIN), datetime(2026, 10, 3, tzinfo=BERLIN))]
        assert _fee().factor(spans, OCTOBER) == ratio(2, 31)
        before = [(datetime(2026, 9, 1, tzinfo=BERLIN), datetime(2026, 9, 2, tzinfo=BERLIN))]
        assert _fee().factor(before, OCTOBER) == 0

    def test_worked_example_aws_support_mid_month(self):
        """AWS's support billing example (https://aws.amazon.com/premiumsupport/
        knowledge-center/support-billing/): signing up for the $100/month plan in the exact
        middle of October bills $50. By seconds in UTC, the middle of October's 31 days is
        16 Oct 12:00."""
        period = BillingPeriod.month(2026, 10, "UTC")
        fee = Flat(Money(100, "USD"), proration="seconds")
        factor = fee.factor([(datetime(2026, 10, 16, 12, tzinfo=UTC), period.end)], period)
        assert factor == D("0.5")
        assert fee.price(factor).amount == Money(50, "USD")


class TestFlat:
    def test_price_is_factor_times_fee(self):
        """The price of q periods is q x the fee; a whole period is labelled as such."""
        assert _fee().price(D(1)).amount == Money("49.00", "EUR")
        assert _fee().price(D(1)).details[0].label == "full period"
        half = _fee().price(D("0.5"))
        assert half.amount.amount == D("24.500")
        assert half.details[0].label == "prorated (days)"

    def test_bad_proration(self):
        """An unknown proration lists the known ones."""
        with pytest.raises(PlanError, match="days, seconds, days_of_30, thirty_day_months, none"):
            _fee(proration="hours")

    @pytest.mark.parametrize("digits", [-1, True, 2.0])
    def test_bad_digits(self, digits):
        """proration_digits must be a whole number >= 0."""
        with pytest.raises(PlanError, match="proration_digits"):
            _fee(proration_digits=digits)

    def test_to_dict_omits_defaults(self):
        """Only settings that differ from the defaults are written."""
        assert _fee().to_dict() == {"model": "flat", "price": "49.00"}
        assert _fee(proration="seconds", proration_digits=4).to_dict() == {
            "model": "flat",
            "price": "49.00",
            "proration": "seconds",
            "proration_digits": 4,
        }


class TestFlatRating:
    def _plan(self, **flat):
        return cloudrate.Plan(
            name="p",
            currency="EUR",
            timezone="Europe/Berlin",
            charges=[
                Charge(
                    name="licence", metric="vm_running", model=Flat(Money("12.00", "EUR"), **flat)
                ),
                Charge(name="platform", model=Flat(Money("5.00", "EUR"))),
            ],
        )

    def _vm(self, vm, start, end, account="acme"):
        return UsageRecord(
            account=account, metric="vm_running", quantity=1, resource_id=vm, start=start, end=end
        )

    def test_fee_per_resource_prorated(self):
        """Each VM pays its own share; the shares add up on one line."""
        records = [
            self._vm("vm-1", OCTOBER.start, OCTOBER.end),
            self._vm("vm-2", datetime(2026, 10, 21, tzinfo=BERLIN), OCTOBER.end),
        ]
        line = cloudrate.rate(self._plan(), records).bill("acme").line("licence")
        factor = EXACT.add(1, ratio(11, 31))
        assert line.proration == factor
        assert line.amount.amount == EXACT.multiply(factor, D("12.00"))
        assert line.rounded.amount == D("16.26")  # 12 + 4.2580645... rounded half-up

    def test_fee_without_metric_is_one_per_account(self):
        """A flat fee with no metric bills every account once, unprorated."""
        records = [self._vm("vm-1", OCTOBER.start, OCTOBER.end, account=a) for a in "ab"]
        result = cloudrate.rate(self._plan(), records)
        for bill in result.bills:
            assert bill.line("platform").amount == Money("5.00", "EUR")
            assert bill.line("platform").proration == 1

    def test_dst_month_by_seconds(self):
        """A VM running from the DST change to month end pays its real seconds."""
        start = datetime(2026, 10, 25, tzinfo=BERLIN)
        line = (
            cloudrate.rate(self._plan(proration="seconds"), [self._vm("vm-1", start, OCTOBER.end)])
            .bill("acme")
            .line("licence")
        )
        assert line.proration == ratio(7 * 86400 + 3600, OCTOBER_SECONDS)

    def test_records_without_resource_id(self):
        """Per-resource fees need resource_id (or record_id) on every record."""
        record = UsageRecord(
            account="a", metric="vm_running", quantity=1, start=OCTOBER.start, end=OCTOBER.end
        )
        with pytest.raises(cloudrate.RatingError, match="resource_id"):
            cloudrate.rate(self._plan(), [record])
