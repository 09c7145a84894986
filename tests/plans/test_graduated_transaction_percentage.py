"""GraduatedTransactionPercentage: Lago's ``graduated_percentage`` on the period's total.

Expected amounts are Lago's own figures (documentation and test suite, cited in each
test) or worked out by hand; none is computed by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.exceptions import ConfigError, CurrencyMismatchError, PlanError
from cloudrate.plans import (
    MODELS,
    Charge,
    GraduatedTransactionPercentage,
    PercentTier,
    Plan,
    TransactionTier,
    prices_transactions,
)
from cloudrate.testing import graduated_transaction_percentages, quantities

D = Decimal
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def tiers(*rows: tuple[str | None, str, str | None], currency: str = "USD"):
    return GraduatedTransactionPercentage(
        currency=currency,
        tiers=[
            TransactionTier(
                None if up is None else D(up),
                D(percent),
                None if flat is None else Money(flat, currency),
            )
            for up, percent, flat in rows
        ],
    )


DOCS = tiers(("1000", "1", "200"), ("10000", "2", "300"), (None, "3", "400"))
SPEC = tiers(("10", "1", "200"), ("20", "2", "300"), (None, "3", "400"))


def price(model: GraduatedTransactionPercentage, total: str | int) -> Decimal:
    return model.price(D(total)).amount.amount


class TestLagoExamples:
    @pytest.mark.parametrize(
        ("total", "expected"),
        [
            (500, D(205)),  # a first transaction at $500: 500 x 1% + $200
            (1050, D(511)),  # then one at $550: + (500 x 1% + 50 x 2%) + $300 = 306
            (5050, D(591)),  # then one at $4,000: + 4,000 x 2% = 80
        ],
    )
    def test_documentation_example(self, total, expected):
        """getlago.com/docs/guide/plans/charges/charge-models/graduated-percentage:
        1% + $200 (0 to 1,000), 2% + $300 (1,001 to 10,000), 3% + $400 above; each
        transaction's cost adds up to the period's."""
        assert price(DOCS, total) == expected

    @pytest.mark.parametrize(
        ("total", "expected"),
        [
            (0, D(200)),  # the flat amount of the first tier
            (1, D("200.01")),  # 200 + 1 x 0.01
            (10, D("200.1")),  # 200 + 10 x 0.01
            (11, D("500.12")),  # 200 + 300 + 10 x 0.01 + 1 x 0.02
            (12, D("500.14")),  # 200 + 300 + 10 x 0.01 + 2 x 0.02
            (21, D("900.33")),  # 200 + 300 + 400 + 10 x 0.01 + 10 x 0.02 + 1 x 0.03
        ],
    )
    def test_lago_unit_spec(self, total, expected):
        """getlago/lago-api spec/services/charge_models/graduated_percentage_service_spec.rb:
        ranges 0-10 (1%, 200), 11-20 (2%, 300), 21 and above (3%, 400)."""
        assert price(SPEC, total) == expected

    def test_lago_unit_spec_first_flat_zero(self):
        """The same spec, "when first tier flat amount is zero": 0 to 0.01 at 0% and no
        flat amount first, so a total of 0 costs 0."""
        model = tiers(("0.01", "0", "0"), ("10", "1", "200"), (None, "2", "300"))
        assert price(model, 0) == 0

    @pytest.mark.parametrize(("total", "cents"), [(50, 250), (150, 1600)])
    def test_lago_scenario(self, total, cents):
        """spec/scenarios/current_usage/by_charge_model/graduated_percentage_spec.rb:
        5% to 100 (no flat), 2% above with 10 flat: 50 x 5%; 100 x 5% + 50 x 2% + 10."""
        model = tiers(("100", "5", "0"), (None, "2", "10"))
        assert price(model, total) * 100 == cents


class TestRules:
    def test_flat_prices_off(self):
        """Without flat prices a tier is its percent of its part alone (2% of 500)."""
        assert price(tiers((None, "2", None)), 500) == 10

    def test_the_first_flat_price_at_zero(self):
        """Rule 2: the first tier's flat price is charged at 0; the next only above its
        lower bound (1000 exactly stays in tier 1)."""
        assert price(DOCS, 0) == 200
        assert price(DOCS, 1000) == 210
        assert price(DOCS, D("1000.01")) == D("510.0002")

    def test_details(self):
        print_lines = DOCS.price(D(1050)).explain().splitlines()
        assert print_lines == [
            "1% of 1000 USD in tier 1 (0 to 1000): 10 USD",
            "tier 1 (0 to 1000) flat price: 200 USD",
            "2% of 50 USD in tier 2 (1000 to 10000): 1 USD",
            "tier 2 (1000 to 10000) flat price: 300 USD",
        ]

    def test_rated_on_the_total(self):
        """The model prices the metric's total: records add up; the charge's free
        units come off first (50 of 1,100: 1,000 at 1% + 50 at 2% + 500 flat)."""
        plan = Plan(
            name="P",
            currency="USD",
            charges=[Charge(name="tiers", metric="payments", model=DOCS, free_units=D(50))],
        )
        records = [
            cloudrate.UsageRecord(
                account="acme",
                metric="payments",
                quantity=q,
                start=T0 + timedelta(hours=i),
                end=T0 + timedelta(hours=i + 1),
            )
            for i, q in enumerate((600, 500))
        ]
        line = cloudrate.rate(plan, records).bill("acme").line("tiers")
        assert (line.usage_quantity, line.quantity, line.amount.amount) == (1100, 1050, 511)
        assert not prices_transactions(DOCS)
        assert MODELS["graduated_transaction_percentage"] is GraduatedTransactionPercentage

    @settings(max_examples=200, deadline=None)
    @given(graduated_transaction_percentages(), quantities(), quantities())
    def test_never_decreases(self, model, a, b):
        """More amount never costs less."""
        low, high = sorted((a, b))
        assert price(model, low) <= price(model, high)

    @settings(max_examples=200, deadline=None)
    @given(st.decimals(0, 100, places=3), quantities())
    def test_one_tier_is_a_percent(self, percent, total):
        """One open tier without a flat price is percent x total / 100."""
        model = tiers((None, str(percent), None))
        assert price(model, total) == total * percent / 100

    @settings(max_examples=200, deadline=None)
    @given(graduated_transaction_percentages(), quantities())
    def test_details_add_up(self, model, total):
        priced = model.price(total)
        assert sum(d.amount.amount for d in priced.details) == priced.amount.amount


class TestPlanFiles:
    YAML = """
name: P
currency: USD
charges:
  - name: tiers
    metric: payments
    model: graduated_transaction_percentage
    tiers:
      - {up_to: 1000, percent: 1, flat_price: 200}
      - {up_to: 10000, percent: 2, flat_price: 300}
      - {up_to: null, percent: 3}
"""

    def test_loads_dumps_round_trips(self):
        plan = cloudrate.load_plan(self.YAML)
        assert plan.charge("tiers").model == tiers(
            ("1000", "1", "200"), ("10000", "2", "300"), (None, "3", None)
        )
        assert cloudrate.dump_plan(plan)["charges"][0]["tiers"] == [
            {"up_to": "1000", "percent": "1", "flat_price": "200"},
            {"up_to": "10000", "percent": "2", "flat_price": "300"},
            {"up_to": None, "percent": "3"},
        ]
        assert cloudrate.load_plan(cloudrate.plan_to_yaml(plan)) == plan

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(["USD", "JPY", "BHD"]).flatmap(graduated_transaction_percentages))
    def test_drawn_models_round_trip(self, model):
        plan = Plan(
            name="P",
            currency=model.currency,
            charges=[Charge(name="tiers", metric="payments", model=model)],
        )
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan

    def test_every_problem_at_once(self):
        with pytest.raises(ConfigError) as caught:
            cloudrate.load_plan(
                {
                    "name": "P",
                    "currency": "USD",
                    "charges": [
                        {
                            "name": "tiers",
                            "metric": "payments",
                            "model": "graduated_transaction_percentage",
                            "tiers": [
                                {"up_to": "100", "percent": "-1", "flat_price": "1 EUR"},
                                {"up_to": "50", "percent": "2"},
                                {"up_to": "200", "flat_price": None},
                            ],
                        }
                    ],
                }
            )
        found = {(p.path, p.code) for p in caught.value.problems}
        assert found == {
            ("charges[0].tiers[0].percent", "out_of_range"),
            ("charges[0].tiers[0].flat_price", "currency_mismatch"),
            ("charges[0].tiers[1].up_to", "tiers_not_ascending"),
            ("charges[0].tiers[2].up_to", "last_tier_bounded"),
            ("charges[0].tiers[2].percent", "missing"),
        }


class TestConstructor:
    def test_tiers_must_ascend_and_end_open(self):
        with pytest.raises(PlanError, match="up_to must be above 100"):
            tiers(("100", "1", None), ("50", "1", None), (None, "1", None))
        with pytest.raises(PlanError, match="the last tier must have up_to=None"):
            tiers(("100", "1", None))
        with pytest.raises(PlanError, match="only the last"):
            tiers((None, "1", None), (None, "1", None))
        with pytest.raises(PlanError, match="at least one tier"):
            GraduatedTransactionPercentage(tiers=[], currency="USD")

    def test_tiers_are_percent_tiers(self):
        """One tier type with Percentage's; the name the tiers came under still works, and
        a tier may take more than 100% (Lago takes any rate >= 0): 150% of 10 is 15."""
        assert TransactionTier is PercentTier
        assert price(tiers((None, "150", None)), 10) == 15

    def test_negative_percent_and_price(self):
        with pytest.raises(PlanError, match="percent: must be >= 0"):
            tiers((None, "-2", None))
        with pytest.raises(PlanError, match="is negative"):
            tiers((None, "2", "-1"))

    def test_flat_price_in_another_currency(self):
        with pytest.raises(CurrencyMismatchError):
            GraduatedTransactionPercentage(
                currency="USD", tiers=[TransactionTier(None, D(1), Money(1, "EUR"))]
            )
