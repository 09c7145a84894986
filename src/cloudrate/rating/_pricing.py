"""Line pricing: an account's aggregates priced charge by charge into rounded lines.

Both engines end here. Each charge is priced on its model's basis: ``usage`` models on
the aggregated quantity less free units, ``period`` models (flat fees) on the sum of
proration factors, ``charges`` models (percentages) on the exact amounts of the charges
they name, ``spend`` models (minimums) on what those charges cost the customer. A model
that bills without usage (:func:`~cloudrate.plans.bills_without_usage`: a tiered model
whose ``zero_usage`` is ``first_flat_fee``) is priced at 0 for an account with no
records of its charge (when its validity window, if any, overlaps the span rated:
:func:`~cloudrate.rating._slots.bills_unused`), or a base of 0. Lines are then rounded
as the policy places rounding, and the bill's total is the sum of its rounded lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import cast

import attrs
from moneyed import Money

from cloudrate._money import MAX_AMOUNT, RoundingPolicy
from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.plans import (
    Basis,
    Charge,
    ChargeModel,
    Minimum,
    Note,
    OtherCharges,
    PerTransaction,
    Plan,
    Priced,
    Prorated,
    bills_without_usage,
    prices_transactions,
)

from ._accumulate import Acc, aggregated_quantity, transaction_amounts
from ._coverage import Coverage
from ._result import AccountBill, RatedLine
from ._slots import bills_unused

__all__ = ["Draft", "price_bill", "rated_line"]


@attrs.frozen(kw_only=True)
class Draft:
    """One charge of one account priced exactly, before rounding."""

    charge: Charge
    priced: Priced
    used: Decimal
    free: Decimal = Decimal(0)
    qty: Decimal
    proration: Decimal | None = None
    records: int = 0


@attrs.frozen
class _Bill:
    """What the pricing of one charge may read: the plan, the period, the policy, the
    account's aggregates and the exact amounts of the charges priced so far."""

    plan: Plan
    period: BillingPeriod
    policy: RoundingPolicy
    account: str
    accs: Mapping[tuple[str, int], Acc]
    coverage: Coverage | None = None
    share: Decimal = Decimal(1)
    exact: dict[str, Decimal] = attrs.field(factory=dict)


def _usage(bill: _Bill, index: int, charge: Charge) -> Draft | None:
    acc = bill.accs.get((bill.account, index))
    if acc is None:
        span = bill.period if bill.coverage is None else bill.coverage
        if not bills_unused(charge, span.start, span.end, bill.plan.timezone):
            return None
        zero = Decimal(0)
        return Draft(charge=charge, priced=charge.model.price(zero), used=zero, qty=zero)
    model = charge.model
    if prices_transactions(model):  # priced on each record, no free units (as its slot)
        amounts = transaction_amounts(bill.plan, bill.period, charge, acc)
        total = sum(amounts, Decimal(0))
        priced = cast(PerTransaction, model).price_transactions(amounts)
        return Draft(charge=charge, priced=priced, used=total, qty=total, records=acc.count)
    used = aggregated_quantity(bill.plan, bill.period, charge, acc)
    free = min(used, charge.free_units * bill.share)
    qty = used - free
    return Draft(
        charge=charge,
        priced=charge.model.price(qty),
        used=used,
        free=free,
        qty=qty,
        records=acc.count,
    )


# Rating knows each model's kind from its basis; these say so to the type checker with a
# cheap check of the member it reads. (isinstance() with a runtime-checkable protocol
# walks the protocol's members on every call: about 20 us on Python 3.11, more than the
# rest of pricing a line.)


def _prorated(model: ChargeModel) -> Prorated:
    assert callable(getattr(model, "factor", None)), "models priced on the period are prorated"
    return cast(Prorated, model)


def _other_charges(model: ChargeModel, why: str) -> OtherCharges:
    assert hasattr(model, "of"), why
    return cast(OtherCharges, model)


def _period(bill: _Bill, index: int, charge: Charge) -> Draft | None:
    acc = bill.accs.get((bill.account, index))
    if charge.metric is None:
        cover = bill.coverage
        if cover is None:
            proration = Decimal(1)
        else:
            proration = _prorated(charge.model).factor([(cover.start, cover.end)], bill.period)
    elif acc is None:
        return None
    else:
        factor = _prorated(charge.model).factor
        # Factors such as 11/31 are rounded at 60 digits: add them in resource order,
        # not record order, so the sum is the same for any input order.
        factors = [factor(acc.resources[key], bill.period) for key in sorted(acc.resources)]
        proration = sum(factors, Decimal(0))
    return Draft(
        charge=charge,
        priced=charge.model.price(proration),
        used=proration,
        qty=proration,
        proration=proration,
        records=0 if acc is None else acc.count,
    )


def _charges(bill: _Bill, _index: int, charge: Charge) -> Draft | None:
    model = charge.model
    of = _other_charges(model, "percentages name the charges they are of").of
    base = sum((bill.exact.get(n, Decimal(0)) for n in of), Decimal(0))
    if base == 0 and not bills_without_usage(model):
        return None
    return Draft(charge=charge, priced=model.price(base), used=base, qty=base)


def _spend(bill: _Bill, _index: int, charge: Charge) -> Draft | None:
    model = charge.model
    # Compared with what the customer sees: the rounded lines when lines are rounded
    # one by one, the exact amounts when only the total is rounded.
    names = _other_charges(model, "minimums name the charges they are of").of or tuple(bill.exact)
    currency = bill.plan.currency
    if bill.policy.placement == "total":
        seen = bill.exact
    else:
        seen = {n: bill.policy.round(a, currency) for n, a in bill.exact.items()}
    spent = sum((seen.get(n, Decimal(0)) for n in names), Decimal(0))
    if bill.share != 1 and isinstance(model, Minimum):
        model = model.prorated(bill.share)
    priced = model.price(spent)
    if priced.amount.amount == 0:
        return None
    return Draft(charge=charge, priced=priced, used=spent, qty=spent)


_BY_BASIS: dict[Basis, Callable[[_Bill, int, Charge], Draft | None]] = {
    "usage": _usage,
    "period": _period,
    "charges": _charges,
    "spend": _spend,
}


def price_bill(
    plan: Plan,
    period: BillingPeriod,
    policy: RoundingPolicy,
    account: str,
    accs: Mapping[tuple[str, int], Acc],
    coverage: Coverage | None = None,
) -> AccountBill:
    """The bill of *account*: every charge priced from *accs* in plan order, rounded.

    Under a *coverage* (one side of a plan change) free units, minimums and flat fees
    without a metric are prorated by its share of *period*, and every line says so.
    """
    share = Decimal(1) if coverage is None else coverage.share(period)
    bill = _Bill(plan, period, policy, account, accs, coverage, share)
    drafts: list[Draft] = []
    for index, charge in enumerate(plan.charges):
        draft = _BY_BASIS[charge.model.basis](bill, index, charge)
        if draft is not None and abs(draft.priced.amount.amount) >= MAX_AMOUNT:
            raise RatingError(
                f"charge {charge.name!r} of account {account!r} comes to "
                f"{draft.priced.amount.amount:E} {plan.currency}, beyond the largest amount "
                "cloudrate bills (10**36); check the charge's prices and the "
                "usage quantities"
            )
        if draft is not None:
            bill.exact[charge.name] = draft.priced.amount.amount
            drafts.append(draft)
    currency = plan.currency
    exacts = [d.priced.amount.amount for d in drafts]
    if policy.placement == "total":
        rounded = policy.allocate(exacts, currency)
    else:
        rounded = [policy.round(a, currency) for a in exacts]
    lines = tuple(
        rated_line(plan, account, d, Money(r, currency))
        for d, r in zip(drafts, rounded, strict=True)
    )
    if coverage is not None:
        note = Note.saying(coverage.describe(period, share), currency)
        lines = tuple(attrs.evolve(x, details=(*x.details, note)) for x in lines)
    return AccountBill(
        account=account,
        lines=lines,
        total=Money(sum(rounded, Decimal(0)), currency),
        exact_total=Money(sum(exacts, Decimal(0)), currency),
    )


def _unit(plan: Plan, charge: Charge) -> str:
    """The unit a line of *charge* counts in."""
    basis = charge.model.basis
    if basis == "period":
        return "period"
    if basis in ("charges", "spend"):
        return plan.currency
    assert charge.metric is not None, "usage charges have a metric"
    return plan.metric(charge.metric).unit


def rated_line(plan: Plan, account: str, draft: Draft, rounded: Money) -> RatedLine:
    """The rated line of a priced *draft*, billed at *rounded*."""
    charge = draft.charge
    return RatedLine(
        account=account,
        charge=charge.name,
        description=charge.label,
        service=charge.service,
        metric=charge.metric,
        unit=_unit(plan, charge),
        usage_quantity=draft.used,
        free_quantity=draft.free,
        quantity=draft.qty,
        unit_price=charge.model.line_unit_price,
        amount=draft.priced.amount,
        rounded=rounded,
        details=draft.priced.details,
        proration=draft.proration,
        records=draft.records,
    )
