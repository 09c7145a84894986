"""Proration rules (``cloudrate.plans._proration``): Kill Bill's fixed 30-day months
(``thirty_day_months``), the rule formerly called ``days30`` (``days_of_30``) and its old name.

Kill Bill material cited below is from killbill/killbill at commit cb60779c17 (2026-08-20):

- ``invoice/src/main/java/org/killbill/billing/invoice/generator/InvoiceDateUtils.java``:
  with ``org.killbill.invoice.proration.fixed.days=30`` a prorated span ``[start, end)``
  (end exclusive) counts its days, less ``lastDayOfStartMonth - 30`` when it ends in another
  month; the count is divided by 30 to 9 places, ``ROUND_HALF_UP``
  (``KillBillMoney.MAX_SCALE``); with the default ``0`` the days are divided by the days of
  the billing period. Whole billing periods are one cycle, not counted in days
  (``FixedAndRecurringInvoiceItemGenerator``).
- ``invoice/src/test/java/org/killbill/billing/invoice/generator/
  TestInvoiceDateUtilsWithFixedProration.java`` and ``...WithoutFixedProration.java``.
- ``beatrix/src/test/java/org/killbill/billing/beatrix/integration/
  TestInvoiceFixedProration.java``: plan ``pistol-monthly-notrial``, 19.95 a month in
  advance (``beatrix/src/test/resources/catalogs/default/catalogTest.xml``).

Every expected value is worked by hand from that rule (in the docstrings), or by
:func:`kill_bill_days`, the rule as Kill Bill's code states it, written independently of
cloudrate's per-day weights.
"""

from __future__ import annotations

import calendar
import json
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate._money import EXACT
from cloudrate.billing import BillingCustomer, Subscription, rate_customer
from cloudrate.exceptions import PlanError, RatingError
from cloudrate.invoice import Customer
from cloudrate.period import BillingPeriod
from cloudrate.plans import PRORATIONS, Flat, proration_factor
from cloudrate.rating import Coverage

D = Decimal
NINE = D("1e-9")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney")


def ratio(a: object, b: object) -> Decimal:
    """a / b in cloudrate's exact context (60 digits), as the library computes it."""
    return EXACT.divide(D(a), D(b))


def month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def kill_bill_days(start: date, end: date) -> int:
    """``daysBetweenWithFixedDaysInMonth(start, end, 30)`` as InvoiceDateUtils states it:
    the days between, less (the start month's last day - 30) unless both dates are in the
    same month of the year."""
    between = (end - start).days
    if start.month == end.month:
        return between
    return between - (month_length(start.year, start.month) - 30)


def kill_bill_factor(days: int, period_days: int = 30) -> Decimal:
    """``days.divide(daysInPeriod, 9, ROUND_HALF_UP)``."""
    return ratio(days, period_days).quantize(NINE, ROUND_HALF_UP)


def at(year: int, month: int, day: int, zone: str = "UTC") -> datetime:
    return datetime(year, month, day, tzinfo=ZoneInfo(zone))


def monthly(year: int, month: int, anchor: int, zone: str = "UTC") -> BillingPeriod:
    """The monthly period starting in *year*-*month* on bill cycle day *anchor*, which a
    month too short for it moves to its last day (as Kill Bill's and cloudrate's
    anniversary periods do)."""
    nyear, nmonth = (year + 1, 1) if month == 12 else (year, month + 1)
    first = at(year, month, min(anchor, month_length(year, month)), zone)
    end = at(nyear, nmonth, min(anchor, month_length(nyear, nmonth)), zone)
    return BillingPeriod(first, end, zone)


def factor(start: datetime, end: datetime, period: BillingPeriod, digits: int | None = 9):
    return proration_factor([(start, end)], period, "thirty_day_months", digits)


def utc(year: int, month: int, day: int) -> datetime:
    return at(year, month, day)


class TestKillBillFactors:
    """TestInvoiceDateUtilsWithFixedProration (fixed.days = 30), worked by hand."""

    @pytest.mark.parametrize(
        ("start", "end", "period"),
        [
            # 23 May - 15 June: 23 days, May has 31: 23 - 1 = 22; 22/30
            (utc(2023, 5, 23), utc(2023, 6, 15), monthly(2023, 5, 23)),  # after the last BCD
            (utc(2023, 5, 23), utc(2023, 6, 15), monthly(2023, 5, 15)),  # before the first
            # 23 June - 15 July: 22 days, June has 30: 22 - 0 = 22
            (utc(2023, 6, 23), utc(2023, 7, 15), monthly(2023, 6, 23)),
            (utc(2023, 6, 23), utc(2023, 7, 15), monthly(2023, 6, 15)),
            # 23 Feb - 15 Mar 2023: 20 days, February has 28: 20 + 2 = 22
            (utc(2023, 2, 23), utc(2023, 3, 15), monthly(2023, 2, 23)),
            (utc(2023, 2, 23), utc(2023, 3, 15), monthly(2023, 2, 15)),
            # 23 Feb - 15 Mar 2024 (leap year): 21 days, February has 29: 21 + 1 = 22
            (utc(2024, 2, 23), utc(2024, 3, 15), monthly(2024, 2, 23)),
            (utc(2024, 2, 23), utc(2024, 3, 15), monthly(2024, 2, 15)),
        ],
    )
    def test_twenty_two_days_of_thirty(self, start, end, period):
        """Kill Bill's calculateProRationAfterLastBillingCycleDate and
        calculateProRationBeforeFirstBillingPeriod give 0.733333333 for each of these
        spans (22/30 = 0.7333..., 9 places half-up)."""
        assert factor(start, end, period) == D("0.733333333")

    @pytest.mark.parametrize("month", [5, 6])
    def test_eight_days_of_one_month(self, month):
        """15 to 23 May (and June), bill cycle day 23: 8 days in one month are 8/30 =
        0.2666..., 0.266666667 to 9 places (testProRationBeforeFirstBillingPeriod2)."""
        period = monthly(2023, month - 1, 23)
        assert factor(utc(2023, month, 15), utc(2023, month, 23), period) == D("0.266666667")

    def test_the_rule_without_digits_is_exact(self):
        """Without proration_digits the factor is the exact 22/30."""
        got = factor(utc(2023, 5, 23), utc(2023, 6, 15), monthly(2023, 5, 23), None)
        assert got == ratio(22, 30)


class TestKillBillDefaultRule:
    """TestInvoiceDateUtilsWithoutFixedProration (fixed.days = 0, Kill Bill's default):
    cloudrate's ``days`` proration with ``proration_digits: 9``."""

    @pytest.mark.parametrize(
        ("start", "end", "period", "expected"),
        [
            # 23 May - 15 June: 9 + 14 = 23 days of the 31 of 15 May - 15 June
            (utc(2023, 5, 23), utc(2023, 6, 15), monthly(2023, 5, 15), "0.741935484"),
            # 23 June - 15 July: 8 + 14 = 22 days of the 30 of 15 June - 15 July
            (utc(2023, 6, 23), utc(2023, 7, 15), monthly(2023, 6, 15), "0.733333333"),
            # 23 Feb - 15 Mar 2023: 6 + 14 = 20 days of 28 (0.7142857...)
            (utc(2023, 2, 23), utc(2023, 3, 15), monthly(2023, 2, 15), "0.714285714"),
            # 23 Feb - 15 Mar 2024: 7 + 14 = 21 days of 29 (0.7241379...)
            (utc(2024, 2, 23), utc(2024, 3, 15), monthly(2024, 2, 15), "0.724137931"),
        ],
    )
    def test_actual_days_over_the_days_of_the_period(self, start, end, period, expected):
        """Actual days over the days of the billing period, 9 places half-up."""
        assert proration_factor([(start, end)], period, "days", 9) == D(expected)


PISTOL = cloudrate.load_plan(
    {
        "name": "Pistol",
        "currency": "USD",
        "charges": [
            {
                "name": "pistol",
                "metric": "subscription",
                "model": "flat",
                "price": "19.95",
                "proration": "thirty_day_months",
                "proration_digits": 9,
            }
        ],
    }
)


def pistol_amount(start: datetime, end: datetime, period: BillingPeriod, plan=PISTOL) -> Decimal:
    record = cloudrate.UsageRecord(
        account="acme", metric="subscription", quantity=1, start=start, end=end, resource_id="s"
    )
    return cloudrate.rate(plan, [record], period).bill("acme").line("pistol").rounded.amount


class TestKillBillInvoices:
    """TestInvoiceFixedProration: 19.95 a month, fixed.days = 30, amounts as invoiced."""

    @pytest.mark.parametrize("month", [5, 6])
    def test_leading_proration_to_bill_cycle_day_23(self, month):
        """Subscribed on the 15th, BCD 23: 15th to 23rd is 8/30 = 0.266666667 of 19.95 =
        5.32000000 -> 5.32, in May (31 days) as in June (30 days)
        (testInvoiceLeadingProration1)."""
        period = monthly(2023, month - 1, 23)
        assert pistol_amount(utc(2023, month, 15), period.end, period) == D("5.32")

    @pytest.mark.parametrize("month", [5, 6])
    def test_leading_proration_to_bill_cycle_day_15(self, month):
        """Subscribed on the 23rd, BCD 15: 23rd to the 15th of the next month is 22/30 =
        0.733333333 of 19.95 = 14.62999999 -> 14.63 (testInvoiceLeadingProration2)."""
        period = monthly(2023, month, 15)
        assert pistol_amount(utc(2023, month, 23), period.end, period) == D("14.63")

    @pytest.mark.parametrize(
        ("period", "cancel", "expected"),
        [
            # BCD 23: 19.95 for 23 Apr - 23 May, cancelled 15 May: credit 8/30 -> 5.32
            (monthly(2023, 4, 23), utc(2023, 5, 15), "14.63"),
            (monthly(2023, 5, 23), utc(2023, 6, 15), "14.63"),
            # BCD 15: 19.95 for 15 May - 15 June, cancelled 23 May: credit 22/30 -> 14.63
            (monthly(2023, 5, 15), utc(2023, 5, 23), "5.32"),
            (monthly(2023, 6, 15), utc(2023, 6, 23), "5.32"),
        ],
    )
    def test_trailing_proration_is_the_fee_less_kill_bills_credit(self, period, cancel, expected):
        """Billed in advance, Kill Bill charges 19.95 and credits the days after the
        cancellation (REPAIR_ADJ -5.32 or -14.63, testInvoiceTrailingProration1 and 2);
        cloudrate charges the days before it: 19.95 - 5.32 = 14.63 and 19.95 - 14.63 =
        5.32. (Apr 23 - May 15 is 7 + 1 (30 April) + 14 = 22 days; May 15 - 23 is 8.)"""
        assert pistol_amount(period.start, cancel, period) == D(expected)

    def test_a_whole_period_is_the_full_fee(self):
        """19.95 for 23 April - 23 May (the full invoice of testInvoiceTrailingProration1)."""
        period = monthly(2023, 4, 23)
        assert pistol_amount(period.start, period.end, period) == D("19.95")

    def test_on_and_off(self):
        """The same 8 days of the calendar month of May: 8/30 of 19.95 = 5.32 with
        thirty_day_months, 8/31 of 19.95 = 5.148... -> 5.15 with the default days."""
        may = BillingPeriod.month(2023, 5)
        charge = {**PISTOL.charges[0].to_dict()}
        del charge["proration"]
        off = cloudrate.load_plan({**cloudrate.dump_plan(PISTOL), "charges": [charge]})
        assert pistol_amount(utc(2023, 5, 15), utc(2023, 5, 23), may) == D("5.32")
        assert pistol_amount(utc(2023, 5, 15), utc(2023, 5, 23), may, off) == D("5.15")


class TestSubscriptions:
    def test_an_anniversary_subscription_cancelled_mid_period(self):
        """Kill Bill's testInvoiceTrailingProration1 as a cloudrate subscription: started
        23 April 2023 on its anniversary, ended 15 May: 22/30 of 19.95 = 14.63."""
        plan = cloudrate.load_plan(
            {
                "name": "Pistol",
                "currency": "USD",
                "charges": [
                    {
                        "name": "pistol",
                        "model": "flat",
                        "price": "19.95",
                        "proration": "thirty_day_months",
                        "proration_digits": 9,
                    }
                ],
            }
        )
        sub = Subscription(
            plan="Pistol", start=utc(2023, 4, 23), end=utc(2023, 5, 15), anchor="anniversary"
        )
        customer = BillingCustomer(customer=Customer(id="acme", name="ACME"), subscriptions=[sub])
        bill = rate_customer(customer, {"Pistol": plan}, [], monthly(2023, 4, 23)).bill
        assert [(x.proration, x.rounded.amount) for x in bill.lines] == [
            (D("0.733333333"), D("14.63"))
        ]

    @pytest.mark.parametrize(
        ("year", "month", "day", "old", "new"),
        [
            # February 2026: 1-14 Feb are 14 days; 15-28 Feb are 13 + 3 (28 Feb) = 16
            (2026, 2, 15, "14.00", "32.00"),
            # February 2024: 1-14 Feb are 14; 15-29 Feb are 14 + 2 (29 Feb) = 16
            (2024, 2, 15, "14.00", "32.00"),
            # October: 1-15 are 15; 16-31 are 15 + 0 (31 Oct) = 15
            (2026, 10, 16, "15.00", "30.00"),
        ],
    )
    def test_a_plan_change_bills_both_sides_in_thirtieths(self, year, month, day, old, new):
        """A change of plan within a calendar month: each side's flat fee is its days of
        30, and the two sides are exactly one period (30.00 then 60.00 a month)."""

        def plan(name: str, fee: str) -> cloudrate.Plan:
            return cloudrate.load_plan(
                {
                    "name": name,
                    "currency": "EUR",
                    "charges": [
                        {"name": "fee", "model": "flat", "price": fee},
                    ],
                }
            )

        plans = {
            "Basic": with_thirty_day_months(plan("Basic", "30.00")),
            "Pro": with_thirty_day_months(plan("Pro", "60.00")),
        }
        customer = BillingCustomer(
            customer=Customer(id="acme", name="ACME"),
            subscriptions=[
                Subscription(plan="Basic", start=utc(year, month, 1)),
                Subscription(plan="Pro", start=utc(year, month, day)),
            ],
        )
        bill = rate_customer(customer, plans, [], BillingPeriod.month(year, month)).bill
        assert [x.rounded.amount for x in bill.lines] == [D(old), D(new)]
        shares = [x.proration for x in bill.lines]
        assert sum(shares, D(0)) == 1


def with_thirty_day_months(plan: cloudrate.Plan) -> cloudrate.Plan:
    """*plan* with its flat fee prorated by thirty_day_months."""
    data = cloudrate.dump_plan(plan)
    data["charges"] = [{**c, "proration": "thirty_day_months"} for c in data["charges"]]
    return cloudrate.load_plan(data)


# --- properties at the edges of periods ---------------------------------------------------


@st.composite
def monthly_periods(draw: st.DrawFn) -> BillingPeriod:
    """Monthly periods on any bill cycle day (29-31 included, moved in short months), in
    common and leap years (1900 and 2100 are common, 2000 leap), in zones with DST."""
    year = draw(st.sampled_from((1900, 2000, 2023, 2024, 2026, 2028, 2100)))
    month = draw(st.integers(1, 12))
    anchor = draw(st.sampled_from((1, 15, 28, 29, 30, 31, *range(1, 32))))
    return monthly(year, month, anchor, draw(st.sampled_from(ZONES)))


def days_of(period: BillingPeriod) -> list[date]:
    tz = period.tz
    first, end = period.start.astimezone(tz).date(), period.end.astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def local(day: date, zone: str, hours: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)) + timedelta(hours=hours)


class TestThirtyDayMonthProperties:
    @given(monthly_periods(), st.data())
    @example(monthly(2023, 1, 31), None)  # 31 Jan - 28 Feb
    @example(monthly(2023, 2, 30), None)  # 28 Feb - 30 Mar: 28 Feb weighs 3 days
    @example(monthly(2024, 2, 1), None)  # February of a leap year
    def test_kill_bills_formula_for_every_span_of_a_monthly_period(self, period, data):
        """Any span of whole days of a monthly period, from any hour of its first day to
        any hour of its last, is Kill Bill's daysBetweenWithFixedDaysInMonth over 30 (9
        places half-up); the whole period is 1."""
        days = days_of(period)
        if data is None:
            i, j, h1, h2 = 0, len(days) - 1, 0, 0
        else:
            i = data.draw(st.integers(0, len(days) - 1))
            j = data.draw(st.integers(i + 1, len(days)))
            h1, h2 = data.draw(st.integers(0, 23)), data.draw(st.integers(0, 23))
        zone = period.timezone
        start = local(days[i], zone, h1)
        end = local(days[j - 1], zone, 24 - h2) if j - 1 > i else local(days[i], zone, 24)
        assume(start < end and start.astimezone(ZoneInfo(zone)).date() == days[i])
        end = min(end, period.end)
        whole = i == 0 and j == len(days)
        end_date = days[j - 1] + timedelta(days=1)
        expected = D(1) if whole else kill_bill_factor(kill_bill_days(days[i], end_date))
        assert factor(start, end, period) == expected

    @given(monthly_periods())
    def test_a_whole_period_is_one(self, period):
        """A resource active the whole period pays exactly one period, whatever the
        month's length or the bill cycle day."""
        assert factor(period.start, period.end, period, None) == 1

    @given(st.integers(1970, 2100), st.integers(1, 12), st.sampled_from(ZONES), st.data())
    def test_the_two_sides_of_a_calendar_month_add_up_to_one(self, year, month, zone, data):
        """Cut a calendar month at any day: the days before and the days from it are
        exactly one period together (every month weighs 30 days), each side between 0
        and 1 (from the 31st, the side is 0: the 31st weighs nothing)."""
        period = BillingPeriod.month(year, month, zone)
        cut = data.draw(st.integers(2, month_length(year, month)))
        middle = at(year, month, cut, zone)
        before = factor(period.start, middle, period, None)
        after = factor(middle, period.end, period, None)
        assert before + after == 1
        assert 0 < before <= 1 and 0 <= after < 1

    @given(st.integers(1970, 2100), st.integers(1, 12), st.data())
    def test_a_calendar_month_never_charges_more_for_fewer_days(self, year, month, data):
        """In a calendar month, a span inside another never costs more, and never more
        than the whole month."""
        period = BillingPeriod.month(year, month)
        n = month_length(year, month)
        a = data.draw(st.integers(1, n))
        b = data.draw(st.integers(a, n))
        c = data.draw(st.integers(1, a))
        d = data.draw(st.integers(b, n))
        inner = factor(utc(year, month, a), utc(year, month, b) + timedelta(days=1), period)
        outer = factor(utc(year, month, c), utc(year, month, d) + timedelta(days=1), period)
        assert inner <= outer <= 1

    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            # 30 days from 1 May: 1-30 May, one month: 30/30
            (utc(2023, 5, 1), utc(2023, 5, 31), D(1)),
            # 30 days from 2 May: 2-31 May, ending in June: 30 - (31 - 30) = 29
            (utc(2023, 5, 2), utc(2023, 6, 1), ratio(29, 30)),
        ],
    )
    def test_a_span_of_exactly_thirty_days(self, start, end, expected):
        """Thirty days are one month only when they stay in one month: the 31st of a
        month weighs nothing, so 2 to 31 May is 29/30."""
        assert factor(start, end, BillingPeriod.month(2023, 5), None) == expected
        assert factor(start, end, BillingPeriod.month(2023, 5), 9) == expected.quantize(
            NINE, ROUND_HALF_UP
        )

    def test_month_ends_weigh_the_difference(self):
        """The last day of a month absorbs its difference from 30 days: 31 October
        weighs nothing, 30 June one day, 29 February 2024 two, 28 February 2023 three."""
        cases = [
            (BillingPeriod.month(2026, 10), 31, D(0)),
            (BillingPeriod.month(2026, 6), 30, ratio(1, 30)),
            (BillingPeriod.month(2024, 2), 29, ratio(2, 30)),
            (BillingPeriod.month(2023, 2), 28, ratio(3, 30)),
        ]
        for period, last, expected in cases:
            tz = period.timezone
            start = at(period.start.year, period.start.month, last, tz)
            assert factor(start, period.end, period, None) == expected

    def test_a_clamped_period_can_exceed_one(self):
        """As in Kill Bill, a period from 28 February to 30 March (bill cycle day 30)
        weighs 32 days, so 28 Feb - 29 Mar (3 + 28 = 31 days; Kill Bill: 29 days + 2) is
        31/30, while the whole period is 1."""
        period = monthly(2023, 2, 30)
        assert factor(period.start, utc(2023, 3, 29), period) == D("1.033333333")
        assert kill_bill_factor(kill_bill_days(date(2023, 2, 28), date(2023, 3, 29))) == D(
            "1.033333333"
        )
        assert factor(period.start, period.end, period) == 1

    def test_periods_of_several_months(self):
        """A period of n whole months counts 30 days a month: one calendar month of a
        year is 1/12, 28 February 2023 alone 3/360, the whole year 1."""
        year = BillingPeriod(utc(2026, 1, 1), utc(2027, 1, 1))
        assert factor(utc(2026, 3, 1), utc(2026, 4, 1), year, None) == ratio(30, 360)
        assert factor(utc(2026, 2, 28), utc(2026, 3, 1), year, None) == ratio(3, 360)
        assert factor(year.start, year.end, year, None) == 1
        quarter = BillingPeriod(utc(2026, 11, 30), utc(2027, 2, 28))  # anchor 30
        assert factor(utc(2026, 12, 1), utc(2027, 1, 1), quarter, None) == ratio(30, 90)

    @pytest.mark.parametrize(
        "period",
        [
            BillingPeriod.parse("2026-10-01..2026-10-15"),
            BillingPeriod(utc(2026, 10, 5), utc(2026, 10, 12)),  # a week
            BillingPeriod(utc(2026, 10, 5), utc(2026, 11, 6)),
        ],
    )
    def test_a_period_of_no_whole_months_is_refused(self, period):
        """Kill Bill's rule is for monthly periods: another period is refused, naming it,
        once there is something to prorate."""
        with pytest.raises(RatingError, match="not a whole number of months") as info:
            factor(period.start, period.end, period)
        assert (info.value.code, info.value.value) == ("rating_refused", period.label)
        assert proration_factor([], period, "thirty_day_months") == 0

    def test_partial_days_count_as_days_touched(self):
        """As with days, a day counts once any time of it is active (here 15 May 09:00
        to 22 May 17:00: 15 to 22 May, 8 days)."""
        period = monthly(2023, 4, 23)
        start, end = datetime(2023, 5, 15, 9, tzinfo=UTC), datetime(2023, 5, 22, 17, tzinfo=UTC)
        assert factor(start, end, period) == D("0.266666667")


class TestDaysOf30:
    """The rule formerly called days30: days touched over 30, at most 1."""

    def test_behaviour_is_unchanged(self):
        """11 days are 11/30, all of February 28/30, a whole 31-day month capped at 1."""
        october, february = BillingPeriod.month(2026, 10), BillingPeriod.month(2026, 2)
        assert proration_factor([(utc(2026, 10, 21), october.end)], october, "days_of_30") == (
            ratio(11, 30)
        )
        whole = [(february.start, february.end)]
        assert proration_factor(whole, february, "days_of_30") == ratio(28, 30)
        assert proration_factor([(october.start, october.end)], october, "days_of_30") == 1

    def test_it_differs_from_thirty_day_months(self):
        """February 2026 whole: 28/30 as days_of_30, 1 as thirty_day_months."""
        february = BillingPeriod.month(2026, 2)
        whole = [(february.start, february.end)]
        assert proration_factor(whole, february, "thirty_day_months") == 1


def _plan_with(proration: str) -> dict:
    return {
        "name": "p",
        "currency": "EUR",
        "charges": [
            {
                "name": "vm",
                "metric": "vm",
                "model": "flat",
                "price": "12.00",
                "proration": proration,
            }
        ],
    }


class TestFormerName:
    def test_a_plan_file_with_days30_loads_with_a_warning_naming_the_new_name(self):
        """days30 is read as days_of_30; the warning names the field, both names, and is
        shown at the caller (this file), not inside cloudrate."""
        with pytest.warns(DeprecationWarning, match="'days30' was renamed 'days_of_30'") as w:
            plan = cloudrate.load_plan(_plan_with("days30"))
        assert str(w[0].message).startswith("charges[0].proration:")
        assert w[0].filename == __file__
        assert plan.charges[0].model.proration == "days_of_30"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert plan == cloudrate.load_plan(_plan_with("days_of_30"))

    def test_it_is_dumped_under_the_new_name(self):
        """An old file comes back written with the new name, and loads without warning."""
        with pytest.warns(DeprecationWarning, match="days_of_30"):
            plan = cloudrate.load_plan(_plan_with("days30"))
        dumped = cloudrate.dump_plan(plan)
        assert dumped["charges"][0]["proration"] == "days_of_30"
        assert "days30" not in cloudrate.plan_to_yaml(plan)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert cloudrate.load_plan(dumped) == plan

    def test_the_python_constructors_accept_it_with_a_warning(self):
        """Flat(proration="days30") and Coverage(proration="days30") warn at the caller."""
        with pytest.warns(DeprecationWarning, match="days_of_30") as w:
            fee = Flat(Money("1.00", "EUR"), proration="days30")
        assert fee.proration == "days_of_30" and w[0].filename == __file__
        with pytest.warns(DeprecationWarning, match="days_of_30") as w:
            cover = Coverage(start=utc(2026, 10, 1), end=utc(2026, 10, 2), proration="days30")
        assert cover.proration == "days_of_30" and w[0].filename == __file__

    def test_unknown_names_are_still_refused(self):
        """A misspelt proration lists the current names."""
        with pytest.raises(PlanError, match="days, seconds, days_of_30, thirty_day_months"):
            Flat(Money("1.00", "EUR"), proration="days31")
        with pytest.raises(cloudrate.ConfigError) as info:
            cloudrate.load_plan(_plan_with("thirty_days"))
        assert info.value.problems[0].code == "bad_choice"


class TestRoundTrip:
    @pytest.mark.parametrize("proration", PRORATIONS)
    def test_every_proration_loads_dumps_and_loads_back(self, proration):
        """Through plain data, YAML and JSON text, with and without digits."""
        data = _plan_with(proration)
        data["charges"][0]["proration_digits"] = 9
        plan = cloudrate.load_plan(data)
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan
        assert cloudrate.load_plan(cloudrate.plan_to_yaml(plan)) == plan
        assert cloudrate.load_plan(json.loads(json.dumps(cloudrate.dump_plan(plan)))) == plan
        assert plan.charges[0].model.proration == proration
