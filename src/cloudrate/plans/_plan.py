"""A pricing plan: currency, timezone, metrics, charges and the rounding policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import attrs

from cloudrate._money import RoundingPolicy, check_currency
from cloudrate.exceptions import CurrencyMismatchError, PlanError
from cloudrate.period import BillingPeriod, zone

from ._charge import Charge, model_money
from ._metrics import Metric, default_metric
from ._model import OtherCharges

__all__ = ["Plan"]


def _to_charges(value: Iterable[Charge]) -> tuple[Charge, ...]:
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

    def _check_charge(self, where: str, charge: Charge, earlier: set[str]) -> None:
        """One charge fits the plan: a unique name, the plan's currency, and the charges
        it is priced from declared before it."""
        if charge.name in earlier:
            raise PlanError(f"{where}: the name {charge.name!r} is used twice; names are unique")
        for path, price in model_money(charge.model):
            if price.currency.code != self.currency:
                raise CurrencyMismatchError(self.currency, price.currency.code, f"{where} {path}")
        if charge.model.currency != self.currency:
            raise CurrencyMismatchError(self.currency, charge.model.currency, where)
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
        raise KeyError(
            f"no charge {name!r} in plan {self.name!r}; "
            f"charges are {', '.join(c.name for c in self.charges)}"
        )

    def metric(self, name: str) -> Metric:
        """The declared metric *name*, or its default (well-known units, sum)."""
        return self.metrics.get(name) or default_metric(name)

    def check_period(self, period: BillingPeriod) -> None:
        """Refuse a period outside the plan's effective dates."""
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
        return out
