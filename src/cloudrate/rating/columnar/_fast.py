"""Per-account totals priced vectorised on exact integers: the fast path for big runs.

Prices are turned into integers at a common scale, every aggregated quantity is an
integer at the aggregator's scale, so an amount is ``quantity * price`` exactly, at
scale ``quantity scale + price scale``. Each multiply and add is bounded first and moves
to Python ints when int64 could overflow (:mod:`cloudrate.rating.columnar._exact`). Rounding is
integer division with the policy's mode. Plans with charges this module does not price
(percentage, minimum, per-resource flat fees, unit conversions) go through
:func:`~cloudrate.rating.columnar.finish` instead, which gives the same totals, slower.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.period import BillingPeriod
from cloudrate.plans import Flat, Graduated, Package, PerUnit, Plan, Volume

from ._aggregate import Aggregator
from ._columns import batches
from ._exact import LIMIT, exact_add, exact_mul, magnitude, to_int64_or_object
from ._finish import default_period, finish
from ._partials import to_partials

__all__ = ["account_totals", "totals_of"]


def _digits(d: Decimal) -> int:
    exponent = d.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _scaled(d: Decimal, scale: int) -> int | None:
    """``d * 10**scale`` when it is a whole number, else None."""
    v = d.scaleb(scale, EXACT)
    return int(v) if v == v.to_integral_value() else None


def _vectorisable(plan: Plan) -> bool:
    for charge in plan.charges:
        model = charge.model
        if isinstance(model, Flat):
            if charge.metric is not None:
                return False
            continue
        if not isinstance(model, PerUnit | Graduated | Volume | Package):
            return False
        assert charge.metric is not None
        metric = plan.metric(charge.metric)
        if metric.aggregation != "sum" or metric.converts:
            return False
    return True


def _prices(plan: Plan) -> list[Decimal]:
    out: list[Decimal] = []
    for charge in plan.charges:
        model: Any = charge.model
        for field in ("unit_price", "block_price", "price_per_period"):
            if hasattr(model, field):
                out.append(getattr(model, field).amount)
        for tier in getattr(model, "tiers", ()):
            out.append(tier.unit_price.amount)
            if tier.flat_price is not None:
                out.append(tier.flat_price.amount)
    return out


def _round(amount: np.ndarray, shift: int, mode: str) -> np.ndarray:
    """Round non-negative integers at scale A to scale A - *shift* with *mode*."""
    if shift <= 0:
        return exact_mul(amount, 10**-shift)
    d = 10**shift
    if amount.dtype != object and d > LIMIT // 2:
        amount = amount.astype(object)
    q, r = amount // d, amount % d
    if mode == "half_up":
        up = 2 * r >= d
    elif mode == "half_even":
        up = (2 * r > d) | ((2 * r == d) & (q % 2 == 1))
    elif mode in ("up", "ceiling"):
        up = r > 0
    else:  # down, floor: amounts are never negative here
        return q
    up = up.astype(bool)
    return q + (up.astype(np.int64) if q.dtype != object else up.astype(object))


def _price(model: Any, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
    """Exact amounts at scale *a* of quantities *qty* at scale *s*; None if not integral."""
    p = a - s  # price scale
    if isinstance(model, PerUnit):
        price = _scaled(model.unit_price.amount, p)
        return None if price is None else exact_mul(qty, price)
    if isinstance(model, Package):
        block = _scaled(model.block_size, s)
        price = _scaled(model.block_price.amount, a)
        if block is None or price is None:
            return None
        blocks = (
            (qty + (block - 1)) // block
            if magnitude(qty) + block <= LIMIT
            else (qty.astype(object) + (block - 1)) // block
        )
        return exact_mul(blocks, price)
    tiers = []
    for tier in model.tiers:
        up = None if tier.up_to is None else _scaled(tier.up_to, s)
        price = _scaled(tier.unit_price.amount, p)
        flat = 0 if tier.flat_price is None else _scaled(tier.flat_price.amount, a)
        if (tier.up_to is not None and up is None) or price is None or flat is None:
            return None
        tiers.append((up, price, flat))
    total: np.ndarray = np.zeros(len(qty), dtype=np.int64)
    if isinstance(model, Graduated):
        lower = 0
        for up, price, flat in tiers:
            units = qty - lower
            units = np.where(units > 0, units, 0)
            if up is not None:
                units = np.minimum(units, up - lower)
            total = exact_add(total, exact_mul(to_int64_or_object(units), price))
            if flat:
                reached = (qty > lower).astype(bool).astype(np.int64)
                total = exact_add(total, exact_mul(reached, flat))
            if up is None:
                break
            lower = up
        return total
    # Volume: all units at the tier holding the whole quantity
    lower = 0
    placed = (qty == 0).astype(bool)
    for up, price, flat in tiers:
        here = ~placed if up is None else (~placed) & (qty <= up).astype(bool)
        part = exact_mul(np.where(here, qty, 0), price)
        total = exact_add(total, part)
        if flat:
            total = exact_add(total, exact_mul(here.astype(np.int64), flat))
        placed = placed | here
    return total


def totals_of(agg: Aggregator, accounts: Iterable[str], policy: RoundingPolicy) -> pa.Table | None:
    """Per-account totals of an aggregator's state, or None if the plan needs finish()."""
    plan = agg.plan
    if not _vectorisable(plan):
        return None
    agg.check()
    s = agg.scale
    p = max([_digits(x) for x in _prices(plan)] + [0])
    a = s + p
    currency = plan.currency
    digits = policy.digits_for(currency)
    names = list(agg.account_names)
    known = np.zeros(len(names), dtype=bool)
    seen = agg.seen_mask()
    known[: len(seen)] = seen
    extra = [x for x in accounts if x not in agg.account_code]
    for name in dict.fromkeys(extra):
        names.append(name)
    known = np.concatenate([known, np.ones(len(names) - len(known), dtype=bool)])
    n = len(names)
    line_total: np.ndarray = np.zeros(n, dtype=np.int64)  # sum of rounded lines
    exact_total: np.ndarray = np.zeros(n, dtype=np.int64)  # sum of exact amounts (scale a)
    for slot, codes, keys, group in agg.sum_groups():
        charge = plan.charges[slot.index]
        q = group.values(keys)
        free = _scaled(charge.free_units, s)
        if free is None:
            return None
        qty = q - free if magnitude(q) + free <= LIMIT else q.astype(object) - free
        qty = np.where(qty > 0, qty, 0)
        qty = to_int64_or_object(qty) if qty.dtype == object else qty
        amount = _price(charge.model, qty, s, a)
        if amount is None:
            return None
        line_total = _add_at(line_total, codes, _round(amount, a - digits, policy.mode))
        exact_total = _add_at(exact_total, codes, amount)
    for charge in plan.charges:
        if isinstance(charge.model, Flat):  # per-account fee, a full period
            fee = _scaled(charge.model.price_per_period.amount, a)
            if fee is None:
                return None
            fees = np.where(known, fee, 0).astype(np.int64)
            line_total = exact_add(line_total, _round(fees, a - digits, policy.mode))
            exact_total = exact_add(exact_total, fees)
    if policy.placement == "total":
        totals = _round(to_int64_or_object(exact_total), a - digits, policy.mode)
    else:
        totals = line_total
    chosen = np.flatnonzero(known)
    table = pa.table(
        {
            "account": pa.array(names, pa.string()).take(pa.array(chosen)),
            "total": _to_decimal(to_int64_or_object(totals[chosen]), digits),
        }
    )
    table = table.take(pc.sort_indices(table, [("account", "ascending")]))
    return table.replace_schema_metadata({"currency": currency})


def _add_at(target: np.ndarray, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``target[codes] += values`` (codes unique), exactly; returns the (maybe widened) target."""
    if (
        target.dtype != object
        and values.dtype != object
        and (magnitude(target) + magnitude(values) <= LIMIT)
    ):
        target[codes] += values
        return target
    target = target.astype(object)
    target[codes] = target[codes] + values.astype(object)
    return target


def _to_decimal(values: np.ndarray, digits: int) -> pa.Array:
    kind = pa.decimal128(38, digits)
    if values.dtype != object:
        words = np.empty((len(values), 2), dtype=np.int64)
        words[:, 0] = values
        words[:, 1] = values >> np.int64(63)
        return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(words.tobytes())])
    return pa.array([Decimal(int(v)).scaleb(-digits, EXACT) for v in values], kind)


def account_totals(
    plan: Plan,
    data: Any,
    period: BillingPeriod | None = None,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
) -> pa.Table:
    """Each account's total (the sum of its rounded lines), as a table sorted by account.

    The same totals as ``cloudrate.rate(...).totals()``, computed on integers without
    building a line object per account and charge. Columns: ``account`` (string) and
    ``total`` (``decimal128(38, d)``, *d* the currency's minor digits); the schema
    metadata names the currency.

    >>> import cloudrate
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> t = account_totals(plan, to_table(usage))
    >>> dict(zip(t["account"].to_pylist(), t["total"].to_pylist())) == {
    ...     a: m.amount for a, m in cloudrate.rate(plan, usage).totals().items()}
    True
    """
    policy = rounding or plan.rounding
    accounts = list(accounts)
    if period is None:
        period, data = default_period(plan, data)
    plan.check_period(period)
    agg = Aggregator(plan, period, exponents=False)
    for part in batches(data):
        agg.add(part)
    table = totals_of(agg, accounts, policy)
    if table is not None:
        return table
    # Not priced here: finish() on the same aggregates. Their Decimal exponents were not
    # tracked (only how lines print depends on them), so the totals are the same.
    result = finish(plan, to_partials(agg), period, rounding=policy, accounts=accounts)
    totals = result.totals()
    digits = policy.digits_for(plan.currency)
    return pa.table(
        {
            "account": pa.array(list(totals), pa.string()),
            "total": pa.array([m.amount for m in totals.values()], pa.decimal128(38, digits)),
        }
    ).replace_schema_metadata({"currency": plan.currency})
