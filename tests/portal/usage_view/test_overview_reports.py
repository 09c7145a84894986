"""Billing overview (daily usage, notification, status counts) and usage reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from moneyed import Money

import cloudrate
from cloudrate import UsageRecord
from cloudrate.portal.usage_view import (
    DateRange,
    InvoiceSummary,
    UsageViewError,
    billing_overview,
    neutralise,
    report_csv,
    report_xlsx,
    status_counts,
    usage_view,
)
from cloudrate.portal.usage_view._export import to_csv

PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
USAGE = cloudrate.read_usage(cloudrate.sample_usage_path())
TZ = "Europe/Berlin"


def inv(number: str, total: str, due: date, paid: bool = False, cur: str = "EUR"):
    return InvoiceSummary(number=number, total=Money(total, cur), due_date=due, paid=paid)


class TestStatus:
    def test_due_date_itself_is_not_overdue(self):
        i = inv("A", "10.00", date(2026, 10, 14))
        assert [i.status(date(2026, 10, d)) for d in (13, 14, 15)] == [
            "unpaid",
            "unpaid",
            "overdue",
        ]
        assert inv("B", "1.00", date(2026, 1, 1), paid=True).status(date(2027, 1, 1)) == "paid"

    def test_counts(self):
        today = date(2026, 10, 20)
        invoices = [
            inv("A", "1.00", date(2026, 10, 1), paid=True),
            inv("B", "1.00", date(2026, 10, 1)),
            inv("C", "1.00", date(2026, 10, 30)),
            inv("D", "1.00", date(2026, 10, 2)),
        ]
        assert status_counts(invoices, today) == {"paid": 1, "unpaid": 1, "overdue": 2}


class TestOverview:
    def test_daily_usage_adds_up_to_the_month(self):
        """The graph's days add up to the month-to-date cards (summed cards), and storage
        per day averages to the month's storage."""
        ov = billing_overview(PLAN, USAGE, account="acme", today=date(2026, 10, 31), timezone=TZ)
        assert len(ov.daily) == 31
        cards = {c.key: c for c in ov.consumed}
        for key in ("cpu", "memory", "bandwidth"):
            assert sum((d.quantity(key) for d in ov.daily), Decimal(0)) == cards[key].quantity
        month = cloudrate.rate(PLAN, USAGE).bill("acme")
        assert ov.notification.total_usage == month.total  # whole month: the bill
        assert dict(ov.resources)["vm_running"] == 3

    def test_now_in_another_timezone(self):
        """At 23:30 UTC on Oct 9 it is already Oct 10 in Berlin."""
        ov = billing_overview(
            PLAN, USAGE, account="acme", timezone=TZ, now=datetime(2026, 10, 9, 23, 30, tzinfo=UTC)
        )
        assert ov.daily[-1].day == date(2026, 10, 10)

    def test_notification_points_at_the_oldest_unpaid(self):
        invoices = [
            inv("INV-3", "30.00", date(2026, 11, 14)),
            inv("INV-2", "20.00", date(2026, 10, 14)),
            inv("INV-1", "10.00", date(2026, 9, 14), paid=True),
        ]
        ov = billing_overview(
            PLAN, USAGE, account="acme", today=date(2026, 10, 20), timezone=TZ, invoices=invoices
        )
        n = ov.notification
        assert (n.invoice, n.due_date, n.status) == ("INV-2", date(2026, 10, 14), "overdue")
        assert n.outstanding == Money("50.00", "EUR")
        assert ov.counts == {"paid": 1, "unpaid": 1, "overdue": 1}

    def test_all_paid_shows_the_latest(self):
        invoices = [
            inv("INV-1", "10.00", date(2026, 9, 14), paid=True),
            inv("INV-2", "20.00", date(2026, 10, 14), paid=True),
        ]
        n = billing_overview(
            PLAN, USAGE, account="acme", today=date(2026, 10, 20), timezone=TZ, invoices=invoices
        ).notification
        assert (n.invoice, n.status, n.outstanding.amount) == ("INV-2", "paid", 0)

    def test_no_invoices(self):
        n = billing_overview(
            PLAN, [], account="nobody", today=date(2026, 10, 2), timezone=TZ
        ).notification
        assert (n.invoice, n.due_date, n.status) == (None, None, None)

    def test_invoice_in_another_currency_is_refused(self):
        with pytest.raises(UsageViewError, match=r"INV-9 is in USD.*bills in EUR"):
            billing_overview(
                PLAN,
                USAGE,
                account="acme",
                today=date(2026, 10, 2),
                timezone=TZ,
                invoices=[inv("INV-9", "1.00", date(2026, 10, 1), cur="USD")],
            )


@pytest.fixture(name="view")
def _view():
    return usage_view(
        PLAN,
        USAGE,
        account="acme",
        date_range=DateRange.custom(date(2026, 10, 25), date(2026, 10, 31), TZ),
    )


class TestReports:
    def test_summary_total_row_is_the_sum(self, view):
        rows = list(csv.reader(io.StringIO(report_csv(view))))
        assert rows[0][0] == "Service" and rows[-1][0] == "Total Estimated Bill"
        costs = [Decimal(r[5]) for r in rows[1:-1]]
        assert sum(costs, Decimal(0)) == Decimal(rows[-1][5]) == view.total.amount

    def test_detail_has_every_record_in_the_range(self, view):
        rows = list(csv.reader(io.StringIO(report_csv(view, "detail"))))
        inside = [
            r
            for r in USAGE
            if r.account == "acme"
            and date(2026, 10, 25)
            <= r.start.astimezone(view.date_range.start.tzinfo).date()
            <= date(2026, 10, 31)
        ]
        assert len(rows) - 1 == len(inside)
        assert (
            sum((Decimal(r[7]) for r in rows[1:] if r[4] == "vcpu_hours"), Decimal(0))
            == view.card("cpu").quantity
        )

    def test_unknown_kind(self, view):
        with pytest.raises(UsageViewError, match="'summary', 'resources' or 'detail'"):
            report_csv(view, "weekly")

    def test_formula_injection_is_neutralised(self):
        """A resource id written by a customer cannot become a formula in CSV or XLSX."""
        evil = '=HYPERLINK("http://evil","x")'
        record = UsageRecord(
            account="acme",
            metric="vcpu_hours",
            quantity="1",
            start=datetime(2026, 10, 2, tzinfo=UTC),
            end=datetime(2026, 10, 2, 1, tzinfo=UTC),
            resource_id=evil,
            service="@SUM(A1)",
        )
        v = usage_view(
            PLAN,
            [record],
            account="acme",
            date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 3), "UTC"),
        )
        rows = list(csv.reader(io.StringIO(report_csv(v, "detail"))))
        assert rows[1][5] == "'" + evil and rows[1][6] == "'@SUM(A1)"
        openpyxl = pytest.importorskip("openpyxl")
        book = openpyxl.load_workbook(io.BytesIO(report_xlsx(v)))
        cell = book["Detail"]["F2"]
        assert cell.value == "'" + evil and cell.data_type == "s"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("=1+2", "'=1+2"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@A1", "'@A1"),
            ("\tx", "'\tx"),
            ("-1.25", "-1.25"),
            ("+3", "+3"),
            ("plain", "plain"),
            ("", ""),
        ],
    )
    def test_neutralise(self, text, expected):
        assert neutralise(text) == expected

    def test_csv_numbers_are_plain(self):
        assert to_csv(["q"], [[Decimal("6.7E+2")]]).splitlines()[1] == "670"

    def test_xlsx_is_deterministic_and_readable(self, view):
        openpyxl = pytest.importorskip("openpyxl")
        data = report_xlsx(view)
        assert data == report_xlsx(view)
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["Summary", "Resources", "Detail"]
        summary = list(book["Summary"].iter_rows(values_only=True))
        assert summary[-1][0] == "Total Estimated Bill"
        assert Decimal(str(summary[-1][5])) == view.total.amount
