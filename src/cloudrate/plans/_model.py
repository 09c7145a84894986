"""What a charge model is: the protocol every model implements, and the bases they price on.

A model's module holds everything about it side by side: its plan-file keys and reader,
its exact scalar :meth:`~ChargeModel.price`, and, for models priced on usage, the
vectorised twin the columnar engine calls (:class:`VectorPricing`). The registry in
:mod:`cloudrate.plans._kinds` lists the models once for the loader, the dumper and both
rating engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from moneyed import Money

from ._priced import Priced

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader
    from cloudrate.period import BillingPeriod

__all__ = [
    "BASES",
    "ZERO_USAGE",
    "Basis",
    "ChargeModel",
    "OtherCharges",
    "PerTransaction",
    "Prorated",
    "VectorPricing",
    "ZeroUsage",
    "bills_without_usage",
    "prices_transactions",
]

#: What a model prices: a metric's aggregated ``usage`` (after free units), the billing
#: ``period`` (a flat fee, prorated per resource when it has a metric), other ``charges``
#: (a percentage of their exact amounts) or the ``spend`` of other charges (a minimum).
Basis = Literal["usage", "period", "charges", "spend"]
BASES: tuple[Basis, ...] = ("usage", "period", "charges", "spend")

#: What a tiered model charges for no usage: nothing (``free``), or its first tier's flat
#: price (``first_flat_fee``, as Lago charges it), for a quantity of 0 and for an account
#: with no records of the charge at all.
ZeroUsage = Literal["free", "first_flat_fee"]
ZERO_USAGE: tuple[ZeroUsage, ...] = ("free", "first_flat_fee")


def bills_without_usage(model: object) -> bool:
    """Whether *model* prices a charge that has no usage (its ``zero_usage`` is
    ``first_flat_fee``): both engines then price it at 0 for every account billed.

    >>> from decimal import Decimal
    >>> from moneyed import Money
    >>> from cloudrate.plans import Graduated, Tier
    >>> tiers = [Tier(None, Money("0.10", "EUR"), Money("5", "EUR"))]
    >>> bills_without_usage(Graduated(tiers=tiers)), bills_without_usage(
    ...     Graduated(tiers=tiers, zero_usage="first_flat_fee"))
    (False, True)
    """
    return getattr(model, "zero_usage", "free") == "first_flat_fee"


@runtime_checkable
class ChargeModel(Protocol):
    """What every charge model offers.

    ``kind`` names it in plan files, ``keys`` are the plan-file keys it reads (besides
    ``model``) and :meth:`read` builds it from a plan file, recording problems on the
    reader. ``price`` is pure and exact; ``line_unit_price`` is the price a rated line
    shows per unit (None when the model has no single one).
    """

    kind: ClassVar[str]
    basis: ClassVar[Basis]
    keys: ClassVar[tuple[str, ...]]

    @property
    def currency(self) -> str: ...

    @property
    def line_unit_price(self) -> Money | None: ...

    def price(self, quantity: Decimal) -> Priced: ...

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> ChargeModel | None: ...


@runtime_checkable
class VectorPricing(Protocol):
    """The vectorised twin of ``price`` of a model priced on usage.

    Quantities are integers at scale *s* (``q / 10**s`` units); the amounts returned are
    exact integers at scale *a* (``a >= s`` plus the places of :meth:`prices`), or None
    when a price is not a whole number at that scale. Needs numpy.
    """

    def prices(self) -> tuple[Decimal, ...]: ...

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None: ...


@runtime_checkable
class OtherCharges(Protocol):
    """A model priced from other charges (basis ``charges`` or ``spend``): *of* names them,
    all declared before it (for a minimum, empty means every earlier charge)."""

    of: tuple[str, ...]


@runtime_checkable
class Prorated(Protocol):
    """A model priced on the period (basis ``period``): with a metric, the share of the
    period each resource was active is its proration factor."""

    def factor(
        self, spans: Iterable[tuple[datetime, datetime]], period: BillingPeriod
    ) -> Decimal: ...


@runtime_checkable
class PerTransaction(Protocol):
    """A model priced on usage one transaction at a time (basis ``usage``): every record
    of its metric is a transaction whose quantity is its amount.

    Rating keeps each record's quantity for such a charge (the slot aggregation
    ``transactions``) and calls :meth:`price_transactions` with them in one order, the
    same whatever order the records came in: by start, then record id, then quantity
    (:func:`cloudrate.rating._accumulate.transaction_amounts`). ``price(quantity)`` of
    such a model prices one transaction of that amount.
    """

    def price_transactions(self, amounts: Sequence[Decimal]) -> Priced: ...


def prices_transactions(model: object) -> bool:
    """Whether *model* (a charge model or its class) is priced per transaction.

    >>> from cloudrate.plans import PerUnit, TransactionPercentage
    >>> prices_transactions(TransactionPercentage), prices_transactions(PerUnit)
    (True, False)
    """
    return callable(getattr(model, "price_transactions", None))
