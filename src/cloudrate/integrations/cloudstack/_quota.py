"""A settings profile pricing CloudStack usage the way CloudStack's quota plugin does.

The quota plugin (``QuotaManagerImpl.getUsageValueAccordingToUsageUnitType``) prices a
usage record from the tariffs of its usage type by the type's quota unit:

* ``COMPUTE_MONTH``, ``IP_MONTH``, ``POLICY_MONTH``: raw hours x cost per hour;
* ``GB_MONTH``: raw hours x cost per hour x size in GiB;
* ``GB``: bytes in GiB x tariff; ``BYTES`` and ``IOPS``: raw usage x tariff;

where the tariffs in force for the record (``isQuotaTariffInPeriodToBeApplied``, whose
activation rule holds) are added up, and cost per hour = that sum / the hours of a
month, rounded to 8 places half-even (``getCostPerHour``): 720 hours before CloudStack's
pull request 7210, the days of the record's month x 24 since
(``DateUtil.getHoursInCurrentMonth``).
"""

from __future__ import annotations

import calendar
import decimal
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, to_decimal
from cloudrate.exceptions import PlanError
from cloudrate.period import BillingPeriod
from cloudrate.plans import (
    MONTH_HOURS,
    Charge,
    Condition,
    Metric,
    MonthHours,
    PerUnit,
    Plan,
    Validity,
    read_condition,
)

from ._lifecycle import EVENT_METRICS
from ._types import UsageType, usage_type

__all__ = ["QuotaTariff", "quota_charge", "quota_plan"]

_MONTHLY = ("COMPUTE_MONTH", "IP_MONTH", "POLICY_MONTH", "GB_MONTH")
#: The metrics of RUNNING_VM and ALLOCATED_VM when the time comes in seconds, from VM
#: lifecycle events (:func:`~cloudrate.integrations.cloudstack.vm_hours_from_events`).
_FROM_EVENTS = {1: EVENT_METRICS["running"], 2: EVENT_METRICS["allocated"]}


def _value(value: Any) -> Decimal:
    return to_decimal(value, "tariff value")


def _condition(value: Any) -> Condition | None:
    return None if value is None else read_condition(value)


def _validity(value: Any) -> Validity | None:
    if value is None or isinstance(value, Validity):
        return value
    if isinstance(value, Mapping):  # the plan-file form: {from: ..., until: ...}
        unknown = set(value) - {"from", "until"}
        if unknown:
            raise PlanError(f"valid: takes from and until (got {sorted(unknown)})")
        return Validity(value.get("from"), value.get("until"))
    raise PlanError(f"valid: a Validity or {{from: ..., until: ...}} (got {value!r})")


@attrs.frozen(kw_only=True)
class QuotaTariff:
    """One CloudStack quota tariff: its *value* (per the usage type's quota unit, e.g.
    per VM-month), the days it is in force (*valid*, CloudStack's start and end dates,
    the end day included) and an activation condition (*where*, on the records'
    attributes). Tariffs of one usage type add up, as the quota plugin adds them.

    >>> t = QuotaTariff(value="10", valid={"from": "2026-01-01"}, where={"cpunumber": {"gt": 2}})
    >>> t.value, str(t.valid), str(t.where)
    (Decimal('10'), 'from 2026-01-01', 'cpunumber > 2')
    """

    value: Decimal = attrs.field(converter=_value)
    valid: Validity | None = attrs.field(default=None, converter=_validity)
    where: Condition | None = attrs.field(default=None, converter=_condition)
    name: str | None = None


def _hours(month_hours: MonthHours, period: BillingPeriod | None, kind: UsageType) -> Decimal:
    """The hours a monthly tariff is divided by for the rounded hourly price."""
    if month_hours == "fixed_720":
        return Decimal(720)
    if period is None:
        raise PlanError(
            f"{kind.name}: the quota plugin's hourly price for month_hours={month_hours!r} "
            "depends on the month: pass period=BillingPeriod.month(...), or "
            "month_hours='fixed_720'"
        )
    if month_hours == "period":
        return EXACT.divide(period.seconds, Decimal(3600))
    first = period.start.astimezone(period.tz)
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz)
    if (first.year, first.month) != (last.year, last.month):
        raise PlanError(
            f"{kind.name}: the period {period.label} spans several calendar months, whose "
            "hourly prices differ; rate each month with its own plan, or leave "
            "hourly_places out to convert each record with its own month exactly"
        )
    return Decimal(calendar.monthrange(first.year, first.month)[1] * 24)


def _hourly(tariff: Decimal, hours: Decimal, places: int) -> Decimal:
    with decimal.localcontext(EXACT):
        return (tariff / hours).quantize(
            Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN
        )


def _check_places(places: int | None) -> int | None:
    if places is not None and (isinstance(places, bool) or not 0 <= places <= 30):
        raise PlanError(f"hourly_places: a number of decimal places from 0 to 30 (got {places!r})")
    return places


def quota_charge(
    key: int | str,
    tariff: Decimal | str | int,
    *,
    currency: str,
    month_hours: MonthHours = "actual",
    period: BillingPeriod | None = None,
    hourly_places: int | None = None,
    gb_bytes: int = 2**30,
    name: str | None = None,
    where: Mapping[str, object] | Condition | None = None,
    valid: Validity | None = None,
    from_events: bool = False,
) -> tuple[Charge, Metric]:
    """The charge and metric pricing CloudStack usage type *key* at a quota *tariff*.

    Monthly tariffs (per VM, IP, rule or GB per month) become a price per hour by a
    month's hours, *month_hours*: ``actual`` (the default, CloudStack since its pull
    request 7210) the days x 24 hours of the month each record starts in, ``fixed_720``
    (older CloudStack) 720 hours, ``period`` the billing period's hours. Without
    *hourly_places* the division is exact: the metric's unit is a month, converted from
    the records' hours as *month_hours* says. With *hourly_places* (the quota plugin
    rounds to 8, half-even) the charge's price is that hourly cost, rounded first, as
    the quota plugin computes it; for ``actual`` and ``period`` that needs the *period*
    (one calendar month for ``actual``). Passing *period* alone rounds to 8 places, as
    earlier versions of this function did. *where* and *valid* are the tariff's
    activation condition and validity window. With *from_events*, RUNNING_VM and
    ALLOCATED_VM price the seconds of
    :func:`~cloudrate.integrations.cloudstack.vm_hours_from_events`.

    >>> charge, metric = quota_charge("RUNNING_VM", "72", currency="EUR")
    >>> metric.unit, metric.usage_unit, metric.month_hours, charge.model.unit_price
    ('VM-month', 'VM-hour', 'actual', Money('72', 'EUR'))
    >>> quota_charge(1, "400", currency="EUR", month_hours="fixed_720", hourly_places=8)[0].model
    PerUnit(unit_price=Money('0.55555556', 'EUR'))
    """
    kind: UsageType = usage_type(key)
    price = to_decimal(tariff, f"tariff of {kind.name}")
    if month_hours not in MONTH_HOURS:
        raise PlanError(f"month_hours: one of {', '.join(MONTH_HOURS)} (got {month_hours!r})")
    places = _check_places(8 if hourly_places is None and period is not None else hourly_places)
    label = name or kind.name.lower()
    if kind.name == "BUCKET":
        raise PlanError(
            "BUCKET: the quota plugin multiplies a bucket's size in bytes by an hourly cost, "
            "which has no monthly equivalent; price bucket_gb with a plan charge instead"
        )
    metric_name, usage = kind.metric, kind.unit
    if from_events and kind.number in _FROM_EVENTS:
        metric_name, usage = _FROM_EVENTS[kind.number], "VM-second"
    if kind.quota_unit in _MONTHLY:
        if places is None:
            unit, unit_price = kind.unit.replace("hour", "month"), price
            lengths = {"month_hours": month_hours}
        else:
            unit, lengths = kind.unit, {}
            unit_price = _hourly(price, _hours(month_hours, period, kind), places)
        metric = Metric(
            name=metric_name,
            unit=unit,
            usage_unit=usage if usage != unit else None,
            description=kind.description,
            **lengths,  # type: ignore[arg-type]
        )
    elif kind.quota_unit == "BYTES":  # tariff per byte, quantity in GB
        metric = Metric(name=metric_name, unit=kind.unit, description=kind.description)
        with decimal.localcontext(EXACT):
            unit_price = price * gb_bytes
    else:  # GB (per GiB of traffic) and IOPS (per request)
        metric = Metric(name=metric_name, unit=kind.unit, description=kind.description)
        unit_price = price
    charge = Charge(
        name=label,
        metric=metric_name,
        model=PerUnit(Money(unit_price, currency)),
        description=kind.description,
        service=kind.service,
        where=where,
        valid=valid,
    )
    return charge, metric


#: A tariff as :func:`quota_plan` takes it: a value, a :class:`QuotaTariff`, or several.
TariffSpec = Decimal | str | int | QuotaTariff | Sequence[Decimal | str | int | QuotaTariff]


def _tariffs(spec: TariffSpec) -> list[QuotaTariff]:
    items = spec if isinstance(spec, list | tuple) else [spec]
    return [t if isinstance(t, QuotaTariff) else QuotaTariff(value=t) for t in items]


def quota_plan(
    tariffs: Mapping[int | str, TariffSpec],
    *,
    currency: str,
    month_hours: MonthHours = "actual",
    period: BillingPeriod | None = None,
    hourly_places: int | None = None,
    name: str = "CloudStack quota tariffs",
    rounding: RoundingPolicy | None = None,
    gb_bytes: int = 2**30,
    from_events: bool = False,
) -> Plan:
    """A plan pricing CloudStack usage with quota-plugin *tariffs* keyed by usage type
    (number or name), for users migrating from the quota plugin. Times are UTC, the
    default of CloudStack's ``usage.aggregation.timezone``.

    A usage type may have several tariffs (a list, each a value or a
    :class:`QuotaTariff` with its validity window and activation condition); they add
    up, each a charge named after the type (``running_vm``), the next ones
    ``running_vm_2``, ``running_vm_3``... unless named. *month_hours*, *period*,
    *hourly_places* and *from_events* are those of :func:`quota_charge`.

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
    metrics: dict[str, Metric] = {}
    for key, spec in tariffs.items():
        for index, tariff in enumerate(_tariffs(spec)):
            base = usage_type(key).name.lower()
            charge, metric = quota_charge(
                key,
                tariff.value,
                currency=currency,
                month_hours=month_hours,
                period=period,
                hourly_places=hourly_places,
                gb_bytes=gb_bytes,
                name=tariff.name or (base if index == 0 else f"{base}_{index + 1}"),
                where=tariff.where,
                valid=tariff.valid,
                from_events=from_events,
            )
            charges.append(charge)
            metrics[metric.name] = metric
    return Plan(
        name=name,
        currency=currency,
        charges=charges,
        metrics=list(metrics.values()),
        timezone="UTC",
        rounding=rounding or RoundingPolicy(),
    )
