"""Every rated line of a vectorisable plan as arrays: the columnar line kernel.

:func:`~cloudrate.rating.columnar._fast.totals_of` prices whole arrays but keeps only
each account's total. :class:`LineColumns` keeps every line (one per account and charge,
as :func:`~cloudrate.rating._pricing.price_bill` makes them): the aggregated quantity
with the Decimal exponent the per-record sum has, free units, the priced quantity, the
exact amount (integers at the plan's amount scale, with the exponent the model's
``price()`` gives it) and the rounded amount. The text a line's documents need (numbers
as ``str(Decimal)`` writes them, the explanation) is written for a range of bills at a
time (:meth:`LineColumns.texts`), so a run holds the text of one batch only; the same
lines as objects (:class:`~cloudrate.rating.AccountBill`) are built on access
(:meth:`LineColumns.bill`), through ``price_bill`` itself.

It covers the plans ``totals_of`` covers, with lines rounded one by one (placement
``line``) and non-negative quantities; :meth:`LineColumns.build` returns None for any
other plan, which goes through :func:`~cloudrate.rating.columnar.finish`.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np

from cloudrate._intmath import LIMIT, exact_mul, magnitude, scaled_int, to_int64_or_object
from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.plans import Charge, Plan
from cloudrate.rating import AccountBill, RatingResult
from cloudrate.rating._accumulate import Acc
from cloudrate.rating._pricing import price_bill

from ._aggregate import Aggregator
from ._fast import (
    _add_at,
    _billed_accounts,
    _bound,
    _price_places,
    _round,
    _vectorisable,
    _within_precision,
    rounded_used,
    unused_billed,
    with_unused,
)
from ._texts import decimal_texts, decimal_values

__all__ = ["LineColumns", "LineTexts"]


@attrs.frozen
class LineTexts:
    """The text of the lines of a range of bills, line by line in bill order: the charge
    index, ``str()`` of the priced quantity, the exact and the rounded amount, and the
    explanation (:meth:`~cloudrate.rating.RatedLine.explain`)."""

    charge: list[int]
    quantity: list[str]
    exact: list[str]
    rounded: list[str]
    explanation: list[str]


@attrs.frozen
class _Charged:
    """What a usage charge's lines are priced from and come to (arrays by line): the
    aggregated quantity as rounded by the metric, free units, the priced quantity, the
    exact and the rounded amount."""

    used: np.ndarray
    used_exp: np.ndarray
    free: np.ndarray
    free_exp: np.ndarray
    qty: np.ndarray
    qty_exp: np.ndarray
    amount: np.ndarray
    rounded: np.ndarray


class LineColumns:
    """The lines of every bill of a run, as arrays (see the module's description).

    Bills are in account order (as :func:`cloudrate.rate` gives them); a bill's lines in
    plan order, ``starts[i]:starts[i + 1]``. *rounded* holds every line's billed amount
    and *totals* every bill's, as integers at the currency's digits.
    """

    def __init__(
        self,
        agg: Aggregator,
        policy: RoundingPolicy,
        names: list[str],
        columns: dict[str, np.ndarray],
        *,
        starts: np.ndarray | None = None,
        totals: np.ndarray | None = None,
    ) -> None:
        self.plan, self.period, self.policy = agg.plan, agg.period, policy
        self.scale = agg.scale
        self.amount_scale = agg.scale + _price_places(agg.plan)
        self.digits = policy.digits_for(agg.plan.currency)
        self.accounts = names
        self.duplicates_dropped, self.corrections = agg.duplicates_dropped, agg.corrections
        self.charge: np.ndarray = columns["charge"]
        self.used: np.ndarray = columns["used"]
        self.used_exp: np.ndarray = columns["used_exp"]
        self.records: np.ndarray = columns["records"]
        self.rounded: np.ndarray = columns["rounded"]
        if starts is None or totals is None:
            starts, totals = _starts_and_totals(columns["bill"], self.rounded, len(names))
        # no bill column is kept: :attr:`bill_of` makes it from the starts when asked
        self.starts: np.ndarray = starts
        self.totals = to_int64_or_object(totals) if totals.dtype == object else totals

    @property
    def bill_of(self) -> np.ndarray:
        """The bill of each line (bill-major order: made from :attr:`starts`)."""
        return np.repeat(np.arange(len(self.accounts), dtype=np.int64), np.diff(self.starts))

    # --- building ---------------------------------------------------------------------

    @classmethod
    def build(
        cls, agg: Aggregator, accounts: Iterable[str], policy: RoundingPolicy
    ) -> LineColumns | None:
        """The lines of *agg*'s bills (and of *accounts*, billed without usage), or None
        when the plan, the policy or the amounts need the per-line path."""
        plan = agg.plan
        if not _vectorisable(plan) or policy.placement != "line" or agg.slow:
            return None
        agg.check()
        names, known = _billed_accounts(agg, accounts)
        chosen = np.flatnonzero(known)
        # bills in account order (Python's order of the names, as sorted() gives it)
        order = chosen[np.argsort(np.array(names, dtype=object)[chosen], kind="stable")]
        rank = np.full(len(names), -1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        charges = _ChargeLines(agg, rank, chosen)
        columns = charges.place(len(order))
        s = agg.scale
        a = s + _price_places(plan)
        # each charge's lines written straight into their places (bill-major, then plan
        # order), a block at a time: one set of full-length columns, in their small
        # types, and the temporaries of one block
        for index, charge in enumerate(plan.charges):
            if charge.model.basis == "period":
                bills = charges.bills(index)
                assert bills is not None, "a flat fee has a line on every bill"
                for lo in range(0, len(bills), _BLOCK):
                    block = bills[lo : lo + _BLOCK]
                    part = _flat_part(charge, block, a, policy, plan.currency)
                    columns = charges.put(columns, part, (block, index))
            elif index in charges.slots:
                codes, used, exps, counts = charges.usage(index)
                bills = rank[codes]
                keep = bills >= 0
                bills, used, exps, counts = bills[keep], used[keep], exps[keep], counts[keep]
                for lo in range(0, len(bills), _BLOCK):
                    block = bills[lo : lo + _BLOCK]
                    found = _usage_part(
                        plan,
                        charge,
                        used[lo : lo + _BLOCK],
                        exps[lo : lo + _BLOCK],
                        (s, a),
                        policy,
                    )
                    if found is None:
                        return None
                    found["records"] = counts[lo : lo + _BLOCK]
                    if not _fits_small(found):
                        return None
                    columns = charges.put(columns, found, (block, index))
        names = [names[i] for i in order.tolist()]
        return cls(agg, policy, names, columns, starts=charges.starts, totals=charges.totals)

    # --- text ---------------------------------------------------------------------------

    def texts(self, lo: int, hi: int) -> LineTexts:
        """The text of the lines of bills *lo* to *hi* (excluded)."""
        first, last = int(self.starts[lo]), int(self.starts[hi])
        charges = self.charge[first:last]
        n = last - first
        columns = [np.empty(n, dtype=object) for _ in range(4)]
        for index in np.unique(charges).tolist():
            rows = np.flatnonzero(charges == index)
            texts = self._charge_texts(index, first + rows)
            for column, values in zip(columns, texts, strict=True):
                column[rows] = values
        quantity, exact, rounded, explanation = (c.tolist() for c in columns)
        return LineTexts(charges.tolist(), quantity, exact, rounded, explanation)

    def _charge_texts(self, index: int, rows: np.ndarray) -> tuple[list[str], ...]:
        charge = self.plan.charges[index]
        s, a, d = self.scale, self.amount_scale, self.digits
        rounded = self.rounded[rows]
        rounded_texts = decimal_texts(rounded, d, -d)
        if charge.model.basis == "period":
            line = _flat_line(charge, a, self.policy, self.plan.currency)
            count = len(rows)
            return [line[0]] * count, [line[1]] * count, rounded_texts, [line[2]] * count
        raw, raw_exp = self.used[rows], self.used_exp[rows].astype(np.int64)
        part = _charged(self.plan, charge, raw, raw_exp, (s, a), self.policy)
        used, used_exp = part.used, part.used_exp
        texts = _Memo()
        priced = getattr(charge.model, "price_lines")(  # noqa: B009 - duck-typed
            part.qty, part.qty_exp, s, a, texts
        )
        qty_texts = texts(part.qty, s, part.qty_exp)
        exact_texts = texts(priced.amount, a, priced.exponent)
        unit = self.plan.metric(charge.metric).unit if charge.metric else "period"
        explanation = []
        steps_free = _free_steps(part, used, used_exp, s, unit)
        differs = (exact_mul(to_int64_or_object(rounded), 10 ** (a - d)) != priced.amount).tolist()
        for free, details, x, r, rounds in zip(
            steps_free, priced.explanation, exact_texts, rounded_texts, differs, strict=True
        ):
            text = details
            if free:
                text = f"{free}\n{text}" if text else free
            if rounds:
                text = f"{text}\nrounded {x} to {r}" if text else f"rounded {x} to {r}"
            explanation.append(text)
        return qty_texts, exact_texts, rounded_texts, explanation

    # --- objects ------------------------------------------------------------------------

    def bill(self, i: int) -> AccountBill:
        """Bill *i* as objects: its lines built by ``price_bill`` from the aggregates."""
        account = self.accounts[i]
        first, last = int(self.starts[i]), int(self.starts[i + 1])
        rows = np.arange(first, last)
        values = decimal_values(self.used[rows], self.scale, self.used_exp[rows].astype(np.int64))
        charges = self.plan.charges
        accs = {
            (account, int(c)): Acc(v, int(n))
            for c, v, n in zip(
                self.charge[rows].tolist(), values, self.records[rows].tolist(), strict=True
            )
            if charges[c].metric is not None
        }
        with decimal.localcontext(EXACT):
            return price_bill(self.plan, self.period, self.policy, account, accs)

    def result(self, bills: Sequence[int] | None = None) -> RatingResult:
        """The :class:`~cloudrate.rating.RatingResult` of these lines (of *bills* only)."""
        chosen = range(len(self.accounts)) if bills is None else bills
        return RatingResult(
            plan=self.plan,
            period=self.period,
            rounding=self.policy,
            bills=tuple(self.bill(i) for i in chosen),
            duplicates_dropped=self.duplicates_dropped,
            corrections=self.corrections,
        )


#: Lines priced at a time (bounds the temporaries of pricing a charge's lines).
_BLOCK = 1 << 15

#: The line columns and their types (small ones where the values fit, to keep a run's
#: memory low: a line costs 22 bytes; its bill is where it lies, see ``starts``).
_TYPES: dict[str, Any] = {
    "charge": np.int16,
    "used": np.int64,
    "used_exp": np.int16,
    "records": np.int32,
    "rounded": np.int64,
}


class _Memo:
    """:func:`decimal_texts` that writes the same arrays once (a model's explanation and
    the line's own fields often need the text of the same quantities and amounts)."""

    def __init__(self) -> None:
        self._done: list[tuple[np.ndarray, int, np.ndarray | int, list[str]]] = []

    def __call__(self, values: np.ndarray, scale: int, exps: np.ndarray | int) -> list[str]:
        for v, sc, e, texts in self._done:
            if v is values and sc == scale and e is exps:
                return texts
        texts = decimal_texts(values, scale, exps)
        self._done.append((values, scale, exps, texts))
        return texts


def _fits_small(part: dict[str, np.ndarray]) -> bool:
    """Whether the counts and exponents of *part* fit their small column types."""
    for name in ("records", "used_exp"):
        values = part[name]
        limits = np.iinfo(_TYPES[name])
        if len(values) and (int(values.max()) > limits.max or int(values.min()) < limits.min):
            return False
    return True


def _starts_and_totals(
    bill: np.ndarray, rounded: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where each of *count* bills starts in a bill column (bill-major) and its total
    (needles of the column's own type and sums a block at a time: no int64 copy)."""
    starts = np.searchsorted(bill, np.arange(count + 1, dtype=bill.dtype))
    totals = np.zeros(count, dtype=object if rounded.dtype == object else np.int64)
    for lo in range(0, len(bill), _BLOCK):
        np.add.at(totals, bill[lo : lo + _BLOCK], rounded[lo : lo + _BLOCK])
    return starts, totals


class _ChargeLines:
    """Which bills each charge has a line on, and where each line goes in the columns:
    bill-major, a bill's lines in plan order."""

    def __init__(self, agg: Aggregator, rank: np.ndarray, chosen: np.ndarray) -> None:
        self.agg, self.rank, self.chosen = agg, rank, chosen
        self.slots = {
            slot.index: slot for slots in agg.slots.values() for slot in slots if slot.adds_raw
        }
        self.filled = np.zeros(0, dtype=np.int64)
        self.starts = np.zeros(1, dtype=np.int64)
        self.totals: np.ndarray = np.zeros(0, dtype=np.int64)  # each bill's, added up

    def usage(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(account codes, aggregates, their exponents, record counts) of the sum charge
        *index*, with the accounts it bills without usage (``zero_usage``) at zero; one
        entry an account, made when asked (one charge's at a time)."""
        codes, keys, group = self.agg.sum_group(self.slots[index])
        unused = unused_billed(self.agg, self.agg.plan.charges[index])
        n = len(self.rank)
        all_codes, used = with_unused(unused, codes, group.values(keys), n)
        _, exps = with_unused(unused, codes, group.exponents(keys), n)
        _, counts = with_unused(unused, codes, group.counts[keys], n)
        return all_codes, used, exps, counts

    def bills(self, index: int) -> np.ndarray | None:
        """The bill of each line of charge *index* (-1: an account not billed), or None
        when the charge has no lines."""
        charge = self.agg.plan.charges[index]
        if charge.model.basis == "period":
            return self.rank[self.chosen]
        if index not in self.slots:
            return None
        if unused_billed(self.agg, charge):  # every account has a line, used or not
            return self.rank
        return self.rank[self.agg.sum_group(self.slots[index])[0]]

    def place(self, count: int) -> dict[str, np.ndarray]:
        """Empty columns for every line of *count* bills, and where each bill starts."""
        lines = np.zeros(count, dtype=np.int64)
        for index in range(len(self.agg.plan.charges)):
            bills = self.bills(index)
            if bills is not None:
                lines[bills[bills >= 0]] += 1  # a charge has one line a bill at most
        self.starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lines)])
        self.filled = np.zeros(count, dtype=np.int64)
        self.totals = np.zeros(count, dtype=np.int64)
        total = int(self.starts[-1])
        return {name: np.zeros(total, dtype=dtype) for name, dtype in _TYPES.items()}

    def put(
        self,
        columns: dict[str, np.ndarray],
        part: dict[str, np.ndarray],
        line: tuple[np.ndarray, int],
    ) -> dict[str, np.ndarray]:
        """Write *part*'s columns, lines of (bills, charge index) *line* (each bill once),
        in the next place of each bill, and add their amounts to the bills' totals (a
        column becomes Python ints when a value needs them)."""
        bills, charge = line
        at = self.starts[bills] + self.filled[bills]
        self.filled[bills] += 1
        self.totals = _add_at(self.totals, bills, part["rounded"])
        columns["charge"][at] = charge
        for name, values in part.items():
            if values.dtype == object and columns[name].dtype != object:
                columns[name] = columns[name].astype(object)
            columns[name][at] = values
        return columns


def _charged(
    plan: Plan,
    charge: Charge,
    raw: np.ndarray,
    raw_exp: np.ndarray,
    scales: tuple[int, int],
    policy: RoundingPolicy,
) -> _Charged:
    """The aggregated quantity rounded as the metric says, free units and the priced
    quantity as ``price_bill`` takes them, with their exponents (``min(used,
    free_units)`` is *used* unless the free units are below it), and the exact and
    rounded amounts."""
    s, a = scales
    used, exps = rounded_used(plan, charge, raw, raw_exp, s)
    used_exp = np.broadcast_to(np.asarray(exps, dtype=np.int64), used.shape)
    free_units = scaled_int(charge.free_units, s)
    assert free_units is not None, "checked by _usage_part"
    below = free_units < used
    free_exp = charge.free_units.as_tuple().exponent
    assert isinstance(free_exp, int)
    free = np.where(below, free_units, used)
    f_exp = np.where(below, free_exp, used_exp)
    qty = to_int64_or_object(np.where(below, used - free_units, 0))
    qty_exp = np.minimum(used_exp, f_exp)
    model: Any = charge.model
    amount = model.price_scaled(qty, s, a)
    digits = policy.digits_for(charge.model.currency)
    rounded = _round(amount, a - digits, policy.mode)
    return _Charged(used, used_exp, free, f_exp, qty, qty_exp, amount, rounded)


def _usage_part(
    plan: Plan,
    charge: Charge,
    raw: np.ndarray,
    raw_exp: np.ndarray,
    scales: tuple[int, int],
    policy: RoundingPolicy,
) -> dict[str, np.ndarray] | None:
    """The columns of a usage charge's lines, or None when they need the per-line path."""
    s, a = scales
    if raw.dtype == object or (len(raw) and int(raw.min()) < 0):
        return None
    used, _ = rounded_used(plan, charge, raw, raw_exp, s)
    if used.dtype == object:
        return None
    free_units = scaled_int(charge.free_units, s)
    if free_units is None or not hasattr(charge.model, "price_lines"):
        return None
    if free_units + magnitude(used) > LIMIT:
        return None
    model: Any = charge.model
    probe = np.where(used > free_units, used - free_units, 0)
    if not _within_precision(model, probe, s, a):
        return None
    amount = model.price_scaled(probe, s, a)
    if amount is None or magnitude(amount) >= _bound(a):
        return None
    part = _charged(plan, charge, raw, raw_exp, scales, policy)
    return {"used": raw, "used_exp": raw_exp.astype(np.int64), "rounded": part.rounded}


def _flat_line(
    charge: Charge, a: int, policy: RoundingPolicy, currency: str
) -> tuple[str, str, str]:
    """A flat fee's line for a full period (the same for every account): the quantity,
    the exact amount and the explanation, as ``price_bill`` writes them."""
    with decimal.localcontext(EXACT):
        priced = charge.model.price(Decimal(1))
        exact = priced.amount.amount
        rounded = policy.round(exact, currency)
        steps = [str(d) for d in priced.details]
        if rounded != exact:
            steps.append(f"rounded {exact} to {rounded}")
    del a
    return "1", str(exact), "\n".join(steps)


def _flat_part(
    charge: Charge, bills: np.ndarray, a: int, policy: RoundingPolicy, currency: str
) -> dict[str, np.ndarray]:
    """The columns of a flat fee's lines: one per billed account, a full period each."""
    with decimal.localcontext(EXACT):
        exact = charge.model.price(Decimal(1)).amount.amount
        rounded = policy.round(exact, currency)
    digits = policy.digits_for(currency)
    value = scaled_int(rounded, digits)
    assert value is not None, "rounded to the currency's digits"
    del a
    n = len(bills)
    return {
        "used": np.zeros(n, dtype=np.int64),  # not read: a flat fee has no aggregate
        "used_exp": np.zeros(n, dtype=np.int64),
        "records": np.zeros(n, dtype=np.int64),
        "rounded": np.full(n, value, dtype=np.int64)
        if abs(value) <= LIMIT
        else np.full(n, value, dtype=object),
    }


def _free_steps(
    part: _Charged, used: np.ndarray, used_exp: np.ndarray, s: int, unit: str
) -> list[str]:
    """The free-units step of each line (``''`` where no free units were used)."""
    out = [""] * len(used)
    rows = np.flatnonzero(part.free != 0)
    if len(rows) == 0:
        return out
    free = decimal_texts(part.free[rows], s, part.free_exp[rows])
    total = decimal_texts(used[rows], s, used_exp[rows])
    for i, f, u in zip(rows.tolist(), free, total, strict=True):
        out[i] = f"free units: {f} of {u} {unit}"
    return out
