"""A settings profile pricing CloudStack usage the way CloudStack's quota plugin does.

The quota plugin (``QuotaManagerImpl.getUsageValueAccordingToUsageUnitType``) prices a
usage record from a tariff by the quota unit of its usage type:

* ``COMPUTE_MONTH``, ``IP_MONTH``, ``POLICY_MONTH``: raw hours x cost per hour;
* ``GB_MONTH``: raw hours x cost per hour x size in GiB;
* ``GB``: bytes in GiB x tariff; ``BYTES`` and ``IOPS``: raw usage x tariff;

where cost per hour = monthly tariff / (days in the record's month x 24), rounded to 8
places half-even (``getCostPerHour`` and ``DateUtil.getHoursInCurrentMonth``).
"""

from __future__ import annotations

import calendar
import decimal
from collections.abc import Mapping
from decimal import Decimal

from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, to_decimal
from cloudrate.exceptions import PlanError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Charge, Metric, PerUnit, Plan

from ._types import UsageType, usage_type

__all__ = ["quota_charge", "quota_plan"]

_MONTHLY = ("COMPUTE_MONTH", "IP_MONTH", "POLICY_MONTH", "GB_MONTH")


def _hourly(tariff: Decimal, period: BillingPeriod) -> Decimal:
    local = period.start.astimezone(period.tz)
    hours = calendar.monthrange(local.year, local.month)[1] * 24
    with decimal.localcontext(EXACT):
        return (tariff / hours).quantize(Decimal("1E-8"), rounding=decimal.ROUND_HALF_EVEN)


def quota_charge(
    key: int | str,
    tariff: Decimal | str | int,
    *,
    currency: str,
    period: BillingPeriod | None = None,
    gb_bytes: int = 2**30,
    name: str | None = None,
    where: Mapping[str, object] | None = None,
) -> tuple[Charge, Metric]:
    """The charge and metric pricing CloudStack usage type *key* at a quota *tariff*.

    Monthly tariffs (per VM, IP, rule or GB per month) are divided by the hours in the
    billing month. Without *period* the division is exact (the metric's unit is a
    month, which cloudrate sizes to the billing period); with *period* (a calendar month)
    the hourly price is rounded to 8 places half-even first, exactly as the quota plugin
    does. *where* selects records by attribute (e.g. ``{"offeringid": "..."}``).

    >>> charge, metric = quota_charge("RUNNING_VM", "72", currency="EUR")
    >>> metric.unit, metric.usage_unit, charge.model.unit_price
    ('VM-month', 'VM-hour', Money('72', 'EUR'))
    """
    kind: UsageType = usage_type(key)
    price = to_decimal(tariff, f"tariff of {kind.name}")
    label = name or kind.name.lower()
    unit = kind.unit.replace("hour", "month")
    if kind.name == "BUCKET":
        raise PlanError(
            "BUCKET: the quota plugin multiplies a bucket's size in bytes by an hourly cost, "
            "which has no monthly equivalent; price bucket_gb with a plan charge instead"
        )
    if kind.quota_unit in _MONTHLY:
        if period is None:
            metric = Metric(
                name=kind.metric, unit=unit, usage_unit=kind.unit, description=kind.description
            )
            unit_price = price
        else:
            metric = Metric(name=kind.metric, unit=kind.unit, description=kind.description)
            unit_price = _hourly(price, period)
    elif kind.quota_unit == "BYTES":  # tariff per byte, quantity in GB
        metric = Metric(name=kind.metric, unit=kind.unit, description=kind.description)
        with decimal.localcontext(EXACT):
            unit_price = price * gb_bytes
    else:  # GB (per GiB of traffic) and IOPS (per request)
        metric = Metric(name=kind.metric, unit=kind.unit, description=kind.description)
        unit_price = price
    model = PerUnit(Money(unit_price, currency))
    charge = Charge(
        name=label,
        metric=kind.metric,
        model=model,
        description=kind.description,
        service=kind.service,
        where=where,
    )
    return charge, metric


def quota_plan(
    tariffs: Mapping[int | str, Decimal | str | int],
    *,
    currency: str,
    period: BillingPeriod | None = None,
    name: str = "CloudStack quota tariffs",
    rounding: RoundingPolicy | None = None,
    gb_bytes: int = 2**30,
) -> Plan:
    """A plan pricing CloudStack usage with quota-plugin *tariffs* keyed by usage type
    (number or name), for users migrating from the quota plugin. Times are UTC, the
    default of CloudStack's ``usage.aggregation.timezone``.

    >>> from datetime import datetime, timezone
    >>> from cloudrate import UsageRecord, rate
    >>> plan = quota_plan({"RUNNING_VM": "72", 3: "3.60"}, currency="EUR")
    >>> day = datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 2, 2, tzinfo=timezone.utc)
    >>> usage = [UsageRecord(account="a1", metric="running_vm_hours", quantity="24",
    ...                      start=day[0], end=day[1])]
    >>> line = rate(plan, usage).bill("a1").line("running_vm")  # 72 EUR / 672 h x 24 h
    >>> line.rounded.amount, line.unit
    (Decimal('2.57'), 'VM-month')
    """
    charges: list[Charge] = []
    metrics: list[Metric] = []
    for key, tariff in tariffs.items():
        charge, metric = quota_charge(
            key, tariff, currency=currency, period=period, gb_bytes=gb_bytes
        )
        charges.append(charge)
        metrics.append(metric)
    return Plan(
        name=name,
        currency=currency,
        charges=charges,
        metrics=metrics,
        timezone="UTC",
        rounding=rounding or RoundingPolicy(),
    )
