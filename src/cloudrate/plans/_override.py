"""Per-customer overrides of a plan's charges: their own prices, free units or a discount.

A :class:`ChargeOverride` names one charge and what changes for one customer.
:meth:`cloudrate.Plan.with_overrides` applies a set of them under a label (``"ACME
contract"``) without copying the plan: each overridden charge's model is wrapped
(:class:`~cloudrate.plans._overridden.Overridden`) so its explanation says what the
override changed. :func:`read_overrides` reads them from a document's mapping
(``{compute: {unit_price: "0.010"}}``) with every problem at once; :func:`dump_overrides`
writes them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs
from moneyed import Money

from cloudrate._money import to_decimal
from cloudrate.exceptions import CurrencyMismatchError, PlanError

from ._charge import Charge
from ._fields import as_money, as_optional_quantity, non_negative_money
from ._model import ChargeModel, prices_transactions
from ._overridden import Overridden, overridden
from ._priced import money_text
from ._tiers import Tier, TieredModel, check_tiers
from ._versions import version_label

if TYPE_CHECKING:  # pragma: no cover
    from ._plan import Plan

__all__ = [
    "OVERRIDE_KEYS",
    "ChargeOverride",
    "applicable",
    "apply_overrides",
    "dump_overrides",
    "inapplicable_message",
    "price_lists",
]

#: What an override may change, by its key (the plan-file keys of the models they belong to).
OVERRIDE_KEYS = (
    "unit_price",
    "tiers",
    "block_price",
    "price",
    "amount",
    "free_units",
    "discount_percent",
)
#: Override key -> (the model attribute it replaces, how a note names it).
_PRICES = {
    "unit_price": ("unit_price", "unit price"),
    "block_price": ("block_price", "block price"),
    "price": ("price_per_period", "price"),
    "amount": ("amount", "minimum"),
}


def _optional_money(value: Any) -> Money | None:
    return None if value is None else as_money(value)


def _optional_tiers(value: Iterable[Tier] | None) -> tuple[Tier, ...] | None:
    return None if value is None else tuple(value)


def _check_optional_tiers(inst: object, attr: object, value: tuple[Tier, ...] | None) -> None:
    if value is not None:
        check_tiers(inst, attr, value)


def _optional_percent(value: Any) -> Decimal | None:
    if value is None:
        return None
    percent = to_decimal(value, "discount_percent")
    if not 0 < percent <= 100:
        raise PlanError(
            f"discount_percent: must be above 0 and at most 100 (got {percent}); "
            "10 takes 10% off the charge"
        )
    return percent


@attrs.frozen(kw_only=True)
class ChargeOverride:
    """What changes in the charge named *charge* for one customer.

    *unit_price* (``per_unit``, ``one_off``), *tiers* (``graduated``, ``volume``),
    *block_price* (``package``), *price* (``flat``) and *amount* (``minimum``) replace
    the plan's; *free_units* replaces a usage charge's allowance; *discount_percent*
    (above 0, at most 100) takes that share off the charge's amount, whatever its price.

    >>> from moneyed import Money
    >>> ChargeOverride(charge="compute", unit_price=Money("0.010", "EUR")).to_dict()
    {'unit_price': '0.010'}
    >>> ChargeOverride(charge="compute")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: override of 'compute': nothing to change; give one of ...

    .. versionadded:: 0.2
    """

    charge: str
    unit_price: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )
    tiers: tuple[Tier, ...] | None = attrs.field(
        default=None, converter=_optional_tiers, validator=_check_optional_tiers
    )
    block_price: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )
    price: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )
    amount: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )
    free_units: Decimal | None = attrs.field(default=None, converter=as_optional_quantity)
    discount_percent: Decimal | None = attrs.field(default=None, converter=_optional_percent)

    def __attrs_post_init__(self) -> None:
        if not self.given:
            raise PlanError(
                f"override of {self.charge!r}: nothing to change; give one of "
                f"{', '.join(OVERRIDE_KEYS)}"
            )

    @property
    def given(self) -> tuple[str, ...]:
        """The keys this override sets, in :data:`OVERRIDE_KEYS` order."""
        return tuple(k for k in OVERRIDE_KEYS if getattr(self, k) is not None)

    def to_dict(self) -> dict[str, Any]:
        """The override as plain data (amounts as decimal strings), without the charge."""
        out: dict[str, Any] = {}
        for key in self.given:
            value = getattr(self, key)
            if isinstance(value, Money):
                out[key] = str(value.amount)
            elif key == "tiers":
                out[key] = [t.to_dict() for t in value]
            else:
                out[key] = str(value)
        return out

    def apply(self, charge: Charge, label: str) -> Charge:
        """*charge* as this override changes it, its explanation noting each change."""
        model = charge.model
        if isinstance(model, Overridden):
            raise PlanError(
                f"charge {charge.name!r} already carries overrides ({model.label}); "
                "give all of a customer's overrides in one with_overrides() call"
            )
        for key in self.given:
            if not applicable(key, charge):
                raise PlanError(f"override of {charge.name!r}: {inapplicable_message(key, charge)}")
        changes: dict[str, Any] = {}
        notes: list[str] = []
        for key, (attribute, words) in _PRICES.items():
            new = getattr(self, key)
            if new is not None:
                changes[attribute] = new
                notes.append(
                    f"{words} {money_text(new)} instead of {money_text(getattr(model, attribute))}"
                )
        if self.tiers is not None and isinstance(model, TieredModel):
            changes["tiers"] = self.tiers
            notes.append(f"tiers {_tiers_text(self.tiers)} instead of {_tiers_text(model.tiers)}")
        free = charge.free_units
        if self.free_units is not None:
            notes.append(f"free units {self.free_units} instead of {charge.free_units}")
            free = self.free_units
        inner: ChargeModel = attrs.evolve(cast("Any", model), **changes) if changes else model
        wrapped = overridden(inner, model, label, tuple(notes), self.discount_percent)
        return attrs.evolve(charge, model=wrapped, free_units=free)


def _tiers_text(tiers: Sequence[Tier]) -> str:
    """``0.10 EUR to 100, 0.05 EUR above 100``."""
    parts, lower = [], Decimal(0)
    for tier in tiers:
        span = f"to {tier.up_to}" if tier.up_to is not None else f"above {lower}"
        flat = "" if tier.flat_price is None else f" (+{money_text(tier.flat_price)} flat)"
        parts.append(f"{money_text(tier.unit_price)} {span}{flat}")
        lower = tier.up_to if tier.up_to is not None else lower
    return ", ".join(parts)


def applicable(key: str, charge: Charge) -> bool:
    """Whether the override key *key* can change *charge* (by its model and basis)."""
    model = charge.model
    if key == "tiers":
        return isinstance(model, TieredModel)
    if key in _PRICES:
        attribute = _PRICES[key][0]
        return key in type(model).keys and attrs.has(type(model)) and hasattr(model, attribute)
    if key == "free_units":  # a per-transaction model has its own free settings
        return model.basis == "usage" and not prices_transactions(model)
    return model.basis != "spend"  # discount_percent: a minimum's true-up is not discounted


def inapplicable_message(key: str, charge: Charge) -> str:
    """Why *key* cannot override *charge*, and which keys can."""
    valid = [k for k in OVERRIDE_KEYS if applicable(k, charge)]
    return f"{key} does not apply to a {charge.model.kind} charge; override {', '.join(valid)}"


def price_lists(plan: Plan) -> list[tuple[str, tuple[Charge, ...]]]:
    """The plan's charges, then each price version's, each with how a message names it."""
    return [("", plan.charges)] + [
        (f" in version {version_label(v, plan.timezone)}", v.charges) for v in plan.versions
    ]


def _check(plan: Plan, override: ChargeOverride) -> None:
    """*override* names a charge of *plan* (or of a version) and fits every model it has."""
    name = override.charge
    found = [(where, c) for where, charges in price_lists(plan) for c in charges if c.name == name]
    if not found:
        names = sorted({c.name for _, charges in price_lists(plan) for c in charges})
        raise PlanError(
            f"override of {name!r}: plan {plan.name!r} has no such charge; "
            f"its charges are {', '.join(names)}"
        )
    for key in override.given:
        value = getattr(override, key)
        price = value[0].unit_price if key == "tiers" else value
        if isinstance(price, Money) and price.currency.code != plan.currency:
            raise CurrencyMismatchError(plan.currency, price.currency.code, f"{name} {key}")
        for where, charge in found:
            if not applicable(key, charge):
                raise PlanError(f"override of {name!r}{where}: {inapplicable_message(key, charge)}")


def apply_overrides(plan: Plan, overrides: Iterable[ChargeOverride], label: str) -> Plan:
    """*plan* with *overrides* applied to its charges and to every price version's."""
    if not isinstance(label, str) or not label.strip():
        raise PlanError(
            f"with_overrides label: {label!r} names no one; give a name such as 'ACME contract'"
        )
    wanted: dict[str, ChargeOverride] = {}
    for override in overrides:
        if override.charge in wanted:
            raise PlanError(
                f"two overrides of charge {override.charge!r}; give one ChargeOverride per charge"
            )
        _check(plan, override)
        wanted[override.charge] = override

    def changed(charges: tuple[Charge, ...]) -> list[Charge]:
        return [wanted[c.name].apply(c, label.strip()) if c.name in wanted else c for c in charges]

    versions = [attrs.evolve(v, charges=changed(v.charges)) for v in plan.versions]
    return attrs.evolve(plan, charges=changed(plan.charges), versions=versions)


def dump_overrides(overrides: Iterable[ChargeOverride]) -> dict[str, dict[str, Any]]:
    """Overrides as plain data, by charge name; :func:`read_overrides` reads it back.

    >>> from moneyed import Money
    >>> dump_overrides([ChargeOverride(charge="storage", discount_percent=Decimal(10))])
    {'storage': {'discount_percent': '10'}}
    """
    return {o.charge: o.to_dict() for o in overrides}
