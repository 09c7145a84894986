"""Assembly of rated bills into draft invoices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import BillingPeriod, RatingError, UsageRecord, load_plan, rate
from cloudrate.exceptions import InvoiceError
from cloudrate.fx import ExchangeRate
from cloudrate.invoice import Customer, Invoice, TaxRate, assemble, assemble_all

from .conftest import PLAN, bill_of


class TestAssemble:
    def test_worked_example_from_rating(self, rated, acme):
        """1441 vCPU-h at 0.0125 = 18.0125 -> 18.01; 50 GB at 0.10 = 5.00; VAT 19% of 23.01
        = 4.3719 -> 4.37; total 27.38."""
        inv = assemble(rated, acme, taxes=TaxRate(percent="19"))
        assert [x.amount for x in inv.lines] == [Money("18.01", "EUR"), Money("5.00", "EUR")]
        assert inv.lines[0].exact_amount == Money("18.0125", "EUR")
        assert inv.lines[0].unit_price == Money("0.0125", "EUR")
        assert inv.lines[0].service == "Compute" and inv.lines[0].unit == "vCPU-hour"
        assert "18.0125" in inv.lines[0].explanation
        assert inv.subtotal == Money("23.01", "EUR")
        assert inv.tax_total == Money("4.37", "EUR")
        assert inv.total == Money("27.38", "EUR")
        assert inv.number is None and inv.state == "draft" and inv.status == "draft"
        assert inv.id == "acme/2026-10"

    def test_adjustment_lines_are_discounts(self, october, acme):
        """Lines a rule added (kind != 'charge') are listed as discounts and reduce the
        subtotal."""
        inv = assemble(bill_of("100.00", "-10.00", kinds=("charge", "discount")), acme, october)
        assert [x.kind for x in inv.discounts] == ["discount"]
        assert inv.discount_total == Money("-10.00", "EUR")
        assert inv.subtotal == Money("90.00", "EUR") and inv.total == Money("90.00", "EUR")

    def test_untaxed_invoice_has_no_tax_lines(self, october, acme):
        """Without taxes the total is the subtotal."""
        inv = assemble(bill_of("1.00"), acme, october)
        assert inv.taxes == () and inv.tax_total == Money("0", "EUR")
        assert inv.total == inv.subtotal

    @given(
        st.lists(st.decimals(min_value=-1000, max_value=10000, places=2), max_size=20),
        st.sampled_from(["total", "line"]),
        st.sampled_from(["0", "7", "19", "20"]),
    )
    def test_total_is_sum_of_rounded_lines_and_taxes(self, amounts, method, percent):
        """Subtotal = sum of the rounded lines; total = subtotal + the rounded tax lines."""
        bill = bill_of(*(str(a) for a in amounts))
        inv = assemble(
            bill,
            Customer(id="acme", name="A"),
            BillingPeriod.month(2026, 10),
            taxes=TaxRate(percent=percent),
            tax_method=method,
        )
        assert inv.subtotal.amount == sum((x.amount.amount for x in inv.lines), Decimal(0))
        assert inv.total.amount == inv.subtotal.amount + sum(
            (t.amount.amount for t in inv.taxes), Decimal(0)
        )
        assert all(t.amount.amount == t.amount.amount.quantize(Decimal("0.01")) for t in inv.taxes)

    def test_empty_period_zero_invoice_or_none(self, october, acme):
        """A bill without lines is a zero invoice by default, or None with empty='none'."""
        bill = bill_of()
        zero = assemble(bill, acme, october)
        assert zero.lines == () and zero.total == Money(0, "EUR")
        assert assemble(bill, acme, october, empty="none") is None
        with pytest.raises(InvoiceError, match="'zero' or 'none'"):
            assemble(bill, acme, october, empty="skip")  # type: ignore[call-overload]

    def test_usage_outside_the_period_is_refused(self, acme, october):
        """Usage outside the invoice period never reaches an invoice: rating refuses it,
        and a result rated for another period cannot be invoiced for this one."""
        plan = load_plan(PLAN)
        late = UsageRecord(
            account="acme",
            metric="vcpu_hours",
            quantity="1",
            start=datetime(2026, 11, 1, tzinfo=UTC),
            end=datetime(2026, 11, 2, tzinfo=UTC),
        )
        with pytest.raises(RatingError, match="outside the period 2026-10"):
            rate(plan, [late], october)
        november = rate(plan, [late], BillingPeriod.month(2026, 11, "UTC"))
        with pytest.raises(InvoiceError, match=r"rated for 2026-11 .* invoice is for 2026-10"):
            assemble(november, acme, october)

    def test_customer_must_be_the_bills_account(self, october):
        """Billing another account's usage to a customer is refused."""
        with pytest.raises(InvoiceError, match="not the bill's account 'acme'"):
            assemble(bill_of("1.00"), Customer(id="globex", name="G"), october)

    @pytest.mark.parametrize("taxes", ["19", 19, Decimal("19")])
    def test_taxes_that_are_not_a_rate_or_rule_are_refused(self, acme, october, taxes):
        """They raised AttributeError from inside assembly."""
        with pytest.raises(InvoiceError, match=r"TaxRate\(percent='19'\)"):
            assemble(bill_of("1.00"), acme, october, taxes=taxes)

    def test_bill_without_period_is_refused(self, acme):
        with pytest.raises(InvoiceError, match="period"):
            assemble(bill_of("1.00"), acme)

    def test_exchange_rate_is_fixed_and_shown(self, october, acme):
        """The rate is kept on the invoice; the converted total is rounded in the quote."""
        fx = ExchangeRate(base="EUR", quote="USD", rate="1.0842", on=datetime(2026, 10, 30).date())
        inv = assemble(bill_of("100.00"), acme, october, exchange_rate=fx)
        assert inv.exchange_rate == fx
        assert inv.converted_total == Money("108.42", "USD")
        assert assemble(bill_of("1.00"), acme, october).converted_total is None
        wrong = ExchangeRate(base="USD", quote="EUR", rate="0.9", on=fx.on)
        with pytest.raises(InvoiceError, match="base is EUR"):
            assemble(bill_of("1.00"), acme, october, exchange_rate=wrong)

    def test_display_decimals_kept_and_checked(self, october, acme):
        """display_decimals is a setting for renderers; amounts stay at settlement precision."""
        inv = assemble(bill_of("1.2345"), acme, october, display_decimals=4)
        assert inv.display_decimals == 4 and inv.total == Money("1.2345", "EUR")
        with pytest.raises(InvoiceError, match="display_decimals"):
            assemble(bill_of("1.00"), acme, october, display_decimals=-1)

    def test_invoice_refuses_sums_that_disagree(self, october, acme):
        """An Invoice whose total is not the sum of its lines cannot be built."""
        inv = assemble(bill_of("1.00", "2.00"), acme, october)
        import attrs

        with pytest.raises(InvoiceError, match="not the sum of its rounded lines"):
            attrs.evolve(inv, subtotal=Money("3.01", "EUR"))
        with pytest.raises(InvoiceError, match="not subtotal \\+ tax_total"):
            attrs.evolve(inv, total=Money("3.01", "EUR"))
        assert isinstance(inv, Invoice)


class TestAssembleAll:
    def test_one_invoice_per_account(self, rated):
        """Every rated account gets an invoice; unknown customers are named by account."""
        invoices = assemble_all(rated, {"acme": Customer(id="acme", name="ACME GmbH")})
        assert [(i.customer.id, i.customer.name) for i in invoices] == [
            ("acme", "ACME GmbH"),
            ("globex", "globex"),
        ]
        assert invoices[1].total == Money("0.13", "EUR")  # 10 x 0.0125 = 0.125 -> 0.13

    def test_empty_option_checked_for_every_account(self, rated):
        """A misspelt option from an untyped caller is refused, not taken as the default."""
        with pytest.raises(InvoiceError, match="'zero' or 'none'"):
            assemble_all(rated, empty="skip")  # type: ignore[arg-type]
        with pytest.raises(InvoiceError, match="tax_method"):
            assemble_all(rated, taxes=TaxRate(percent="19"), tax_method="net")  # type: ignore[arg-type]

    def test_selected_accounts_and_unknown_account(self, rated):
        assert [i.customer.id for i in assemble_all(rated, accounts=["globex"])] == ["globex"]
        with pytest.raises(InvoiceError, match="no rated usage for account"):
            assemble_all(rated, accounts=["nobody"])


class TestCustomer:
    def test_fields_normalised(self):
        c = Customer(id="a", name="N", address="Line 1\nLine 2", country=" de ", locale="en_IN")
        assert c.address == ("Line 1", "Line 2") and c.country == "DE"

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"id": "", "name": "N"}, "customer id"),
            ({"id": "a", "name": " "}, "customer name"),
            ({"id": "a", "name": "N", "locale": "xx_YY"}, "not a locale Babel knows"),
        ],
    )
    def test_bad_customers(self, kwargs, message):
        with pytest.raises(InvoiceError, match=message):
            Customer(**kwargs)
