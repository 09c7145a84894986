"""Charges: metric, selector, free units and model (``cloudrate.plans._charge``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from moneyed import Money

from cloudrate import Charge, Flat, Minimum, Percentage, PerUnit, PlanError
from cloudrate.plans import ChargeModel

PRICE = PerUnit(Money("0.01", "EUR"))


class TestCharge:
    def test_where_selects_by_attribute(self):
        """All keys must match; a list means any of its values."""
        c = Charge(
            name="c", metric="m", model=PRICE, where={"offering": ["small", "medium"], "zone": "z1"}
        )
        assert c.matches({"offering": "small", "zone": "z1"})
        assert not c.matches({"offering": "small", "zone": "z2"})
        assert not c.matches({"offering": "large", "zone": "z1"})
        assert not c.matches({})

    def test_booleans_match_their_text(self):
        """``where: {is_default: true}`` matches records whose attribute is 'true'."""
        c = Charge(name="c", metric="m", model=PRICE, where={"is_default": True})
        assert c.where == {"is_default": ("true",)}
        assert c.matches({"is_default": "true"})
        assert not c.matches({"is_default": "false"})

    @pytest.mark.parametrize("where", [{}, {"a": "1"}, {"a": ["1", "2"]}, {"a": "1", "b": "2"}])
    def test_matcher_agrees_with_matches(self, where):
        """The fast matcher says the same as matches() for every record."""
        c = Charge(name="c", metric="m", model=PRICE, where=where)
        fast = c.matcher()
        for attrs_ in ({}, {"a": "1"}, {"a": "2"}, {"a": "1", "b": "2"}, {"a": "3", "b": "2"}):
            assert (True if fast is None else fast(attrs_)) == c.matches(attrs_)

    def test_free_units(self):
        """Free units are a Decimal >= 0; floats and negatives are refused."""
        assert Charge(name="c", metric="m", model=PRICE, free_units="10").free_units == 10
        with pytest.raises(PlanError, match="free_units: must be >= 0"):
            Charge(name="c", metric="m", model=PRICE, free_units=-1)
        with pytest.raises(TypeError, match="pass Decimal"):
            Charge(name="c", metric="m", model=PRICE, free_units=1.5)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"name": "", "metric": "m", "model": PRICE}, "give every charge a unique name"),
            ({"name": "c", "model": PRICE}, "needs a metric"),
            (
                {"name": "c", "metric": "m", "model": Minimum(amount=Money(1, "EUR"))},
                "remove metric, where and free_units",
            ),
            (
                {
                    "name": "c",
                    "model": Percentage(percent=Decimal(1), of="x", currency="EUR"),
                    "free_units": 1,
                },
                "remove metric",
            ),
            (
                {"name": "c", "metric": "m", "model": Flat(Money(1, "EUR")), "free_units": 1},
                "free_units does not apply to a flat fee",
            ),
        ],
    )
    def test_inconsistent_charges(self, kwargs, message):
        """Each model's requirements are checked with a message saying what to change."""
        with pytest.raises(PlanError, match=message):
            Charge(**kwargs)

    def test_models_follow_the_protocol(self):
        """Every model is a ChargeModel (kind, currency, price, to_dict)."""
        for model in (
            PRICE,
            Flat(Money(1, "EUR")),
            Minimum(amount=Money(1, "EUR")),
            Percentage(percent=Decimal(1), of="x", currency="EUR"),
        ):
            assert isinstance(model, ChargeModel)

    def test_to_dict(self):
        """Plain data lists the selector compactly and merges in the model's fields."""
        c = Charge(
            name="c",
            metric="m",
            model=PRICE,
            description="d",
            service="s",
            where={"zone": "z1", "offering": ["b", "a"]},
            free_units=Decimal(5),
        )
        assert c.to_dict() == {
            "name": "c",
            "metric": "m",
            "description": "d",
            "service": "s",
            "where": {"zone": "z1", "offering": ["a", "b"]},
            "free_units": "5",
            "model": "per_unit",
            "unit_price": "0.01",
        }
        assert c.label == "d"
