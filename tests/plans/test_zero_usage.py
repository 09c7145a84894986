"""``zero_usage``: the first tier's flat fee charged for no usage (Lago's rule), on the
graduated and volume models and on graduated percentages.

Lago charges the flat fee of a charge's first tier when a period has no usage since
getlago/lago-api pull request #5760 ("fix: apply flat fee even when usage is zero",
https://github.com/getlago/lago-api/pull/5760, reported as
https://github.com/getlago/lago/issues/648), for the volume, graduated and graduated
percentage charge models; before it, and in cloudrate by default, no usage costs nothing.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import (
    ConfigError,
    CurrencyMismatchError,
    Graduated,
    PlanError,
    Tier,
    Volume,
    dump_plan,
    load_plan,
)
from cloudrate.plans import (
    ZERO_USAGE,
    Percentage,
    PercentTier,
    bills_without_usage,
    plan_to_yaml,
)
from cloudrate.testing import quantities, tiers

D = Decimal


def _usd(amount: str) -> Money:
    return Money(amount, "USD")


def _graduated_spec(zero_usage: str = "first_flat_fee") -> Graduated:
    """getlago/lago-api spec/services/charge_models/graduated_service_spec.rb: ranges
    0-10 at 10 a unit + 2 flat, 11-20 at 5 + 3 flat, above at 5 + 3 flat."""
    return Graduated(
        tiers=[
            Tier(D(10), _usd("10"), _usd("2")),
            Tier(D(20), _usd("5"), _usd("3")),
            Tier(None, _usd("5"), _usd("3")),
        ],
        zero_usage=zero_usage,  # type: ignore[arg-type]
    )


def _volume_spec(zero_usage: str = "first_flat_fee") -> Volume:
    """getlago/lago-api spec/services/charge_models/volume_service_spec.rb: ranges
    0-100 at 2 a unit + 10 flat, 101-200 at 1, above 200 at 0.5 + 50 flat."""
    return Volume(
        tiers=[
            Tier(D(100), _usd("2"), _usd("10")),
            Tier(D(200), _usd("1"), _usd("0")),
            Tier(None, _usd("0.5"), _usd("50")),
        ],
        zero_usage=zero_usage,  # type: ignore[arg-type]
    )


def _percentage_spec(zero_usage: str = "first_flat_fee") -> Percentage:
    """getlago/lago-api spec/services/charge_models/graduated_percentage_service_spec.rb:
    ranges 0-10 at 1% + 200 flat, 11-20 at 2% + 300, above at 3% + 400."""
    return Percentage(
        tiers=[
            PercentTier(D(10), D(1), _usd("200")),
            PercentTier(D(20), D(2), _usd("300")),
            PercentTier(None, D(3), _usd("400")),
        ],
        of=("base",),
        currency="USD",
        zero_usage=zero_usage,  # type: ignore[arg-type]
    )


class TestLagoWorkedExamples:
    def test_graduated_at_zero_charges_the_first_flat_fee(self):
        """graduated_service_spec.rb, "when aggregation is 0": amount 2, the first
        range's flat amount, with 0 units at 10."""
        priced = _graduated_spec().price(D(0))
        assert priced.amount == _usd("2")
        assert priced.explain() == "tier 1 (0 to 10) flat price: 2 USD"

    def test_volume_at_zero_charges_the_first_flat_fee(self):
        """volume_service_spec.rb, "when aggregation is 0": amount 10."""
        assert _volume_spec().price(D(0)).amount == _usd("10")

    def test_graduated_percentage_at_zero_charges_the_first_flat_fee(self):
        """graduated_percentage_service_spec.rb, "when aggregation is 0": amount 200."""
        priced = _percentage_spec().price(D(0))
        assert priced.amount == _usd("200")
        assert priced.explain() == "flat price (0 to 10): 200 USD"

    def test_a_first_tier_without_flat_fee_keeps_zero_free(self):
        """The same specs, "when first tier flat amount is zero": an extra first range
        of 0 to 1 unit with no flat fee (what Lago's PR asks existing customers to add to
        keep no usage free) makes 0 cost nothing again."""
        volume = Volume(
            tiers=[
                Tier(D(1), _usd("0"), _usd("0")),
                Tier(D(100), _usd("2"), _usd("10")),
                Tier(None, _usd("0.5"), _usd("50")),
            ],
            zero_usage="first_flat_fee",
        )
        graduated = Graduated(
            tiers=[
                Tier(D("0.01"), _usd("0"), _usd("0")),
                Tier(D(10), _usd("10"), _usd("2")),
                Tier(None, _usd("5"), _usd("3")),
            ],
            zero_usage="first_flat_fee",
        )
        assert volume.price(D(0)).amount.amount == 0
        assert graduated.price(D(0)).amount.amount == 0

    def test_fee_spec_examples(self):
        """getlago/lago-api spec/services/fees/charge_service_spec.rb, "when units are
        zero but a flat fee applies": with no events, graduated 0-10 at 2 + 100 flat
        bills 100.00; volume 0-100 at 2 + 1 flat bills 1.00; graduated percentage 0-10
        at 1% + 100 flat bills 100.00."""
        graduated = Graduated(
            tiers=[Tier(D(10), _usd("2"), _usd("100")), Tier(None, _usd("1"), _usd("50"))],
            zero_usage="first_flat_fee",
        )
        volume = Volume(
            tiers=[Tier(D(100), _usd("2"), _usd("1")), Tier(None, _usd("1"), _usd("0"))],
            zero_usage="first_flat_fee",
        )
        percentage = Percentage(
            tiers=[
                PercentTier(D(10), D(1), _usd("100")),
                PercentTier(None, D("0.5"), _usd("50")),
            ],
            of=("base",),
            currency="USD",
            zero_usage="first_flat_fee",
        )
        assert graduated.price(D(0)).amount.amount == D(100)
        assert volume.price(D(0)).amount.amount == D(1)
        assert percentage.price(D(0)).amount.amount == D(100)

    def test_graduated_percentage_docs_example_with_flat_fees(self):
        """https://getlago.com/docs/guide/plans/charges/charge-models/graduated-percentage:
        0-1,000 at 1% + $200, 1,001-10,000 at 2% + $300, above at 3% + $400. Transactions
        of $500, $550 and $4,000 cost $205.00, $306.00 and $80.00, so a period of $5,050
        costs their sum, $591 (each tier's flat fee once, when the base reaches it)."""
        model = Percentage(
            tiers=[
                PercentTier(D(1000), D(1), _usd("200")),
                PercentTier(D(10000), D(2), _usd("300")),
                PercentTier(None, D(3), _usd("400")),
            ],
            of=("payments",),
            currency="USD",
        )
        first = D(500) * D("0.01") + 200
        second = D(500) * D("0.01") + D(50) * D("0.02") + 300
        third = D(4000) * D("0.02")
        assert (first, second, third) == (D(205), D(306), D(80))
        assert model.price(D(500)).amount.amount == first
        assert model.price(D(1050)).amount.amount == first + second
        assert model.price(D(5050)).amount.amount == first + second + third


class TestOnAndOff:
    @pytest.mark.parametrize("build", [_graduated_spec, _volume_spec, _percentage_spec])
    def test_free_is_the_default_and_costs_nothing_at_zero(self, build):
        """Without zero_usage (or with ``free``), 0 costs nothing and explains nothing."""
        model = build("free")
        assert model.zero_usage == "free"
        assert model.price(D(0)).amount.amount == 0
        assert model.price(D(0)).details == ()
        assert not bills_without_usage(model)
        assert bills_without_usage(build())

    @pytest.mark.parametrize("build", [_graduated_spec, _volume_spec, _percentage_spec])
    @given(quantity=quantities(min_value=D("0.000001"), max_value=D(10**6)))
    def test_above_zero_both_settings_agree(self, build, quantity):
        """Only no usage differs: any quantity above 0 reaches the first tier anyway."""
        assert build().price(quantity) == build("free").price(quantity)

    def test_volume_at_one_unit_is_lago_s_one_unit(self):
        """volume_service_spec.rb, "when aggregation is 1": 1 x 2 + 10 flat = 12."""
        assert _volume_spec().price(D(1)).amount.amount == D(12)
        assert _volume_spec("free").price(D(1)).amount.amount == D(12)


class TestProperties:
    @given(tier_list=tiers(), quantity=quantities())
    def test_graduated_at_zero_is_the_first_flat_price(self, tier_list, quantity):
        """Under first_flat_fee, 0 costs the first tier's flat price (0 without one) and
        using more never costs less: the first tier's flat price is in every amount."""
        model = Graduated(tiers=tier_list, zero_usage="first_flat_fee")
        first = tier_list[0].flat_price
        zero = model.price(D(0)).amount.amount
        assert zero == (D(0) if first is None else first.amount)
        assert zero <= model.price(quantity).amount.amount

    @given(tier_list=tiers())
    def test_volume_at_zero_is_the_first_flat_price(self, tier_list):
        first = tier_list[0].flat_price
        model = Volume(tiers=tier_list, zero_usage="first_flat_fee")
        assert model.price(D(0)).amount.amount == (D(0) if first is None else first.amount)

    @given(
        kind=st.sampled_from([Graduated, Volume]),
        tier_list=tiers(),
        setting=st.sampled_from(ZERO_USAGE),
        values=st.lists(quantities(max_value=D(10**5)), min_size=1, max_size=8),
    )
    def test_the_vectorised_twin_gives_price(self, kind, tier_list, setting, values):
        """price_scaled on integers is price() on Decimals, zeros included, both settings."""
        model = kind(tiers=tier_list, zero_usage=setting)
        s, a = 6, 6 + 12
        qty = np.array([int(v.scaleb(s)) for v in [D(0), *values]], dtype=np.int64)
        got = model.price_scaled(qty, s, a)
        assert got is not None
        for q, amount in zip([D(0), *values], got.tolist(), strict=True):
            assert D(amount).scaleb(-a) == model.price(q).amount.amount

    @given(
        bound=quantities(min_value=D(1), max_value=D(10**5), places=2),
        flats=st.lists(st.one_of(st.none(), st.decimals(0, 100, places=2)), min_size=2, max_size=2),
        base=quantities(max_value=D(10**6)),
    )
    def test_percentage_flat_prices_add_once_per_tier_reached(self, bound, flats, base):
        """Each tier's flat price is added once when the base reaches into the tier (an
        independent sum), and at 0 only under first_flat_fee."""
        low, high = (None if f is None else _usd(str(f)) for f in flats)
        model = Percentage(
            tiers=[PercentTier(bound, D(10), low), PercentTier(None, D(5), high)],
            of=("x",),
            currency="USD",
            zero_usage="first_flat_fee",
        )
        expected = min(base, bound) * D("0.10") + max(base - bound, D(0)) * D("0.05")
        if base > 0 and low is not None:
            expected += low.amount
        if base > bound and high is not None:
            expected += high.amount
        if base == 0 and low is not None:
            expected = low.amount
        assert model.price(base).amount.amount == expected


class TestPlanFiles:
    PLAN = """
name: Lago
currency: USD
charges:
  - name: calls
    metric: api_calls
    model: volume
    zero_usage: first_flat_fee
    tiers:
      - {up_to: 100, unit_price: 2, flat_price: 1}
      - {up_to: null, unit_price: 1}
  - name: seats
    metric: seats
    model: graduated
    zero_usage: free
    tiers:
      - {up_to: 10, unit_price: 2, flat_price: 100}
      - {up_to: null, unit_price: 1, flat_price: 50}
  - name: fees
    model: percentage
    of: [calls]
    zero_usage: first_flat_fee
    tiers:
      - {up_to: 10, percent: 1, flat_price: 100}
      - {up_to: null, percent: 0.5, flat_price: 50}
"""

    def test_keys_load_and_round_trip(self):
        """zero_usage and tier flat prices load, dump (the default left out) and load back
        equal, as plain data and as YAML."""
        plan = load_plan(self.PLAN)
        assert plan.charge("calls").model.zero_usage == "first_flat_fee"
        assert plan.charge("seats").model.zero_usage == "free"
        fees = plan.charge("fees").model
        assert fees.zero_usage == "first_flat_fee"
        assert fees.tiers[0].flat_price == _usd("100")
        data = dump_plan(plan)
        assert data["charges"][0]["zero_usage"] == "first_flat_fee"
        assert "zero_usage" not in data["charges"][1]
        assert data["charges"][2]["tiers"][0] == {
            "up_to": "10",
            "percent": "1",
            "flat_price": "100",
        }
        assert load_plan(data) == plan
        assert load_plan(plan_to_yaml(plan)) == plan

    def test_bad_values_are_reported_at_their_paths(self):
        """A misspelt value, zero_usage beside a single percent and a bad tier flat price
        are all reported at once, each with its path and code."""
        text = """
name: Lago
currency: USD
charges:
  - name: calls
    metric: api_calls
    model: volume
    zero_usage: first_flat
    tiers: [{up_to: null, unit_price: 1}]
  - {name: fees, model: percentage, of: [calls], percent: 10, zero_usage: first_flat_fee}
  - name: more
    model: percentage
    of: [calls]
    tiers: [{up_to: null, percent: 1, flat_price: -1}]
"""
        with pytest.raises(ConfigError) as caught:
            load_plan(text)
        found = {(p.path, p.code) for p in caught.value.problems}
        assert ("charges[0].zero_usage", "bad_choice") in found
        assert ("charges[1].zero_usage", "not_applicable") in found
        assert any(path.startswith("charges[2].tiers[0].flat_price") for path, _ in found)
        assert "did you mean 'first_flat_fee'" in str(caught.value)

    def test_constructor_errors_name_the_fix(self):
        with pytest.raises(PlanError, match="zero_usage: must be one of free, first_flat_fee"):
            Graduated(tiers=[Tier(None, _usd("1"))], zero_usage="always")  # type: ignore[arg-type]
        with pytest.raises(PlanError, match="zero_usage applies to tiers"):
            Percentage(percent=D(10), of=("x",), currency="USD", zero_usage="first_flat_fee")
        with pytest.raises(CurrencyMismatchError, match="tier 1 flat_price is in EUR"):
            Percentage(
                tiers=[PercentTier(None, D(1), Money("1", "EUR"))], of=("x",), currency="USD"
            )
        with pytest.raises(PlanError, match="negative"):
            PercentTier(None, D(1), _usd("-1"))
