"""``profile: killbill`` reproduces Kill Bill's published invoices without any setting.

Source: killbill/killbill, beatrix/src/test/java/org/killbill/billing/beatrix/integration/
TestInvoiceFixedProration.java (fixed.days = 30, plan ``pistol-monthly-notrial``, 19.95 a
month): testInvoiceLeadingProration1 (8/30 -> 5.32), testInvoiceLeadingProration2
(22/30 -> 14.63), testInvoiceTrailingProration1/2 (19.95 less the credit). The rules
themselves, and their worked factors, are tested in tests/plans/test_proration.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

import cloudrate
from cloudrate.period import BillingPeriod

PROFILED = cloudrate.load_plan(
    {
        "name": "Pistol",
        "currency": "USD",
        "profile": "killbill",
        "charges": [
            {"name": "pistol", "metric": "subscription", "model": "flat", "price": "19.95"}
        ],
    }
)


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def pistol(start: datetime, end: datetime, period: BillingPeriod, plan=PROFILED) -> Decimal:
    record = cloudrate.UsageRecord(
        account="acme", metric="subscription", quantity=1, start=start, end=end, resource_id="s"
    )
    return cloudrate.rate(plan, [record], period).bill("acme").line("pistol").rounded.amount


@pytest.mark.parametrize(
    ("start", "end", "period", "invoiced"),
    [
        # leading proration 1: subscribed 15 May, BCD 23: 8 days of 30
        (
            utc(2023, 5, 15),
            utc(2023, 5, 23),
            BillingPeriod(utc(2023, 4, 23), utc(2023, 5, 23)),
            "5.32",
        ),
        # leading proration 2: subscribed 23 May, BCD 15: 22 days of 30
        (
            utc(2023, 5, 23),
            utc(2023, 6, 15),
            BillingPeriod(utc(2023, 5, 15), utc(2023, 6, 15)),
            "14.63",
        ),
        # trailing proration 1: BCD 23, cancelled 15 May: 19.95 - 5.32
        (
            utc(2023, 4, 23),
            utc(2023, 5, 15),
            BillingPeriod(utc(2023, 4, 23), utc(2023, 5, 23)),
            "14.63",
        ),
        # trailing proration 2: BCD 15, cancelled 23 May: 19.95 - 14.63
        (
            utc(2023, 5, 15),
            utc(2023, 5, 23),
            BillingPeriod(utc(2023, 5, 15), utc(2023, 6, 15)),
            "5.32",
        ),
    ],
)
def test_kill_bills_invoices_with_the_profile_alone(start, end, period, invoiced):
    assert pistol(start, end, period) == Decimal(invoiced)


def test_without_the_profile_the_days_of_the_period_count():
    """Kill Bill's default (fixed.days = 0) is cloudrate's default rule: 8 days of May's 31,
    8/31 x 19.95 = 5.148... -> 5.15, where the profile gives 8/30 -> 5.32."""
    plain = cloudrate.load_plan(
        {
            **cloudrate.dump_plan(PROFILED),
            "charges": [
                {"name": "pistol", "metric": "subscription", "model": "flat", "price": "19.95"}
            ],
        }
    )
    may = BillingPeriod.month(2023, 5)
    assert pistol(utc(2023, 5, 15), utc(2023, 5, 23), may, plain) == Decimal("5.15")
    assert pistol(utc(2023, 5, 15), utc(2023, 5, 23), may) == Decimal("5.32")


def test_iso_4217_digits_as_joda_money_has_them():
    """Kill Bill rounds with Joda-Money's CurrencyUnit, ISO 4217 data: IQD has 3 digits
    there (CLDR, cloudrate's default, has 0)."""
    iqd = cloudrate.load_plan(
        {
            **cloudrate.dump_plan(PROFILED),
            "currency": "IQD",
            "charges": [
                {"name": "pistol", "metric": "subscription", "model": "flat", "price": "1000.1235"}
            ],
        }
    )
    month = BillingPeriod.month(2023, 5)
    assert pistol(month.start, month.end, month, iqd) == Decimal("1000.124")
