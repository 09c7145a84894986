"""CloudStack quota conventions in both rating engines (issue 13): validity windows on
charges, numeric ``where`` comparisons and a metric's month length (``month_hours``).

Worked examples come from Apache CloudStack's quota plugin: its unit tests
(``framework/quota/src/test/java/org/apache/cloudstack/quota/QuotaManagerImplTest.java``)
and the pull request that replaced the 720-hour month by the record's month
(https://github.com/apache/cloudstack/pull/7210). Expected values are computed here by
hand (or with fractions from the month lengths), never by the code under test. The
properties draw windows and records on month edges, in February, in 30- and 31-day
months and across several months, and require the same ``cloudrate.rating/1`` JSON and
totals from ``rate()``, ``rate_table()``, ``account_totals()`` and partials combined.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rating._engines import every_engine as _engines

import cloudrate
from cloudrate import BillingPeriod, UsageRecord
from cloudrate._money import EXACT
from cloudrate.plans import Plan
from cloudrate.rating.columnar import combine_partials, finish, partial_aggregate, to_table

D = Decimal
HOUR = timedelta(hours=1)
UTC_OCTOBER = BillingPeriod.month(2026, 10)


def _plan(
    charges: list[dict[str, Any]],
    month_hours: str = "period",
    timezone: str = "UTC",
) -> Plan:
    return cloudrate.load_plan(
        {
            "name": "quota",
            "currency": "EUR",
            "timezone": timezone,
            "metrics": {
                "running_vm_hours": {
                    "unit": "VM-month",
                    "usage_unit": "VM-hour",
                    "month_hours": month_hours,
                }
            },
            "charges": [{"metric": "running_vm_hours", "model": "per_unit", **c} for c in charges],
        }
    )


def _vm(start: datetime, hours: int | Decimal, **attributes: str) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric="running_vm_hours",
        quantity=D(hours),
        start=start,
        end=start + timedelta(hours=int(hours)),
        attributes=attributes,
        resource_id="vm-1",
    )


def _line(bill: cloudrate.AccountBill, charge: str) -> cloudrate.RatedLine | None:
    return next((line for line in bill.lines if line.charge == charge), None)


class TestMonthHoursWorkedExamples:
    def test_fixed_720_hours_quota_manager_test(self):
        """QuotaManagerImplTest.getUsageValueAccordingToUsageUnitTypeTestAllTypes: raw usage
        10 hours, tariffs 400 a month, a month of 720 hours (the plugin before pull request
        7210): 400 / 720 x 10 = 5.555... (the plugin rounds 400/720 to 0.55555556 first,
        giving 5.5555556; exactly it is 50/9). Billed: 5.56 EUR."""
        plan = _plan([{"name": "vm", "unit_price": "400"}], month_hours="fixed_720")
        line = _engines(plan, [_vm(UTC_OCTOBER.start, 10)], UTC_OCTOBER).bill("acme").line("vm")
        assert abs(Fraction(line.usage_quantity) - Fraction(10, 720)) < Fraction(1, 10**58)
        assert abs(Fraction(line.amount.amount) - Fraction(50, 9)) < Fraction(1, 10**55)
        assert line.rounded.amount == D("5.56")

    def test_fixed_720_is_off_by_default(self):
        """Without month_hours a month is the billing period: October's 744 hours,
        400 x 10 / 744 = 5.376..., billed 5.38 EUR."""
        plan = _plan([{"name": "vm", "unit_price": "400"}])
        line = _engines(plan, [_vm(UTC_OCTOBER.start, 10)], UTC_OCTOBER).bill("acme").line("vm")
        assert line.rounded.amount == D("5.38")

    def test_actual_hours_of_each_record_month_pull_request_7210(self):
        """Pull request 7210's example: a tariff of 100 a month and one hour of use in each
        month of a (non-leap) year. With each record's month: 100 x (7/744 + 1/672 +
        4/720), about 1.6452253 (the plugin, rounding each hourly cost to 8 places first,
        gets 1.64522528); with 720-hour months 100 x 12/720 = 1.6666...; with the year as
        the month (the default here, a 365-day period) 100 x 12/8760."""
        year = BillingPeriod(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        records = [_vm(datetime(2026, m, 1, tzinfo=UTC), 1) for m in range(1, 13)]
        exact = Fraction(100) * (Fraction(7, 744) + Fraction(1, 672) + Fraction(4, 720))
        amounts = {}
        for month_hours in ("actual", "fixed_720", "period"):
            plan = _plan([{"name": "vm", "unit_price": "100"}], month_hours=month_hours)
            amounts[month_hours] = _engines(plan, records, year).bill("acme").line("vm").amount
        assert abs(Fraction(amounts["actual"].amount) - exact) < Fraction(1, 10**55)
        assert round(amounts["actual"].amount, 7) == D("1.6452253")
        assert amounts["actual"].amount != D("1.64522528")  # no 8-place rounding here
        assert abs(Fraction(amounts["fixed_720"].amount) - Fraction(1200, 720)) < Fraction(
            1, 10**55
        )
        assert abs(Fraction(amounts["period"].amount) - Fraction(1200, 8760)) < Fraction(1, 10**55)

    def test_leap_february(self):
        """February 2028 has 29 days, 696 hours: 696 hours of a 696-euro tariff cost 696."""
        feb = BillingPeriod.month(2028, 2)
        plan = _plan([{"name": "vm", "unit_price": "696"}], month_hours="actual")
        line = _engines(plan, [_vm(feb.start, 696)], feb).bill("acme").line("vm")
        assert line.usage_quantity == 1
        assert line.amount.amount == 696

    def test_a_record_counts_in_the_month_it_starts(self):
        """CloudStack divides by the hours of the month of the record's start date
        (getCostPerHour(..., usageRecord.getStartDate())): a record from January 31 22:00
        to February 1 02:00 (4 hours) is 4/744 of a month, not 2/744 + 2/672."""
        period = BillingPeriod(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
        plan = _plan([{"name": "vm", "unit_price": "744"}], month_hours="actual")
        record = _vm(datetime(2026, 1, 31, 22, tzinfo=UTC), 4)
        assert _engines(plan, [record], period).bill("acme").line("vm").amount.amount == 4

    def test_the_month_is_the_plan_timezone_s(self):
        """In Europe/Berlin, 2026-03-01 00:30 local is still February 28 in UTC: the
        record counts in March (744 hours) for a plan in Berlin, in February (672) in UTC."""
        berlin = ZoneInfo("Europe/Berlin")
        start = datetime(2026, 3, 1, 0, 30, tzinfo=berlin)
        record = _vm(start, 1)
        q1 = BillingPeriod(datetime(2026, 1, 1, tzinfo=berlin), datetime(2026, 4, 1, tzinfo=berlin))
        local = _plan(
            [{"name": "vm", "unit_price": "1"}], month_hours="actual", timezone="Europe/Berlin"
        )
        utc = _plan([{"name": "vm", "unit_price": "1"}], month_hours="actual")
        assert _engines(local, [record], q1).bill("acme").line("vm").usage_quantity == EXACT.divide(
            D(1), D(744)
        )
        assert _engines(utc, [record], q1).bill("acme").line("vm").usage_quantity == EXACT.divide(
            D(1), D(672)
        )


class TestValidityWorkedExamples:
    """QuotaManagerImplTest's isQuotaTariffInPeriodToBeApplied cases, with each tariff
    date taken as its day (the quotaTariffCreate API reads a date-only start as 00:00:00
    and end as 23:59:59: https://cloudstack.apache.org/api/apidocs-4.20/apis/quotaTariffCreate.html)."""

    @pytest.mark.parametrize(
        ("record", "valid", "applied"),
        [
            # UsageRecordEndDateIsAfterQuotaTariffStartDate: true
            (("2022-01-20 20:00", "2022-01-21 20:00"), {"from": "2022-01-18"}, True),
            # UsageRecordStartDateIsAfterQuotaTariffEndDate: false
            (
                ("2022-01-11 00:00", "2022-01-12 00:00"),
                {"from": "2022-01-08", "until": "2022-01-10"},
                False,
            ),
            # UsageRecordStartDateIsEqualToQuotaTariffEndDate: true
            (
                ("2022-01-18 17:35:12", "2022-01-19 17:35:12"),
                {"from": "2022-01-08", "until": "2022-01-18"},
                True,
            ),
            # UsageRecordStartDateIsBeforeQuotaTariffEndDate...EndDateIsAfterStartDate: true
            (
                ("2022-01-15 00:23:15", "2022-01-16 00:23:15"),
                {"from": "2022-01-08", "until": "2022-01-16"},
                True,
            ),
            # ...UsageRecordEndDateIsBeforeQuotaTariffStartDate: false
            (
                ("2022-01-20 11:44:37", "2022-01-21 11:44:37"),
                {"from": "2022-01-22", "until": "2022-01-28"},
                False,
            ),
            # ...UsageRecordEndDateIsEqualToQuotaTariffStartDate: true
            (
                ("2022-01-20 11:44:37", "2022-01-22 15:06:32"),
                {"from": "2022-01-22", "until": "2022-01-28"},
                True,
            ),
        ],
    )
    def test_quota_manager_cases(self, record, valid, applied):
        january = BillingPeriod(datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 2, 1, tzinfo=UTC))
        start, end = (datetime.fromisoformat(t).replace(tzinfo=UTC) for t in record)
        usage = UsageRecord(
            account="acme", metric="running_vm_hours", quantity=D(24), start=start, end=end
        )
        plan = _plan([{"name": "tariff", "unit_price": "744", "valid": valid}])
        bill = _engines(plan, [usage], january).bill("acme")
        assert (_line(bill, "tariff") is not None) == applied

    def test_a_record_ending_at_the_window_s_first_instant_is_not_in_it(self):
        """The one case that differs: CloudStack applies a tariff to a record whose end
        equals the tariff's start (UsageRecordEndDateIsEqualToQuotaTariffStartDate, with
        times 2022-01-12 00:00:00). CloudStack's records end at their last second
        (23:59:59), so that never happens to them; a cloudrate record ending at midnight
        used nothing of the next day, and a window from that day does not take it."""
        start = datetime(2022, 1, 11, tzinfo=UTC)
        usage = UsageRecord(
            account="acme",
            metric="running_vm_hours",
            quantity=D(24),
            start=start,
            end=start + 24 * HOUR,
        )
        january = BillingPeriod(datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 2, 1, tzinfo=UTC))
        plan = _plan([{"name": "tariff", "unit_price": "1", "valid": {"from": "2022-01-12"}}])
        result = _engines(plan, [usage], january)
        assert _line(result.bill("acme"), "tariff") is None
        assert [u.reason for u in result.unpriced] == ["no charge's 'where' selects these records"]

    def test_tariffs_of_one_type_add_up(self):
        """aggregateQuotaTariffsValuesTestTariffsAreInPeriodToBeAppliedReturnAggregation:
        three tariffs of 10, the second outside its period, add up to 20. A VM running all
        October (744 hours, one month) costs 10 + 10 = 20 EUR."""
        plan = _plan(
            [
                {"name": "t1", "unit_price": "10", "valid": {"from": "2026-01-01"}},
                {
                    "name": "t2",
                    "unit_price": "10",
                    "valid": {"from": "2026-01-01", "until": "2026-09-30"},
                },
                {
                    "name": "t3",
                    "unit_price": "10",
                    "valid": {"from": "2026-10-01", "until": "2026-10-31"},
                },
            ],
            month_hours="actual",
        )
        days = [_vm(UTC_OCTOBER.start + timedelta(days=d), 24) for d in range(31)]
        bill = _engines(plan, days, UTC_OCTOBER).bill("acme")
        assert _line(bill, "t2") is None
        assert bill.total.amount == D("20.00")

    def test_a_price_change_within_the_month(self):
        """A tariff of 72 until October 15 and of 93 from October 16, on daily records:
        15 days x 24 h x 72/744 + 16 days x 24 h x 93/744 = 34.8387... + 48 = 82.84 EUR."""
        plan = _plan(
            [
                {"name": "old", "unit_price": "72", "valid": {"until": "2026-10-15"}},
                {"name": "new", "unit_price": "93", "valid": {"from": "2026-10-16"}},
            ],
            month_hours="actual",
        )
        days = [_vm(UTC_OCTOBER.start + timedelta(days=d), 24) for d in range(31)]
        bill = _engines(plan, days, UTC_OCTOBER).bill("acme")
        assert bill.line("old").records == 15
        assert bill.line("new").records == 16
        assert bill.line("new").amount.amount == 48
        assert bill.total.amount == D("82.84")

    def test_activation_rule_on_the_cpu_count(self):
        """Two RUNNING_VM tariffs: 20 a month for VMs of more than 2 CPUs
        (``value.computingResources.cpuNumber > 2``, a boolean rule: the tariff applies when
        true), 10 a month for the others. 744 hours of a 4-CPU VM and 372 hours of a 1-CPU
        VM: 20 + 10 x 372/744 = 25 EUR."""
        plan = _plan(
            [
                {"name": "large", "unit_price": "20", "where": {"cpunumber": {"gt": 2}}},
                {"name": "small", "unit_price": "10", "where": {"cpunumber": {"lte": 2}}},
            ],
            month_hours="actual",
        )
        records = [
            _vm(UTC_OCTOBER.start, 744, cpunumber="4"),
            _vm(UTC_OCTOBER.start, 372, cpunumber="1"),
        ]
        bill = _engines(plan, records, UTC_OCTOBER).bill("acme")
        assert (bill.line("large").amount.amount, bill.line("small").amount.amount) == (20, 5)


# --- properties ----------------------------------------------------------------------------


def _covers(start: datetime, end: datetime, low: datetime | None, high: datetime | None) -> bool:
    """A record is in a window when it uses some of it: a record with a length shares
    more than an instant with it, a record of no length lies in it."""
    low = low or datetime.min.replace(tzinfo=UTC)
    high = high or datetime.max.replace(tzinfo=UTC)
    if start == end:
        return low <= start < high
    return max(start, low) < min(end, high)


ZONES = st.sampled_from(("UTC", "Europe/Berlin", "Asia/Kolkata"))
#: Months around the edges that matter: February (leap or not), 30- and 31-day months.
MONTHS = st.sampled_from(((2026, 1), (2026, 2), (2026, 4), (2028, 2), (2026, 12)))


@st.composite
def setups(draw: st.DrawFn) -> tuple[Plan, list[UsageRecord], BillingPeriod]:
    """A period of one to three calendar months, a plan of windowed, compared and plain
    charges on one metric, and records on and around every edge in any order."""
    tz_name = draw(ZONES)
    tz = ZoneInfo(tz_name)
    year, month = draw(MONTHS)
    months = draw(st.integers(min_value=1, max_value=3))
    first = datetime(year, month, 1, tzinfo=tz)
    last_month = year * 12 + month - 1 + months
    end = datetime(last_month // 12, last_month % 12 + 1, 1, tzinfo=tz)
    period = BillingPeriod(first, end, tz_name)
    days = (end.date() - first.date()).days
    edges = [first.date() + timedelta(days=n) for n in (0, 1, days // 2, days - 1, days)]
    near = st.one_of(
        st.sampled_from(edges),
        st.integers(min_value=-3, max_value=days + 3).map(
            lambda n: first.date() + timedelta(days=n)
        ),
    )
    charges = []
    for i in range(draw(st.integers(min_value=1, max_value=3))):
        charge: dict[str, Any] = {
            "name": f"t{i}",
            "unit_price": draw(st.sampled_from(("72", "0.5", "100"))),
        }
        a, b = sorted((draw(near), draw(near)))
        shape = draw(st.sampled_from(("both", "from", "until", "none")))
        if shape != "none":
            charge["valid"] = {
                k: v.isoformat() for k, v in (("from", a), ("until", b)) if shape in ("both", k)
            }
        if draw(st.booleans()):  # a comparison, or a plain match (rate() memoises those)
            charge["where"] = draw(
                st.sampled_from(
                    (
                        {"cpunumber": {draw(st.sampled_from(("gt", "gte", "lt", "lte"))): 2}},
                        {"cpunumber": ["1", "4"]},
                    )
                )
            )
        charges.append(charge)
    month_hours = draw(st.sampled_from(("period", "fixed_720", "actual")))
    plan = _plan(charges, month_hours=month_hours, timezone=tz_name)
    instants = [datetime.combine(d, datetime.min.time(), tzinfo=tz) for d in edges]
    records = []
    for i in range(draw(st.integers(min_value=1, max_value=12))):
        base = draw(st.sampled_from(instants))
        shift = draw(st.sampled_from((timedelta(0), -HOUR, HOUR, timedelta(hours=23))))
        start = max(period.start, min(base + shift, period.end))
        length = draw(st.sampled_from((timedelta(0), HOUR, timedelta(hours=25))))
        stop = min(start + length, period.end)
        if start >= period.end:
            start = stop = period.end - HOUR
        records.append(
            UsageRecord(
                account=draw(st.sampled_from(("acme", "globex"))),
                metric="running_vm_hours",
                quantity=D(draw(st.integers(min_value=0, max_value=10**6))) / 1000,
                start=start,
                end=stop,
                record_id=f"r{i}",
                attributes={"cpunumber": draw(st.sampled_from(("1", "2", "4", "x")))},
            )
        )
    return plan, draw(st.permutations(records)), period


@settings(max_examples=150, deadline=None)
@given(setups())
def test_both_engines_select_and_convert_as_the_windows_and_months_say(setup):
    plan, records, period = setup
    result = _engines(plan, records, period)
    tz = ZoneInfo(plan.timezone)
    metric = plan.metric("running_vm_hours")
    for account in {r.account for r in records}:
        lines = {line.charge: line for line in result.bill(account).lines}
        for index, charge in enumerate(plan.charges):
            low, high = charge.valid.bounds(tz) if charge.valid else (None, None)
            mine = [
                r
                for r in records
                if r.account == account
                and _covers(r.start, r.end, low, high)
                and charge.where.matches(r.attributes)
            ]
            line = lines.get(charge.name)
            assert (line.records if line else 0) == len(mine), (index, charge)
            if not mine:
                continue
            if metric.month_hours == "actual":
                want = sum(
                    Fraction(r.quantity) / (calendar.monthrange(*_local_month(r.start, tz))[1] * 24)
                    for r in mine
                )
            elif metric.month_hours == "fixed_720":
                want = sum(Fraction(r.quantity) for r in mine) / 720
            else:
                want = sum(Fraction(r.quantity) for r in mine) * 3600 / Fraction(period.seconds)
            assert abs(Fraction(line.usage_quantity) - want) <= Fraction(1, 10**50)


def _local_month(instant: datetime, tz: ZoneInfo) -> tuple[int, int]:
    local = instant.astimezone(tz)
    return local.year, local.month


@settings(max_examples=60, deadline=None)
@given(setups(), st.randoms())
def test_the_result_does_not_depend_on_record_order_or_partitioning(setup, rnd):
    plan, records, period = setup
    whole = cloudrate.rate(plan, records, period).to_json()
    shuffled = list(records)
    rnd.shuffle(shuffled)
    table = to_table(shuffled)
    cut = rnd.randint(0, len(shuffled))
    parts = [
        partial_aggregate(plan, table.slice(0, cut), period),
        partial_aggregate(plan, table.slice(cut), period),
    ]
    assert finish(plan, combine_partials(parts), period).to_json() == whole
    assert cloudrate.rate(plan, shuffled, period).to_json() == whole


def test_windows_touching_the_period_edges():
    """A window ending the day before the period starts takes none of its records; one
    starting on the period's last day takes the records of that day only; a zero-length
    record at the window's end instant belongs to the next day."""
    plan = _plan(
        [
            {"name": "before", "unit_price": "1", "valid": {"until": "2026-09-30"}},
            {"name": "last_day", "unit_price": "1", "valid": {"from": "2026-10-31"}},
            {
                "name": "first_day",
                "unit_price": "1",
                "valid": {"from": "2026-10-01", "until": "2026-10-01"},
            },
        ]
    )
    day = timedelta(days=1)
    records = [
        _vm(UTC_OCTOBER.start, 24),
        _vm(UTC_OCTOBER.end - day, 24),
        UsageRecord(
            account="acme",
            metric="running_vm_hours",
            quantity=D(0),
            start=UTC_OCTOBER.start + day,
            end=UTC_OCTOBER.start + day,
        ),
    ]
    bill = _engines(plan, records, UTC_OCTOBER).bill("acme")
    assert _line(bill, "before") is None
    assert bill.line("last_day").records == 1
    assert bill.line("first_day").records == 1


def test_a_record_across_the_window_s_end_is_priced_whole():
    """As CloudStack prices a usage record whole by the tariffs it touches: a record from
    October 15 12:00 to October 16 12:00 (24 h) is priced by both a tariff until October
    15 and one from October 16."""
    plan = _plan(
        [
            {"name": "old", "unit_price": "744", "valid": {"until": "2026-10-15"}},
            {"name": "new", "unit_price": "744", "valid": {"from": "2026-10-16"}},
        ]
    )
    record = _vm(datetime(2026, 10, 15, 12, tzinfo=UTC), 24)
    bill = _engines(plan, [record], UTC_OCTOBER).bill("acme")
    assert bill.line("old").amount.amount == bill.line("new").amount.amount == 24


def test_a_monthly_metric_with_many_records_stays_exact():
    """Month sums are added apart and divided once: 93 records of 0.333333333333 hours
    in October sum to exactly 30.999999999969 hours, 30.999999999969/744 of a month."""
    plan = _plan([{"name": "vm", "unit_price": "24"}], month_hours="actual")
    records = [
        UsageRecord(
            account="acme",
            metric="running_vm_hours",
            quantity=D("0.333333333333"),
            start=UTC_OCTOBER.start + timedelta(hours=i),
            end=UTC_OCTOBER.start + timedelta(hours=i + 1),
        )
        for i in range(93)
    ]
    line = _engines(plan, records, UTC_OCTOBER).bill("acme").line("vm")
    assert line.usage_quantity == EXACT.divide(D("30.999999999969"), D(744))
