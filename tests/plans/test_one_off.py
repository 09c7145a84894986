"""One-off charges, billed once per event (``cloudrate.plans._one_off``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from moneyed import Money

import cloudrate
from cloudrate import ConfigError, FloatNotAllowedError, PlanError, UsageRecord
from cloudrate.plans import MODELS, Detail, OneOff, PerUnit, VectorPricing
from cloudrate.testing import prices, quantities

D = Decimal
T0 = datetime(2026, 10, 1, tzinfo=UTC)

PLAN = """
name: Onboarding
currency: EUR
metrics:
  ip_acquired: {unit: IP, aggregation: unique}
charges:
  - {name: setup, metric: setup_events, model: one_off, unit_price: "25.00"}
  - {name: ips, metric: ip_acquired, model: one_off, unit_price: "2.50", free_units: 1}
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
"""


def event(metric: str, day: int, quantity: object = 1, **extra: object) -> UsageRecord:
    start = T0 + timedelta(days=day - 1)
    return UsageRecord(
        account=str(extra.pop("account", "acme")),
        metric=metric,
        quantity=quantity,  # type: ignore[arg-type]
        start=start,
        end=start + timedelta(minutes=1),
        **extra,  # type: ignore[arg-type]
    )


class TestOneOff:
    def test_registered(self):
        """one_off is a kind of the registry, priced on usage, with a vectorised twin."""
        assert MODELS["one_off"] is OneOff
        assert OneOff.basis == "usage"
        assert isinstance(OneOff(Money("1", "EUR")), VectorPricing)

    def test_worked_example(self):
        """Two setups at 25.00 cost 50.00, and the explanation counts events."""
        priced = OneOff(Money("25.00", "EUR")).price(D(2))
        assert priced.amount == Money("50.00", "EUR")
        assert priced.explain() == "one-off: 2 events x 25.00 EUR = 50.00 EUR"
        assert priced.details[0].to_dict() == {
            "label": "one-off",
            "quantity": "2",
            "unit_price": "25.00",
            "amount": "50.00",
            "unit": "events",
        }

    def test_one_event_is_singular(self):
        """One event reads "1 event"; none costs nothing."""
        model = OneOff(Money("25.00", "EUR"))
        assert model.price(D(1)).explain() == "one-off: 1 event x 25.00 EUR = 25.00 EUR"
        assert model.price(D(0)).amount.amount == 0

    @given(prices(), quantities())
    def test_same_amount_as_per_unit(self, price, quantity):
        """A one-off charge costs what a per-unit charge of the same price does."""
        one_off = OneOff(Money(price, "EUR")).price(quantity).amount
        assert one_off == PerUnit(Money(price, "EUR")).price(quantity).amount

    def test_price_scaled_matches_price(self):
        """The vectorised twin gives the scalar amounts as integers at scale a."""
        np = pytest.importorskip("numpy")
        model = OneOff(Money("25.05", "EUR"))
        # quantities at scale 1 (0, 2 and 3.5 events), amounts at scale 3
        assert model.price_scaled(np.array([0, 20, 35]), 1, 3).tolist() == [0, 50100, 87675]

    def test_float_and_negative_refused(self):
        """A float price is refused with what to pass; a negative one too."""
        with pytest.raises(FloatNotAllowedError, match=r"pass Decimal\('25.0'\)"):
            OneOff(25.0)
        with pytest.raises(PlanError, match="is negative"):
            OneOff(Money(-1, "EUR"))

    def test_needs_a_metric(self):
        """Like every usage model, a one-off charge prices a metric."""
        with pytest.raises(ConfigError) as info:
            cloudrate.load_plan(
                {"name": "P", "currency": "EUR", "charges": [
                    {"name": "setup", "model": "one_off", "unit_price": "25"}]}
            )  # fmt: skip
        assert [(p.path, p.code) for p in info.value.problems] == [("charges[0].metric", "missing")]

    def test_dump_load_round_trip(self):
        """The plan-file form is model: one_off with its unit_price, and loads back."""
        plan = cloudrate.load_plan(PLAN)
        assert plan.charge("setup").to_dict() == {
            "name": "setup",
            "metric": "setup_events",
            "model": "one_off",
            "unit_price": "25.00",
        }
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan


class TestOneOffRated:
    def test_each_record_is_an_event(self):
        """Three setup records (one of quantity 2) are 4 events: 4 x 25.00 = 100.00."""
        plan = cloudrate.load_plan(PLAN)
        records = [event("setup_events", 2), event("setup_events", 5, 2), event("setup_events", 9)]
        line = cloudrate.rate(plan, records).bill("acme").line("setup")
        assert (line.quantity, line.rounded.amount) == (D(4), D("100.00"))
        assert line.unit_price == Money("25.00", "EUR")
        assert line.explain() == "one-off: 4 events x 25.00 EUR = 100.00 EUR"

    def test_unique_metric_counts_resources(self):
        """Records naming two IPs are two events (one free): 1 x 2.50."""
        plan = cloudrate.load_plan(PLAN)
        records = [
            event("ip_acquired", 3, resource_id="203.0.113.7"),
            event("ip_acquired", 9, resource_id="203.0.113.7"),
            event("ip_acquired", 12, resource_id="203.0.113.8"),
        ]
        line = cloudrate.rate(plan, records).bill("acme").line("ips")
        assert (line.usage_quantity, line.free_quantity, line.quantity) == (D(2), D(1), D(1))
        assert line.rounded.amount == D("2.50")

    def test_both_engines_agree(self):
        """rate(), rate_table() and account_totals() give the same bills and totals."""
        pytest.importorskip("pyarrow")
        from cloudrate.rating.columnar import account_totals, rate_table, to_table

        plan = cloudrate.load_plan(PLAN)
        records = [
            event("setup_events", 1, account="a"),
            event("setup_events", 2, "3", account="b"),
            event("ip_acquired", 4, account="b", resource_id="ip-1"),
            event("ip_acquired", 5, account="b", resource_id="ip-2"),
            event("vcpu_hours", 6, "720", account="a"),
        ]
        expected = cloudrate.rate(plan, records)
        table = to_table(records)
        assert rate_table(plan, table).to_json() == expected.to_json()
        totals = account_totals(plan, table)
        # a: 25.00 + 720 x 0.0125 = 34.00; b: 3 x 25.00 + (2 - 1 free) x 2.50 = 77.50
        got = dict(zip(totals["account"].to_pylist(), totals["total"].to_pylist(), strict=True))
        assert got == {"a": D("34.00"), "b": D("77.50")}
        assert {a: m.amount for a, m in expected.totals().items()} == {
            "a": D("34.00"),
            "b": D("77.50"),
        }

    def test_vectorised_totals(self):
        """On summed metrics the columnar engine's integer totals price one-off charges."""
        pytest.importorskip("pyarrow")
        from cloudrate.rating.columnar import account_totals, to_table

        plan = cloudrate.load_plan(
            "name: S\ncurrency: EUR\ncharges:\n"
            "  - {name: setup, metric: setup_events, model: one_off, unit_price: '25.005'}\n"
        )
        records = [event("setup_events", d, account=f"a{d % 3}") for d in range(1, 11)]
        totals = account_totals(plan, to_table(records))
        # a0: days 3, 6, 9 -> 75.015 -> 75.02; a1: 1, 4, 7, 10 -> 100.02; a2: 2, 5, 8 -> 75.02
        assert totals["total"].to_pylist() == [D("75.02"), D("100.02"), D("75.02")]


def test_detail_unit_is_optional():
    """A detail without a unit reads and serialises as before."""
    detail = Detail("per unit", D(2), Money("1", "EUR"), Money("2", "EUR"))
    assert str(detail) == "per unit: 2 x 1 EUR = 2 EUR"
    assert "unit" not in detail.to_dict()
