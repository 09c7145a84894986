"""Plan options for CloudStack quota tariffs (issue 13): a charge's validity window
(``valid``), numeric comparisons in ``where`` and a metric's month length
(``month_hours``): construction, plan-file reading, every problem at its path, round trip.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import ConfigError, PlanError
from cloudrate.plans import (
    Charge,
    Compare,
    Metric,
    Percentage,
    PerUnit,
    Validity,
    dump_plan,
    load_plan,
    month_seconds,
)
from cloudrate.plans._where import attribute_number, read_condition

D = Decimal


def _plan(charge: dict[str, Any], metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    base = {"name": "c", "metric": "vm", "model": "per_unit", "unit_price": "72"}
    return {
        "name": "quota",
        "currency": "EUR",
        "metrics": metrics or {},
        "charges": [{**base, **charge}],
    }


class TestValidity:
    def test_bounds_are_whole_days_in_the_timezone(self):
        """The window runs from the first day's midnight to the midnight after the last
        day, in the plan's timezone: the last day is included."""
        berlin = ZoneInfo("Europe/Berlin")
        low, high = Validity(date(2026, 3, 1), date(2026, 3, 29)).bounds(berlin)
        assert low == datetime(2026, 3, 1, tzinfo=berlin)
        assert high == datetime(2026, 3, 30, tzinfo=berlin)
        assert Validity(end=date(2026, 1, 31)).bounds(berlin)[0] is None
        assert Validity(date(2026, 1, 1)).bounds(berlin)[1] is None

    def test_text_dates_are_read(self):
        assert Validity("2026-01-01", "2026-06-30") == Validity(date(2026, 1, 1), date(2026, 6, 30))

    @pytest.mark.parametrize(
        ("start", "end", "message"),
        [
            (None, None, "give a first day"),
            (date(2026, 7, 1), date(2026, 6, 30), "before the first day"),
            (datetime(2026, 1, 1), None, "not a date and time"),
            ("2026-13-01", None, "not a date"),
            (date(1, 1, 1), None, "outside"),
            (None, date(9999, 12, 31), "outside"),
            (20260101, None, "expected a date"),
        ],
    )
    def test_bad_windows_are_refused(self, start, end, message):
        with pytest.raises(PlanError, match=message):
            Validity(start, end)

    def test_a_one_day_window(self):
        """From and until the same day: that day."""
        assert (
            str(Validity(date(2026, 2, 28), date(2026, 2, 28)))
            == "from 2026-02-28 until 2026-02-28"
        )

    def test_only_charges_that_price_records_take_a_window(self):
        """A flat fee without a metric or a percentage has no records to select."""
        fee = cloudrate.plans.Flat(Money("5", "EUR"))
        with pytest.raises(PlanError, match="plan versions"):
            Charge(name="fee", model=fee, valid=Validity(date(2026, 1, 1)))
        with pytest.raises(PlanError, match="plan versions"):
            Charge(
                name="support",
                model=Percentage(percent=D(10), of=("c",), currency="EUR"),
                valid=Validity(date(2026, 1, 1)),
            )
        with pytest.raises(PlanError, match="expected a Validity"):
            Charge(name="c", metric="vm", model=PerUnit(Money(1, "EUR")), valid={"from": "x"})

    def test_the_plan_file_key(self):
        plan = load_plan(_plan({"valid": {"from": "2026-01-01", "until": "2026-06-30"}}))
        assert plan.charge("c").valid == Validity(date(2026, 1, 1), date(2026, 6, 30))
        assert dump_plan(plan)["charges"][0]["valid"] == {
            "from": "2026-01-01",
            "until": "2026-06-30",
        }
        assert load_plan(dump_plan(plan)) == plan
        assert load_plan(cloudrate.plans.plan_to_yaml(plan)) == plan
        assert load_plan(_plan({})).charge("c").valid is None

    def test_yaml_dates_are_read(self):
        plan = load_plan(
            "name: q\ncurrency: EUR\ncharges:\n  - {name: c, metric: vm, model: per_unit,"
            " unit_price: '1', valid: {from: 2026-01-01, until: 2026-06-30}}\n"
        )
        assert plan.charge("c").valid == Validity(date(2026, 1, 1), date(2026, 6, 30))

    @pytest.mark.parametrize(
        ("valid", "problems"),
        [
            ("2026-01-01", [("charges[0].valid", "not_a_mapping")]),
            ({"from": "2026-02-30"}, [("charges[0].valid.from", "bad_date")]),
            ({"since": "2026-01-01"}, [("charges[0].valid.since", "unknown_key")]),
            ({}, [("charges[0].valid", "bad_value")]),
            ({"from": "2026-07-01", "until": "2026-06-30"}, [("charges[0].valid", "bad_value")]),
            (
                {"from": "2026-01-01T00:00:00+00:00", "until": "x"},
                [("charges[0].valid.from", "bad_date"), ("charges[0].valid.until", "bad_date")],
            ),
        ],
    )
    def test_bad_windows_in_a_plan_file(self, valid, problems):
        """Every problem of a window, at its path, with the code of docs/errors.md."""
        with pytest.raises(ConfigError) as caught:
            load_plan(_plan({"valid": valid}))
        assert [(p.path, p.code) for p in caught.value.problems] == problems

    def test_a_window_on_a_percentage_is_not_applicable(self):
        data = _plan({})
        data["charges"].append(
            {
                "name": "support",
                "model": "percentage",
                "percent": "10",
                "of": ["c"],
                "valid": {"from": "2026-01-01"},
            }
        )
        with pytest.raises(ConfigError) as caught:
            load_plan(data)
        assert [(p.path, p.code) for p in caught.value.problems] == [
            ("charges[1].valid", "not_applicable")
        ]

    @given(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
        st.integers(min_value=0, max_value=400),
        st.booleans(),
        st.booleans(),
    )
    def test_round_trip(self, first, days, open_start, open_end):
        """Any window loads back equal from its dumped form."""
        last = date.fromordinal(first.toordinal() + days)
        valid = Validity(None if open_start and not open_end else first, None if open_end else last)
        plan = cloudrate.Plan(
            name="q",
            currency="EUR",
            charges=[Charge(name="c", metric="vm", model=PerUnit(Money(1, "EUR")), valid=valid)],
        )
        assert load_plan(dump_plan(plan)) == plan


class TestCompare:
    def test_cloudstack_activation_rule_on_the_cpu_count(self):
        """CloudStack's quotaTariffCreate applies a tariff whose activation rule gives
        true (https://cloudstack.apache.org/api/apidocs-4.20/apis/quotaTariffCreate.html):
        a rule ``value.computingResources.cpuNumber > 2`` is ``{cpunumber: {gt: 2}}`` on
        the imported RUNNING_VM record's ``cpunumber``."""
        where = read_condition({"cpunumber": {"gt": 2}})
        assert where == Compare("cpunumber", gt=D(2))
        assert [where.matches({"cpunumber": n}) for n in ("1", "2", "3", "16")] == [
            False,
            False,
            True,
            True,
        ]

    def test_bounds_on_both_sides(self):
        c = read_condition({"memory": {"gte": 2048, "lt": "8192"}})
        assert [c.matches({"memory": m}) for m in ("1024", "2048", "4096.5", "8192")] == [
            False,
            True,
            True,
            False,
        ]
        assert str(c) == "memory >= 2048 and memory < 8192"

    def test_a_value_that_is_not_a_number_is_not_selected(self):
        """As a missing attribute is not: text such as 'four', ' 4' or 'NaN' holds no
        number; the unpriced tally reports such records."""
        c = Compare("cpunumber", gte=D(1))
        assert not any(c.matches({"cpunumber": v}) for v in ("four", " 4", "NaN", "inf", "", "1_0"))
        assert not c.matches({})

    def test_with_other_conditions(self):
        """A comparison sits beside plain attributes and inside all/any/not."""
        c = read_condition({"zone": "z1", "not": {"cpunumber": {"lte": 2}}})
        assert c.matches({"zone": "z1", "cpunumber": "4"})
        assert not c.matches({"zone": "z1", "cpunumber": "2"})
        assert not c.matches({"zone": "z2", "cpunumber": "4"})

    def test_reserved_names_use_the_explicit_form(self):
        c = read_condition({"attribute": "not", "gt": 1})
        assert c == Compare("not", gt=D(1))
        assert c.to_data() == {"attribute": "not", "gt": "1"}
        assert read_condition(c.to_data()) == c

    @pytest.mark.parametrize(
        ("where", "problems"),
        [
            ({"cpu": {"gt": 1, "gte": 2}}, [("charges[0].where.cpu", "bad_value")]),
            ({"cpu": {"lt": 1, "lte": 2}}, [("charges[0].where.cpu", "bad_value")]),
            ({"cpu": {"gt": 4, "lt": 4}}, [("charges[0].where.cpu", "bad_value")]),
            ({"cpu": {"gt": "four"}}, [("charges[0].where.cpu", "bad_value")]),
            ({"cpu": {"gt": 1.5}}, [("charges[0].where.cpu.gt", "float")]),
            ({"cpu": {"gt": True}}, [("charges[0].where.cpu.gt", "not_a_number")]),
            ({"cpu": {"gt": [1]}}, [("charges[0].where.cpu.gt", "not_a_number")]),
            ({"cpu": {"eq": 2}}, [("charges[0].where.cpu.eq", "unknown_key")]),
            ({"cpu": {}}, [("charges[0].where.cpu", "missing")]),
            ({"attribute": "cpu", "gt": 1, "in": "2"}, [("charges[0].where.in", "bad_value")]),
            (
                {"all": [{"cpu": {"gt": "x"}}, {"mem": {"lt": 1.0}}]},
                [
                    ("charges[0].where.all[0].cpu", "bad_value"),
                    ("charges[0].where.all[1].mem.lt", "float"),
                ],
            ),
        ],
    )
    def test_bad_comparisons_are_reported_at_their_path(self, where, problems):
        with pytest.raises(ConfigError) as caught:
            load_plan(_plan({"where": where}))
        assert [(p.path, p.code) for p in caught.value.problems] == problems

    def test_bad_comparisons_in_python(self):
        with pytest.raises(PlanError, match="give a comparison"):
            Compare("cpu")
        with pytest.raises(PlanError, match="no number is cpu >= 3 and cpu <= 2"):
            Compare("cpu", gte=D(3), lte=D(2))
        assert Compare("cpu", gte=D(2), lte=D(2)).matches({"cpu": "2.00"})

    def test_round_trip_in_a_plan(self):
        where = {"any": [{"cpunumber": {"gt": 4}}, {"memory": {"gte": "16384", "lt": 65536}}]}
        plan = load_plan(_plan({"where": where}))
        assert load_plan(dump_plan(plan)) == plan
        assert load_plan(cloudrate.plans.plan_to_yaml(plan)) == plan

    @given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
    def test_numbers_as_text_read_back(self, number):
        """Any finite decimal written out reads back as the same number."""
        assert attribute_number(str(number)) == number

    @given(st.text(max_size=8))
    def test_the_number_syntax(self, text):
        """A text is a number only as digits with a sign, point and exponent: what
        Python's Decimal reads beyond that (spaces, underscores, NaN, Infinity) is not."""
        import re

        shape = re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text, re.ASCII)
        assert (attribute_number(text) is not None) == (shape is not None)


class TestMonthHours:
    def test_month_lengths(self):
        """CloudStack's DateUtil.getHoursInCurrentMonth: days of the month x 24."""
        hours = [month_seconds(2026, m) / 3600 for m in range(1, 13)]
        assert hours == [D(h) for h in (744, 672, 744, 720, 744, 720, 744, 744, 720, 744, 720, 744)]
        assert month_seconds(2028, 2) / 3600 == 696
        assert month_seconds(2100, 2) / 3600 == 672  # not a leap year

    def test_fixed_720_ignores_the_period(self):
        m = Metric(name="vm", unit="VM-month", usage_unit="VM-hour", month_hours="fixed_720")
        assert m.conversion(D(28 * 86400)) == m.conversion(D(31 * 86400)) == (D(1), D(720))
        period = Metric(name="vm", unit="VM-month", usage_unit="VM-hour")
        assert period.conversion(D(28 * 86400)) == (D(1), D(672))

    def test_months_in_the_usage_unit(self):
        """A month may be the records' unit: GB-months stored become GB-hours."""
        m = Metric(name="s", unit="GB-hour", usage_unit="GB-month", month_hours="actual")
        assert m.month_conversion(2026, 2) == (D(672), D(1))

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"unit": "VM-hour", "month_hours": "fixed_720"}, "converts no month"),
            ({"unit": "GB", "usage_unit": "byte", "month_hours": "actual"}, "converts no month"),
            (
                {"unit": "GB-month", "usage_unit": "GB-month", "month_hours": "actual"},
                "converts no",
            ),
            (
                {
                    "unit": "GB-month",
                    "usage_unit": "GB-hour",
                    "month_hours": "actual",
                    "aggregation": "average",
                },
                "aggregation must be sum",
            ),
            ({"unit": "GB-month", "usage_unit": "GB-hour", "month_hours": "30"}, "one of"),
        ],
    )
    def test_bad_settings(self, kwargs, message):
        with pytest.raises(PlanError, match=message):
            Metric(name="m", **kwargs)

    def test_the_plan_file_key(self):
        metrics = {"vm": {"unit": "VM-month", "usage_unit": "VM-hour", "month_hours": "actual"}}
        plan = load_plan(_plan({}, metrics))
        assert plan.metric("vm").month_hours == "actual"
        assert dump_plan(plan)["metrics"]["vm"]["month_hours"] == "actual"
        assert load_plan(dump_plan(plan)) == plan
        default = load_plan(_plan({}, {"vm": {"unit": "VM-month", "usage_unit": "VM-hour"}}))
        assert default.metric("vm").month_hours == "period"
        assert "month_hours" not in dump_plan(default)["metrics"]["vm"]

    @pytest.mark.parametrize(
        ("spec", "problem"),
        [
            (
                {"unit": "VM-month", "usage_unit": "VM-hour", "month_hours": "720"},
                ("metrics.vm.month_hours", "bad_choice"),
            ),
            (
                {"unit": "VM-hour", "month_hours": "fixed_720"},
                ("metrics.vm.month_hours", "bad_value"),
            ),
        ],
    )
    def test_bad_settings_in_a_plan_file(self, spec, problem):
        with pytest.raises(ConfigError) as caught:
            load_plan(_plan({}, {"vm": spec}))
        assert [(p.path, p.code) for p in caught.value.problems] == [problem]
