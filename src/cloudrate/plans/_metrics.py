"""Metrics: what is measured, in which unit, how records combine, and unit conversion."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import attrs

from cloudrate._money import EXACT
from cloudrate.exceptions import PlanError
from cloudrate.period import zone

from ._quantity_rounding import QuantityRounding

__all__ = [
    "AGGREGATIONS",
    "MONTH_HOURS",
    "Aggregation",
    "Metric",
    "MonthHours",
    "conversion",
    "default_metric",
    "month_seconds",
]

#: How the records of a period combine into the quantity that is priced.
#: How a metric's records in a period become one quantity.
Aggregation = Literal["sum", "max", "average", "unique", "latest"]
AGGREGATIONS: tuple[Aggregation, ...] = ("sum", "max", "average", "unique", "latest")

#: How long a ``month`` unit is: the billing ``period`` (the default), a fixed 30-day
#: month of 720 hours (``fixed_720``, CloudStack's quota plugin before 2023), or the
#: calendar month each record starts in, days x 24 hours (``actual``, CloudStack's
#: quota plugin since its pull request 7210: ``DateUtil.getHoursInCurrentMonth``).
MonthHours = Literal["period", "fixed_720", "actual"]
MONTH_HOURS: tuple[MonthHours, ...] = ("period", "fixed_720", "actual")

#: The seconds of a 720-hour month.
_FIXED_720 = Decimal(720 * 3600)

# Sizes in a base unit per dimension; "month" is the billing period and is sized at
# rating time.
_TIME = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "minute": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "day": 86400,
}
_DATA = {
    "b": 1,
    "byte": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def _token(word: str) -> tuple[str, str, int]:
    """(dimension, normal name, size) of one unit word."""
    key = word.strip().lower()
    for candidate in (key, key[:-1] if key.endswith("s") and len(key) > 2 else key):
        if candidate in _TIME:
            return "time", candidate, _TIME[candidate]
        if candidate in ("month", "mo"):
            return "time", "month", 0
        if candidate in _DATA:
            return "data", candidate, _DATA[candidate]
    return "word:" + key, key, 1


def _parse(unit: str) -> list[tuple[str, str, int]]:
    """The measured dimensions of *unit*; free words (vCPU, IP) are labels and drop out."""
    words = [w for w in unit.replace("*", "-").replace("·", "-").split("-") if w.strip()]
    tokens = (_token(w) for w in words)
    return sorted((t for t in tokens if not t[0].startswith("word:")), key=lambda t: t[0])


def conversion(usage_unit: str, unit: str, period_seconds: Decimal) -> tuple[Decimal, Decimal]:
    """``(numerator, denominator)`` turning a quantity in *usage_unit* into *unit*.

    Units are words joined by ``-``: data (byte, KB, MB, GB, TB, KiB, MiB, GiB, TiB),
    time (second, minute, hour, day, month = the billing period) and free words
    (vCPU, IP) that label the unit and do not take part in the conversion.

    >>> conversion("second", "hour", Decimal(0))
    (Decimal('1'), Decimal('3600'))
    >>> conversion("byte", "GiB", Decimal(0))
    (Decimal('1'), Decimal('1073741824'))
    >>> conversion("second", "IP-hour", Decimal(0))
    (Decimal('1'), Decimal('3600'))
    >>> conversion("GB-hour", "GB-month", Decimal(30 * 86400))
    (Decimal('1'), Decimal('720'))
    """
    source, target = _parse(usage_unit), _parse(unit)
    if [t[0] for t in source] != [t[0] for t in target]:
        raise PlanError(
            f"cannot convert {usage_unit!r} to {unit!r}: they measure different things; "
            "units are words such as GB, GiB, byte, hour, second, month joined by '-'"
        )
    ratio = Fraction(1)
    for (_, s_name, s_size), (_, t_name, t_size) in zip(source, target, strict=True):
        ratio *= Fraction(period_seconds if s_name == "month" else s_size)
        ratio /= Fraction(period_seconds if t_name == "month" else t_size)
    return Decimal(ratio.numerator), Decimal(ratio.denominator)


def month_seconds(year: int, month: int) -> Decimal:
    """The seconds of calendar month *year*-*month* counted as CloudStack counts them:
    its days x 24 hours, whatever daylight saving does to the clock.

    >>> month_seconds(2026, 2) / 3600, month_seconds(2028, 2) / 3600, month_seconds(2026, 10) / 3600
    (Decimal('672'), Decimal('696'), Decimal('744'))
    """
    return Decimal(calendar.monthrange(year, month)[1] * 86400)


def _has_month(unit: str) -> bool:
    return any(name == "month" for _, name, _ in _parse(unit))


def _check_aggregation(_inst: object, _attr: object, value: str) -> None:
    if value not in AGGREGATIONS:
        raise PlanError(f"aggregation: must be one of {', '.join(AGGREGATIONS)} (got {value!r})")


def _check_rounding(_inst: object, _attr: object, value: Any) -> None:
    if value is not None and not isinstance(value, QuantityRounding):
        raise PlanError(
            f"rounding: expected a QuantityRounding such as QuantityRounding('ceil', 2), "
            f"got {value!r}"
        )


@attrs.frozen(kw_only=True)
class Metric:
    """A measured quantity: its *unit* as priced, the *usage_unit* records carry, and how
    a period's records combine (*aggregation*).

    ``sum`` adds quantities; ``max`` takes the peak; ``average`` is the time-weighted
    average over the period (quantity x record seconds / period seconds, e.g. average GB
    stored); ``unique`` counts distinct resources; ``latest`` takes the quantity of the
    last record.

    *month_hours* says how long a ``month`` unit is when the metric converts to or from
    one (:data:`MonthHours`): the billing period, 720 hours, or (``actual``, ``sum``
    metrics only) the days x 24 hours of the calendar month, in the plan's timezone, in
    which each record starts. ``actual`` adds each month's records up apart and converts
    each sum with its own month, exactly, as CloudStack's quota plugin divides a monthly
    tariff by the hours of the record's month.

    >>> Metric(name="bandwidth_gb", unit="GB", usage_unit="byte").usage_unit
    'byte'
    >>> vm = Metric(name="vm", unit="VM-month", usage_unit="VM-hour", month_hours="fixed_720")
    >>> vm.conversion(Decimal(31 * 86400))  # a 31-day period: still 720 hours a month
    (Decimal('1'), Decimal('720'))

    *rounding* (a :class:`QuantityRounding`) rounds the quantity its charges price: the
    aggregated quantity in *unit* (before free units), or each record's quantity in
    *unit* before aggregation. Rounding always follows unit conversion, whatever the
    month is: ``per: aggregate`` rounds the converted aggregate (under ``actual``, the
    sum of the months' converted sums), ``per: record`` each record converted with the
    month *month_hours* gives it (under ``actual``, the month the record starts in).

    >>> Metric(name="api_calls", rounding=QuantityRounding("ceil", -2)).to_dict()
    {'unit': 'unit', 'rounding': {'mode': 'ceil', 'precision': -2}}

    .. versionchanged:: 0.2
       *rounding* and *month_hours*.
    """

    name: str
    unit: str = "unit"
    usage_unit: str | None = None
    aggregation: Aggregation = attrs.field(default="sum", validator=_check_aggregation)
    description: str | None = None
    month_hours: MonthHours = "period"
    rounding: QuantityRounding | None = attrs.field(default=None, validator=_check_rounding)

    def __attrs_post_init__(self) -> None:
        if self.usage_unit is not None:
            conversion(self.usage_unit, self.unit, Decimal(2592000))  # raises if incompatible
        if self.month_hours not in MONTH_HOURS:
            raise PlanError(
                f"metric {self.name!r}: month_hours must be one of {', '.join(MONTH_HOURS)} "
                f"(got {self.month_hours!r})"
            )
        if self.month_hours != "period" and not self.converts_months:
            raise PlanError(
                f"metric {self.name!r}: month_hours sets how long a month is, and the metric "
                f"converts no month (unit {self.unit!r}, usage_unit {self.usage_unit!r}); "
                "give unit: X-month and usage_unit: X-hour, or remove month_hours"
            )
        if self.month_hours == "actual" and self.aggregation != "sum":
            raise PlanError(
                f"metric {self.name!r}: month_hours 'actual' converts each calendar "
                f"month's sum with its own length, so the aggregation must be sum "
                f"(got {self.aggregation!r}); use 'fixed_720' or 'period'"
            )

    @property
    def converts_months(self) -> bool:
        """Whether the metric converts its records to or from a ``month`` unit."""
        return (
            self.converts
            and self.usage_unit is not None
            and (_has_month(self.unit) != _has_month(self.usage_unit))
        )

    @property
    def by_month(self) -> bool:
        """Whether each calendar month's records are converted with that month's length
        (``month_hours='actual'``)."""
        return self.month_hours == "actual"

    def conversion(self, period_seconds: Decimal) -> tuple[Decimal, Decimal]:
        """``(numerator, denominator)`` turning an aggregate in ``usage_unit`` into
        ``unit`` for a billing period of *period_seconds*: a month is the period, or 720
        hours (``fixed_720``). ``actual`` converts month by month
        (:meth:`month_conversion`)."""
        assert self.usage_unit is not None, "only metrics with a usage_unit convert"
        month = _FIXED_720 if self.month_hours == "fixed_720" else period_seconds
        return conversion(self.usage_unit, self.unit, month)

    def month_conversion(self, year: int, month: int) -> tuple[Decimal, Decimal]:
        """``(numerator, denominator)`` for the records of calendar month *year*-*month*
        under ``month_hours='actual'``: a month unit is that month's days x 24 hours."""
        assert self.usage_unit is not None, "only metrics with a usage_unit convert"
        return conversion(self.usage_unit, self.unit, month_seconds(year, month))

    @property
    def converts(self) -> bool:
        return self.usage_unit is not None and _parse(self.usage_unit) != _parse(self.unit)

    @property
    def rounds_records(self) -> bool:
        """Whether each record's quantity is converted and rounded before aggregation."""
        return self.rounding is not None and self.rounding.per == "record"

    def record_conversion(
        self, period_seconds: Decimal, timezone: str = "UTC"
    ) -> Callable[[Decimal, datetime], Decimal] | None:
        """How one record's quantity, given with the record's start, converts into
        :attr:`unit` for a billing period of *period_seconds*: a ``month`` is the period,
        720 hours (``fixed_720``) or, under ``actual``, the calendar month in *timezone*
        (the plan's) the record starts in. None when the metric has no *usage_unit*.

        >>> from datetime import datetime, timezone
        >>> vm = Metric(name="vm", unit="VM-month", usage_unit="VM-hour", month_hours="actual")
        >>> february = datetime(2026, 2, 3, tzinfo=timezone.utc)
        >>> vm.record_conversion(Decimal(0))(Decimal(336), february)
        Decimal('0.5')
        """
        if self.usage_unit is None:
            return None
        if self.by_month:
            tz = zone(timezone)

            def by_start(quantity: Decimal, start: datetime) -> Decimal:
                local = start.astimezone(tz)
                num, den = self.month_conversion(local.year, local.month)
                return EXACT.divide(EXACT.multiply(quantity, num), den)

            return by_start
        num, den = self.conversion(period_seconds)

        def converted(quantity: Decimal, _start: datetime) -> Decimal:
            return EXACT.divide(EXACT.multiply(quantity, num), den)

        return converted

    def record_scale(
        self, period_seconds: Decimal, timezone: str = "UTC"
    ) -> Callable[[Decimal, datetime], Decimal] | None:
        """How a record's quantity (given with the record's start) enters the aggregate
        when the metric rounds each record: converted into :attr:`unit`
        (:meth:`record_conversion`: the month *month_hours* gives the record), then
        rounded; None when records enter as they are (the aggregate is converted and
        rounded instead). Rating, the columnar engine and the usage page all take records
        through it.

        >>> from datetime import datetime, timezone
        >>> gib = Metric(name="disk", unit="GiB", usage_unit="byte",
        ...              rounding=QuantityRounding("half_even", 8, per="record"))
        >>> gib.record_scale(Decimal(2678400))(Decimal(1500000000), datetime(2026, 10, 1))
        Decimal('1.39698386')
        """
        rounding = self.rounding
        if rounding is None or rounding.per != "record":
            return None
        convert = self.record_conversion(period_seconds, timezone)
        if convert is None:
            return lambda quantity, _start: rounding.apply(quantity)
        return lambda quantity, start: rounding.apply(convert(quantity, start))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit}
        if self.usage_unit is not None:
            out["usage_unit"] = self.usage_unit
        if self.aggregation != "sum":
            out["aggregation"] = self.aggregation
        if self.description is not None:
            out["description"] = self.description
        if self.month_hours != "period":
            out["month_hours"] = self.month_hours
        if self.rounding is not None:
            out["rounding"] = self.rounding.to_dict()
        return out


_DEFAULTS = {
    "vcpu_hours": ("vCPU-hour", "vCPU hours"),
    "memory_gb_hours": ("GB-hour", "Memory GB-hours"),
    "storage_gb_hours": ("GB-hour", "Storage GB-hours"),
    "snapshot_gb_hours": ("GB-hour", "Snapshot GB-hours"),
    "bandwidth_gb": ("GB", "Bandwidth GB"),
    "public_ip_hours": ("IP-hour", "Public IP hours"),
    "vm_hours": ("VM-hour", "VM hours"),
}


@functools.cache
def default_metric(name: str) -> Metric:
    """The metric a plan gets for *name* when it does not declare it (cached: metrics are
    frozen)."""
    unit, description = _DEFAULTS.get(name, ("unit", None))
    return Metric(name=name, unit=unit, description=description)
