"""A charge: which usage it prices (metric and selector), with which model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import to_decimal
from cloudrate.exceptions import PlanError

from ._model import ChargeModel, prices_transactions
from ._validity import Validity
from ._where import Condition, Match, read_condition

__all__ = ["Charge", "ChargeModel", "Selector"]


#: What a charge's ``where`` holds: a :class:`Condition` (a plain one is a mapping of
#: attribute to accepted values).
Selector = Condition


def _to_selector(value: object) -> Condition:
    found = read_condition(value)
    assert found is not None  # read_condition raises on a problem without a reporter
    return found


def _to_validity(value: object) -> Validity | None:
    if value is None or isinstance(value, Validity):
        return value
    raise PlanError(f"valid: expected a Validity(start, end) or None (got {value!r})")


def _free(value: Any) -> Decimal:
    q = to_decimal(value, "free_units")
    if q < 0:
        raise PlanError(f"free_units: must be >= 0 (got {q})")
    return q


@attrs.frozen(kw_only=True)
class Charge:
    """One priced line of a plan.

    *metric* names the usage it prices; *where* selects records by attribute (all keys
    must match; a list means any of; ``all``, ``any`` and ``not`` combine conditions, see
    :mod:`cloudrate.plans._where`); *free_units* are given free each period before the
    model prices the rest. *valid* limits the charge to the usage records of some days
    (:class:`~cloudrate.plans.Validity`, each record the window touches priced whole).
    Flat fees may omit the metric (one fee per account and period); percentage and
    minimum charges price other charges and have no metric.

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
    where: Condition = attrs.field(factory=Match, converter=_to_selector, hash=False)
    free_units: Decimal = attrs.field(default=Decimal(0), converter=_free)
    valid: Validity | None = attrs.field(default=None, converter=_to_validity)

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
        if self.valid is not None and not self.metric:
            raise PlanError(
                f"charge {self.name!r}: valid selects usage records by their dates and this "
                "charge prices none; give prices that change by date as plan versions"
            )
        if self.free_units and prices_transactions(self.model):
            raise PlanError(
                f"charge {self.name!r}: free_units does not apply to a {self.model.kind} "
                "charge; give its free_amount or free_transactions instead"
            )

    @property
    def is_derived(self) -> bool:
        """Whether the charge prices other charges (percentage, minimum)."""
        return self.model.basis in ("charges", "spend")

    @property
    def label(self) -> str:
        return self.description or self.name

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Whether a record with *attributes* is selected by :attr:`where`."""
        return self.where.matches(attributes)

    def matcher(self) -> Callable[[Mapping[str, str]], bool] | None:
        """A fast test for :attr:`where`, or None when every record matches."""
        if not self.where:
            return None
        if not self.where.plain:
            return self.where.matches
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
            out["where"] = self.where.to_data()
        if self.free_units:
            out["free_units"] = str(self.free_units)
        if self.valid is not None:
            out["valid"] = self.valid.to_data()
        out.update(self.model.to_dict())
        return out


def model_money(model: ChargeModel) -> list[tuple[str, Money]]:
    """Every price a model holds, with the field path, for currency checks."""
    found: list[tuple[str, Money]] = []
    for field in (
        "unit_price",
        "block_price",
        "price_per_period",
        "amount",
        "fixed_fee",
        "min_per_transaction",
        "max_per_transaction",
    ):
        value = getattr(model, field, None)
        if isinstance(value, Money):
            found.append((field, value))
    for index, tier in enumerate(getattr(model, "tiers", ())):
        for field in ("unit_price", "flat_price"):
            value = getattr(tier, field, None)
            if isinstance(value, Money):
                found.append((f"tiers[{index}].{field}", value))
    return found
