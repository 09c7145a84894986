"""``QuantityRounding``: a metric's quantity rounded before pricing (Lago's billable metric
``rounding_function`` and ``rounding_precision``; CloudStack quota's bytes to GiB per
record).

Lago rounds the aggregated value of a billable metric with ``round``, ``ceil`` or
``floor`` at a precision, negative precisions to tens and hundreds
(https://getlago.com/docs/guide/billable-metrics/rounding), with Ruby's ``BigDecimal``
methods (getlago/lago-api app/services/billable_metrics/aggregations/
apply_rounding_service.rb), whose ``round`` rounds ties away from zero by default
(``ROUND_HALF_UP``, ruby/bigdecimal ext/bigdecimal/bigdecimal.c: "round towards the
nearest neighbor, unless both neighbors are equidistant, in which case round away from
zero"). The expected values here come from those pages or from Python's own
``Decimal.quantize``, never from the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    localcontext,
)

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloudrate import ConfigError, Metric, PlanError, dump_plan, load_plan
from cloudrate._money import MAX_QUANTITY
from cloudrate.plans import (
    QUANTITY_ROUNDING_MODES,
    ROUNDING_PER,
    QuantityRounding,
    plan_to_yaml,
)
from cloudrate.testing import quantities, quantity_roundings

D = Decimal

_PYTHON = {
    "round": ROUND_HALF_UP,  # ties away from zero, as Ruby's round
    "half_even": ROUND_HALF_EVEN,
    "ceil": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}


def _oracle(quantity: Decimal, mode: str, precision: int) -> Decimal:
    """The rounded value by Python's decimal module, in a context wide enough for any
    quantity cloudrate takes."""
    with localcontext(Context(prec=300, Emax=10**6, Emin=-(10**6))):
        step = Decimal(1).scaleb(-precision)
        return (quantity / step).quantize(Decimal(1), rounding=_PYTHON[mode]) * step


#: Quantities up to the largest cloudrate takes, with up to 20 decimals.
_QUANTITIES = st.one_of(
    quantities(max_value=D(10**6), places=6),
    st.decimals(min_value=0, max_value=MAX_QUANTITY - 1, places=0),
    st.decimals(min_value=0, max_value=D(10**6), places=20),
    st.sampled_from([D(0), D("0.5"), D("2.5"), D("125"), D("1E+3"), D("9" * 35 + ".9")]),
)


class TestLagoExamples:
    @pytest.mark.parametrize(("precision", "expected"), [(0, "123"), (2, "123.46"), (-1, "120")])
    def test_rounding_page(self, precision, expected):
        """https://getlago.com/docs/guide/billable-metrics/rounding: 123.4567 rounded
        with no precision is 123, with precision 2 is 123.46, with precision -1 is 120."""
        got = QuantityRounding("round", precision).apply(D("123.4567"))
        assert str(got) == expected

    def test_ceil_and_floor_of_the_same_value(self):
        """The same page's ceil (up) and floor (down) to the nearest integer."""
        assert QuantityRounding("ceil").apply(D("123.4567")) == 124
        assert QuantityRounding("floor").apply(D("123.4567")) == 123

    def test_ruby_bigdecimal_round(self):
        """Ruby's BigDecimal#round (https://www.apidock.com/ruby/BigDecimal/round):
        BigDecimal('3.14159').round(3) is 3.142 and BigDecimal('13345.234').round(-2)
        is 13300; ties go away from zero (8.5 to 9), unlike half_even (8.5 to 8)."""
        assert QuantityRounding("round", 3).apply(D("3.14159")) == D("3.142")
        assert QuantityRounding("round", -2).apply(D("13345.234")) == 13300
        assert QuantityRounding("round").apply(D("8.5")) == 9
        assert QuantityRounding("half_even").apply(D("8.5")) == 8
        assert QuantityRounding("half_even").apply(D("9.5")) == 10

    def test_cloudstack_bytes_to_gib(self):
        """apache/cloudstack framework/quota/.../QuotaManagerImpl.java divides a record's
        bytes by 1 GiB at 8 decimals, half even: 1,500,000,000 bytes are
        1.396983861923... GiB, 1.39698386."""
        gib = Metric(
            name="disk",
            unit="GiB",
            usage_unit="byte",
            rounding=QuantityRounding("half_even", 8, per="record"),
        )
        scale = gib.record_scale(D(31 * 86400))
        assert scale is not None
        october = datetime(2026, 10, 5, tzinfo=UTC)  # the record's start: a byte has no month
        assert scale(D(1500000000), october) == D("1.39698386")


class TestApply:
    @given(
        quantity=_QUANTITIES,
        mode=st.sampled_from(QUANTITY_ROUNDING_MODES),
        precision=st.integers(-3, 12),
    )
    @example(quantity=D("0.5"), mode="round", precision=0)
    @example(quantity=D("2.5"), mode="half_even", precision=0)
    @example(quantity=D("125"), mode="round", precision=-1)
    @example(quantity=D("125"), mode="half_even", precision=-1)
    @example(quantity=D("9" * 35 + ".9"), mode="ceil", precision=-3)
    def test_value_is_python_s_quantize(self, quantity, mode, precision):
        """Every mode at precisions from -3 (thousands) to 12 decimals gives the value
        Python's decimal module gives with the matching rounding."""
        assert QuantityRounding(mode, precision).apply(quantity) == _oracle(
            quantity, mode, precision
        )

    @given(
        quantity=_QUANTITIES,
        mode=st.sampled_from(QUANTITY_ROUNDING_MODES),
        precision=st.integers(-35, 100),
    )
    def test_value_at_every_precision_allowed(self, quantity, mode, precision):
        assert QuantityRounding(mode, precision).apply(quantity) == _oracle(
            quantity, mode, precision
        )

    @given(quantity=_QUANTITIES, rounding=quantity_roundings())
    def test_how_the_result_is_written(self, quantity, rounding):
        """A quantity with no digits past the precision is kept as written; a rounded one
        has exactly the precision's decimals (none for a negative precision)."""
        got = rounding.apply(quantity)
        exponent = quantity.as_tuple().exponent
        if exponent >= -rounding.precision:
            assert str(got) == str(quantity)
        else:
            assert got.as_tuple().exponent == min(-rounding.precision, 0)

    @given(quantity=_QUANTITIES, rounding=quantity_roundings())
    def test_rounding_twice_changes_nothing(self, quantity, rounding):
        once = rounding.apply(quantity)
        assert str(rounding.apply(once)) == str(once)

    @given(a=_QUANTITIES, b=_QUANTITIES, rounding=quantity_roundings())
    def test_more_never_rounds_to_less(self, a, b, rounding):
        lo, hi = sorted((a, b))
        assert rounding.apply(lo) <= rounding.apply(hi)

    @given(quantity=_QUANTITIES, precision=st.integers(-3, 12))
    def test_ceil_floor_and_round_bracket_the_quantity(self, quantity, precision):
        """floor <= quantity <= ceil, one step apart at most; round is within half a step."""
        step = D(1).scaleb(-precision)
        up = QuantityRounding("ceil", precision).apply(quantity)
        down = QuantityRounding("floor", precision).apply(quantity)
        near = QuantityRounding("round", precision).apply(quantity)
        with localcontext(Context(prec=300)):
            assert down <= quantity <= up
            assert up - down in (0, step)
            assert abs(near - quantity) * 2 <= step

    @given(
        values=st.lists(_QUANTITIES, min_size=1, max_size=10),
        rounding=quantity_roundings(),
        extra=st.integers(0, 3),
    )
    def test_vectorised_twin_is_apply(self, values, rounding, extra):
        """apply_scaled on integers at scale s (int64, or Python ints past it) with each
        quantity's exponent gives the value and exponent apply gives, row by row."""
        wide = Context(prec=300)
        written = [
            v.quantize(D(1).scaleb(min(int(v.as_tuple().exponent), 0)), context=wide)
            for v in values
        ]
        exps = [int(v.as_tuple().exponent) for v in written]
        s = max(-e for e in exps) + extra
        ints = [int(v.scaleb(s, wide)) for v in written]
        big = any(abs(i) >= 2**63 for i in ints)
        qty = np.array(ints, dtype=object if big else np.int64)
        got, got_exps = rounding.apply_scaled(qty, np.array(exps, dtype=np.int64), s)
        got_exps = np.broadcast_to(got_exps, got.shape).tolist()
        for v, g, ge in zip(written, got.tolist(), got_exps, strict=True):
            want = rounding.apply(v)
            assert D(int(g)).scaleb(-s, wide) == want
            assert ge == want.as_tuple().exponent


class TestErrors:
    @pytest.mark.parametrize(
        ("args", "kwargs", "message"),
        [
            (("cail",), {}, "rounding.mode: must be one of round, half_even, ceil, floor"),
            (("half_up",), {}, "must be one of round, half_even, ceil, floor"),
            (("ceil", 2.5), {}, "rounding.precision: expected a whole number"),
            (("ceil", "2"), {}, "expected a whole number"),
            (("ceil", True), {}, "expected a whole number"),
            (("ceil", D(2)), {}, "expected a whole number"),
            (("ceil", 101), {}, "must be from -35 to 100"),
            (("ceil", -36), {}, "must be from -35 to 100"),
            (("ceil", 2), {"per": "records"}, "rounding.per: must be one of aggregate, record"),
        ],
    )
    def test_bad_settings_are_refused(self, args, kwargs, message):
        with pytest.raises(PlanError, match=message):
            QuantityRounding(*args, **kwargs)

    def test_metric_rounding_must_be_a_quantity_rounding(self):
        with pytest.raises(PlanError, match="rounding: expected a QuantityRounding"):
            Metric(name="m", rounding={"mode": "ceil"})  # type: ignore[arg-type]

    def test_plan_file_problems_are_reported_together(self):
        """Every problem of every metric's rounding, each at its path with its code."""
        text = """
name: P
currency: EUR
metrics:
  a: {rounding: {mode: cail, precision: 2}}
  b: {rounding: {precision: 2.5}}
  c: {rounding: {mode: floor, precision: -36, per: records}}
  d: {rounding: ceil}
  e: {rounding: {mode: ceil, precision: "2", digits: 2}}
charges: [{name: c, metric: a, model: per_unit, unit_price: 1}]
"""
        with pytest.raises(ConfigError) as caught:
            load_plan(text)
        found = {(p.path, p.code) for p in caught.value.problems}
        assert found == {
            ("metrics.a.rounding.mode", "bad_choice"),
            ("metrics.b.rounding.mode", "missing"),
            ("metrics.b.rounding.precision", "not_whole"),
            ("metrics.c.rounding.precision", "out_of_range"),
            ("metrics.c.rounding.per", "bad_choice"),
            ("metrics.d.rounding", "not_a_mapping"),
            ("metrics.e.rounding.precision", "not_whole"),
            ("metrics.e.rounding.digits", "unknown_key"),
        }
        assert "did you mean 'ceil'" in str(caught.value)


class TestPlanFiles:
    def test_keys_load_dump_and_round_trip(self):
        """``rounding: {mode, precision, per}`` on a metric loads, dumps (per only when
        not the default) and loads back equal, as plain data and as YAML."""
        plan = load_plan(
            """
name: P
currency: EUR
metrics:
  api_calls: {rounding: {mode: ceil, precision: -2}}
  disk: {unit: GiB, usage_unit: byte, rounding: {mode: half_even, precision: 8, per: record}}
  hours: {unit: hour, rounding: {mode: round}}
charges:
  - {name: calls, metric: api_calls, model: per_unit, unit_price: 1}
  - {name: disk, metric: disk, model: per_unit, unit_price: 1}
  - {name: hours, metric: hours, model: per_unit, unit_price: 1}
"""
        )
        assert plan.metric("api_calls").rounding == QuantityRounding("ceil", -2)
        assert plan.metric("disk").rounding == QuantityRounding("half_even", 8, per="record")
        assert plan.metric("hours").rounding == QuantityRounding("round", 0)
        data = dump_plan(plan)
        assert data["metrics"]["api_calls"]["rounding"] == {"mode": "ceil", "precision": -2}
        assert data["metrics"]["disk"]["rounding"] == {
            "mode": "half_even",
            "precision": 8,
            "per": "record",
        }
        assert load_plan(data) == plan
        assert load_plan(plan_to_yaml(plan)) == plan

    @given(rounding=quantity_roundings(precisions=st.integers(-35, 100)))
    def test_any_rounding_round_trips(self, rounding):
        plan = load_plan(
            {
                "name": "P",
                "currency": "EUR",
                "metrics": {"m": {"rounding": rounding.to_dict()}},
                "charges": [{"name": "c", "metric": "m", "model": "per_unit", "unit_price": "1"}],
            }
        )
        assert plan.metric("m").rounding == rounding
        assert load_plan(plan_to_yaml(plan)) == plan

    def test_names(self):
        assert QUANTITY_ROUNDING_MODES == ("round", "half_even", "ceil", "floor")
        assert ROUNDING_PER == ("aggregate", "record")
