"""Plain-text bills (``cloudrate.portal.report``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cloudrate
from cloudrate import UsageRecord, load_plan, rate
from cloudrate.portal.report import format_bill, format_result

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def _result(currency="EUR", price="0.0125", quantity="1441"):
    plan = load_plan(
        f"name: P\ncurrency: {currency}\ncharges:\n"
        f"  - {{name: c, description: vCPU, metric: vcpu_hours, model: per_unit, "
        f"unit_price: '{price}', free_units: 1}}\n"
    )
    return rate(
        plan,
        [
            UsageRecord(
                account="acme",
                metric="vcpu_hours",
                quantity=quantity,
                start=T0,
                end=T0 + timedelta(hours=1),
            )
        ],
    )


class TestFormatBill:
    def test_shows_the_billed_amount_not_a_rerounded_one(self):
        """1,440 x 0.0125 = 18.00: the unit price keeps its 4 decimals, amounts their cents."""
        text = format_bill(_result().bill("acme"), _result())
        assert "€0.0125" in text and "€18.00" in text
        assert "1,440 (+1 free)" in text

    def test_half_cent_is_not_rerounded_half_even(self):
        """A line billed 0.13 (half-up of 0.125) prints as 0.13, not Babel's half-even 0.12."""
        result = _result(price="0.125", quantity="2")
        assert result.bill("acme").total.amount == cloudrate.to_decimal("0.13")
        assert "€0.13" in format_bill(result.bill("acme"), result)

    def test_locale(self):
        """de_DE writes a decimal comma and puts the euro sign after the amount."""
        result = _result()
        text = format_bill(result.bill("acme"), result, "de_DE")
        assert "18,00\xa0€" in text and "0,0125\xa0€" in text

    def test_zero_digit_currency(self):
        """JPY amounts have no decimals."""
        result = _result(currency="JPY", price="3", quantity="101")
        assert "¥300" in format_bill(result.bill("acme"), result)


class TestFormatResult:
    def test_lists_unpriced_usage_and_the_grand_total(self):
        """Usage no charge priced is listed after the bills, then the grand total."""
        plan = load_plan(
            "name: P\ncurrency: EUR\ncharges:\n"
            "  - {name: c, metric: m, model: per_unit, unit_price: 1}\n"
        )
        records = [
            UsageRecord(account="a", metric=m, quantity=1, start=T0, end=T0 + timedelta(hours=1))
            for m in ("m", "gpu")
        ]
        text = format_result(rate(plan, records))
        assert "Usage not priced by any charge:\n  gpu: 1 record(s)" in text
        assert text.rstrip().endswith("Grand total for 1 account(s): €1.00")
