"""Plan-aware strategies of ``cloudrate.testing``: usage in each charge's unit across its
tiers, money in minor units, promo codes, policies, invoices, readable decimals."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import event, find, given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate._money import currency_digits
from cloudrate.invoice import Invoice
from cloudrate.plans import Charge, Graduated, Metric, Plan, Tier
from cloudrate.rules import Policy, PromoCode, PromoDiscount, RuleContext, chain
from cloudrate.testing import (
    charge_points,
    currencies,
    invoices,
    money,
    plans,
    policies,
    promo_codes,
    readable_decimals,
    usage_for,
)

OCTOBER = cloudrate.BillingPeriod.month(2026, 10, "UTC")
BOUNDS = (Decimal(1000), Decimal(10000))
#: Bandwidth metered in bytes, priced per GB on graduated tiers past 50 free GB.
BYTES = Plan(
    name="bytes",
    currency="EUR",
    metrics=[Metric(name="bandwidth_gb", unit="GB", usage_unit="byte")],
    charges=[
        Charge(
            name="traffic",
            metric="bandwidth_gb",
            free_units=Decimal(50),
            model=Graduated(
                tiers=[
                    Tier(BOUNDS[0], Money("0.02", "EUR")),
                    Tier(BOUNDS[1], Money("0.015", "EUR")),
                    Tier(None, Money("0.01", "EUR")),
                ]
            ),
        )
    ],
)


def _tier(quantity: Decimal) -> int:
    """The tier a priced quantity (after free units) ends in: 0, 1 or 2."""
    return sum(quantity > b for b in BOUNDS)


class TestBillNeverDecreases:
    def test_bill_never_decreases_when_usage_grows(self):
        """Adding usage never lowers the bill of a byte-metered graduated plan, and the
        examples really cross the tier bounds (so the property is not vacuous)."""
        tiers_seen: set[int] = set()
        crossings = []

        @settings(max_examples=150, deadline=None)
        @given(
            usage_for(BYTES, accounts=st.just("acme")), usage_for(BYTES, accounts=st.just("acme"))
        )
        def check(before, extra):
            small = cloudrate.rate(BYTES, before, OCTOBER).bill("acme")
            large = cloudrate.rate(BYTES, before + extra, OCTOBER).bill("acme")
            assert large.exact_total.amount >= small.exact_total.amount
            assert large.total.amount >= small.total.amount
            low, high = small.line("traffic").quantity, large.line("traffic").quantity
            tiers_seen.update((_tier(low), _tier(high)))
            if _tier(low) != _tier(high):
                crossings.append((low, high))
                event("crossed a tier bound")

        check()
        assert tiers_seen == {0, 1, 2}
        assert len(crossings) >= 5

    def test_quantities_land_on_bounds(self):
        """The priced quantity lands exactly on each tier bound, and the free units."""
        for target in (Decimal(0), *BOUNDS):
            usage = find(
                usage_for(BYTES, accounts=st.just("acme")),
                lambda u, t=target: (
                    u
                    and cloudrate.rate(BYTES, u, OCTOBER).bill("acme").line("traffic").quantity == t
                ),
                settings=settings(max_examples=2000, database=None),
            )
            assert usage
        assert charge_points(BYTES.charge("traffic")) == (0, 50, 1050, 10050)

    @settings(max_examples=30, deadline=None)
    @given(plans(full=True).flatmap(lambda p: st.tuples(st.just(p), usage_for(p))))
    def test_usage_for_rates_under_any_plan(self, drawn):
        """Usage drawn for a plan is in the period and priced by its charges."""
        plan, usage = drawn
        plan = attrs.evolve(plan, effective_from=None, effective_to=None)
        period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
        result = cloudrate.rate(plan, usage, period)
        assert all(period.contains(r.start, r.end) for r in usage)
        assert not result.unpriced


class TestMoney:
    @given(money(currencies()))
    def test_minor_units_by_default(self, amount):
        digits = currency_digits(str(amount.currency.code))
        assert amount.amount == amount.amount.quantize(Decimal(1).scaleb(-digits))

    @given(money(st.just("EUR"), places=6))
    def test_finer_on_request(self, amount):
        assert amount.amount == amount.amount.quantize(Decimal("0.000001"))

    def test_finer_amounts_are_drawn(self):
        assert find(money(places=6), lambda m: m.amount != m.amount.quantize(Decimal("0.01")))


class TestReadableDecimals:
    def test_shrinks_to_readable(self):
        """The smallest value above 1000 with decimals is 1000.1, not 1000.000173."""
        found = find(readable_decimals(), lambda d: d > 1000 and d != d.to_integral_value())
        assert found == Decimal("1000.1")

    @given(readable_decimals(min_value="-2.5", max_value="7.25", places=2))
    def test_bounds_and_places(self, value):
        assert Decimal("-2.5") <= value <= Decimal("7.25")
        assert value == value.quantize(Decimal("0.01"))

    def test_negative_shrinks_to_readable(self):
        assert find(readable_decimals(min_value=-100, max_value=100), lambda d: d < -3) == -4

    def test_bounds_are_drawn(self):
        assert find(readable_decimals(min_value=3, max_value=9), lambda d: d == 9) == 9


class TestRules:
    @given(promo_codes("JPY", charges=("compute", "storage")))
    def test_promo_codes_are_valid(self, code):
        assert isinstance(code, PromoCode)
        assert code.charges <= {"compute", "storage"}
        if code.fixed is not None:
            assert code.fixed.amount == code.fixed.amount.to_integral_value()

    @settings(max_examples=30, deadline=None)
    @given(policies(cloudrate.load_plan(cloudrate.sample_plan_path())))
    def test_policies_apply_to_the_sample(self, policy):
        """Every drawn policy applies to the sample month; its lines only lower a bill."""
        assert isinstance(policy, Policy)
        usage = list(cloudrate.read_usage(cloudrate.sample_usage_path()))
        result = cloudrate.rate(cloudrate.load_plan(cloudrate.sample_plan_path()), usage)
        applied = policy.apply_result(result, RuleContext.for_result(result, usage))
        for before, after in zip(result.bills, applied.bills, strict=True):
            assert after.lines[: len(before.lines)] == before.lines
            assert all(x.rounded.amount <= 0 for x in after.lines[len(before.lines) :])

    def test_full_percent_promo_never_makes_a_bill_negative(self):
        usage = list(cloudrate.read_usage(cloudrate.sample_usage_path()))
        result = cloudrate.rate(cloudrate.load_plan(cloudrate.sample_plan_path()), usage)
        policy = chain(PromoDiscount(PromoCode(code="PROMO-2222", percent=100)))
        applied = policy.apply_result(result, RuleContext.for_result(result, usage))
        assert applied.bill("initech").total.amount >= 0

    @settings(max_examples=20, deadline=None)
    @given(invoices(plans(currencies=currencies())))
    def test_invoices_add_up(self, invoice):
        assert isinstance(invoice, Invoice)
        assert invoice.total == invoice.subtotal + invoice.tax_total
