"""Loading plans from YAML files, YAML text and dicts (``cloudrate.plans._load``)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import ConfigError, load_plan, plan_to_yaml
from cloudrate.testing import plans

HEAD = "name: Basic\ncurrency: EUR\ncharges:\n"


def _problems(text: str) -> dict[str, tuple[str, int | None]]:
    """Load *text*, expect a ConfigError, return {path: (code, line)}."""
    with pytest.raises(ConfigError) as info:
        load_plan(textwrap.dedent(text))
    return {p.path: (p.code, p.line) for p in info.value.problems}


def _one(text: str):
    with pytest.raises(ConfigError) as info:
        load_plan(textwrap.dedent(text))
    assert len(info.value.problems) == 1, str(info.value)
    return info.value.problems[0]


BAD_FILE = """\
name: Bad
currency: EUR
charges:
  - name: compute
    metric: vcpu_hours
    model: per_unit
    unit_prise: 0.01
  - name: storage
    metric: storage_gb_hours
    model: graduatd
  - name: bandwidth
    metric: bandwidth_gb
    model: volume
    tiers:
      - {up_to: 1000, unit_price: 0.02}
      - {up_to: 500, unit_price: 0.015}
      - {up_to: 2000, unit_price: "0.01 USD"}
  - name: ip
    metric: public_ip_hours
    model: per_unit
    unit_price: -0.005
  - name: support
    model: percentage
    percent: 110
    of: [compute, nothing]
"""


class TestLoadPlan:
    def test_sources(self, tmp_path):
        """A path (str or Path), YAML text and a dict load to the same plan."""
        text = HEAD + "  - {name: c, metric: m, model: per_unit, unit_price: '0.01'}\n"
        path = tmp_path / "plan.yaml"
        path.write_text(text, encoding="utf-8")
        plans = [
            load_plan(text),
            load_plan(path),
            load_plan(str(path)),
            load_plan(yaml.safe_load(text)),
        ]
        assert all(p == plans[0] for p in plans)
        assert plans[0].charge("c").model.unit_price == Money("0.01", "EUR")

    def test_sample_plan(self):
        """The shipped sample plan loads and names its charges."""
        plan = load_plan(cloudrate.sample_plan_path())
        assert plan.currency == "EUR" and plan.timezone == "Europe/Berlin"
        assert plan.charge("storage").model.kind == "graduated"

    def test_reports_every_problem_at_once(self):
        """One error lists all problems of the file, each with its path and YAML line."""
        with pytest.raises(ConfigError) as info:
            load_plan(BAD_FILE)
        found = {(p.path, p.code, p.line) for p in info.value.problems}
        assert found == {
            ("charges[0].unit_prise", "unknown_key", 7),
            ("charges[0].unit_price", "missing", 4),
            ("charges[1].model", "unknown_model", 10),
            ("charges[2].tiers[1].up_to", "tiers_not_ascending", 16),
            ("charges[2].tiers[2].up_to", "last_tier_bounded", 17),
            ("charges[2].tiers[2].unit_price", "currency_mismatch", 17),
            ("charges[3].unit_price", "negative_price", 21),
            ("charges[4].percent", "out_of_range", 24),
            ("charges[4].of", "unknown_charge", 25),
        }
        assert str(info.value).startswith("9 problems in <text>:")
        assert "charges[2].tiers[1].up_to (line 16): must be above 1000" in str(info.value)

    def test_file_name_in_the_message(self, tmp_path):
        """A file's problems are reported under its name."""
        path = tmp_path / "bad.yaml"
        path.write_text(BAD_FILE, encoding="utf-8")
        with pytest.raises(ConfigError, match=r"9 problems in .*bad\.yaml") as info:
            load_plan(path)
        assert info.value.source == str(path)

    def test_unsorted_tiers(self):
        """Tiers out of order name the tier, the previous bound and the fix."""
        p = _one(
            HEAD
            + """\
          - name: s
            metric: m
            model: graduated
            tiers:
              - {up_to: 100, unit_price: 1}
              - {up_to: 100, unit_price: 1}
              - {up_to: null, unit_price: 1}
        """
        )
        assert (p.path, p.code, p.line) == ("charges[0].tiers[1].up_to", "tiers_not_ascending", 9)
        assert "sort tiers by up_to" in p.message

    def test_bounded_last_tier(self):
        """A last tier with a bound says to write up_to: null."""
        p = _one(
            HEAD + "  - {name: s, metric: m, model: volume,\n"
            "     tiers: [{up_to: 5, unit_price: 1}]}\n"
        )
        assert (p.path, p.code) == ("charges[0].tiers[0].up_to", "last_tier_bounded")
        assert "up_to: null" in p.message

    def test_open_tier_not_last(self):
        """Only the last tier may be open."""
        p = _one(
            HEAD
            + """\
          - name: s
            metric: m
            model: volume
            tiers: [{up_to: null, unit_price: 1}, {up_to: null, unit_price: 1}]
        """
        )
        assert p.code == "open_tier_not_last"

    def test_unknown_model_suggests(self):
        """An unknown charge model lists the models and suggests the near one."""
        p = _one(HEAD + "  - {name: s, metric: m, model: volumes, tiers: []}\n")
        assert (p.path, p.code, p.value) == ("charges[0].model", "unknown_model", "volumes")
        assert "did you mean 'volume'?" in p.message
        assert (
            "per_unit, graduated, volume, package, one_off, transaction_percentage, "
            "graduated_transaction_percentage, flat, percentage, minimum" in p.message
        )

    def test_price_in_another_currency(self):
        """A price written with another currency is refused, naming both currencies."""
        p = _one(HEAD + "  - {name: s, metric: m, model: per_unit, unit_price: 0.10 USD}\n")
        assert (p.code, p.value) == ("currency_mismatch", "0.10 USD")
        assert "is in USD, but this plan bills in EUR" in p.message

    def test_price_with_the_plan_currency(self):
        """A price written with the plan's own currency is fine."""
        plan = load_plan(HEAD + "  - {name: s, metric: m, model: per_unit, unit_price: 0.10 EUR}\n")
        assert plan.charge("s").model.unit_price == Money("0.10", "EUR")

    def test_negative_price(self):
        """A negative price says to give credits as adjustments."""
        p = _one(HEAD + "  - {name: s, metric: m, model: flat, price: -5}\n")
        assert (p.path, p.code) == ("charges[0].price", "negative_price")

    def test_yaml_syntax_error_has_the_line(self):
        """A YAML syntax error is a ConfigError with the line it was found on."""
        p = _one(HEAD + "  - name: s\n    model: per_unit\n    unit_price: [1\n")
        assert p.code == "yaml_syntax"
        assert p.line == 7
        assert "YAML syntax error" in p.message

    @pytest.mark.parametrize(
        ("text", "path", "near"),
        [
            ("currancy: EUR\nname: x\ncharges: []\n", "currancy", "currency"),
            (
                HEAD + "  - {name: s, metric: m, model: per_unit, unit_prise: 1}\n",
                "charges[0].unit_prise",
                "unit_price",
            ),
            (
                HEAD
                + "  - {name: s, metric: m, model: volume, tiers: [{upto: null, unit_price: 1}]}\n",
                "charges[0].tiers[0].upto",
                "up_to",
            ),
            (
                "name: x\ncurrency: EUR\ncharges: []\nrounding: {mode: half_up, placment: total}\n",
                "rounding.placment",
                "placement",
            ),
        ],
    )
    def test_unknown_keys_suggest_the_near_one(self, text, path, near):
        """An unknown key is reported at its path with the nearest known key."""
        problems = _problems(text)
        assert problems[path][0] == "unknown_key"
        with pytest.raises(ConfigError, match=f"did you mean '{near}'"):
            load_plan(text)

    def test_floats_in_dict_input(self):
        """Floats in a dict are refused; the message says to pass a string or Decimal."""
        data = {
            "name": "x",
            "currency": "EUR",
            "charges": [{"name": "s", "metric": "m", "model": "per_unit", "unit_price": 0.1}],
        }
        with pytest.raises(ConfigError) as info:
            load_plan(data)
        (p,) = info.value.problems
        assert (p.path, p.code, p.value) == ("charges[0].unit_price", "float", 0.1)
        assert "write '0.1' as a string or Decimal" in p.message
        data["charges"][0]["unit_price"] = Decimal("0.1")
        assert load_plan(data).charge("s").model.unit_price == Money("0.1", "EUR")

    def test_yaml_1_1_traps(self):
        """NO, yes and on stay strings; 0.10 and 1.10 are exact Decimals, never floats."""
        plan = load_plan(
            textwrap.dedent("""\
            name: NO
            description: yes
            version: 1.10
            currency: NOK
            charges:
              - name: off
                metric: public_ip_hours
                where: {is_default: yes, zone: on}
                model: per_unit
                unit_price: 0.10
        """)
        )
        assert (plan.name, plan.description, plan.version) == ("NO", "yes", "1.10")
        charge = plan.charge("off")
        assert charge.where == {"is_default": ("yes",), "zone": ("on",)}
        assert str(charge.model.unit_price.amount) == "0.10"

    def test_true_and_false_are_booleans(self):
        """Only true/false are booleans; they select records by 'true'/'false'."""
        plan = load_plan(
            HEAD + "  - {name: s, metric: m, model: per_unit, unit_price: 1, "
            "where: {is_default: true}}\n"
        )
        assert plan.charge("s").where == {"is_default": ("true",)}

    def test_loads_safely(self):
        """Python tags are never constructed: the value is just wrong data."""
        p = _one(
            "name: !!python/object/apply:os.system ['echo pwned']\ncurrency: EUR\ncharges: []\n"
        )
        assert (p.path, p.code) == ("name", "not_text")

    def test_alias_bombs_are_refused_quickly(self):
        """Aliases nested in aliases ("billion laughs", 9**9 values) are refused after
        100,000 values instead of being expanded."""
        lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
        lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
        p = _one("\n".join(lines) + "\nname: x\ncurrency: EUR\ncharges: []\n")
        assert p.code == "too_large"

    def test_small_aliases_are_fine(self):
        """Ordinary anchors and aliases, e.g. one tier table shared by two charges, load."""
        plan = load_plan(
            HEAD
            + """\
          - {name: a, metric: m1, model: volume, tiers: &t [{up_to: null, unit_price: 1}]}
          - {name: b, metric: m2, model: volume, tiers: *t}
        """
        )
        assert plan.charge("a").model == plan.charge("b").model

    def test_duplicate_keys(self):
        """A key given twice is reported, not silently overwritten."""
        assert _problems("name: x\ncurrency: EUR\ncharges: []\nname: y\n") == {
            "name": ("duplicate_key", 4)
        }

    def test_missing_fields(self):
        """name, currency and charges are required; an empty document says so."""
        assert set(_problems("description: nothing else\n")) == {"name", "currency", "charges"}
        assert {"name", "currency"} <= set(_problems(""))

    def test_unknown_currency_timezone_and_mode(self):
        """Currency, timezone and rounding mode are checked with a suggestion."""
        problems = _problems(
            "name: x\ncurrency: EURO\ntimezone: Mars/X\ncharges: []\nrounding: {mode: half_eve}\n"
        )
        assert problems == {
            "currency": ("unknown_currency", 2),
            "timezone": ("unknown_timezone", 3),
            "rounding.mode": ("bad_choice", 5),
        }

    def test_unreadable_file(self, tmp_path):
        """A missing file is a ConfigError naming it."""
        with pytest.raises(ConfigError, match="cannot read the file"):
            load_plan(tmp_path / "missing.yaml")

    def test_derived_charge_fields(self):
        """Percentage and minimum charges may not have metric, where or free_units."""
        problems = _problems(
            HEAD
            + """\
          - {name: c, metric: m, model: per_unit, unit_price: 1}
          - {name: s, model: percentage, percent: 5, of: c, metric: m}
        """
        )
        assert problems == {"charges[1].metric": ("not_applicable", 5)}

    def test_plan_text_fields_from_dicts(self):
        """In a dict, version 3 is the text '3' (as in YAML); a list is reported, never
        silently dropped."""
        base = {"name": "x", "currency": "EUR", "charges": []}
        assert load_plan({**base, "version": 3}).version == "3"
        with pytest.raises(ConfigError) as info:
            load_plan({**base, "version": ["3"], "description": {"a": 1}})
        assert {p.path: p.code for p in info.value.problems} == {
            "version": "not_text",
            "description": "not_text",
        }

    def test_effective_dates_must_be_dates(self):
        """A datetime is not an effective date: reported, not compared later and crashing."""
        from datetime import date, datetime

        base = {"name": "x", "currency": "EUR", "charges": []}
        assert load_plan({**base, "effective_from": date(2026, 1, 1)}).effective_from == date(
            2026, 1, 1
        )
        with pytest.raises(ConfigError, match="not a date and time"):
            load_plan({**base, "effective_from": datetime(2026, 1, 1)})
        with pytest.raises(ConfigError, match="expected a date such as 2026-10-01"):
            load_plan({**base, "effective_to": "soon"})

    def test_model_that_is_not_text(self):
        """A model given as a list or mapping is an unknown model, not a crash."""
        p = _one(HEAD + "  - {name: s, metric: m, model: [per_unit]}\n")
        assert (p.path, p.code) == ("charges[0].model", "unknown_model")

    def test_bad_bound_does_not_open_the_tier(self):
        """A tier bound that is not a number is reported once, not as an open tier too."""
        problems = _problems(
            HEAD
            + """\
          - name: s
            metric: m
            model: graduated
            tiers: [{up_to: lots, unit_price: 1}, {up_to: null, unit_price: 1}]
        """
        )
        assert problems == {"charges[0].tiers[0].up_to": ("not_a_number", 7)}

    def test_percent_needs_percent_or_tiers(self):
        """A percentage with both percent and tiers is refused."""
        problems = _problems(
            HEAD
            + """\
          - {name: c, metric: m, model: per_unit, unit_price: 1}
          - {name: s, model: percentage, percent: 5, tiers: [{up_to: null, percent: 1}], of: c}
        """
        )
        assert problems == {"charges[1]": ("percent_or_tiers", 5)}


class TestPlanToYaml:
    def test_amounts_are_quoted(self):
        """Amounts are written as quoted strings so no YAML reader takes them for floats."""
        text = plan_to_yaml(load_plan(cloudrate.sample_plan_path()))
        assert "unit_price: '0.0125'" in text
        raw = yaml.safe_load(text)
        assert raw["charges"][0]["unit_price"] == "0.0125"

    def test_round_trip_of_the_sample(self):
        """The sample plan survives YAML text and dict round trips."""
        plan = load_plan(cloudrate.sample_plan_path())
        assert load_plan(plan_to_yaml(plan)) == plan
        assert load_plan(cloudrate.dump_plan(plan)) == plan

    def test_writes_a_file_that_loads(self, tmp_path):
        """Written to a file, the YAML loads from the path."""
        plan = load_plan(cloudrate.sample_plan_path())
        path = Path(tmp_path) / "out.yaml"
        path.write_text(plan_to_yaml(plan), encoding="utf-8")
        assert load_plan(path) == plan


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=5),
    st.decimals(min_value=-10, max_value=10, places=2),
    st.sampled_from(
        ["per_unit", "graduated", "flat", "percentage", "EUR", "0.1 USD", "-1", "c0", "days", "sum"]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "up_to",
                    "unit_price",
                    "name",
                    "model",
                    "of",
                    "tiers",
                    "percent",
                    "price",
                    "metric",
                    "where",
                    "x",
                ]
            ),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    if prefix:
        yield prefix
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        yield from _paths(value, (*prefix, key))


class TestLoaderRobustness:
    @given(plans(full=True), st.data())
    def test_any_damage_is_a_config_error(self, plan, data):
        """Replacing any value of a valid plan document by any other value either still
        loads or raises ConfigError: never another exception, never a crash."""
        doc = cloudrate.dump_plan(plan)
        path = data.draw(st.sampled_from(list(_paths(doc))))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = data.draw(_VALUES)
        try:
            load_plan(doc)
        except ConfigError as exc:
            problems = exc.problems
        else:
            problems = None
        assert problems is None or len(problems) > 0


class TestReference:
    def test_every_model_key_is_in_the_plan_reference(self):
        """docs/plan-reference.md has a row per model and plan-file key, and names
        every model in the charge's ``model`` field."""
        from cloudrate.plans import MODELS

        text = (Path(__file__).resolve().parents[2] / "docs" / "plan-reference.md").read_text(
            encoding="utf-8"
        )
        table = text.split("### Model fields", 1)[1].split("\n## ", 1)[0]
        model_row = next(row for row in text.splitlines() if row.startswith("| `model` |"))
        for kind, model in MODELS.items():
            assert f"`{kind}`" in model_row, kind
            for key in model.keys:
                assert f"| `{kind}` | `{key}` |" in table, (kind, key)
