"""Rate usage records against a plan: :func:`rate` and the result it returns."""

from __future__ import annotations

import decimal
import html
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from ._money import EXACT, RoundingPolicy
from .exceptions import CloudrateError, RatingError, UnpricedUsageError
from .period import BillingPeriod
from .plans import Charge, Flat, Minimum, Percentage, Plan
from .plans._metrics import conversion
from .plans._priced import Detail, Priced
from .usage import UsageRecord

__all__ = ["AccountBill", "RatedLine", "RatingResult", "UnpricedUsage", "rate"]


@attrs.frozen(kw_only=True)
class RatedLine:
    """One charge for one account in one period.

    *quantity* is what was priced (after unit conversion and free units), *free_quantity*
    the free units used, *amount* the exact amount and *rounded* the billed amount.
    *details* explain the amount step by step; *proration* is the factor of a flat fee.
    """

    account: str
    charge: str
    description: str
    service: str | None
    metric: str | None
    unit: str
    usage_quantity: Decimal
    free_quantity: Decimal
    quantity: Decimal
    unit_price: Money | None
    amount: Money
    rounded: Money
    details: tuple[Detail, ...]
    proration: Decimal | None = None
    records: int = 0
    kind: str = "charge"

    @classmethod
    def adjustment(
        cls,
        *,
        account: str,
        charge: str,
        description: str,
        amount: Money,
        rounded: Money,
        details: tuple[Detail, ...] = (),
        kind: str = "adjustment",
        service: str | None = None,
        metric: str | None = None,
        quantity: Decimal = Decimal(1),
    ) -> RatedLine:
        """A line added by a billing rule (discount, credit, free item, fee); *amount* may
        be negative and *details* say why.

        >>> line = RatedLine.adjustment(account="acme", charge="promo:NEWUSER-7F3K9Q",
        ...     description="10% off compute", amount=Money("-1.2345", "EUR"),
        ...     rounded=Money("-1.23", "EUR"), kind="discount")
        >>> line.rounded, line.kind
        (Money('-1.23', 'EUR'), 'discount')
        """
        return cls(
            account=account, charge=charge, description=description, service=service,
            metric=metric, unit=str(amount.currency.code), usage_quantity=quantity,
            free_quantity=Decimal(0), quantity=quantity, unit_price=None, amount=amount,
            rounded=rounded, details=details, kind=kind,
        )

    @property
    def currency(self) -> str:
        return str(self.amount.currency.code)

    def explain(self) -> str:
        """How the amount came about, one step a line."""
        steps = []
        if self.free_quantity:
            steps.append(f"free units: {self.free_quantity} of {self.usage_quantity} {self.unit}")
        steps.extend(str(d) for d in self.details)
        if self.rounded.amount != self.amount.amount:
            steps.append(f"rounded {self.amount.amount} to {self.rounded.amount}")
        return "\n".join(steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; every number is a decimal string."""
        return {
            "account": self.account,
            "charge": self.charge,
            "description": self.description,
            "service": self.service,
            "metric": self.metric,
            "unit": self.unit,
            "usage_quantity": str(self.usage_quantity),
            "free_quantity": str(self.free_quantity),
            "quantity": str(self.quantity),
            "unit_price": None if self.unit_price is None else str(self.unit_price.amount),
            "amount": str(self.amount.amount),
            "rounded": str(self.rounded.amount),
            "currency": self.currency,
            "proration": None if self.proration is None else str(self.proration),
            "records": self.records,
            "kind": self.kind,
            "details": [d.to_dict() for d in self.details],
        }


@attrs.frozen(kw_only=True)
class AccountBill:
    """The lines of one account and their totals: *total* is the sum of the rounded lines."""

    account: str
    lines: tuple[RatedLine, ...]
    total: Money
    exact_total: Money

    def with_lines(self, extra: Iterable[RatedLine]) -> AccountBill:
        """A new bill with *extra* lines appended and the totals recomputed from all lines.

        Rules use it to add adjustment lines; existing lines are never changed.
        """
        lines = (*self.lines, *extra)
        currency = str(self.total.currency.code)
        for line in lines:
            if line.currency != currency or line.account != self.account:
                raise RatingError(
                    f"line {line.charge!r} is for {line.account!r} in {line.currency}; "
                    f"this bill is {self.account!r} in {currency}"
                )
        with decimal.localcontext(EXACT):
            return AccountBill(
                account=self.account,
                lines=lines,
                total=Money(sum((x.rounded.amount for x in lines), Decimal(0)), currency),
                exact_total=Money(sum((x.amount.amount for x in lines), Decimal(0)), currency),
            )

    def line(self, charge: str) -> RatedLine:
        """The line of *charge* (KeyError if the account has none)."""
        for line in self.lines:
            if line.charge == charge:
                return line
        raise KeyError(f"account {self.account!r} has no line for charge {charge!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "total": str(self.total.amount),
            "exact_total": str(self.exact_total.amount),
            "currency": str(self.total.currency.code),
            "lines": [line.to_dict() for line in self.lines],
        }


@attrs.frozen
class UnpricedUsage:
    """Records that no charge priced: the metric, why, and how many."""

    metric: str
    reason: str
    records: int
    accounts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "reason": self.reason, "records": self.records,
                "accounts": list(self.accounts)}


@attrs.frozen(kw_only=True)
class RatingResult:
    """Everything :func:`rate` found: a bill per account, and the usage nothing priced."""

    plan: Plan
    period: BillingPeriod
    rounding: RoundingPolicy
    bills: tuple[AccountBill, ...]
    unpriced: tuple[UnpricedUsage, ...] = ()

    @property
    def currency(self) -> str:
        return self.plan.currency

    @property
    def total(self) -> Money:
        """The sum of every account's total (each the sum of its rounded lines)."""
        with decimal.localcontext(EXACT):
            return Money(sum((b.total.amount for b in self.bills), Decimal(0)), self.currency)

    @property
    def lines(self) -> tuple[RatedLine, ...]:
        return tuple(line for bill in self.bills for line in bill.lines)

    def bill(self, account: str) -> AccountBill:
        """The bill of *account*."""
        for bill in self.bills:
            if bill.account == account:
                return bill
        raise KeyError(f"no bill for account {account!r}; accounts are "
                       f"{', '.join(b.account for b in self.bills) or '(none)'}")

    def with_bills(self, bills: Iterable[AccountBill]) -> RatingResult:
        """The same result with *bills* in place of the current ones (after rules ran)."""
        return attrs.evolve(self, bills=tuple(bills))

    def totals(self) -> dict[str, Money]:
        """Total per account."""
        return {b.account: b.total for b in self.bills}

    def to_dict(self) -> dict[str, Any]:
        """The stable machine-readable form (schema ``cloudrate.rating/1``)."""
        return {
            "schema": "cloudrate.rating/1",
            "plan": {"name": self.plan.name, "version": self.plan.version},
            "currency": self.currency,
            "period": self.period.to_dict(),
            "rounding": self.rounding.to_dict(),
            "total": str(self.total.amount),
            "accounts": [b.to_dict() for b in self.bills],
            "unpriced": [u.to_dict() for u in self.unpriced],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (keys in a fixed order, amounts as strings)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def _repr_html_(self) -> str:
        rows = []
        for line in self.lines:
            rows.append(
                "<tr>" + "".join(
                    f"<td>{html.escape(str(v))}</td>"
                    for v in (line.account, line.description, line.quantity, line.unit,
                              "" if line.unit_price is None else line.unit_price.amount,
                              line.rounded.amount)
                ) + "</tr>"
            )
        head = "".join(f"<th>{h}</th>" for h in
                       ("Account", "Charge", "Quantity", "Unit", "Unit price",
                        f"Amount ({self.currency})"))
        foot = (f"<tr><th colspan='5'>Total</th><th>{self.total.amount}</th></tr>")
        return (f"<table><caption>{html.escape(self.plan.name)} {self.period.label}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                f"<tfoot>{foot}</tfoot></table>")


# --- aggregation -------------------------------------------------------------------------

class _Acc:
    """The running aggregate of one (account, charge)."""

    __slots__ = ("count", "latest", "resources", "spans", "value")

    def __init__(self) -> None:
        self.value = Decimal(0)
        self.count = 0
        self.latest: tuple[Any, ...] | None = None
        self.resources: dict[str, list[tuple[datetime, datetime]]] = {}
        self.spans: list[tuple[datetime, datetime]] = []


def _resource_key(record: UsageRecord) -> str:
    key = record.resource_id or record.record_id
    if key is None:
        raise RatingError(
            f"a record of {record.metric!r} for {record.account!r} has no resource_id; "
            "unique counts and per-resource flat fees need resource_id on every record"
        )
    return key


def _default_period(plan: Plan, records: Sequence[UsageRecord]) -> BillingPeriod:
    if not records:
        raise RatingError("no usage and no period: pass period= to rate an empty period")
    first = min(r.start for r in records)
    return BillingPeriod.containing(first, plan.timezone)


@attrs.frozen
class _ChargeSlot:
    index: int
    charge: Charge
    aggregation: str
    matcher: Any


def rate(
    plan: Plan,
    usage: Iterable[UsageRecord],
    period: BillingPeriod | None = None,
    *,
    accounts: Iterable[str] = (),
    rounding: RoundingPolicy | None = None,
    on_unpriced: str = "report",
) -> RatingResult:
    """Rate *usage* against *plan* for *period* and return a bill per account.

    Args:
        plan: the pricing plan.
        usage: usage records; every record must lie inside the period.
        period: the billing period; by default the calendar month, in the plan's
            timezone, of the earliest record.
        accounts: accounts to bill even without usage (flat fees and minimums apply).
        rounding: overrides the plan's rounding policy.
        on_unpriced: ``"report"`` lists records no charge prices in
            ``result.unpriced``; ``"error"`` raises :class:`UnpricedUsageError`.

    Returns:
        A :class:`RatingResult`: ``bills`` sorted by account, lines in plan order.

    >>> from datetime import datetime, timezone
    >>> from cloudrate import load_plan
    >>> plan = load_plan('''
    ... name: Basic
    ... currency: EUR
    ... charges:
    ...   - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
    ... ''')
    >>> t0, t1 = datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 10, 31, tzinfo=timezone.utc)
    >>> result = rate(plan, [UsageRecord(account="acme", metric="vcpu_hours", quantity="1441",
    ...                                  start=t0, end=t1)])
    >>> line = result.bill("acme").line("compute")
    >>> line.amount.amount, line.rounded.amount
    (Decimal('18.0125'), Decimal('18.01'))
    """
    if on_unpriced not in ("report", "error"):
        raise ValueError(f"on_unpriced must be 'report' or 'error' (got {on_unpriced!r})")
    with decimal.localcontext(EXACT):
        return _rate(plan, usage, period, accounts, rounding or plan.rounding, on_unpriced)


def _rate(plan: Plan, usage: Iterable[UsageRecord], period: BillingPeriod | None,
          accounts: Iterable[str], policy: RoundingPolicy, on_unpriced: str) -> RatingResult:
    records = usage if isinstance(usage, Sequence) else list(usage)
    accounts = tuple(accounts)
    if period is not None:
        return _rate_period(plan, records, period, accounts, policy, on_unpriced)
    if not records:
        _default_period(plan, records)  # raises: no usage and no period
    # The default period is the month of the earliest record. That is the month of the
    # first record whenever every record fits in it, so the earliest record is looked
    # for (one more pass over the usage) only when rating in that month fails.
    guess = BillingPeriod.containing(records[0].start, plan.timezone)
    try:
        return _rate_period(plan, records, guess, accounts, policy, on_unpriced)
    except CloudrateError:
        period = _default_period(plan, records)
        if period == guess:
            raise
    return _rate_period(plan, records, period, accounts, policy, on_unpriced)


def _rate_period(plan: Plan, records: Sequence[UsageRecord], period: BillingPeriod,
                 accounts: Iterable[str], policy: RoundingPolicy,
                 on_unpriced: str) -> RatingResult:
    plan.check_period(period)

    slots: dict[str, list[_ChargeSlot]] = defaultdict(list)
    for index, charge in enumerate(plan.charges):
        if charge.metric is not None:
            aggregation = "resources" if isinstance(charge.model, Flat) else (
                plan.metric(charge.metric).aggregation)
            slots[charge.metric].append(_ChargeSlot(index, charge, aggregation, charge.matcher()))

    accs: dict[tuple[str, int], _Acc] = {}
    unpriced: dict[tuple[str, str], list[Any]] = {}
    known = set(accounts)
    # Hot loop. Metrics whose charges all add quantities up are summed right here, per
    # account (and per charge when charges select records with 'where'), in record order:
    # the same additions as one record at a time. Other aggregations take the general
    # path, one charge at a time. The period bounds are compared in UTC: the same
    # instants, and records in UTC compare fastest.
    # route: metric -> sums per account when no charge of the metric has 'where', else
    # None (metrics no charge prices are added as None when first seen).
    route: dict[str, dict[str, _Acc] | None] = {
        metric: {} if all(s.aggregation == "sum" and s.matcher is None for s in entries)
        else None
        for metric, entries in slots.items()
    }
    # selected: metric -> (matcher, sums per account) per charge, for summed metrics
    # whose charges select records.
    selected: dict[str, tuple[tuple[Any, dict[str, _Acc]], ...]] = {
        metric: tuple((s.matcher, {}) for s in entries)
        for metric, entries in slots.items()
        if route[metric] is None and all(s.aggregation == "sum" for s in entries)
    }
    outside: list[UsageRecord] = []
    p_start, p_end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    for record in records:
        # Half-open [start, end): an instant at the period's end belongs to the next one.
        # As a record never ends before it starts, only records ending at or after the
        # period's end need the last two comparisons.
        if record.start < p_start or (record.end >= p_end and (
                record.end > p_end or record.start >= p_end)):
            outside.append(record)
            continue
        try:
            sums = route[record.metric]
        except KeyError:
            sums = route[record.metric] = None
        if sums is not None:
            try:
                acc = sums[record.account]
            except KeyError:
                acc = sums[record.account] = _Acc()
            acc.count += 1
            acc.value += record.quantity
            continue
        account = record.account
        targets = selected.get(record.metric)
        if targets is not None:
            matched = False
            for matcher, sums in targets:
                if matcher is None or matcher(record.attributes):
                    try:
                        acc = sums[account]
                    except KeyError:
                        acc = sums[account] = _Acc()
                    acc.count += 1
                    acc.value += record.quantity
                    matched = True
            if not matched:
                _note(unpriced, record, "no charge's 'where' selects these records")
            continue
        entries = slots.get(record.metric)
        if entries is None:
            _note(unpriced, record, "no charge prices this metric")
            continue
        known.add(account)
        matched = False
        for slot in entries:
            if slot.matcher is not None and not slot.matcher(record.attributes):
                continue
            matched = True
            key = (account, slot.index)
            slot_acc = accs.get(key)
            if slot_acc is None:
                slot_acc = accs[key] = _Acc()
            slot_acc.count += 1
            _accumulate(slot_acc, slot.aggregation, record)
        if not matched:
            _note(unpriced, record, "no charge's 'where' selects these records")
    if outside:
        first = outside[0]
        raise RatingError(
            f"{len(outside)} record(s) lie outside the period {period.label} "
            f"({period.start.isoformat()} to {period.end.isoformat()}), the first for "
            f"{first.account!r} {first.metric!r} from {first.start.isoformat()} to "
            f"{first.end.isoformat()}; pass a period that covers them or split the usage "
            "by period"
        )
    for metric, sums in route.items():
        if sums is None:
            continue
        known.update(sums)
        for slot in slots[metric]:  # charges only read their aggregate: share it
            for account, summed in sums.items():
                accs[(account, slot.index)] = summed
    for metric, targets in selected.items():
        for slot, (_, sums) in zip(slots[metric], targets, strict=True):
            known.update(sums)
            for account, summed in sums.items():
                accs[(account, slot.index)] = summed
    for unpriced_accounts in unpriced.values():
        known.update(unpriced_accounts)
    found = tuple(
        UnpricedUsage(metric, reason, len(accts), tuple(sorted(set(accts))))
        for (metric, reason), accts in sorted(unpriced.items())
    )
    if found and on_unpriced == "error":
        raise UnpricedUsageError({u.metric: u.records for u in found})

    bills = tuple(_bill(plan, period, policy, account, accs) for account in sorted(known))
    return RatingResult(plan=plan, period=period, rounding=policy, bills=bills, unpriced=found)


def _note(unpriced: dict[tuple[str, str], list[Any]], record: UsageRecord, reason: str) -> None:
    unpriced.setdefault((record.metric, reason), []).append(record.account)


def _accumulate(acc: _Acc, aggregation: str, record: UsageRecord) -> None:
    if aggregation == "sum":
        acc.value += record.quantity
    elif aggregation == "max":
        if record.quantity > acc.value:
            acc.value = record.quantity
    elif aggregation == "average":
        acc.value += record.quantity * record.seconds
    elif aggregation == "unique":
        acc.resources.setdefault(_resource_key(record), [])
    elif aggregation == "latest":
        rank = (record.end, record.start, record.record_id or "", record.quantity)
        if acc.latest is None or rank > acc.latest:
            acc.latest = rank
    else:  # per-resource flat fee: remember when each resource was active
        acc.resources.setdefault(_resource_key(record), []).append((record.start, record.end))


def _quantity(plan: Plan, period: BillingPeriod, charge: Charge, acc: _Acc) -> Decimal:
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


def _bill(plan: Plan, period: BillingPeriod, policy: RoundingPolicy, account: str,
          accs: Mapping[tuple[str, int], _Acc]) -> AccountBill:
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
            basis = exact_by_charge if policy.placement == "total" else {
                n: policy.round(a, currency) for n, a in exact_by_charge.items()}
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
                factors = [model.factor(acc.resources[key], period)
                           for key in sorted(acc.resources)]
                proration = sum(factors, Decimal(0))
            used = qty = proration
            priced = model.price(qty)
        else:
            if acc is None:
                continue
            used = _quantity(plan, period, charge, acc)
            free = min(used, charge.free_units)
            qty = used - free
            priced = model.price(qty)
        exact_by_charge[charge.name] = priced.amount.amount
        drafts.append(dict(charge=charge, priced=priced, used=used, free=free, qty=qty,
                           proration=proration, records=records))

    exacts = [d["priced"].amount.amount for d in drafts]
    if policy.placement == "total":
        rounded = policy.allocate(exacts, currency)
    else:
        rounded = [policy.round(a, currency) for a in exacts]
    lines = tuple(
        _line(plan, account, d, Money(r, currency)) for d, r in zip(drafts, rounded, strict=True)
    )
    return AccountBill(
        account=account,
        lines=lines,
        total=Money(sum(rounded, Decimal(0)), currency),
        exact_total=Money(sum(exacts, Decimal(0)), currency),
    )


def _line(plan: Plan, account: str, d: dict[str, Any], rounded: Money) -> RatedLine:
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
