"""``profile: cloudstack-quota`` prices like CloudStack's quota plugin without other settings.

Sources (apache/cloudstack):
- framework/quota/src/main/java/org/apache/cloudstack/quota/QuotaManagerImpl.java: network
  usage is ``rawUsage.divide(s_gb, 8, RoundingMode.HALF_EVEN)`` GiB (s_gb = 1024^3) per usage
  record, times the tariff;
- pull request 7210 (https://github.com/apache/cloudstack/pull/7210): a monthly tariff is
  divided by the hours of the record's month (days x 24) instead of a fixed 720.
The options themselves are tested in tests/plans/test_quota_options.py and
tests/plans/test_quantity_rounding.py; quota_plan's hourly rounding in
tests/integrations/cloudstack/test_quota_tariffs.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate._money import EXACT
from cloudrate.period import BillingPeriod

GIB = 1024**3


def quota(profile: str | None = "cloudstack-quota", **metric_options: object) -> cloudrate.Plan:
    vm = {"unit": "VM-month", "usage_unit": "VM-hour", **metric_options}
    return cloudrate.load_plan(
        {
            "name": "quota",
            "currency": "EUR",
            "profile": profile,
            "rounding": {"digits": 10},
            "metrics": {"vm": vm, "traffic": {"unit": "GiB", "usage_unit": "byte"}},
            "charges": [
                {"name": "vm", "metric": "vm", "model": "per_unit", "unit_price": "400"},
                {"name": "traffic", "metric": "traffic", "model": "per_unit", "unit_price": "0.1"},
            ],
        }
    )


def records(metric: str, period: BillingPeriod, *quantities: int) -> list[cloudrate.UsageRecord]:
    return [
        cloudrate.UsageRecord(
            account="acme",
            metric=metric,
            quantity=q,
            start=period.start + timedelta(hours=i),
            end=period.start + timedelta(hours=i + 1),
        )
        for i, q in enumerate(quantities)
    ]


def line(plan: cloudrate.Plan, usage: list[cloudrate.UsageRecord], period: BillingPeriod):
    return cloudrate.rate(plan, usage, period).bill("acme").line(usage[0].metric)


def billed(plan: cloudrate.Plan, usage: list[cloudrate.UsageRecord], period: BillingPeriod):
    """The line's amount as billed: rounded half up to 10 places (the plans' policy)."""
    return line(plan, usage, period).rounded.amount


def to_10(value: Fraction) -> Decimal:
    exact = EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return exact.quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP)


class TestBytesToGiB:
    def test_each_record_at_eight_places_half_even(self):
        """1,500,000,000 bytes are 1.396983861923... GiB: 1.39698386 at 8 places; two such
        records are 2.79396772 GiB, not the 2.79396772384... of their exact sum."""
        october = BillingPeriod.month(2026, 10)
        usage = records("traffic", october, 1_500_000_000, 1_500_000_000)
        assert line(quota(), usage, october).quantity == Decimal("2.79396772")
        assert line(quota(None), usage, october).quantity == EXACT.divide(
            Decimal(3_000_000_000), GIB
        )

    @given(st.lists(st.integers(min_value=0, max_value=10**15), min_size=1, max_size=5))
    def test_any_bytes_as_the_plugin_divides_them(self, sizes):
        october = BillingPeriod.month(2026, 10)
        expected = sum(
            (
                (Decimal(b) / Decimal(GIB)).quantize(Decimal("1E-8"), rounding=ROUND_HALF_EVEN)
                for b in sizes
            ),
            Decimal(0),
        )
        assert line(quota(), records("traffic", october, *sizes), october).quantity == expected


class TestMonthHours:
    @pytest.mark.parametrize(("month", "days"), [(2, 28), (4, 30), (10, 31)])
    def test_a_month_is_the_days_of_the_records_month(self, month, days):
        """10 hours at 400 a month: 400 x 10 / (days x 24), for any month."""
        period = BillingPeriod.month(2026, month)
        expected = Fraction(400 * 10, days * 24)
        assert billed(quota(), records("vm", period, 10), period) == to_10(expected)

    def test_fixed_720_overrides_the_profile(self):
        """QuotaManagerImplTest: 10 hours at 400 with 720-hour months, 5.5555... (the
        plugin's hourly cost rounds it to 5.5555556; cloudrate keeps it exact)."""
        october = BillingPeriod.month(2026, 10)
        plan = quota(month_hours="fixed_720")
        assert billed(plan, records("vm", october, 10), october) == to_10(Fraction(4000, 720))

    def test_without_the_profile_a_month_is_the_billing_period(self):
        """Over a period of two weeks, a month is the period without the profile, the
        record's calendar month with it."""
        fortnight = BillingPeriod.parse("2026-10-01..2026-10-14")
        usage = records("vm", fortnight, 10)
        assert billed(quota(), usage, fortnight) == to_10(Fraction(4000, 744))
        assert billed(quota(None), usage, fortnight) == to_10(Fraction(4000, 14 * 24))


def test_the_profile_leaves_metrics_it_has_no_rule_for():
    plan = cloudrate.load_plan(
        {
            "name": "q",
            "currency": "EUR",
            "profile": "cloudstack-quota",
            "metrics": {
                "peak": {"unit": "VM-month", "usage_unit": "VM-hour", "aggregation": "max"},
                "ips": {"unit": "IP", "aggregation": "unique"},
                "disk": {"unit": "GiB-month", "usage_unit": "byte-hour"},
            },
            "charges": [
                {"name": n, "metric": n, "model": "per_unit", "unit_price": "1"}
                for n in ("peak", "ips", "disk")
            ],
        }
    )
    assert plan.metrics["peak"].month_hours == "period"
    assert plan.metrics["ips"].month_hours == "period" and plan.metrics["ips"].rounding is None
    assert plan.metrics["disk"].month_hours == "actual"  # GiB-hours priced per GiB-month
    assert plan.metrics["disk"].rounding is None  # the plugin rounds the size, not GiB-hours
