"""Numbers `check` accepts are numbers rating can compute: bounds on prices, quantities,
rounding digits and the plan's other numbers, refused with the path (issue 12, group 1),
and a plan's problems reported all at once (group 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate._money import MAX_AMOUNT, MAX_DIGITS, MAX_PLACES, RoundingPolicy, check_quantity
from cloudrate.exceptions import ConfigError, CurrencyMismatchError, PlanError, UsageError
from cloudrate.plans import Charge, Graduated, Package, PerUnit, Plan, Tier

T0 = datetime(2026, 10, 1, tzinfo=UTC)
T1 = datetime(2026, 10, 2, tzinfo=UTC)


def charge_with(**fields: object) -> dict[str, object]:
    return {"name": "c", "metric": "m", **fields}


def load(*charges: dict[str, object], **plan: object) -> cloudrate.Plan:
    return cloudrate.load_plan(
        {"name": "bounds", "currency": "EUR", **plan, "charges": list(charges)}
    )


def problems(*charges: dict[str, object], **plan: object) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        load(*charges, **plan)
    return [(p.path, p.code) for p in info.value.problems]


#: Numbers beyond the bounds: too large (>= 10**36) or too fine (> 100 decimals).
beyond = st.one_of(
    st.integers(36, 500).map(lambda e: Decimal(1).scaleb(e)),
    st.integers(36, 60).map(lambda e: Decimal(10) ** e * Decimal("1.5")),
    st.integers(MAX_PLACES + 1, 400).map(lambda e: Decimal(1).scaleb(-e)),
    st.integers(MAX_PLACES + 1, 120).map(lambda e: Decimal("1." + "0" * (e - 1) + "3")),
)
#: Numbers within them: up to 10**12 with up to 100 decimals (a price of 1E-30 per unit).
within = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(0, 10**12),
    st.integers(0, MAX_PLACES),
)

#: Where a plan holds a number, as (charge fields with the number, the path it is at).
PLACES = {
    "unit_price": lambda v: (charge_with(model="per_unit", unit_price=v), "unit_price"),
    "free_units": lambda v: (charge_with(model="per_unit", unit_price=1, free_units=v),
                             "free_units"),
    "block_size": lambda v: (charge_with(model="package", block_size=v, block_price=1),
                             "block_size"),
    "block_price": lambda v: (charge_with(model="package", block_size=1, block_price=v),
                              "block_price"),
    "tier up_to": lambda v: (charge_with(model="graduated", tiers=[
        {"up_to": v, "unit_price": 1}, {"up_to": None, "unit_price": 1}]), "tiers[0].up_to"),
    "tier unit_price": lambda v: (charge_with(model="volume", tiers=[
        {"up_to": 10, "unit_price": 1}, {"up_to": None, "unit_price": v}]),
        "tiers[1].unit_price"),
    "tier flat_price": lambda v: (charge_with(model="graduated", tiers=[
        {"up_to": None, "unit_price": 1, "flat_price": v}]), "tiers[0].flat_price"),
    "flat price": lambda v: ({"name": "c", "model": "flat", "price": v}, "price"),
    "minimum": lambda v: ({"name": "c", "model": "minimum", "amount": v}, "amount"),
    "price with its currency": lambda v: (
        charge_with(model="per_unit", unit_price=f"{v} EUR"), "unit_price"),
}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(PLACES)), beyond)
def test_every_number_beyond_the_bounds_is_a_problem_at_its_path(place, value):
    """Too large or too fine, wherever it is, the number is reported at its own path with
    the bound, never as a raw decimal error at rating time."""
    fields, path = PLACES[place](value)
    assert (f"charges[0].{path}", "out_of_bounds") in problems(fields)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(PLACES)), within)
def test_numbers_within_the_bounds_load(place, value):
    fields, _ = PLACES[place](value)
    if place == "block_size" and value == 0:
        value = Decimal(1)
        fields, _ = PLACES[place](value)
    found = []
    try:
        load(fields)
    except ConfigError as error:  # other rules of the model (a 0 block size...), never bounds
        found = [p.code for p in error.problems]
    assert "out_of_bounds" not in found


def test_the_issues_examples_are_refused_by_check():
    assert problems(charge_with(model="per_unit", unit_price=Decimal("1e400"))) == [
        ("charges[0].unit_price", "out_of_bounds")
    ]
    assert problems(charge_with(model="per_unit", unit_price=1), rounding={"digits": 70}) == [
        ("rounding.digits", "out_of_bounds")
    ]
    with pytest.raises(ConfigError, match=r"proration_digits: must be at most 24"):
        load({"name": "fee", "model": "flat", "price": 10, "proration_digits": 70})


@pytest.mark.parametrize("digits", [0, 2, MAX_DIGITS])
def test_rounding_digits_up_to_24_rate_exactly_in_both_engines(digits):
    """At the bound, both engines give the same exact result (36 integer digits and 24
    decimals are the 60 digits of the exact context)."""
    pytest.importorskip("pyarrow")
    from cloudrate.rating.columnar import rate_table, to_table

    plan = load(charge_with(model="per_unit", unit_price="0.333333333333"),
                rounding={"digits": digits})  # fmt: skip
    usage = [cloudrate.UsageRecord(account="a", metric="m", quantity=Decimal("1.1"), start=T0,
                                   end=T1)]  # fmt: skip
    by_record = cloudrate.rate(plan, usage)
    assert by_record == rate_table(plan, to_table(usage))
    total = by_record.bill("a").total.amount
    assert total == RoundingPolicy(digits=digits).round(
        Decimal("0.333333333333") * Decimal("1.1"), "EUR"
    )


class TestApi:
    """The Python API holds the same bounds as plan files."""

    @pytest.mark.parametrize(
        "build",
        [
            lambda: PerUnit(Money("1e400", "EUR")),
            lambda: PerUnit(Money("1e-101", "EUR")),
            lambda: Package(block_size=Decimal("1e40"), block_price=Money("1", "EUR")),
            lambda: Graduated(
                tiers=[Tier(Decimal("1e36"), Money("1", "EUR")), Tier(None, Money("1", "EUR"))]
            ),
            lambda: RoundingPolicy(digits=70),
            lambda: Plan(
                name="p",
                currency="EUR",
                charges=[
                    Charge(
                        name="c",
                        metric="m",
                        model=PerUnit(Money("1", "EUR")),
                        free_units=Decimal("1e40"),
                    )
                ],
            ),
        ],
    )
    def test_refused_with_a_plan_error(self, build):
        with pytest.raises(PlanError, match=r"10\*\*36|the 100 cloudrate|from 0 to 24"):
            build()

    def test_prices_of_many_decimals_are_taken(self):
        """Down to 1E-100 per unit: the engines rate them alike (see the parity tests)."""
        assert PerUnit(Money("1E-30", "EUR")).unit_price.amount == Decimal("1E-30")
        assert PerUnit(Money("1E-100", "EUR")).unit_price.amount == Decimal("1E-100")

    def test_the_largest_price_is_just_below_max_amount(self):
        largest = Decimal("9" * 36 + "." + "9" * MAX_PLACES)
        assert largest < MAX_AMOUNT
        assert PerUnit(Money(largest, "EUR")).unit_price.amount == largest


class TestUsageQuantityBound:
    """The bound the usage readers are to apply (one call in the quantity converter)."""

    @given(beyond)
    def test_beyond(self, value):
        with pytest.raises(UsageError, match="quantity"):
            check_quantity(value, error=UsageError)

    @given(within)
    def test_within(self, value):
        assert check_quantity(value, error=UsageError) == value


class TestAllProblemsAtOnce:
    def test_a_wrong_currency_hides_no_other_problem(self):
        """The issue: an unknown currency used to hide every charge's problems."""
        found = problems(
            charge_with(model="per_unit", unit_price="abc"),
            charge_with(name="d", model="graduated", tiers=[
                {"up_to": 10, "unit_price": 1}, {"up_to": 5, "unit_price": 1}]),
            {"name": "e", "metric": "m", "model": "per_unit", "unit_price": "0.10 EURX"},
            {"name": "f", "metric": "m", "model": "per_unit", "unit_price": "1e400 USD"},
            currency="EURO",
        )  # fmt: skip
        assert ("currency", "unknown_currency") in found
        assert ("charges[0].unit_price", "not_a_number") in found
        assert any(path.startswith("charges[1].tiers") for path, _ in found)
        assert ("charges[2].unit_price", "unknown_currency") in found
        assert ("charges[3].unit_price", "out_of_bounds") in found
        assert all("XXX" not in str(p) for p in found)

    def test_a_missing_currency_too(self):
        found = problems(charge_with(model="per_unit", unit_price=-1), currency=None)
        assert ("currency", "missing") in found and len(found) == 2


class TestTiersCountFromOne:
    """Plan error messages count tiers from 1, like the explanations ("tier 1 (0 to 100)")."""

    def test_a_tier_in_another_currency_is_named_from_one(self):
        graduated = Graduated(tiers=[Tier(None, Money("1", "USD"))])
        with pytest.raises(CurrencyMismatchError) as info:
            Plan(name="p", currency="EUR",
                 charges=[Charge(name="c", metric="m", model=graduated)])  # fmt: skip
        assert "tier 1 unit_price" in str(info.value)
        assert "tiers[0]" not in str(info.value)
        explained = graduated.price(Decimal(5)).explain()
        assert "tier 1" in explained


def test_a_plan_file_names_where_minor_units_come_from() -> None:
    """``rounding.minor_units`` (cldr, the default, or iso4217) is read from a plan file
    and written back by to_dict, so the plan round-trips; another value is a problem."""
    import cloudrate
    from cloudrate.exceptions import ConfigError

    data = {
        "name": "iqd",
        "currency": "IQD",
        "rounding": {"minor_units": "iso4217"},
        "charges": [{"name": "c", "metric": "m", "model": "per_unit", "unit_price": "1.2345"}],
    }
    plan = cloudrate.load_plan(data)
    assert plan.rounding.minor_units == "iso4217"
    assert plan.rounding.digits_for("IQD") == 3  # ISO 4217; CLDR says 0
    assert cloudrate.load_plan(plan.to_dict()) == plan
    with pytest.raises(ConfigError) as caught:
        cloudrate.load_plan({**data, "rounding": {"minor_units": "iso"}})
    assert [p.path for p in caught.value.problems] == ["rounding.minor_units"]
