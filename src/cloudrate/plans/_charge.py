"""A charge: which usage it prices (metric and selector), with which model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import to_decimal
from cloudrate.exceptions import PlanError

from ._model import ChargeModel

__all__ = ["Charge", "ChargeModel", "Selector"]


Selector = Mapping[str, tuple[str, ...]]


def _attr_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_selector(value: Mapping[str, object] | None) -> Selector:
    if not value:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, wanted in value.items():
        if isinstance(wanted, list | tuple | set | frozenset):
            out[str(key)] = tuple(sorted(_attr_text(v) for v in wanted))
        else:
            out[str(key)] = (_attr_text(wanted),)
    return out


def _free(value: Any) -> Decimal:
    q = to_decimal(value, "free_units")
    if q < 0:
        raise PlanError(f"free_units: must be >= 0 (got {q})")
    return q


@attrs.frozen(kw_only=True)
class Charge:
    """One priced line of a plan.

    *metric* names the usage it prices; *where* selects records by attribute (all keys
    must match; a list means any of); *free_units* are given free each period before the
    model prices the rest. Flat fees may omit the metric (one fee per account and period);
    percentage and minimum charges price other charges and have no metric.

    >>> from cloudrate.plans import PerUnit
    >>> c = Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("0.02", "EUR")),
    ...            where={"offering": ["small", "medium"]}, free_units=Decimal(10))
    >>> c.matches({"offering": "small"}), c.matches({"offering": "large"})
    (True, False)
    """

    name: str
    model: ChargeModel
    metric: str | None = None
    description: str | None = None
    service: str | None = None
    where: Selector = attrs.field(factory=dict, converter=_to_selector, hash=False)
    free_units: Decimal = attrs.field(default=Decimal(0), converter=_free)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise PlanError("charge name: empty; give every charge a unique name")
        basis = self.model.basis
        derived = basis in ("charges", "spend")
        if basis == "usage" and not self.metric:
            raise PlanError(
                f"charge {self.name!r}: a {self.model.kind} charge needs a metric to price"
            )
        if derived and (self.metric or self.where or self.free_units):
            raise PlanError(
                f"charge {self.name!r}: a {self.model.kind} charge prices other charges; "
                "remove metric, where and free_units"
            )
        if basis == "period" and self.free_units:
            raise PlanError(f"charge {self.name!r}: free_units does not apply to a flat fee")

    @property
    def is_derived(self) -> bool:
        """Whether the charge prices other charges (percentage, minimum)."""
        return self.model.basis in ("charges", "spend")

    @property
    def label(self) -> str:
        return self.description or self.name

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Whether a record with *attributes* is selected by :attr:`where`."""
        return all(attributes.get(key) in wanted for key, wanted in self.where.items())

    def matcher(self) -> Callable[[Mapping[str, str]], bool] | None:
        """A fast test for :attr:`where`, or None when every record matches."""
        if not self.where:
            return None
        items = tuple(self.where.items())
        if len(items) == 1:
            ((key, wanted),) = items
            if len(wanted) == 1:
                value = wanted[0]
                return lambda attributes: attributes.get(key) == value
        return self.matches

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.metric is not None:
            out["metric"] = self.metric
        for field in ("description", "service"):
            if getattr(self, field) is not None:
                out[field] = getattr(self, field)
        if self.where:
            out["where"] = {k: (v[0] if len(v) == 1 else list(v)) for k, v in self.where.items()}
        if self.free_units:
            out["free_units"] = str(self.free_units)
        out.update(self.model.to_dict())
        return out


def model_money(model: ChargeModel) -> list[tuple[str, Money]]:
    """Every price a model holds, with the field path, for currency checks."""
    found: list[tuple[str, Money]] = []
    for field in ("unit_price", "block_price", "price_per_period", "amount"):
        value = getattr(model, field, None)
        if isinstance(value, Money):
            found.append((field, value))
    for index, tier in enumerate(getattr(model, "tiers", ())):
        for field in ("unit_price", "flat_price"):
            value = getattr(tier, field, None)
            if isinstance(value, Money):
                found.append((f"tiers[{index}].{field}", value))
    return found
