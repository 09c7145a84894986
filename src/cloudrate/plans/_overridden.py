"""A charge model carrying a customer's overrides: new prices, a discount, and notes saying so.

:class:`Overridden` wraps the model a plan charge is priced with. It prices like the
model it holds (whose prices may be the customer's own) and explains how: a note per
overridden field (``override (ACME contract): unit price 0.010 EUR instead of 0.0125
EUR``) and, with a discount, a step that takes the percentage off (``discount 10% (ACME
contract): -0.90 EUR``). It has the kind, basis and plan-file keys of the model it wraps
and the same protocols (:class:`~cloudrate.plans.VectorPricing`,
:class:`~cloudrate.plans.Prorated`, :class:`~cloudrate.plans.OtherCharges`,
:class:`~cloudrate.plans.PerTransaction`), so both
rating engines price it as they price that model.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any, ClassVar, cast

import attrs
from moneyed import Money

from cloudrate._money import EXACT, exact
from cloudrate.exceptions import PlanError

from ._graduated import Graduated
from ._model import Basis, ChargeModel, OtherCharges, PerTransaction, Prorated, VectorPricing
from ._one_off import OneOff
from ._package import Package
from ._per_unit import PerUnit
from ._priced import Detail, Note, Priced
from ._tiers import Tier
from ._volume import Volume

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader
    from cloudrate.period import BillingPeriod

__all__ = ["Overridden", "overridden"]


def _keep(percent: Decimal | None) -> Decimal:
    """The share of an amount a discount of *percent* leaves: ``(100 - percent) / 100``."""
    with localcontext(EXACT):
        return Decimal(1) if percent is None else (100 - percent) / 100


def _times(price: Money, factor: Decimal) -> Money:
    with localcontext(EXACT):
        return Money(price.amount * factor, price.currency)


@attrs.frozen(kw_only=True)
class Overridden:
    """*model* priced for one customer: *notes* say what *label* changed, and
    *discount_percent* (if any) is taken off every amount.

    *base* is the plan's own model, before the overrides. Build these with
    :meth:`cloudrate.Plan.with_overrides`, which picks the class for the wrapped model
    (its kind, basis and protocols).

    >>> from moneyed import Money
    >>> from cloudrate.plans import PerUnit, VectorPricing
    >>> plan_price = PerUnit(Money("0.0125", "EUR"))
    >>> m = overridden(plan_price, plan_price, "ACME", discount_percent=Decimal(10))
    >>> m.kind, m.basis, isinstance(m, VectorPricing), m.line_unit_price
    ('per_unit', 'usage', True, Money('0.01125', 'EUR'))
    >>> print(m.price(Decimal(720)).explain())
    per unit: 720 x 0.0125 EUR = 9.0000 EUR
    discount 10% (ACME): -0.9000 EUR

    .. versionadded:: 0.2
    """

    kind: ClassVar[str]
    basis: ClassVar[Basis]
    keys: ClassVar[tuple[str, ...]]

    model: ChargeModel
    base: ChargeModel
    label: str
    notes: tuple[str, ...] = ()
    discount_percent: Decimal | None = None

    @property
    def currency(self) -> str:
        return self.model.currency

    @property
    def zero_usage(self) -> str:
        """What no usage costs under the wrapped model (see ``bills_without_usage``)."""
        return str(getattr(self.model, "zero_usage", "free"))

    @property
    def line_unit_price(self) -> Money | None:
        """The unit price the customer pays: the model's, less the discount."""
        price = self.model.line_unit_price
        return None if price is None else _times(price, _keep(self.discount_percent))

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """The model's price less the discount, with a note per override first."""
        return self._adjusted(self.model.price(quantity))

    def _adjusted(self, priced: Priced) -> Priced:
        """*priced* (the wrapped model's price) less the discount, notes first."""
        notes = tuple(
            Note.saying(f"override ({self.label}): {n}", self.currency) for n in self.notes
        )
        if self.discount_percent is None:
            return Priced(priced.amount, notes + priced.details)
        full = priced.amount.amount
        net = full * (100 - self.discount_percent) / 100
        step = Detail(
            f"discount {self.discount_percent}% ({self.label})",
            None,
            None,
            Money(net - full, self.currency),
        )
        return Priced(Money(net, self.currency), (*notes, *priced.details, step))

    def to_dict(self) -> dict[str, Any]:
        raise PlanError(
            f"a {self.kind} charge with overrides ({self.label}) has no plan-file form; "
            "dump the plan before with_overrides() and the overrides with dump_overrides()"
        )

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> ChargeModel | None:
        r.doc.problem(
            path,
            "not_a_model",
            "overrides are not a charge model of plan files; give them to with_overrides()",
            data.get("model"),
        )
        return None

    def __reduce__(self) -> tuple[Any, ...]:
        # The class is made per wrapped model class: pickle rebuilds it by the model.
        return (overridden, (self.model, self.base, self.label, self.notes, self.discount_percent))


# Each mixin below is given only to the wrappers of models with its member
# (:func:`_class_for`), so the wrapped model is cast, not checked: isinstance() with a
# runtime-checkable protocol walks the protocol's members on every call (about 20 us on
# Python 3.11), and these run for every line priced.


class _Vector:
    """The vectorised twin, when the wrapped model has one: a discount is the same model
    with every price times the share kept (the amounts are linear in the prices), so the
    integers are the scalar amounts exactly."""

    __slots__ = ()

    def _twin(self) -> VectorPricing | None:
        me = cast("Overridden", self)
        model = cast(VectorPricing, me.model)  # made only for vectorised models
        if me.discount_percent is None:
            return model
        return _scaled(model, _keep(me.discount_percent))

    def prices(self) -> tuple[Decimal, ...]:
        twin = self._twin()
        inner = cast(VectorPricing, cast("Overridden", self).model)
        return (twin or inner).prices()

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        twin = self._twin()
        return None if twin is None else twin.price_scaled(qty, s, a)


def _scaled(model: VectorPricing, factor: Decimal) -> VectorPricing | None:
    """*model* with every price times *factor*, for the models whose amount is linear in
    their prices; None for any other (totals then go through the scalar path)."""
    if isinstance(model, PerUnit | OneOff):
        return attrs.evolve(model, unit_price=_times(model.unit_price, factor))
    if isinstance(model, Package):
        return attrs.evolve(model, block_price=_times(model.block_price, factor))
    if isinstance(model, Graduated | Volume):
        tiers = [
            Tier(
                t.up_to,
                _times(t.unit_price, factor),
                None if t.flat_price is None else _times(t.flat_price, factor),
            )
            for t in model.tiers
        ]
        return attrs.evolve(model, tiers=tiers)
    return None


class _Prorated:
    """The proration of the wrapped flat fee."""

    __slots__ = ()

    def factor(self, spans: Iterable[tuple[datetime, datetime]], period: BillingPeriod) -> Decimal:
        model = cast(Prorated, cast("Overridden", self).model)  # made only for prorated models
        return model.factor(spans, period)


class _Transactions:
    """The per-transaction price of the wrapped model, less the discount."""

    __slots__ = ()

    @exact
    def price_transactions(self, amounts: Sequence[Decimal]) -> Priced:
        me = cast("Overridden", self)
        model = cast(PerTransaction, me.model)  # made only for per-transaction models
        return me._adjusted(model.price_transactions(amounts))


class _Others:
    """The charges the wrapped percentage or minimum is priced from."""

    __slots__ = ()

    @property
    def of(self) -> tuple[str, ...]:
        model = cast(OtherCharges, cast("Overridden", self).model)  # made only for them
        return model.of


@functools.cache
def _class_for(model_class: type[ChargeModel]) -> type[Overridden]:
    """The :class:`Overridden` class for wrapping *model_class*: its kind, basis, keys
    and protocols (a vectorised twin, a proration, the charges it is priced from)."""
    mixins: list[type] = []
    for mixin, protocol_member in (
        (_Vector, "price_scaled"),
        (_Prorated, "factor"),
        (_Others, "of"),
        (_Transactions, "price_transactions"),
    ):
        if hasattr(model_class, protocol_member):
            mixins.append(mixin)
    namespace = {
        "__slots__": (),
        "__module__": __name__,
        "__qualname__": f"Overridden{model_class.__name__}",
        "kind": model_class.kind,
        "basis": model_class.basis,
        "keys": model_class.keys,
    }
    made = type(f"Overridden{model_class.__name__}", (Overridden, *mixins), namespace)
    return cast("type[Overridden]", made)


def overridden(
    model: ChargeModel,
    base: ChargeModel,
    label: str,
    notes: tuple[str, ...] = (),
    discount_percent: Decimal | None = None,
) -> Overridden:
    """*model* (the plan's *base* model with the customer's prices) wrapped with *notes*
    and *discount_percent* under *label*."""
    return _class_for(type(model))(
        model=model, base=base, label=label, notes=notes, discount_percent=discount_percent
    )
