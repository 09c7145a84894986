"""A pricing plan: currency, timezone, metrics, charges and the rounding policy."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from cloudrate._money import RoundingPolicy, check_currency, check_quantity
from cloudrate.exceptions import CurrencyMismatchError, NotFoundError, PlanError
from cloudrate.period import BillingPeriod, zone

from ._charge import Charge, model_money
from ._html import plan_html
from ._metrics import Metric, default_metric
from ._model import OtherCharges, prices_transactions
from ._override import ChargeOverride, apply_overrides
from ._versions import (
    PriceVersion,
    changed_charges,
    check_versions,
    in_force,
    instant_text,
    require_aware,
    version_label,
    version_to_dict,
)

__all__ = ["Plan"]


_TIER_PATH = re.compile(r"^tiers\[(\d+)\]\.")


def _counted(path: str) -> str:
    """A model's field path as messages name it: tiers count from 1, as explanations do.

    >>> _counted("tiers[0].unit_price"), _counted("unit_price")
    ('tier 1 unit_price', 'unit_price')
    """
    found = _TIER_PATH.match(path)
    return path if found is None else f"tier {int(found[1]) + 1} {path[found.end() :]}"


def _to_charges(value: Iterable[Charge]) -> tuple[Charge, ...]:
    return tuple(value)


def _to_versions(value: Iterable[PriceVersion]) -> tuple[PriceVersion, ...]:
    return tuple(value)


def _to_metrics(value: Mapping[str, Metric] | Iterable[Metric] | None) -> Mapping[str, Metric]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    return {m.name: m for m in value}


@attrs.frozen(kw_only=True)
class Plan:
    """A named price list in one currency.

    >>> from decimal import Decimal
    >>> from moneyed import Money
    >>> from cloudrate.plans import PerUnit
    >>> plan = Plan(name="Basic", currency="EUR", charges=[
    ...     Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("0.02", "EUR")))])
    >>> plan.charge("compute").model.unit_price
    Money('0.02', 'EUR')

    *versions* are dated changes of the charges (:class:`~cloudrate.plans.PriceVersion`):
    :meth:`at` gives the plan in force at an instant, :meth:`changes_within` the instants
    a span must be split at. :meth:`with_overrides` gives a customer's own prices.
    """

    name: str
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))
    charges: tuple[Charge, ...] = attrs.field(converter=_to_charges)
    metrics: Mapping[str, Metric] = attrs.field(factory=dict, converter=_to_metrics, eq=False)
    timezone: str = "UTC"
    version: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    description: str | None = None
    versions: tuple[PriceVersion, ...] = attrs.field(default=(), converter=_to_versions)

    def __attrs_post_init__(self) -> None:
        zone(self.timezone)
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise PlanError(
                f"effective_to {self.effective_to} is before effective_from "
                f"{self.effective_from}; swap them"
            )
        seen: set[str] = set()
        for index, charge in enumerate(self.charges):
            self._check_charge(f"charges[{index}] ({charge.name})", charge, seen)
            seen.add(charge.name)
        for name, metric in self.metrics.items():
            if name != metric.name:
                raise PlanError(f"metrics[{name}]: key and metric name differ ({metric.name!r})")
        check_versions(self)
        for number, version in enumerate(self.versions):
            seen = set()
            for index, charge in enumerate(version.charges):
                where = f"versions[{number}].charges[{index}] ({charge.name})"
                self._check_charge(where, charge, seen)
                seen.add(charge.name)

    def _check_charge(self, where: str, charge: Charge, earlier: set[str]) -> None:
        """One charge fits the plan: a unique name, the plan's currency, and the charges
        it is priced from declared before it."""
        if charge.name in earlier:
            raise PlanError(f"{where}: the name {charge.name!r} is used twice; names are unique")
        check_quantity(charge.free_units, f"{where} free_units")
        for path, price in model_money(charge.model):
            if price.currency.code != self.currency:
                raise CurrencyMismatchError(
                    self.currency, price.currency.code, f"{where} {_counted(path)}"
                )
        if charge.model.currency != self.currency:
            raise CurrencyMismatchError(self.currency, charge.model.currency, where)
        if charge.metric is not None and prices_transactions(charge.model):
            aggregation = self.metric(charge.metric).aggregation
            if aggregation != "sum":
                raise PlanError(
                    f"{where}: a {charge.model.kind} charge prices each record of its "
                    f"metric as a transaction, but metric {charge.metric!r} is aggregated "
                    f"by {aggregation}; give the metric aggregation: sum"
                )
        if isinstance(charge.model, OtherCharges):
            for name in charge.model.of:
                if name not in earlier:
                    raise PlanError(
                        f"{where}: 'of' names {name!r}, which is not a charge declared "
                        "before this one; list the charges it applies to above it"
                    )

    # The metrics mapping compares by value for equality of plans.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return attrs.astuple(self, recurse=False) == attrs.astuple(other, recurse=False) and (
            dict(self.metrics) == dict(other.metrics)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.currency, self.charges, self.version))

    def charge(self, name: str) -> Charge:
        """The charge called *name*."""
        for charge in self.charges:
            if charge.name == name:
                return charge
        raise NotFoundError(
            f"no charge {name!r} in plan {self.name!r}; "
            f"charges are {', '.join(c.name for c in self.charges)}"
        )

    def metric(self, name: str) -> Metric:
        """The declared metric *name*, or its default (well-known units, sum)."""
        return self.metrics.get(name) or default_metric(name)

    def at(self, instant: datetime) -> Plan:
        """The plan in force at *instant*: the charges of the version in effect then, that
        version's label as :attr:`version`, and no versions (a plain price list).

        >>> from datetime import datetime
        >>> from decimal import Decimal
        >>> from moneyed import Money
        >>> from zoneinfo import ZoneInfo
        >>> from cloudrate.plans import PerUnit
        >>> berlin = ZoneInfo("Europe/Berlin")
        >>> compute = lambda price: Charge(name="compute", metric="vcpu_hours",
        ...                                model=PerUnit(Money(price, "EUR")))
        >>> plan = Plan(name="Basic", currency="EUR", timezone="Europe/Berlin",
        ...             charges=[compute("0.0125")])
        >>> plan = plan.with_version(datetime(2026, 10, 10, tzinfo=berlin),
        ...                          changes=[compute("0.015")])
        >>> later = plan.at(datetime(2026, 10, 20, tzinfo=berlin))
        >>> later.version, later.charge("compute").model.unit_price, later.versions
        ('2026-10-10', Money('0.015', 'EUR'), ())
        >>> plan.at(datetime(2026, 10, 1, tzinfo=berlin)).charge("compute").model.unit_price
        Money('0.0125', 'EUR')
        """
        current = in_force(self.versions, instant)
        if current is None:
            return attrs.evolve(self, versions=())
        return attrs.evolve(
            self,
            charges=current.charges,
            version=version_label(current, self.timezone),
            versions=(),
        )

    def changes_within(self, start: datetime, end: datetime) -> tuple[datetime, ...]:
        """The instants strictly inside ``(start, end)`` at which a price version takes
        effect (in the plan's timezone): where a billing period must be split.

        >>> from datetime import datetime
        >>> from moneyed import Money
        >>> from zoneinfo import ZoneInfo
        >>> from cloudrate.plans import PerUnit
        >>> utc = ZoneInfo("UTC")
        >>> c = lambda price: Charge(name="c", metric="m", model=PerUnit(Money(price, "EUR")))
        >>> plan = Plan(name="P", currency="EUR", charges=[c("1")]).with_version(
        ...     datetime(2026, 10, 10, tzinfo=utc), changes=[c("2")])
        >>> october = datetime(2026, 10, 1, tzinfo=utc), datetime(2026, 11, 1, tzinfo=utc)
        >>> plan.changes_within(*october)
        (datetime.datetime(2026, 10, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),)
        >>> plan.changes_within(datetime(2026, 10, 10, tzinfo=utc), october[1])
        ()
        """
        require_aware(start, "start")
        require_aware(end, "end")
        tz = zone(self.timezone)
        return tuple(
            v.effective_from.astimezone(tz) for v in self.versions if start < v.effective_from < end
        )

    def with_version(
        self,
        effective_from: datetime,
        *,
        changes: Iterable[Charge] = (),
        add: Iterable[Charge] = (),
        remove: Iterable[str] = (),
        version: str | None = None,
    ) -> Plan:
        """This plan with one more price version, after the last: from *effective_from*
        on, each charge in *changes* replaces the charge of its name, *add* are appended
        and the charges named in *remove* are dropped.

        >>> from datetime import datetime
        >>> from moneyed import Money
        >>> from zoneinfo import ZoneInfo
        >>> from cloudrate.plans import OneOff, PerUnit
        >>> plan = Plan(name="P", currency="EUR", charges=[
        ...     Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("1", "EUR")))])
        >>> setup = Charge(name="setup", metric="setup_events", model=OneOff(Money("25", "EUR")))
        >>> later = plan.with_version(datetime(2026, 10, 10, tzinfo=ZoneInfo("UTC")), add=[setup])
        >>> [c.name for c in later.versions[0].charges]
        ['compute', 'setup']
        >>> plan.with_version(datetime(2026, 10, 10, tzinfo=ZoneInfo("UTC")), remove=["cpu"])
        Traceback (most recent call last):
        ...
        cloudrate.exceptions.PlanError: version: no charge 'cpu' to change or remove; ...
        """
        previous = self.versions[-1].charges if self.versions else self.charges
        charges = changed_charges(previous, changes, add, remove)
        added = PriceVersion(effective_from=effective_from, charges=charges, version=version)
        return attrs.evolve(self, versions=(*self.versions, added))

    def with_overrides(self, overrides: Iterable[ChargeOverride], *, label: str) -> Plan:
        """This plan with a customer's *overrides* of named charges (in every version):
        each overridden charge's explanation says what *label* changed.

        >>> from decimal import Decimal
        >>> from moneyed import Money
        >>> from cloudrate.plans import ChargeOverride, PerUnit
        >>> plan = Plan(name="Basic", currency="EUR", charges=[
        ...     Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("0.0125", "EUR")))])
        >>> acme = plan.with_overrides(
        ...     [ChargeOverride(charge="compute", unit_price=Money("0.010", "EUR"),
        ...                     discount_percent=Decimal(10))], label="ACME contract")
        >>> print(acme.charge("compute").model.price(Decimal(720)).explain())
        override (ACME contract): unit price 0.010 EUR instead of 0.0125 EUR
        per unit: 720 x 0.010 EUR = 7.200 EUR
        discount 10% (ACME contract): -0.720 EUR
        """
        return apply_overrides(self, overrides, label)

    def check_period(self, period: BillingPeriod) -> None:
        """Refuse a period outside the plan's effective dates, or priced by a later
        version than the plan's own charges (rate :meth:`at` an instant instead)."""
        self._check_versions_in(period)
        first = period.start.astimezone(period.tz).date()
        last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
        if self.effective_from and first < self.effective_from:
            raise PlanError(
                f"plan {self.name!r} version {self.version} takes effect on "
                f"{self.effective_from}, after the period starts ({first}); rate this period "
                "with the plan version in force then"
            )
        if self.effective_to and last > self.effective_to:
            raise PlanError(
                f"plan {self.name!r} version {self.version} ends on {self.effective_to}, "
                f"before the period ends ({last}); rate this period with the next version"
            )

    def _check_versions_in(self, period: BillingPeriod) -> None:
        """A plan with versions is rated as is only for periods before its first one."""
        if not self.versions or period.end <= self.versions[0].effective_from:
            return
        inside = self.changes_within(period.start, period.end)
        if inside:
            when = ", ".join(instant_text(t, self.timezone) for t in inside)
            raise PlanError(
                f"plan {self.name!r} changes prices within the period {period.label} (at "
                f"{when}); rate each part with plan.at(its start), or bill the period "
                "through a subscription, which splits it where prices change"
            )
        current = in_force(self.versions, period.start)
        assert current is not None, "the period starts at or after the first version"
        raise PlanError(
            f"the period {period.label} is priced by version "
            f"{version_label(current, self.timezone)} of plan {self.name!r}; rate "
            "plan.at(period.start), the plan in force then"
        )

    def _repr_html_(self) -> str:
        """The plan as an HTML table for notebooks (see :mod:`cloudrate.plans._html`)."""
        return plan_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data; :func:`cloudrate.load_plan` reads it back to an equal plan."""
        out: dict[str, Any] = {"name": self.name, "currency": self.currency}
        for field in ("version", "description"):
            if getattr(self, field) is not None:
                out[field] = getattr(self, field)
        for field in ("effective_from", "effective_to"):
            if getattr(self, field) is not None:
                out[field] = getattr(self, field).isoformat()
        out["timezone"] = self.timezone
        if self.rounding != RoundingPolicy():
            out["rounding"] = self.rounding.to_dict()
        if self.metrics:
            out["metrics"] = {name: m.to_dict() for name, m in self.metrics.items()}
        out["charges"] = [c.to_dict() for c in self.charges]
        if self.versions:
            out["versions"] = []
            previous = self.charges
            for version in self.versions:
                out["versions"].append(version_to_dict(previous, version, self.timezone))
                previous = version.charges
        return out
