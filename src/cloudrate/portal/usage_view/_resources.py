"""The usage summary per resource: each VM, volume or IP with its consumption and cost.

The per-service summary groups the rated lines by the plan's categories (Compute,
Storage...). This module splits each metered line among the resources (``resource_id``)
whose records it priced, so the page can also list "each service with its individual
resource consumption":

* a resource's **quantity** is what its records alone aggregate to under the charge
  (aggregated as :func:`cloudrate.rate` aggregates each resource as its own account, in
  one pass over the month's records, so sums,
  time-weighted averages, peaks and unique counts mean what they mean on the bill);
* a line's rounded **cost** is shared in proportion to those quantities, in the line's
  smallest unit (largest remainder, ties to the resource listed first), so the
  resources of a line add up to exactly the line's cost. For a per-unit charge without
  free units that is each resource's quantity x the unit price (to the cent); for
  tiered prices and free units it is the line's average price per unit.

Lines that price no metered usage (flat fees without a metric, minimum spend, percentage
charges, adjustments) belong to no resource; they stay in the per-service summary only.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, zero
from cloudrate.exceptions import OptionError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import RatedLine, rate
from cloudrate.rules import CostDecimals
from cloudrate.usage import UsageRecord, dedupe

from ._aggregate import Acc, OnePassError, add, slots
from ._aggregate import quantity as charged_quantity

__all__ = [
    "NO_RESOURCE",
    "ResourceItem",
    "ResourceRow",
    "month_resources",
    "resource_rows",
    "split_amount",
]

#: How reports name the resource of records that carry no ``resource_id``.
NO_RESOURCE = "(no resource)"


@attrs.frozen(kw_only=True)
class ResourceItem:
    """One charge of one resource: its *quantity* (in the charge's *unit*) and its share
    of the line's *cost* (*shown_cost*: its share of the shown cost, with cost decimals).
    """

    charge: str
    description: str
    quantity: Decimal
    unit: str
    cost: Money
    shown_cost: Decimal | None = None

    @property
    def shown(self) -> Decimal:
        """The cost the page shows."""
        return self.cost.amount if self.shown_cost is None else self.shown_cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "charge": self.charge,
            "description": self.description,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "cost": str(self.shown),
        }


@attrs.frozen(kw_only=True)
class ResourceRow:
    """One resource within one service: its charges and their cost (the sum of its
    items; *shown_cost* the sum of their shown costs, with cost decimals).

    *resource_id* is ``None`` for records that name no resource.
    """

    service: str
    resource_id: str | None
    items: tuple[ResourceItem, ...]
    cost: Money
    shown_cost: Decimal | None = None

    @property
    def shown(self) -> Decimal:
        """The cost the page shows."""
        return self.cost.amount if self.shown_cost is None else self.shown_cost

    @property
    def label(self) -> str:
        """The resource id, or :data:`NO_RESOURCE`."""
        return NO_RESOURCE if self.resource_id is None else self.resource_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "resource_id": self.resource_id,
            "cost": str(self.shown),
            "items": [i.to_dict() for i in self.items],
        }


def split_amount(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """*amount* shared in proportion to *weights*, in *amount*'s last digit (at most a
    whole unit), so the shares add up to *amount* exactly.

    Each share is first cut towards zero; the units still missing go, one each, to the
    largest remainders (ties to the earlier weight). All weights zero share equally.

    >>> split_amount(Decimal("1.00"), [Decimal(1), Decimal(1), Decimal(1)])
    [Decimal('0.34'), Decimal('0.33'), Decimal('0.33')]
    >>> split_amount(Decimal("3.00"), [Decimal(30), Decimal(10)])
    [Decimal('2.25'), Decimal('0.75')]
    >>> split_amount(Decimal("-0.05"), [Decimal(1), Decimal(3)])
    [Decimal('-0.01'), Decimal('-0.04')]
    """
    if not weights:
        return []
    if any(w < 0 for w in weights):
        raise OptionError(f"weights must be >= 0 (got {', '.join(str(w) for w in weights)})")
    found = amount.as_tuple().exponent
    if not isinstance(found, int):
        raise OptionError(f"amount must be a finite number (got {amount})")
    exponent = min(found, 0)
    units = int(amount.scaleb(-exponent, context=_wide(amount)))
    shares = [Fraction(w) for w in weights]
    total = sum(shares, Fraction(0))
    if total == 0:
        shares, total = [Fraction(1)] * len(weights), Fraction(len(weights))
    sign, whole = (-1 if units < 0 else 1), abs(units)
    exact = [whole * s / total for s in shares]
    floors = [int(e) for e in exact]  # towards zero: every share is >= 0 here
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[: whole - sum(floors)]:
        floors[i] += 1
    return [Decimal(sign * f).scaleb(exponent, context=_wide(amount)) for f in floors]


def _wide(amount: Decimal) -> decimal.Context:
    """A context with room for every digit of *amount* (scaleb rounds to precision)."""
    return decimal.Context(prec=max(len(amount.as_tuple().digits) + 2, 28))


def _sharers(found: list[tuple[str | None, Decimal]]) -> list[tuple[str | None, Decimal]]:
    """The resources that share a line: those with usage; if none has any, all of them
    (equally); with no records at all, one without a resource."""
    return [(rid, q) for rid, q in found if q] or found or [(None, Decimal(0))]


def _metered(line: RatedLine, fixed: set[str]) -> bool:
    return line.kind == "charge" and line.metric is not None and line.charge not in fixed


@attrs.define
class Tally:
    """One (service, resource, charge) cell, summed over months."""

    description: str
    unit: str
    quantity: Decimal
    cost: Decimal
    shown: Decimal | None


def _order(ids: Iterable[str | None]) -> list[str | None]:
    """The resources in the order rating's bills would list them with each resource as
    its own account (``resource-<n>``, *n* by resource id, ``None`` last; bills sort by
    account name), so ties in :func:`split_amount` go the same way."""
    ranked = sorted(set(ids), key=lambda i: (i is None, i or ""))
    names = {rid: f"resource-{n}" for n, rid in enumerate(ranked)}
    return sorted(ranked, key=names.__getitem__)


def _quantities(
    plan: Plan, records: Sequence[UsageRecord], period: BillingPeriod
) -> dict[str, list[tuple[str | None, Decimal]]]:
    """Each charge's quantity per resource: what the resource's records alone aggregate
    to under it, in one pass over the month's records (as rating them with each resource
    as its own account gives)."""
    kept = dedupe(list(records)).records
    try:
        routes = slots(plan, period)
    except OnePassError:
        return _rated_quantities(plan, kept, period)
    by_index = {s.index: s for group in routes.values() for s in group}
    accs: dict[tuple[str | None, int], Acc] = {}
    with decimal.localcontext(EXACT):
        for record in kept:
            for s in routes.get(record.metric, ()):
                if s.matcher is None or s.matcher(record.attributes):
                    key = (record.resource_id, s.index)
                    acc = accs.get(key)
                    if acc is None:
                        acc = accs[key] = Acc()
                    add(acc, s.aggregation, record, s.scale)
    out: dict[str, list[tuple[str | None, Decimal]]] = {}
    rank = {rid: n for n, rid in enumerate(_order(r.resource_id for r in kept))}
    for (rid, index), acc in sorted(accs.items(), key=lambda kv: (rank[kv[0][0]], kv[0][1])):
        slot = by_index[index]
        with decimal.localcontext(EXACT):
            amount = charged_quantity(plan, period, slot, acc)
        out.setdefault(slot.charge.name, []).append((rid, amount))
    return out


def _rated_quantities(
    plan: Plan, kept: Sequence[UsageRecord], period: BillingPeriod
) -> dict[str, list[tuple[str | None, Decimal]]]:
    """:func:`_quantities` by rating: each resource's records rated as its own account."""
    ranked = _order(r.resource_id for r in kept)
    names = {rid: f"resource-{n}" for n, rid in enumerate(ranked)}
    ids = {name: rid for rid, name in names.items()}
    alone = [attrs.evolve(r, account=names[r.resource_id]) for r in kept]
    out: dict[str, list[tuple[str | None, Decimal]]] = {}
    for bill in rate(plan, alone, period).bills:
        for line in bill.lines:
            if line.metric is not None and line.records:
                out.setdefault(line.charge, []).append((ids[bill.account], line.usage_quantity))
    return out


def month_resources(
    plan: Plan,
    records: Sequence[UsageRecord],
    period: BillingPeriod,
    lines: Sequence[RatedLine],
    *,
    fixed: set[str],
    rounding: RoundingPolicy | None,
    decimals: CostDecimals | None,
    into: dict[tuple[str, str | None, str], Tally],
) -> None:
    """Split the metered *lines* of one month (rated from *records*) among resources,
    adding each share to *into*."""
    del rounding  # quantities do not depend on rounding
    metered = [x for x in lines if _metered(x, fixed)]
    if not metered:
        return
    quantities = _quantities(plan, records, period)
    for line in metered:
        mine = _sharers(quantities.get(line.charge, []))
        weights = [q for _, q in mine]
        costs = split_amount(line.rounded.amount, weights)
        shown: list[Decimal | None] = [None] * len(mine)
        if decimals is not None:
            shown = list(split_amount(decimals.cost(line.amount, line.rounded), weights))
        service = line.service or "Other"
        for (rid, quantity), cost, show in zip(mine, costs, shown, strict=True):
            cell = into.get((service, rid, line.charge))
            if cell is None:
                into[(service, rid, line.charge)] = Tally(
                    line.description, line.unit, quantity, cost, show
                )
                continue
            cell.quantity += quantity
            cell.cost += cost
            if cell.shown is not None and show is not None:
                cell.shown += show


def resource_rows(
    cells: dict[tuple[str, str | None, str], Tally],
    currency: str,
    services: Sequence[str],
) -> tuple[ResourceRow, ...]:
    """The rows of *cells*: by service in the order of *services*, then by resource id
    (records without one last), items in the order their charges were rated."""
    grouped: dict[tuple[str, str | None], list[tuple[str, Tally]]] = {}
    for (service, rid, charge), cell in cells.items():
        grouped.setdefault((service, rid), []).append((charge, cell))
    rank = {s: i for i, s in enumerate(services)}

    def order(key: tuple[str, str | None]) -> tuple[int, str, bool, str]:
        service, rid = key
        return (rank.get(service, len(rank)), service, rid is None, rid or "")

    rows = []
    for service, rid in sorted(grouped, key=order):
        items = tuple(
            ResourceItem(
                charge=charge,
                description=cell.description,
                quantity=cell.quantity,
                unit=cell.unit,
                cost=Money(cell.cost, currency),
                shown_cost=cell.shown,
            )
            for charge, cell in grouped[(service, rid)]
        )
        shown = [i.shown_cost for i in items]
        rows.append(
            ResourceRow(
                service=service,
                resource_id=rid,
                items=items,
                cost=sum((i.cost for i in items), zero(currency)),
                shown_cost=None
                if any(s is None for s in shown)
                else sum((s for s in shown if s is not None), Decimal(0)),
            )
        )
    return tuple(rows)
