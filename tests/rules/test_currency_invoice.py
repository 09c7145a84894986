"""A currency-converted bill on its invoice: the rate used is noted, every converted line
explains its conversion."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from moneyed import Money

import cloudrate
from cloudrate.fx import ExchangeRate, FixedRates
from cloudrate.invoice import Customer, TaxRate, assemble
from cloudrate.rating import AccountBill, RatedLine
from cloudrate.rules import MultiCurrency, convert_bill

OCTOBER = cloudrate.BillingPeriod.month(2026, 10)
ACME = Customer(id="acme", name="ACME")
USD = ExchangeRate(
    base="EUR", quote="USD", rate="1.0832", on=date(2026, 10, 30), source="ECB reference rate"
)
NOTE = "Amounts converted from EUR at 1.0832 USD/EUR (ECB reference rate, rate of 2026-10-30)"


def bill_of(*exact: str) -> AccountBill:
    """A bill of charge lines with these exact EUR amounts, each rounded half-up."""
    policy = cloudrate.RoundingPolicy()
    lines = [
        RatedLine.adjustment(
            account="acme",
            charge=f"c{i}",
            description=f"Charge {i}",
            amount=Money(value, "EUR"),
            rounded=Money(policy.round(Decimal(value), "EUR"), "EUR"),
            kind="charge",
        )
        for i, value in enumerate(exact)
    ]
    empty = AccountBill(
        account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    )
    return empty.with_lines(lines)


class TestConversionStep:
    def test_each_line_ends_with_its_conversion(self):
        """12.525 EUR (billed 12.53) x 1.0832 = 13.5670800 USD exactly, billed 13.57."""
        converted = convert_bill(bill_of("12.525"), USD)
        (line,) = converted.bill.lines
        assert line.details[-1].label == "converted 12.525 EUR at 1.0832 USD/EUR"
        assert line.details[-1].amount == Money("13.5670800", "USD")
        assert line.explain().splitlines() == [
            "converted 12.525 EUR at 1.0832 USD/EUR: 13.5670800 USD",
            "rounded 13.5670800 to 13.57",
        ]
        assert line.rounded == Money("13.57", "USD")

    def test_the_source_steps_are_kept_before_it(self, result):
        """The sample's vCPU line: 4735 vCPU-hours x 0.0125 = 59.1875 EUR, then x 1.0832 =
        64.11190000 USD, billed 64.11."""
        converted = convert_bill(result.bill("acme"), USD)
        original, line = result.bill("acme").lines[0], converted.bill.lines[0]
        assert line.details[: len(original.details)] == original.details
        assert line.explain().splitlines()[-2:] == [
            "converted 59.1875 EUR at 1.0832 USD/EUR: 64.11190000 USD",
            "rounded 64.11190000 to 64.11",
        ]

    def test_same_currency_has_no_conversion_step(self, result):
        """Multi-currency off: the bill stays in EUR at rate 1, lines unchanged."""
        bill = result.bill("acme")
        same = MultiCurrency(default="EUR").bill_in(
            bill, "USD", FixedRates("EUR", {}), date(2026, 10, 31)
        )
        assert same.bill.lines == bill.lines
        assert not same.converted and same.note() is None

    def test_same_currency_keeps_the_rounding_the_bill_was_rated_with(self):
        """A bill rounded down (0.125 -> 0.12, 0.125 -> 0.12) stays 0.24 at rate 1; it was
        rounded again half up per line, to 0.26."""
        lines = [
            RatedLine.adjustment(
                account="acme", charge=c, description=c, amount=Money("0.125", "EUR"),
                rounded=Money("0.12", "EUR"), kind="charge",
            )
            for c in ("a", "b")
        ]  # fmt: skip
        bill = AccountBill(
            account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
        ).with_lines(lines)
        same = MultiCurrency(default="EUR").bill_in(
            bill, None, FixedRates("EUR", {}), date(2026, 10, 31)
        )
        assert same.bill == bill and same.total == Money("0.24", "EUR")


class TestInvoiceOfAConvertedBill:
    def test_the_rate_is_noted_on_the_invoice(self):
        """Two lines, 12.525 and 7.50 EUR: 13.57 + 8.12 (7.50 x 1.0832 = 8.124) = 21.69 USD."""
        converted = convert_bill(bill_of("12.525", "7.50"), USD)
        invoice = assemble(converted, ACME, OCTOBER)
        assert (invoice.currency, invoice.total) == ("USD", Money("21.69", "USD"))
        assert invoice.notes == (NOTE,)
        assert invoice.lines[0].explanation.splitlines()[0].startswith("converted 12.525 EUR")
        assert invoice.to_dict()["notes"] == [NOTE]
        assert invoice.exchange_rate is None  # that field shows the total in another currency

    def test_the_bill_alone_keeps_the_steps_but_not_the_note(self):
        converted = convert_bill(bill_of("12.525"), USD)
        invoice = assemble(converted.bill, ACME, OCTOBER)
        assert invoice.notes == ()
        assert "at 1.0832 USD/EUR" in invoice.lines[0].explanation

    def test_not_converted_no_note(self):
        same = ExchangeRate(base="EUR", quote="EUR", rate=1, on=date(2026, 10, 31))
        assert assemble(convert_bill(bill_of("12.525"), same), ACME, OCTOBER).notes == ()

    def test_tax_notes_come_first(self):
        converted = convert_bill(bill_of("100.00"), USD)
        tax = TaxRate(percent="0", category="AE", note="Reverse charge")
        invoice = assemble(converted, ACME, OCTOBER, taxes=tax)
        assert invoice.notes == ("Reverse charge", NOTE)

    def test_a_rate_to_show_the_total_in_another_currency_still_works(self):
        """exchange_rate is from the invoice's (converted) currency."""
        back = ExchangeRate(base="USD", quote="EUR", rate="0.9232", on=date(2026, 10, 30))
        invoice = assemble(convert_bill(bill_of("100.00"), USD), ACME, OCTOBER, exchange_rate=back)
        assert invoice.total == Money("108.32", "USD")
        assert invoice.converted_total == Money("100.00", "EUR")  # 108.32 x 0.9232 = 100.0010
        assert invoice.notes[-1].startswith("Amounts converted from EUR at 1.0832 USD/EUR")

    def test_fixed_rates_without_a_date_give_the_day_asked(self, result):
        source = FixedRates("EUR", {"USD": "1.0832"})
        offer = MultiCurrency(enabled=True, default="EUR", currencies=["USD"])
        converted = offer.bill_in(result.bill("acme"), "USD", source, date(2026, 10, 31))
        invoice = assemble(
            converted, ACME, cloudrate.BillingPeriod.month(2026, 10, "Europe/Berlin")
        )
        note = (
            "Amounts converted from EUR at 1.0832 USD/EUR (host-provided rates, rate of 2026-10-31)"
        )
        assert invoice.notes == (note,)

    def test_ecb_rate_and_its_date(self, result):
        """The ECB rate of Friday 30 October 2026, 1.1172, dated on the invoice."""
        pytest.importorskip("currency_converter")
        from cloudrate.fx import EcbRates

        offer = MultiCurrency(enabled=True, default="EUR", currencies=["USD"])
        converted = offer.bill_in(result.bill("acme"), "USD", EcbRates(), date(2026, 10, 30))
        invoice = assemble(
            converted, ACME, cloudrate.BillingPeriod.month(2026, 10, "Europe/Berlin")
        )
        (note,) = invoice.notes
        assert note.startswith("Amounts converted from EUR at 1.1172 USD/EUR (ECB")
        assert note.endswith("rate of 2026-10-30)")

    def test_ecb_rate_past_its_data_names_the_last_published_date(self, result):
        """A few days past the shipped data the last published rate is used: the note
        gives that rate's date, and the source says so."""
        pytest.importorskip("currency_converter")
        from cloudrate.fx import EcbRates

        ecb = EcbRates()
        last = ecb._load().bounds["USD"].last_date
        offer = MultiCurrency(enabled=True, default="EUR", currencies=["USD"])
        converted = offer.bill_in(result.bill("acme"), "USD", ecb, last + timedelta(days=3))
        note = converted.note()
        assert note is not None and f"last rate on or before {last}" in note
        assert note.endswith(f"rate of {last.isoformat()})")
