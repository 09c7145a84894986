"""The columnar line kernel: Decimal text of arrays, each model's ``price_lines`` and the
lines of :class:`LineColumns`, all against the per-record path (``str(Decimal)``,
``price()``, ``rate()``)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import BillingPeriod, rate
from cloudrate._money import EXACT
from cloudrate.plans import Plan
from cloudrate.rating.columnar import to_table
from cloudrate.rating.columnar._texts import decimal_texts
from cloudrate.rating.columnar.lines import LineColumns, rate_lines
from cloudrate.testing import charges, quantities, usage_records

PERIOD = BillingPeriod.month(2026, 10, "UTC")


@settings(max_examples=500)
@given(st.lists(st.tuples(st.integers(-(10**25), 10**25), st.integers(-15, 4)), min_size=1))
def test_decimal_texts_are_str_of_the_decimal(rows: list[tuple[int, int]]) -> None:
    scale = 15
    values = [c * 10 ** (scale + e) if scale + e >= 0 else c for c, e in rows]
    array = np.array(values, dtype=object)
    if all(abs(v) < 2**63 for v in values):
        array = array.astype(np.int64)
    got = decimal_texts(array, scale, np.array([e for _, e in rows]))
    assert got == [str(Decimal(c).scaleb(e)) for c, e in rows]


@settings(max_examples=300, deadline=None)
@given(charges(), st.lists(quantities(max_value=Decimal(10**5)), min_size=1, max_size=20))
def test_price_lines_gives_what_price_gives(charge, values: list[Decimal]) -> None:  # type: ignore[no-untyped-def]
    model = charge.model
    s = 6
    a = s + 12
    qty = np.array([int(v.scaleb(s)) for v in values], dtype=np.int64)
    exps = np.array([min(v.as_tuple().exponent, 0) for v in values], dtype=np.int64)
    quantities_as_written = [
        Decimal(int(q)).scaleb(-s).quantize(Decimal(1).scaleb(int(e)), context=EXACT)
        for q, e in zip(qty, exps, strict=True)
    ]
    priced = model.price_lines(qty, exps, s, a, decimal_texts)
    assert priced is not None
    for i, q in enumerate(quantities_as_written):
        want = model.price(q)
        amount = Decimal(int(priced.amount[i])).scaleb(-a)
        assert amount == want.amount.amount
        assert int(priced.exponent[i]) == want.amount.amount.as_tuple().exponent
        assert priced.explanation[i] == want.explain()


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_line_columns_are_the_lines_rate_builds(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 3))
    metrics = ("vcpu_hours", "memory_gb_hours", "storage_gb_hours")
    items = [data.draw(charges(metric=metrics[i], name=f"c{i}")) for i in range(count)]
    plan = Plan(name="p", currency="EUR", charges=items)
    records = data.draw(
        st.lists(usage_records(metrics=st.sampled_from(metrics[:count])), min_size=1, max_size=30)
    )
    rated = rate_lines(plan, to_table(records), PERIOD, accounts=["zz"])
    want = rate(plan, records, PERIOD, accounts=["zz"])
    assert isinstance(rated, LineColumns)
    # rate_lines does not report usage without a price (a charge's window may leave some)
    assert rated.result() == attrs.evolve(want, unpriced=())
    texts = rated.texts(0, len(rated.accounts))
    lines = want.lines
    assert texts.quantity == [str(x.quantity) for x in lines]
    assert texts.exact == [str(x.amount.amount) for x in lines]
    assert texts.rounded == [str(x.rounded.amount) for x in lines]
    assert texts.explanation == [x.explain() for x in lines]
    assert [int(t) for t in rated.totals.tolist()] == [
        int(b.total.amount.scaleb(2)) for b in want.bills
    ]


def test_decimal_texts_at_scales_beyond_int64() -> None:
    values = np.array([0, 5, 10**18], dtype=np.int64)
    assert decimal_texts(values, 24, -24) == [str(Decimal(int(v)).scaleb(-24)) for v in values]
    assert decimal_texts(values[::2], 24, -6) == ["0.000000", "0.000001"]
