"""DataFrames of rating results, invoices and usage views: floats to plot, exact Decimals
kept beside them (``*_exact``), totals equal to the library's own."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings

import cloudrate
from cloudrate.invoice import Customer, TaxRate, assemble
from cloudrate.invoice._frames import invoice_frame, invoices_frame
from cloudrate.portal.usage_view import DateRange, usage_view
from cloudrate.rating._frames import NUMERIC, rating_frame
from cloudrate.testing import plans, usage_for

PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
USAGE = list(cloudrate.read_usage(cloudrate.sample_usage_path()))


class TestRatingFrame:
    @settings(max_examples=30, deadline=None)
    @given(plans().flatmap(lambda p: usage_for(p).map(lambda u: (p, u))))
    def test_exact_columns_hold_the_lines(self, drawn):
        plan, usage = drawn
        result = cloudrate.rate(plan, usage, cloudrate.BillingPeriod.month(2026, 10, "UTC"))
        frame = rating_frame(result)
        assert len(frame) == len(result.lines)
        assert list(frame.amount_exact) == [x.rounded.amount for x in result.lines]
        assert list(frame.quantity_exact) == [x.quantity for x in result.lines]
        for name in NUMERIC:
            assert frame[name].dtype == "float64"
        for account, total in result.totals().items():
            rows = frame[frame.account == account]
            assert sum(rows.amount_exact, Decimal(0)) == total.amount

    def test_empty_result_has_the_columns(self):
        frame = rating_frame(cloudrate.rate(PLAN, [], cloudrate.BillingPeriod.month(2026, 10)))
        assert len(frame) == 0 and "amount_exact" in frame.columns


class TestInvoiceFrames:
    def test_lines_and_summary(self):
        result = cloudrate.rate(PLAN, USAGE)
        invoice = assemble(result, Customer(id="acme", name="ACME"), taxes=TaxRate(percent="19"))
        lines = invoice_frame(invoice)
        assert sum(lines.amount_exact) == invoice.subtotal.amount
        assert lines.amount.dtype == "float64"
        summary = invoices_frame([invoice])
        assert summary.total_exact[0] == invoice.total.amount
        assert float(summary.total[0]) == float(invoice.total.amount)


class TestUsageViewFrame:
    def test_tables(self):
        view = usage_view(
            PLAN,
            USAGE,
            account="acme",
            date_range=DateRange.last_month(today=date(2026, 11, 5), timezone="Europe/Berlin"),
        )
        services = view.to_pandas()
        assert sum(services.cost_exact) == view.total.amount
        cards = view.to_pandas("cards")
        assert list(cards.key) == [c.key for c in view.cards]
        assert list(cards.quantity_exact) == [c.quantity for c in view.cards]
        resources = view.to_pandas("resources")
        assert sum(resources.cost_exact) == sum(r.cost.amount for r in view.resources)
