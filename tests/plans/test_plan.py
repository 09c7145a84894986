"""Plans (``cloudrate.plans._plan``): equality, round trips, currencies, effective dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import (
    BillingPeriod,
    Charge,
    CurrencyMismatchError,
    Flat,
    Graduated,
    Minimum,
    Package,
    PerUnit,
    Plan,
    PlanError,
    Tier,
    Volume,
)
from cloudrate.testing import currencies, plans


def _model(kind: str, currency: str):
    price = Money(1, currency)
    return {
        "per_unit": lambda: PerUnit(price),
        "graduated": lambda: Graduated(tiers=[Tier(None, price)]),
        "volume": lambda: Volume(tiers=[Tier(None, price)]),
        "package": lambda: Package(Decimal(10), price),
        "flat": lambda: Flat(price),
    }[kind]()


class TestPlan:
    @given(plans(currencies=currencies(), full=True))
    def test_dump_load_round_trip(self, plan):
        """dump_plan then load_plan gives an equal plan (every feature of the format)."""
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan

    @given(plans(currencies=currencies(), full=True))
    def test_yaml_round_trip(self, plan):
        """plan_to_yaml then load_plan gives an equal plan; amounts survive as text."""
        text = cloudrate.plan_to_yaml(plan)
        assert cloudrate.load_plan(text) == plan
        assert cloudrate.plan_to_yaml(cloudrate.load_plan(text)) == text

    @given(
        currencies(),
        currencies(),
        st.sampled_from(("per_unit", "graduated", "volume", "package", "flat")),
    )
    def test_mixing_currencies_always_raises(self, plan_currency, price_currency, kind):
        """A price in another currency than the plan's is refused, naming both."""
        charge = Charge(name="c", metric="m", model=_model(kind, price_currency))
        if plan_currency == price_currency:
            assert Plan(name="p", currency=plan_currency, charges=[charge]).charges == (charge,)
            return
        with pytest.raises(CurrencyMismatchError) as info:
            Plan(name="p", currency=plan_currency, charges=[charge])
        assert (info.value.expected, info.value.got) == (plan_currency, price_currency)
        assert "charges[0] (c)" in str(info.value)

    def test_minimum_in_another_currency(self):
        """A minimum amount in another currency is refused too."""
        with pytest.raises(CurrencyMismatchError, match="amount is in USD"):
            Plan(
                name="p",
                currency="EUR",
                charges=[Charge(name="m", model=Minimum(amount=Money(1, "USD")))],
            )

    def test_duplicate_names(self):
        """Charge names are unique."""
        c = Charge(name="c", metric="m", model=PerUnit(Money(1, "EUR")))
        with pytest.raises(PlanError, match="used twice"):
            Plan(name="p", currency="EUR", charges=[c, c])

    def test_unknown_currency_and_timezone(self):
        """Currency and timezone are checked."""
        with pytest.raises(PlanError, match="ISO 4217"):
            Plan(name="p", currency="EURO", charges=[])
        with pytest.raises(PlanError, match="not an IANA timezone"):
            Plan(name="p", currency="EUR", charges=[], timezone="Mars/Olympus")

    def test_effective_dates(self):
        """A period outside the plan's effective dates is refused, naming the version."""
        plan = Plan(
            name="p",
            currency="EUR",
            charges=[],
            version="2026.10",
            effective_from=date(2026, 10, 1),
            effective_to=date(2026, 12, 31),
        )
        plan.check_period(BillingPeriod.month(2026, 10))
        plan.check_period(BillingPeriod.month(2026, 12))
        with pytest.raises(PlanError, match="takes effect on 2026-10-01"):
            plan.check_period(BillingPeriod.month(2026, 9))
        with pytest.raises(PlanError, match="ends on 2026-12-31"):
            plan.check_period(BillingPeriod.month(2027, 1))
        with pytest.raises(PlanError, match="swap them"):
            Plan(
                name="p",
                currency="EUR",
                charges=[],
                effective_from=date(2026, 2, 1),
                effective_to=date(2026, 1, 1),
            )

    def test_effective_dates_in_the_plan_timezone(self):
        """Dates are read in the period's timezone: a Berlin October starts on 1 October
        even though that is 30 September 22:00 in UTC."""
        plan = Plan(
            name="p",
            currency="EUR",
            charges=[],
            effective_from=date(2026, 10, 1),
            timezone="Europe/Berlin",
        )
        plan.check_period(BillingPeriod.month(2026, 10, "Europe/Berlin"))

    def test_charge_lookup(self):
        """plan.charge(name) finds a charge; an unknown name lists the charges."""
        c = Charge(name="c", metric="m", model=PerUnit(Money(1, "EUR")))
        plan = Plan(name="p", currency="EUR", charges=[c])
        assert plan.charge("c") is c
        with pytest.raises(KeyError, match="charges are c"):
            plan.charge("x")

    def test_equality_and_hash(self):
        """Plans built the same way are equal and hash alike; metrics take part."""
        a = cloudrate.load_plan(cloudrate.sample_plan_path())
        b = cloudrate.load_plan(cloudrate.sample_plan_path())
        assert a == b and hash(a) == hash(b)
        assert a != Plan(
            name=a.name,
            currency=a.currency,
            charges=a.charges,
            timezone=a.timezone,
            version=a.version,
            effective_from=a.effective_from,
            rounding=a.rounding,
            description=a.description,
        )  # same but without its metrics

    def test_undeclared_metric_defaults(self):
        """Metrics the plan does not declare get well-known units and sum."""
        plan = Plan(name="p", currency="EUR", charges=[])
        assert plan.metric("vcpu_hours").unit == "vCPU-hour"
        assert plan.metric("anything").aggregation == "sum"
