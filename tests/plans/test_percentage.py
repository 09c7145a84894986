"""Percentage of other charges, flat or graduated (``cloudrate.plans._percentage``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from moneyed import Money

import cloudrate
from cloudrate import (
    Charge,
    CurrencyMismatchError,
    Minimum,
    Percentage,
    PercentTier,
    PerUnit,
    Plan,
    PlanError,
    UsageRecord,
)
from cloudrate.testing import quantities

D = Decimal
T0, T1 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)

# AWS Support plan pricing (https://aws.amazon.com/premiumsupport/pricing/, as stored at
# https://aws.amazon.com/vi/premiumsupport/pricing/): Business is the greater of $100 or
# 10% of the first $0-$10K of monthly AWS usage, 7% from $10K-$80K, 5% from $80K-$250K and
# 3% above $250K; Enterprise is the greater of $15,000 or 10% of the first $150K, 7% from
# $150K-$500K, 5% from $500K-$1M and 3% above; Developer the greater of $29 or 3%.
BUSINESS = [
    PercentTier(D(10_000), D(10)),
    PercentTier(D(80_000), D(7)),
    PercentTier(D(250_000), D(5)),
    PercentTier(None, D(3)),
]
ENTERPRISE = [
    PercentTier(D(150_000), D(10)),
    PercentTier(D(500_000), D(7)),
    PercentTier(D(1_000_000), D(5)),
    PercentTier(None, D(3)),
]


def _aws_plan(tiers=None, percent=None, minimum="100") -> Plan:
    """AWS usage priced at $1 a dollar, support as a percentage of it, with its minimum."""
    return Plan(
        name="aws",
        currency="USD",
        charges=[
            Charge(name="usage", metric="usd_spend", model=PerUnit(Money(1, "USD"))),
            Charge(
                name="support",
                model=Percentage(tiers=tiers or (), percent=percent, of=("usage",), currency="USD"),
            ),
            Charge(
                name="support_minimum", model=Minimum(amount=Money(minimum, "USD"), of=("support",))
            ),
        ],
    )


def _spend(amount: str) -> list[UsageRecord]:
    return [UsageRecord(account="acct", metric="usd_spend", quantity=amount, start=T0, end=T1)]


class TestPercentage:
    def test_worked_example_aws_business(self):
        """AWS's published Business example: $85,000 of usage costs
        10,000 x 10% + 70,000 x 7% + 5,000 x 5% + 0 x 3% = $6,150 of support."""
        expected = D(10_000) * D("0.10") + D(70_000) * D("0.07") + D(5_000) * D("0.05")
        assert expected == D(6150)
        model = Percentage(tiers=BUSINESS, of=("usage",), currency="USD")
        assert model.price(D(85_000)).amount.amount == expected
        bill = cloudrate.rate(_aws_plan(BUSINESS), _spend("85000")).bill("acct")
        assert bill.line("support").rounded.amount == expected
        assert [line.charge for line in bill.lines] == ["usage", "support"]

    def test_worked_example_aws_enterprise(self):
        """AWS's published Enterprise example: $1,200,000 of usage costs
        15,000 + 24,500 + 25,000 + 6,000 = $70,500 of support."""
        expected = (
            D(150_000) * D("0.10")
            + D(350_000) * D("0.07")
            + D(500_000) * D("0.05")
            + D(200_000) * D("0.03")
        )
        assert expected == D(70_500)
        model = Percentage(tiers=ENTERPRISE, of=("usage",), currency="USD")
        assert model.price(D(1_200_000)).amount.amount == expected

    def test_worked_example_aws_developer_with_minimum(self):
        """Developer support, the greater of $29 or 3%: $2,000 of usage gives $60 (the
        published example); $500 gives 3% = $15, trued up to the $29 minimum."""
        plan = _aws_plan(percent=D(3), minimum="29")
        big = cloudrate.rate(plan, _spend("2000")).bill("acct")
        assert big.line("support").rounded.amount == D(2000) * D("0.03") == D(60)
        assert [line.charge for line in big.lines] == ["usage", "support"]
        small = cloudrate.rate(plan, _spend("500")).bill("acct")
        assert small.line("support").rounded.amount == D(15)
        assert small.line("support_minimum").rounded.amount == D(29) - D(15)

    def test_business_minimum_applies_below_1000(self):
        """Business support on $500 of usage is 10% = $50, below the $100 minimum: a $50
        true-up line brings support to $100."""
        bill = cloudrate.rate(_aws_plan(BUSINESS), _spend("500")).bill("acct")
        support = bill.line("support").rounded.amount + bill.line("support_minimum").rounded.amount
        assert support == D(100)

    @given(quantities(max_value=D(10**7), places=2))
    def test_graduated_percent_is_continuous_and_bounded(self, base):
        """Graduated percentages never exceed the top rate nor fall below the lowest."""
        amount = Percentage(tiers=BUSINESS, of=("usage",), currency="USD").price(base).amount
        assert base * D("0.03") <= amount.amount <= base * D("0.10")

    def test_base_is_the_exact_amounts(self):
        """The base is the sum of the exact (unrounded) amounts of the named charges."""
        plan = Plan(
            name="p",
            currency="EUR",
            charges=[
                Charge(name="a", metric="m1", model=PerUnit(Money("0.005", "EUR"))),
                Charge(name="b", metric="m2", model=PerUnit(Money("0.005", "EUR"))),
                Charge(
                    name="support", model=Percentage(percent=D(10), of=("a", "b"), currency="EUR")
                ),
            ],
        )
        records = [
            UsageRecord(account="x", metric=m, quantity=1, start=T0, end=T1) for m in ("m1", "m2")
        ]
        line = cloudrate.rate(plan, records).bill("x").line("support")
        assert line.quantity == D("0.010")  # not the rounded 0.01 + 0.01
        assert line.amount.amount == D("0.0010")

    def test_no_base_no_line(self):
        """A percentage of nothing adds no line."""
        plan = _aws_plan(percent=D(3), minimum="0")
        bill = cloudrate.rate(plan, _spend("0")).bill("acct")
        assert [line.charge for line in bill.lines] == ["usage"]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"percent": D(101)}, "between 0 and 100"),
            ({"percent": D(-1)}, "between 0 and 100"),
            ({"percent": D(1), "tiers": BUSINESS}, "either percent or tiers"),
            ({}, "either percent or tiers"),
            ({"percent": D(1), "of": ()}, "must name at least one charge"),
            ({"tiers": [PercentTier(D(10), D(1))]}, "last tier must have up_to=None"),
            ({"tiers": [PercentTier(None, D(101))]}, "tier 1 percent: must be between 0 and 100"),
            (
                {
                    "tiers": [
                        PercentTier(D(10), D(1)),
                        PercentTier(D(5), D(1)),
                        PercentTier(None, D(1)),
                    ]
                },
                r"tier 2 up_to must be above 10",
            ),
        ],
    )
    def test_bad_settings(self, kwargs, message):
        """Out-of-range percents, both or neither of percent/tiers, no base, bad tiers."""
        kwargs = {"of": ("usage",), **kwargs}
        with pytest.raises(PlanError, match=message):
            Percentage(currency="USD", **kwargs)

    def test_float_percent(self):
        """A float percent is refused like a float price."""
        with pytest.raises(cloudrate.FloatNotAllowedError):
            Percentage(percent=10.0, of=("usage",), currency="USD")

    def test_plan_checks_of_and_currency(self):
        """A percentage must follow the charges it names and be in the plan's currency."""
        usage = Charge(name="usage", metric="m", model=PerUnit(Money(1, "USD")))
        with pytest.raises(PlanError, match="not a charge declared before this one"):
            Plan(
                name="p",
                currency="USD",
                charges=[
                    Charge(name="s", model=Percentage(percent=D(1), of=("usage",), currency="USD")),
                    usage,
                ],
            )
        with pytest.raises(CurrencyMismatchError):
            Plan(
                name="p",
                currency="USD",
                charges=[
                    usage,
                    Charge(name="s", model=Percentage(percent=D(1), of=("usage",), currency="EUR")),
                ],
            )

    def test_to_dict(self):
        """Plain data for both forms."""
        flat = Percentage(percent=D(10), of=("a",), currency="EUR")
        assert flat.to_dict() == {"model": "percentage", "of": ["a"], "percent": "10"}
        tiered = Percentage(tiers=BUSINESS[-2:], of="a", currency="EUR")
        assert tiered.to_dict()["tiers"] == [
            {"up_to": "250000", "percent": "5"},
            {"up_to": None, "percent": "3"},
        ]
