"""The one rating semantics both engines share: charge slots, period membership,
unpriced reasons, the default period, accumulation and line pricing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import RoundingPolicy
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Charge, Flat, Minimum, Percentage, Plan, Priced, conversion
from cloudrate.usage import UsageRecord

from ._result import AccountBill, RatedLine

__all__ = [
    "Acc",
    "ChargeSlot",
    "accumulate",
    "aggregated_quantity",
    "default_period",
    "note_unpriced",
    "price_bill",
    "rated_line",
    "resource_key",
]


# --- aggregation -------------------------------------------------------------------------


class Acc:
    """The running aggregate of one (account, charge)."""

    __slots__ = ("count", "latest", "resources", "spans", "value")

    def __init__(self) -> None:
        self.value = Decimal(0)
        self.count = 0
        self.latest: tuple[Any, ...] | None = None
        self.resources: dict[str, list[tuple[datetime, datetime]]] = {}
        self.spans: list[tuple[datetime, datetime]] = []


def resource_key(record: UsageRecord) -> str:
    key = record.resource_id or record.record_id
    if key is None:
        raise RatingError(
            f"a record of {record.metric!r} for {record.account!r} has no resource_id; "
            "unique counts and per-resource flat fees need resource_id on every record"
        )
    return key


def default_period(plan: Plan, records: Sequence[UsageRecord]) -> BillingPeriod:
    if not records:
        raise RatingError("no usage and no period: pass period= to rate an empty period")
    first = min(r.start for r in records)
    return BillingPeriod.containing(first, plan.timezone)


@attrs.frozen
class ChargeSlot:
    index: int
    charge: Charge
    aggregation: str
    matcher: Any


def note_unpriced(
    unpriced: dict[tuple[str, str], list[Any]], record: UsageRecord, reason: str
) -> None:
    unpriced.setdefault((record.metric, reason), []).append(record.account)


def accumulate(acc: Acc, aggregation: str, record: UsageRecord) -> None:
    if aggregation == "sum":
        acc.value += record.quantity
    elif aggregation == "max":
        if record.quantity > acc.value:
            acc.value = record.quantity
    elif aggregation == "average":
        acc.value += record.quantity * record.seconds
    elif aggregation == "unique":
        acc.resources.setdefault(resource_key(record), [])
    elif aggregation == "latest":
        rank = (record.end, record.start, record.record_id or "", record.quantity)
        if acc.latest is None or rank > acc.latest:
            acc.latest = rank
    else:  # per-resource flat fee: remember when each resource was active
        acc.resources.setdefault(resource_key(record), []).append((record.start, record.end))


def aggregated_quantity(plan: Plan, period: BillingPeriod, charge: Charge, acc: Acc) -> Decimal:
    """The aggregated quantity of *acc*, converted into the unit the charge prices."""
    assert charge.metric is not None
    metric = plan.metric(charge.metric)
    if metric.aggregation == "unique":
        return Decimal(len(acc.resources))
    if metric.aggregation == "latest":
        raw = Decimal(0) if acc.latest is None else acc.latest[3]
    elif metric.aggregation == "average":
        raw = acc.value / period.seconds
    else:
        raw = acc.value
    if metric.usage_unit is None:
        return raw
    num, den = conversion(metric.usage_unit, metric.unit, period.seconds)
    return raw * num / den


def price_bill(
    plan: Plan,
    period: BillingPeriod,
    policy: RoundingPolicy,
    account: str,
    accs: Mapping[tuple[str, int], Acc],
) -> AccountBill:
    currency = plan.currency
    exact_by_charge: dict[str, Decimal] = {}
    drafts: list[dict[str, Any]] = []
    for index, charge in enumerate(plan.charges):
        acc = accs.get((account, index))
        model = charge.model
        free = used = qty = Decimal(0)
        proration: Decimal | None = None
        records = 0 if acc is None else acc.count
        if isinstance(model, Percentage):
            base = sum((exact_by_charge.get(n, Decimal(0)) for n in model.of), Decimal(0))
            priced = model.price(base)
            used = qty = base
            if base == 0:
                continue
        elif isinstance(model, Minimum):
            # Compared with what the customer sees: the rounded lines when lines are
            # rounded one by one, the exact amounts when only the total is rounded.
            names = model.of or tuple(exact_by_charge)
            basis = (
                exact_by_charge
                if policy.placement == "total"
                else {n: policy.round(a, currency) for n, a in exact_by_charge.items()}
            )
            spent = sum((basis.get(n, Decimal(0)) for n in names), Decimal(0))
            priced = model.price(spent)
            used = qty = spent
            if priced.amount.amount == 0:
                continue
        elif isinstance(model, Flat):
            if charge.metric is None:
                proration = Decimal(1)
            elif acc is None:
                continue
            else:
                # Factors such as 11/31 are rounded at 60 digits: add them in resource
                # order, not record order, so the sum is the same for any input order.
                factors = [
                    model.factor(acc.resources[key], period) for key in sorted(acc.resources)
                ]
                proration = sum(factors, Decimal(0))
            used = qty = proration
            priced = model.price(qty)
        else:
            if acc is None:
                continue
            used = aggregated_quantity(plan, period, charge, acc)
            free = min(used, charge.free_units)
            qty = used - free
            priced = model.price(qty)
        exact_by_charge[charge.name] = priced.amount.amount
        drafts.append(
            dict(
                charge=charge,
                priced=priced,
                used=used,
                free=free,
                qty=qty,
                proration=proration,
                records=records,
            )
        )

    exacts = [d["priced"].amount.amount for d in drafts]
    if policy.placement == "total":
        rounded = policy.allocate(exacts, currency)
    else:
        rounded = [policy.round(a, currency) for a in exacts]
    lines = tuple(
        rated_line(plan, account, d, Money(r, currency))
        for d, r in zip(drafts, rounded, strict=True)
    )
    return AccountBill(
        account=account,
        lines=lines,
        total=Money(sum(rounded, Decimal(0)), currency),
        exact_total=Money(sum(exacts, Decimal(0)), currency),
    )


def rated_line(plan: Plan, account: str, d: dict[str, Any], rounded: Money) -> RatedLine:
    charge: Charge = d["charge"]
    priced: Priced = d["priced"]
    model = charge.model
    if isinstance(model, Flat):
        unit, unit_price = "period", model.price_per_period
    elif isinstance(model, Percentage | Minimum):
        unit, unit_price = plan.currency, None
    else:
        assert charge.metric is not None
        unit = plan.metric(charge.metric).unit
        unit_price = getattr(model, "unit_price", None)
    return RatedLine(
        account=account,
        charge=charge.name,
        description=charge.label,
        service=charge.service,
        metric=charge.metric,
        unit=unit,
        usage_quantity=d["used"],
        free_quantity=d["free"],
        quantity=d["qty"],
        unit_price=unit_price,
        amount=priced.amount,
        rounded=rounded,
        details=priced.details,
        proration=d["proration"],
        records=d["records"],
    )
