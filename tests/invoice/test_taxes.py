"""Taxes: rates by customer and region, reverse charge, per line or per rate."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import RoundingPolicy
from cloudrate.exceptions import FloatNotAllowedError, InvoiceError
from cloudrate.invoice import (
    REVERSE_CHARGE,
    Customer,
    FlatTax,
    InvoiceLine,
    RegionalTax,
    TaxLine,
    TaxRate,
    TaxRule,
    apply_taxes,
    assemble,
)

from .conftest import bill_of

VAT = RegionalTax(
    countries={"DE": TaxRate(percent="19"), "fr": TaxRate(percent="20")},
    customers={"gov": TaxRate(name="VAT", percent="0", category="E", note="Exempt.")},
    seller_country="DE",
    reverse_charge=True,
)


def _customer(cid="acme", country="DE", tax_id=None):
    return Customer(id=cid, name="X", country=country, tax_id=tax_id)


class TestRates:
    def test_rate_label_and_range(self):
        assert TaxRate(percent="7.5").label == "VAT 7.5%"
        with pytest.raises(InvoiceError, match="between 0 and 100"):
            TaxRate(percent="119")
        with pytest.raises(FloatNotAllowedError):
            TaxRate(percent=19.0)

    def test_rules_are_tax_rules(self):
        assert isinstance(VAT, TaxRule) and isinstance(FlatTax(TaxRate(percent="1")), TaxRule)

    @pytest.mark.parametrize(
        ("customer", "percent", "category"),
        [
            (_customer(country="DE"), "19", "S"),
            (_customer(country="FR"), "20", "S"),
            (_customer(country="DE", tax_id="DE1"), "19", "S"),  # domestic B2B: normal VAT
            (_customer(country="FR", tax_id="FR1"), "0", "AE"),  # intra-EU B2B: reverse charge
            (_customer(cid="gov", country="DE"), "0", "E"),  # per-customer rate wins
        ],
    )
    def test_rate_by_customer_then_country(self, customer, percent, category):
        rate = VAT.rate_for(customer, None)
        assert rate.percent == Decimal(percent) and rate.category == category

    @pytest.mark.parametrize(
        ("seller", "customer", "category"),
        [
            ("de", _customer(country="FR", tax_id="FR1"), "AE"),  # seller country in any case
            ("DE", _customer(country="DE", tax_id="DE1"), "S"),  # same country: domestic VAT
            ("CH", _customer(country="FR", tax_id="FR1"), "S"),  # seller outside the EU
            ("DE", _customer(country="FR"), "S"),  # no VAT ID: a consumer
        ],
    )
    def test_reverse_charge_needs_two_member_states_and_a_vat_id(self, seller, customer, category):
        """Reverse charge applies only between two different EU member states, to a
        customer with a VAT ID."""
        rule = RegionalTax(
            countries={"DE": TaxRate(percent="19"), "FR": TaxRate(percent="20")},
            seller_country=seller,
            reverse_charge=True,
        )
        assert rule.rate_for(customer, None).category == category

    def test_reverse_charge_off(self):
        rule = RegionalTax(countries={"FR": TaxRate(percent="20")}, seller_country="DE")
        assert rule.rate_for(_customer(country="FR", tax_id="FR1"), None).percent == 20

    def test_unknown_country_without_default(self):
        with pytest.raises(InvoiceError, match=r"no tax rate for country 'US'.*DE, FR"):
            VAT.rate_for(_customer(country="US"), None)
        assert (
            RegionalTax(default=TaxRate(percent="0", category="O"))
            .rate_for(_customer(country="US"), None)
            .category
            == "O"
        )


class TestTaxOnInvoice:
    def test_reverse_charge_note_and_zero_tax_line(self, october):
        """A French business customer of a German seller: VAT 0% AE line and the note."""
        cust = Customer(id="acme", name="Client SARL", country="FR", tax_id="FR40303265045")
        inv = assemble(bill_of("100.00"), cust, october, taxes=VAT)
        assert [(t.rate.category, t.amount) for t in inv.taxes] == [("AE", Money("0", "EUR"))]
        assert inv.notes == (REVERSE_CHARGE.note,)
        assert inv.total == Money("100.00", "EUR")

    def test_total_method_rounds_once_per_rate(self, october, acme):
        """Three lines of 0.03 at 19%: per rate 0.09 x 19% = 0.0171 -> 0.02;
        per line 3 x round(0.0057) = 0.03."""
        bill = bill_of("0.03", "0.03", "0.03")
        total = assemble(bill, acme, october, taxes=TaxRate(percent="19"), tax_method="total")
        line = assemble(bill, acme, october, taxes=TaxRate(percent="19"), tax_method="line")
        assert total.tax_total == Money("0.02", "EUR") and total.lines[0].tax is None
        assert line.tax_total == Money("0.03", "EUR")
        assert [x.tax for x in line.lines] == [Money("0.01", "EUR")] * 3
        assert total.taxes[0].exact_amount == Money("0.0171", "EUR")

    def test_one_tax_line_per_rate(self, october, acme):
        """Lines at two rates give two tax lines, each on its own base."""

        class ByLine:
            def rate_for(self, customer, line):
                return TaxRate(percent="7") if line.charge == "c1" else TaxRate(percent="19")

        inv = assemble(bill_of("100.00", "10.00", "50.00"), acme, october, taxes=ByLine())
        assert [(t.rate.percent, t.base.amount, t.amount.amount) for t in inv.taxes] == [
            (Decimal(19), Decimal("150.00"), Decimal("28.50")),
            (Decimal(7), Decimal("10.00"), Decimal("0.70")),
        ]

    def test_tax_rounding_follows_the_policy(self, october, acme):
        """0.125 of tax: half_up 0.13, half_even 0.12."""
        bill = bill_of("1.25")
        rate = TaxRate(percent="10")
        assert assemble(bill, acme, october, taxes=rate).tax_total == Money("0.13", "EUR")
        assert assemble(
            bill, acme, october, taxes=rate, rounding=RoundingPolicy(mode="half_even")
        ).tax_total == Money("0.12", "EUR")

    def test_unknown_method(self, october, acme):
        with pytest.raises(InvoiceError, match="tax_method"):
            assemble(bill_of("1.00"), acme, october, taxes=TaxRate(percent="1"), tax_method="x")

    @given(st.lists(st.decimals(min_value=0, max_value=1000, places=2), min_size=1, max_size=30))
    def test_methods_differ_by_at_most_half_a_cent_per_line(self, amounts):
        """Per-line and per-rate tax differ by at most n x 0.005 (n lines)."""
        from cloudrate import BillingPeriod

        bill, cust = bill_of(*map(str, amounts)), Customer(id="acme", name="A")
        p, rate = BillingPeriod.month(2026, 10), TaxRate(percent="19")
        a = assemble(bill, cust, p, taxes=rate, tax_method="line").tax_total.amount
        b = assemble(bill, cust, p, taxes=rate, tax_method="total").tax_total.amount
        assert abs(a - b) <= Decimal("0.005") * len(amounts) + Decimal("0.005")


def _reference_taxes(lines, method, rounding, currency):
    """The tax computation as first written (one loop), to check the split version against."""
    import decimal

    import attrs

    from cloudrate._money import EXACT

    with decimal.localcontext(EXACT):
        groups, rates, taxed, out = {}, {}, {}, []
        for line in lines:
            rate = line.tax_rate
            if rate is None:
                out.append(line)
                continue
            groups.setdefault(rate.key, []).append(line.amount.amount)
            rates.setdefault(rate.key, rate)
            if method == "line":
                tax = rounding.round(line.amount.amount * rate.percent / 100, currency)
                taxed[rate.key] = taxed.get(rate.key, Decimal(0)) + tax
                line = attrs.evolve(line, tax=Money(tax, currency))
            out.append(line)
        tax_lines = []
        for key, amounts in groups.items():
            base = sum(amounts, Decimal(0))
            exact = base * rates[key].percent / 100
            billed = taxed[key] if method == "line" else rounding.round(exact, currency)
            tax_lines.append(
                TaxLine(
                    rate=rates[key],
                    base=Money(base, currency),
                    amount=Money(billed, currency),
                    exact_amount=Money(exact, currency),
                )
            )
    return tuple(out), tuple(tax_lines)


RATES = (None, TaxRate(percent="19"), TaxRate(percent="7"), TaxRate(percent="0", category="Z"))


class TestApplyTaxes:
    @given(
        st.lists(
            st.tuples(
                st.decimals(min_value=-1000, max_value=1000, places=3),
                st.sampled_from(RATES),
            ),
            max_size=15,
        ),
        st.sampled_from(["total", "line"]),
        st.sampled_from(["half_up", "half_even", "down"]),
    )
    def test_same_result_as_the_single_loop(self, items, method, mode):
        """Lines (with their taxes) and tax lines, with every digit and exponent, are those
        the single-loop computation gives, for mixed rates, untaxed lines and any mode."""
        lines = [
            InvoiceLine(
                charge=f"c{i}",
                description="x",
                quantity=Decimal(1),
                unit="h",
                amount=Money(amount, "EUR"),
                exact_amount=Money(amount, "EUR"),
                tax_rate=rate,
            )
            for i, (amount, rate) in enumerate(items)
        ]
        policy = RoundingPolicy(mode=mode, digits=3)
        got = apply_taxes(lines, method, policy, "EUR")
        want = _reference_taxes(lines, method, policy, "EUR")
        assert got == want
        assert [str(t.amount.amount) for t in got[1]] == [str(t.amount.amount) for t in want[1]]

    def test_unknown_method_is_refused_at_run_time(self):
        """An untyped caller's misspelt method gets the message naming both methods."""
        with pytest.raises(InvoiceError, match=r"'total' \(per rate, EN 16931\) or 'line'"):
            apply_taxes([], "lines", RoundingPolicy(), "EUR")  # type: ignore[arg-type]
