"""Conditions that combine in a charge's ``where`` (``all``, ``any``, ``not``; issue 13).

Every condition is checked against a brute-force reading of its plan form written here,
independent of :mod:`cloudrate.plans._where`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import ConfigError, PlanError
from cloudrate.plans import Charge, PerUnit
from cloudrate.plans._where import All, AnyOf, Match, Not, read_condition

ATTRIBUTES = ("zone", "state", "size")
VALUES = ("a", "b", "c")


def brute(data: Any, attributes: dict[str, str]) -> bool:
    """What the plan form *data* means, read directly: a mapping holds when each entry does."""
    if "attribute" in data:
        wanted = data["in"] if isinstance(data["in"], list) else [data["in"]]
        return attributes.get(data["attribute"]) in wanted
    results = []
    for key, value in data.items():
        if key == "all":
            results.append(all(brute(c, attributes) for c in value))
        elif key == "any":
            results.append(any(brute(c, attributes) for c in value))
        elif key == "not":
            results.append(not brute(value, attributes))
        else:
            wanted = value if isinstance(value, list) else [value]
            results.append(attributes.get(key) in wanted)
    return all(results)


values = st.one_of(
    st.sampled_from(VALUES), st.lists(st.sampled_from(VALUES), min_size=1, max_size=3)
)
plain = st.dictionaries(st.sampled_from(ATTRIBUTES), values, min_size=1, max_size=2)


def _combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    many = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda cs: {"all": cs}, many),
        st.builds(lambda cs: {"any": cs}, many),
        st.builds(lambda c: {"not": c}, children),
        st.builds(lambda p, c: {**p, "not": c}, plain, children),  # mixed with attributes
    )


#: Plan forms of conditions, nested up to a few levels.
conditions = st.recursive(plain, _combine, max_leaves=8)
records = st.dictionaries(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES))


def _columns(rows: list[dict[str, str]]) -> dict[str, np.ndarray]:
    present = {k for row in rows for k in row}
    return {k: np.array([row.get(k) for row in rows], dtype=object) for k in present}


@settings(max_examples=300, deadline=None)
@given(data=conditions, rows=st.lists(records, max_size=12))
def test_matches_and_mask_agree_with_the_brute_force_reading(data, rows):
    condition = read_condition(data)
    assert condition is not None
    expected = [brute(data, row) for row in rows]
    assert [condition.matches(row) for row in rows] == expected
    assert condition.mask(_columns(rows), len(rows)).tolist() == expected
    arrow = {k: pa.array(list(v), pa.string()) for k, v in _columns(rows).items()}
    assert condition.mask(arrow, len(rows)).tolist() == expected  # the columnar engine's


@settings(max_examples=200, deadline=None)
@given(data=conditions)
def test_to_data_reads_back_equal(data):
    condition = read_condition(data)
    assert condition is not None
    assert read_condition(condition.to_data()) == condition


@settings(max_examples=50, deadline=None)
@given(data=conditions)
def test_a_plan_round_trips(data):
    plan = cloudrate.load_plan(_plan(data))
    again = cloudrate.load_plan(plan.to_dict())
    assert again == plan
    assert again.charge("c").where == plan.charge("c").where


def _plan(where: Any) -> dict[str, Any]:
    return {
        "name": "p",
        "currency": "EUR",
        "charges": [
            {"name": "c", "metric": "m", "model": "per_unit", "unit_price": "1", "where": where}
        ],
    }


class TestPlainMappingsUnchanged:
    def test_a_plain_mapping_is_still_a_mapping(self):
        plan = cloudrate.load_plan(_plan({"zone": "z1", "offering": ["b", "a"]}))
        where = plan.charge("c").where
        assert where == {"offering": ("a", "b"), "zone": ("z1",)}
        assert isinstance(where, Match)
        assert dict(where.items()) == {"offering": ("a", "b"), "zone": ("z1",)}
        assert plan.charge("c").to_dict()["where"] == {"offering": ["a", "b"], "zone": "z1"}

    def test_no_where_selects_every_record(self):
        c = Charge(name="c", metric="m", model=_price())
        assert not c.where
        assert c.matcher() is None
        assert "where" not in c.to_dict()


def _price() -> PerUnit:
    from moneyed import Money

    return PerUnit(Money("1", "EUR"))


class TestCombined:
    def test_python_mappings_take_the_same_forms(self):
        c = Charge(
            name="c",
            metric="m",
            model=_price(),
            where={"any": [{"zone": "a"}, {"not": {"state": "running"}}]},
        )
        assert c.where == AnyOf([Match({"zone": "a"}), Not(Match({"state": "running"}))])
        assert c.matches({"zone": "b", "state": "stopped"})
        assert not c.matches({"zone": "b", "state": "running"})
        matcher = c.matcher()
        assert matcher is not None and not matcher({"zone": "b", "state": "running"})

    def test_a_mixed_mapping_is_all_of_its_entries(self):
        got = read_condition({"zone": "a", "any": [{"state": "x"}, {"size": "y"}]})
        assert got == All(
            [Match({"zone": "a"}), AnyOf([Match({"state": "x"}), Match({"size": "y"})])]
        )

    def test_a_reserved_attribute_name_is_written_in_full(self):
        got = read_condition({"attribute": "all", "in": ["x", "y"]})
        assert got == Match({"all": ["x", "y"]})
        assert got is not None and got.matches({"all": "x"}) and not got.matches({"all": "z"})
        assert got.to_data() == {"attribute": "all", "in": ["x", "y"]}

    def test_a_condition_reads_as_text(self):
        got = read_condition({"zone": "a", "any": [{"s": ["x", "y"]}, {"not": {"u": 1}}]})
        assert str(got) == "(zone = a) and ((s = x or y) or (not (u = 1)))"
        assert str(read_condition({"zone": "a", "size": ["s", "m"]})) == "size = m or s; zone = a"

    def test_combined_conditions_have_no_plain_pairs(self):
        with pytest.raises(PlanError, match="combines conditions"):
            read_condition({"not": {"zone": "a"}}).items()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("where", "path", "code"),
    [
        ("zone", "charges[0].where", "not_a_mapping"),
        ({"any": []}, "charges[0].where.any", "missing"),
        ({"all": "zone"}, "charges[0].where.all", "not_a_list"),
        ({"all": [{"zone": "a"}, 3]}, "charges[0].where.all[1]", "not_a_mapping"),
        ({"not": ["zone"]}, "charges[0].where.not", "not_a_mapping"),
        ({"any": [{"not": {"all": []}}]}, "charges[0].where.any[0].not.all", "missing"),
        ({"zone": {"eq": "a"}}, "charges[0].where.zone.eq", "unknown_key"),
        ({"attribute": "all", "in": "x", "op": "eq"}, "charges[0].where.op", "unknown_key"),
        ({"attribute": "all"}, "charges[0].where.in", "missing"),
    ],
)
def test_bad_conditions_are_reported_at_their_path(where, path, code):
    with pytest.raises(ConfigError) as caught:
        cloudrate.load_plan(_plan(where))
    assert [(p.path, p.code) for p in caught.value.problems] == [(path, code)]


def test_every_problem_of_a_where_is_reported():
    with pytest.raises(ConfigError) as caught:
        cloudrate.load_plan(_plan({"all": [{"any": []}, {"not": 1}]}))
    assert [(p.path, p.code) for p in caught.value.problems] == [
        ("charges[0].where.all[0].any", "missing"),
        ("charges[0].where.all[1].not", "not_a_mapping"),
    ]


def test_a_bad_condition_in_python_raises_a_plan_error():
    with pytest.raises(PlanError, match=r"where\.any: expected at least one condition"):
        Charge(name="c", metric="m", model=_price(), where={"any": []})
