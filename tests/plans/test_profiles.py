"""Compatibility profiles: what a profile fills in, what explicit settings keep, round trips.

The worked examples of each system are in tests/compat/ (one module per system)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate.exceptions import ConfigError, OptionError
from cloudrate.plans import PROFILES, apply_profile, dump_plan, load_plan, profile_table
from cloudrate.plans._profiles import Setting, find_profile

#: A plan document with one charge of every model a profile may set something on.
BASE: dict[str, Any] = {
    "name": "compat",
    "currency": "EUR",
    "metrics": {
        "vm_hours": {"unit": "hour"},
        "api_calls": {"unit": "call"},
        "vm_months": {"unit": "VM-month", "usage_unit": "VM-hour"},
        "disk": {"unit": "GiB-month", "usage_unit": "byte-hour"},
        "traffic": {"unit": "GiB", "usage_unit": "byte"},
        "peak_vms": {"unit": "VM-month", "usage_unit": "VM-hour", "aggregation": "max"},
    },
    "charges": [
        {"name": "platform", "model": "flat", "price": "30.00"},
        {"name": "vm", "metric": "vm_hours", "model": "per_unit", "unit_price": "0.05"},
        {
            "name": "calls",
            "metric": "api_calls",
            "model": "graduated",
            "tiers": [
                {"up_to": 100, "unit_price": "0", "flat_price": "5.00"},
                {"up_to": None, "unit_price": "0.01"},
            ],
        },
        {
            "name": "volume",
            "metric": "api_calls",
            "model": "volume",
            "tiers": [{"up_to": 100, "unit_price": "0.02"}, {"up_to": None, "unit_price": "0.01"}],
        },
        {
            "name": "support",
            "model": "percentage",
            "of": ["vm"],
            "tiers": [
                {"up_to": 100, "percent": "10", "flat_price": "2.00"},
                {"up_to": None, "percent": "5"},
            ],
        },
        {"name": "tax_like", "model": "percentage", "of": ["vm"], "percent": "3"},
    ],
}

SETTINGS = [(p.name, s) for p in PROFILES.values() for s in p.settings]


def _get(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _objects(data: dict[str, Any], setting: Setting) -> list[dict[str, Any]]:
    """The objects of *data* the setting is about."""
    if setting.level == "plan":
        return [data]
    if setting.level == "metric":
        return [m for m in data["metrics"].values() if setting.applies_to(m)]
    return [c for c in data["charges"] if setting.applies_to(c)]


def _has(data: Any, key: str) -> bool:
    head, _, rest = key.partition(".")
    if not isinstance(data, dict) or head not in data:
        return False
    return _has(data[head], rest) if rest else True


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    head, _, rest = key.partition(".")
    if rest:
        _put(data.setdefault(head, {}), rest, value)
    else:
        data[head] = value


class TestWhatAProfileSets:
    @pytest.mark.parametrize(("name", "setting"), SETTINGS, ids=lambda v: getattr(v, "key", v))
    def test_each_setting_is_filled_in_where_the_document_is_silent(self, name, setting):
        filled = apply_profile({**BASE, "profile": name})
        objects = _objects(filled, setting)
        assert objects, f"the base plan has no object {setting.key} of {name} applies to"
        assert all(_get(o, setting.key) == setting.value for o in objects)

    @pytest.mark.parametrize("name", sorted(PROFILES))
    def test_the_profile_is_the_same_as_writing_its_settings(self, name):
        """A profile is shorthand: the plan it gives equals the plan with its settings
        written out, and differs from the plan without them where a setting is not
        cloudrate's default."""
        written = copy.deepcopy(BASE)
        for setting in PROFILES[name].settings:
            for obj in _objects(written, setting):
                _put(obj, setting.key, setting.value)
        profiled = load_plan({**BASE, "profile": name})
        assert profiled == load_plan(written)
        if any(s.value != s.default for s in PROFILES[name].settings):
            assert profiled != load_plan(BASE)

    @pytest.mark.parametrize("name", sorted(PROFILES))
    def test_charges_a_version_adds_get_the_profile_too(self, name):
        data = {
            **copy.deepcopy(BASE),
            "profile": name,
            "versions": [
                {"effective_from": "2026-06-01", "add": [copy.deepcopy(BASE["charges"][0])]}
            ],
        }
        data["versions"][0]["add"][0]["name"] = "added"
        filled = apply_profile(data)
        for setting in PROFILES[name].settings:
            if setting.level == "charge" and setting.applies_to(BASE["charges"][0]):
                assert _get(filled["versions"][0]["add"][0], setting.key) == setting.value


def _written_out(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """*doc* with the settings of profile *name* written wherever it gives none: the
    test's own reading of what a profile means."""
    out = copy.deepcopy(doc)
    for setting in PROFILES[name].settings:
        for obj in _objects(out, setting):
            if not _has(obj, setting.key):
                _put(obj, setting.key, setting.value)
    return out


class TestExplicitSettingsWin:
    @given(data=st.data())
    def test_an_explicit_value_is_kept(self, data):
        """Any setting written explicitly (cloudrate's default, where the profile sets
        something else) is kept; the profile still sets the rest."""
        name, setting = data.draw(
            st.sampled_from([(n, s) for n, s in SETTINGS if s.value != s.default])
        )
        doc = copy.deepcopy(BASE)
        for obj in _objects(doc, setting):
            _put(obj, setting.key, setting.default)
        filled = apply_profile({**doc, "profile": name})
        assert all(_get(o, setting.key) == setting.default for o in _objects(filled, setting))
        assert load_plan({**doc, "profile": name}) == load_plan(_written_out(doc, name))

    def test_the_document_given_is_not_changed(self):
        doc = {**copy.deepcopy(BASE), "profile": "lago"}
        before = copy.deepcopy(doc)
        apply_profile(doc)
        assert doc == before


class TestRoundTrip:
    @pytest.mark.parametrize("name", sorted(PROFILES))
    def test_the_dump_holds_the_settings_and_loads_back_equal(self, name):
        plan = load_plan({**BASE, "profile": name})
        dumped = dump_plan(plan)
        assert "profile" not in dumped
        assert load_plan(dumped) == plan

    @pytest.mark.parametrize("name", sorted(PROFILES))
    def test_an_override_of_the_profile_survives_the_round_trip(self, name):
        overridable = [s for s in PROFILES[name].settings if s.value != s.default]
        if not overridable:
            pytest.skip(f"{name} only restates cloudrate's defaults")
        setting = overridable[0]
        doc = copy.deepcopy(BASE)
        for obj in _objects(doc, setting):
            _put(obj, setting.key, setting.default)
        plan = load_plan({**doc, "profile": name})
        assert load_plan(dump_plan(plan)) == plan


class TestBadProfiles:
    def test_an_unknown_profile_is_a_problem_of_the_document_with_the_others(self):
        doc = {**copy.deepcopy(BASE), "profile": "kilbill", "currency": "EURO"}
        with pytest.raises(ConfigError) as caught:
            load_plan(doc)
        codes = {p.path: p.code for p in caught.value.problems}
        assert codes["profile"] == "unknown_profile"
        assert codes["currency"] == "unknown_currency"
        assert "did you mean 'killbill'" in str(caught.value)

    @pytest.mark.parametrize("value", [3, ["lago"], "", "LAGO"])
    def test_anything_but_a_profile_name_is_refused(self, value):
        with pytest.raises(OptionError) as caught:
            find_profile(value)
        assert caught.value.path == "profile"
        assert "one of cloudstack-quota, killbill, lago, stripe" in str(caught.value)

    def test_a_null_profile_is_no_profile(self):
        assert load_plan({**BASE, "profile": None}) == load_plan(BASE)


class TestTheDocsTable:
    def test_docs_profiles_lists_every_setting_of_every_profile(self):
        from pathlib import Path

        text = (Path(__file__).parents[2] / "docs" / "profiles.md").read_text(encoding="utf-8")
        for profile, where, key, value, says in profile_table():
            row = f"| `{profile}` | {where} | `{key}` | `{value}` | {says} |"
            assert row in text, f"docs/profiles.md lacks the row {row}"
        rows = [line for line in text.splitlines() if line.startswith("| `")]
        assert len(rows) == len(profile_table()), "docs/profiles.md lists a setting no profile has"

    def test_every_setting_cites_its_source(self):
        for _name, setting in SETTINGS:
            assert setting.source.startswith("https://")
