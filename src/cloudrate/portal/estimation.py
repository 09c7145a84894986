"""Cost estimation: the hourly and monthly cost of a resource before it exists.

The resource is described by what it uses each hour (2 vCPU, 4 GB RAM, 50 GB disk, one
public IP...). :func:`estimate` turns that into usage records covering a whole billing
period, rates them with the plan, applies the policy (so the IP rules decide whether the
IP line costs anything), converts to the customer's currency and shows the amounts with
the configured cost decimals: for cost decimals that are only displayed, the exact
amounts rounded to them; for cost decimals that are billed, the usage is rated with them
(:meth:`~cloudrate.rules.CostDecimals.rounding`) and the billed amounts are shown, the
figures an invoice of the same usage would hold. Account-level charges (flat fees without a metric,
minimum spends) are left out: they do not depend on the resource. The monthly estimate
is for the period given; the hourly one is the monthly one over the period's hours.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, to_decimal
from cloudrate.fx import ExchangeRate
from cloudrate.period import BillingPeriod
from cloudrate.plans import Charge, OtherCharges, Plan, conversion
from cloudrate.rating import AccountBill, rate
from cloudrate.rules import CostDecimals, Policy, RuleContext, chain, convert_bill
from cloudrate.usage import UsageRecord

__all__ = ["Estimate", "HourlyUsage", "estimate", "instance_usage"]


def _quantity(value: object) -> Decimal:
    return to_decimal(value, "quantity")


@attrs.frozen(kw_only=True)
class HourlyUsage:
    """*quantity* of *unit* used every hour under *metric* (e.g. 4 ``GB-hour`` of
    ``memory_gb_hours``); converted to the metric's usage unit when rated."""

    metric: str
    quantity: Decimal = attrs.field(converter=_quantity)
    unit: str = "hour"
    resource_id: str = "new-resource"
    attributes: Mapping[str, str] = attrs.field(factory=dict)


def instance_usage(
    *,
    vcpus: int,
    memory_gb: object,
    disk_gb: object = 0,
    public_ips: int = 0,
    default_ip: bool = True,
    attributes: Mapping[str, str] | None = None,
    metrics: Mapping[str, str] | None = None,
) -> tuple[HourlyUsage, ...]:
    """The hourly usage of a CloudStack instance, in the sample plan's metric names.

    *metrics* renames metrics (``{"vcpu_hours": "cpu"}``). The first public IP is the
    network's default (source-NAT) IP when *default_ip*.

    >>> [(u.metric, u.quantity, u.unit) for u in instance_usage(vcpus=2, memory_gb=4)]
    [('vm_running', Decimal('1'), 'hour'), ('vcpu_hours', Decimal('2'), 'hour'), \
('memory_gb_hours', Decimal('4'), 'GB-hour')]
    """
    name = {
        "vm_running": "vm_running",
        "vcpu_hours": "vcpu_hours",
        "memory_gb_hours": "memory_gb_hours",
        "volume_gb": "volume_gb",
        "public_ip_hours": "public_ip_hours",
        **(metrics or {}),
    }
    extra = dict(attributes or {})
    out = [
        HourlyUsage(metric=name["vm_running"], quantity=1, resource_id="new-vm", attributes=extra),
        HourlyUsage(
            metric=name["vcpu_hours"], quantity=vcpus, resource_id="new-vm", attributes=extra
        ),
        HourlyUsage(
            metric=name["memory_gb_hours"],
            quantity=memory_gb,
            unit="GB-hour",
            resource_id="new-vm",
            attributes=extra,
        ),
    ]
    if to_decimal(disk_gb, "disk_gb"):
        out.append(
            HourlyUsage(
                metric=name["volume_gb"], quantity=disk_gb, unit="GB-hour", resource_id="new-volume"
            )
        )
    for index in range(public_ips):
        flag = "true" if default_ip and index == 0 else "false"
        out.append(
            HourlyUsage(
                metric=name["public_ip_hours"],
                quantity=1,
                unit="hour",
                resource_id=f"new-ip-{index + 1}",
                attributes={"is_default": flag},
            )
        )
    return tuple(out)


@attrs.frozen(kw_only=True)
class Estimate:
    """The estimated bill of the resource for one period, and its hourly cost.

    *rounding* is the policy the bill was rated with (with billed cost decimals, their
    digits).
    """

    bill: AccountBill
    hours: Decimal
    decimals: CostDecimals
    rate: ExchangeRate | None = None
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)

    @property
    def monthly(self) -> Money:
        """The exact estimated cost of the period."""
        return self.bill.exact_total

    @property
    def billed(self) -> Money:
        """What the period would be billed: the sum of the rounded lines."""
        return self.bill.total

    @property
    def hourly(self) -> Money:
        """The exact estimated cost of one hour."""
        total = self.bill.exact_total
        return Money(EXACT.divide(total.amount, self.hours), total.currency.code)

    def to_dict(self) -> dict[str, Any]:
        """The estimate as shown: amounts with the cost decimals, as strings (for billed
        cost decimals, the billed amounts; an hour, never billed alone, is rounded by
        the rating policy)."""
        show = self.decimals.cost
        hourly = self.rounding.round_money(self.hourly)
        return {
            "currency": str(self.monthly.currency.code),
            "hourly": str(show(self.hourly, hourly)),
            "monthly": str(show(self.monthly, self.billed)),
            "rate": None if self.rate is None else self.rate.to_dict(),
            "lines": [
                {
                    "charge": line.charge,
                    "description": line.description,
                    "monthly": str(show(line.amount, line.rounded)),
                }
                for line in self.bill.lines
            ],
        }


def _resource_plan(plan: Plan) -> Plan:
    kept: list[Charge] = []
    names: set[str] = set()
    for charge in plan.charges:
        if charge.metric is not None or (
            charge.model.basis == "charges"
            and isinstance(charge.model, OtherCharges)
            and set(charge.model.of) <= names
        ):
            kept.append(charge)
            names.add(charge.name)
    return attrs.evolve(plan, charges=kept)


def estimate(
    plan: Plan,
    usage: Iterable[HourlyUsage],
    period: BillingPeriod,
    *,
    policy: Policy | None = None,
    account: str = "estimate",
    ip_history: Iterable[object] = (),
    rate_to: ExchangeRate | None = None,
    decimals: CostDecimals | None = None,
) -> Estimate:
    """Estimate the cost of a resource using *usage* every hour of *period*.

    >>> import cloudrate
    >>> from cloudrate.rules import DefaultIpCharge
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> spec = instance_usage(vcpus=2, memory_gb=4, disk_gb=50, public_ips=1)
    >>> month = cloudrate.BillingPeriod.month(2026, 11, "Europe/Berlin")
    >>> charged = estimate(plan, spec, month)
    >>> free_ip = estimate(plan, spec, month, policy=chain(DefaultIpCharge(enabled=False)))
    >>> charged.to_dict()["monthly"], free_ip.to_dict()["monthly"], charged.to_dict()["hourly"]
    ('43.16', '39.56', '0.06')
    >>> from cloudrate.rules import CostDecimals
    >>> shown = estimate(plan, spec, month, decimals=CostDecimals(4)).to_dict()
    >>> billed = estimate(plan, spec, month, decimals=CostDecimals(4, applies_to="billed"))
    >>> shown["monthly"], billed.to_dict()["monthly"], billed.to_dict()["hourly"]
    ('43.1560', '43.1560', '0.0599')
    """
    hours = period.seconds / 3600
    records = []
    for item in usage:
        metric = plan.metric(item.metric)
        target = metric.usage_unit or metric.unit
        num, den = (
            conversion(item.unit, target, period.seconds)
            if item.unit != target
            else (Decimal(1), Decimal(1))
        )
        with decimal.localcontext(EXACT):
            quantity = item.quantity * hours * num / den
        records.append(
            UsageRecord(
                account=account,
                metric=item.metric,
                quantity=quantity,
                start=period.start,
                end=period.end,
                resource_id=item.resource_id,
                attributes=item.attributes,
            )
        )
    decimals = decimals or CostDecimals()
    priced = _resource_plan(plan)
    rounding = decimals.rounding(plan.rounding)
    result = rate(priced, records, period, accounts=[account], rounding=rounding)
    bill = result.bill(account)
    if policy is not None:
        context = RuleContext.for_result(result, records, ip_history=tuple(ip_history))
        bill = chain(policy).apply(bill, context)
    if rate_to is not None:
        bill = convert_bill(bill, rate_to, result.rounding).bill
    return Estimate(bill=bill, hours=hours, decimals=decimals, rate=rate_to, rounding=rounding)
