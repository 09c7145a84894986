"""Per-account totals priced vectorised on exact integers: the fast path for big runs.

Prices are turned into integers at a common scale, every aggregated quantity is an
integer at the aggregator's scale, so an amount is ``quantity * price`` exactly, at
scale ``quantity scale + price scale``. Each multiply and add is bounded first and moves
to Python ints when int64 could overflow (:mod:`cloudrate.rating.columnar._exact`). Rounding is
integer division with the policy's mode. A metric's rounding of the aggregate is
:meth:`~cloudrate.plans.QuantityRounding.apply_scaled` on the same integers; a charge
that bills without usage (``zero_usage: first_flat_fee``) is priced at 0 for every
account billed without records of it. Plans with charges this module does not price
(percentage, minimum, per-resource flat fees, unit conversions, records rounded one by
one) go through :func:`~cloudrate.rating.columnar.finish` instead, which gives the same
totals, slower.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate._intmath import (
    LIMIT,
    decimal_places,
    exact_add,
    exact_mul,
    magnitude,
    scaled_int,
    to_int64_or_object,
)
from cloudrate._money import EXACT, MAX_AMOUNT, RoundingMode, RoundingPolicy, divide_rounded
from cloudrate.period import BillingPeriod
from cloudrate.plans import Charge, Plan, VectorPricing
from cloudrate.rating import RatingResult, rate
from cloudrate.rating._slots import bills_unused

from ._aggregate import Aggregator
from ._columns import FixedPointRangeError
from ._dedup import aggregate
from ._finish import finish, period_and_data
from ._partials import to_partials
from ._per_record import can_read_again, records_of

__all__ = ["account_totals", "totals_of"]


def _vectorisable(plan: Plan) -> bool:
    """Whether every charge is priced here: usage models with a vectorised twin on summed
    metrics without unit conversion or records rounded one by one, and flat fees without
    a metric."""
    for charge in plan.charges:
        model = charge.model
        if model.basis == "period" and charge.metric is None:
            continue
        if model.basis != "usage" or not isinstance(model, VectorPricing):
            return False
        assert charge.metric is not None, "usage charges have a metric"
        metric = plan.metric(charge.metric)
        if metric.aggregation != "sum" or metric.converts or metric.rounds_records:
            return False
    return True


def rounded_used(
    plan: Plan, charge: Charge, used: np.ndarray, exps: np.ndarray | int, s: int
) -> tuple[np.ndarray, np.ndarray | int]:
    """The aggregated quantities of *charge* (integers at scale *s*, with their Decimal
    exponents) rounded as its metric rounds the aggregate (unchanged without rounding)."""
    assert charge.metric is not None, "usage charges have a metric"
    rounding = plan.metric(charge.metric).rounding
    if rounding is None:
        return used, exps
    return rounding.apply_scaled(used, exps, s)


def unused_billed(agg: Aggregator, charge: Charge) -> bool:
    """Whether *charge* is priced for the accounts with none of its records in the
    aggregator's period (:func:`~cloudrate.rating._slots.bills_unused`: zero_usage, its
    validity window overlapping the period)."""
    return bills_unused(charge, agg.period.start, agg.period.end, agg.plan.timezone)


def with_unused(
    unused: bool, codes: np.ndarray, values: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """*codes* and their *values*, and when the charge bills without usage (*unused*,
    :func:`unused_billed`) every other account code below *n* with the value 0 (the
    charge's price of no usage)."""
    if not unused:
        return codes, values
    every = np.zeros(n, dtype=values.dtype)
    every[codes] = values
    return np.arange(n, dtype=np.int64), every


def _price_places(plan: Plan) -> int:
    """The decimal places every price of the plan fits in."""
    places = [0]
    for charge in plan.charges:
        model = charge.model
        if isinstance(model, VectorPricing):
            places.extend(decimal_places(p) for p in model.prices())
        elif model.line_unit_price is not None:
            places.append(decimal_places(model.line_unit_price.amount))
    return max(places)


def _billed_accounts(agg: Aggregator, accounts: Iterable[str]) -> tuple[list[str], np.ndarray]:
    """The account names by code, and which of them get a bill: those with usage in the
    period and those named in *accounts* (billed even without usage)."""
    names = list(agg.account_names)
    known = np.zeros(len(names), dtype=bool)
    seen = agg.seen_mask()
    known[: len(seen)] = seen
    named = dict.fromkeys(accounts)
    codes = agg.account_code if named else {}  # built only when accounts are named
    for name in named:
        code = codes.get(name)
        if code is None:
            names.append(name)
        else:  # named in the input's dictionary, perhaps with no rows
            known[code] = True
    known = np.concatenate([known, np.ones(len(names) - len(known), dtype=bool)])
    return names, known


def _within_precision(model: VectorPricing, qty: np.ndarray, s: int, a: int) -> bool:
    """Whether every product of a quantity and a price fits the digits ``price()`` keeps
    (the EXACT context's): past them the scalar path rounds the product, so the integers
    here would not give the same amount, and the totals go through the scalar path."""
    largest = len(str(magnitude(qty)))
    for price in model.prices():
        scaled = scaled_int(price, a - s)
        if scaled is not None and largest + len(str(abs(scaled))) > EXACT.prec:
            return False
    return True


def _round(amount: np.ndarray, shift: int, mode: RoundingMode) -> np.ndarray:
    """Integers at scale A rounded to scale A - *shift* with *mode* (the policy's one rule)."""
    if shift <= 0:
        return exact_mul(amount, 10**-shift)
    d = 10**shift
    if amount.dtype != object and d > LIMIT:
        amount = amount.astype(object)
    return divide_rounded(amount, d, mode)


def totals_of(agg: Aggregator, accounts: Iterable[str], policy: RoundingPolicy) -> pa.Table | None:
    """Per-account totals of an aggregator's state, or None if the plan needs finish()."""
    plan = agg.plan
    if not _vectorisable(plan):
        return None
    agg.check()
    s = agg.scale
    a = s + _price_places(plan)
    currency = plan.currency
    digits = policy.digits_for(currency)
    names, known = _billed_accounts(agg, accounts)
    n = len(names)
    line_total: np.ndarray = np.zeros(n, dtype=np.int64)  # sum of rounded lines
    exact_total: np.ndarray = np.zeros(n, dtype=np.int64)  # sum of exact amounts (scale a)
    for slot, found, keys, group in agg.sum_groups():
        charge = plan.charges[slot.index]
        q, _ = rounded_used(plan, charge, group.values(keys), 0, s)
        codes, q = with_unused(unused_billed(agg, charge), found, q, n)
        free = scaled_int(charge.free_units, s)
        if free is None:
            return None
        qty = q - free if magnitude(q) + free <= LIMIT else q.astype(object) - free
        qty = np.where(qty > 0, qty, 0)
        qty = to_int64_or_object(qty) if qty.dtype == object else qty
        model = charge.model
        assert isinstance(model, VectorPricing), "checked by _vectorisable"
        if not _within_precision(model, qty, s, a):
            return None
        amount = model.price_scaled(qty, s, a)
        if amount is None or (amount.dtype == object and magnitude(amount) >= _bound(a)):
            return None  # priced line by line, which refuses amounts beyond MAX_AMOUNT
        line_total = _add_at(line_total, codes, _round(amount, a - digits, policy.mode))
        exact_total = _add_at(exact_total, codes, amount)
    for charge in plan.charges:
        if charge.model.basis == "period":  # per-account fee, a full period
            assert charge.model.line_unit_price is not None, "a flat fee has a price"
            fee = scaled_int(charge.model.line_unit_price.amount, a)
            if fee is None:
                return None
            fees = exact_mul(known.astype(np.int64), fee)
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
    return table.replace_schema_metadata(
        _metadata(currency, agg.duplicates_dropped, agg.corrections)
    )


def _bound(places: int) -> int:
    """:data:`MAX_AMOUNT` as an integer at *places* decimal places."""
    return int(MAX_AMOUNT) * 10**places


def _metadata(currency: str, duplicates: int, corrections: int) -> dict[str, str]:
    """The schema metadata of a totals table: the currency and the copies left out."""
    return {
        "currency": currency,
        "duplicates_dropped": str(duplicates),
        "corrections": str(corrections),
    }


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
    amounts = [Decimal(int(v)).scaleb(-digits, EXACT) for v in values]
    return pa.array(amounts, _total_type(amounts, digits))


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
    metadata names the ``currency`` and counts the copies of records left out
    (``duplicates_dropped``, ``corrections``, as decimal text; see
    :func:`cloudrate.usage.dedupe`).

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
    try:
        return _totals(plan, data, period, accounts, policy)
    except FixedPointRangeError:
        if not can_read_again(data):
            raise
    result = rate(plan, records_of(data), period, accounts=accounts, rounding=policy)
    return _totals_table(result, policy.digits_for(plan.currency))


def _totals(
    plan: Plan,
    data: Any,
    period: BillingPeriod | None,
    accounts: list[str],
    policy: RoundingPolicy,
) -> pa.Table:
    again = data if can_read_again(data) else None
    if period is None:
        period, data = period_and_data(plan, data)
    plan.check_period(period)
    agg = aggregate(plan, data, period, exponents=False, again=again)
    table = totals_of(agg, accounts, policy)
    if table is not None:
        return table
    # Not priced here: finish() on the same aggregates. Their Decimal exponents were not
    # tracked (only how lines print depends on them), so the totals are the same.
    result = finish(plan, to_partials(agg), period, rounding=policy, accounts=accounts)
    return _totals_table(result, policy.digits_for(plan.currency))


def _totals_table(result: RatingResult, digits: int) -> pa.Table:
    totals = result.totals()
    amounts = [m.amount for m in totals.values()]
    return pa.table(
        {
            "account": pa.array(list(totals), pa.string()),
            "total": pa.array(amounts, _total_type(amounts, digits)),
        }
    ).replace_schema_metadata(
        _metadata(result.currency, result.duplicates_dropped, result.corrections)
    )


def _total_type(amounts: Iterable[Decimal], digits: int) -> pa.DataType:
    """``decimal128(38, digits)``, or ``decimal256(76, digits)`` for totals that need it."""
    wide = any(abs(a) >= Decimal(10) ** (38 - digits) for a in amounts)
    return pa.decimal256(76, digits) if wide else pa.decimal128(38, digits)
