"""Graduated percentages of the period's total amount, with a flat fee per tier: Lago's
graduated percentage model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import check_amount, check_currency, exact
from cloudrate.exceptions import PlanError

from ._model import Basis
from ._percentage import PercentTier, check_flat_prices
from ._priced import Detail, Priced
from ._tiers import check_ascending, read_tier_rows, tier_label, tier_parts
from ._transaction_percentage import read_percent

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = ["GraduatedTransactionPercentage", "TransactionTier"]


#: The tiers of a graduated transaction percentage are :class:`PercentTier`\ s; the name
#: it was added under stays importable.
TransactionTier = PercentTier


def _to_tiers(value: Iterable[PercentTier]) -> tuple[PercentTier, ...]:
    return tuple(value)


def _check_tiers(_inst: object, _attr: object, tiers: tuple[PercentTier, ...]) -> None:
    if not tiers:
        raise PlanError("tiers: give at least one tier; the last has up_to=None")
    for index, tier in enumerate(tiers):
        check_amount(tier.percent, f"tier {index + 1} percent")
    check_ascending(tiers, "amount has a percent")


@attrs.frozen(kw_only=True)
class GraduatedTransactionPercentage:
    """Each tier's *percent* of the part of the period's total amount in that tier, plus
    the tier's flat price: Lago's ``graduated_percentage``.

    The total is the metric's aggregated quantity (the sum of the transactions' amounts,
    less the charge's free units). The rules, as Lago's
    ``ChargeModels::GraduatedPercentageService`` and its range details
    (getlago/lago-api, ``app/services/charge_models/graduated_percentage_service.rb``,
    ``app/services/charge_models/amount_details/range_graduated_percentage_service.rb``):

    1. a tier holds the part of the total above the previous tier's ``up_to`` (0 for the
       first) up to and including its own; it is charged ``part x percent / 100``;
    2. a tier's flat price is added when the total reaches into the tier (is above its
       lower bound), and the first tier's always, a total of 0 included;
    3. the price is the sum over the tiers.

    Lago's ranges (``from_value``, ``to_value``, ``rate``, ``flat_amount``) are these
    tiers by their ``to_value``, when each range starts one above the previous one's end
    (0 to 1,000, then 1,001 to 10,000), as Lago's documentation and interface write
    them. An account with no record of the metric gets no line, as with every usage
    charge.

    Lago's documentation example
    (getlago.com/docs/guide/plans/charges/charge-models/graduated-percentage): 1% and 200
    up to 1,000, 2% and 300 up to 10,000, 3% and 400 above. 500 costs 5 + 200, 1,050
    costs 10 + 1 + 200 + 300:

    >>> tiers = GraduatedTransactionPercentage(currency="USD", tiers=[
    ...     PercentTier(Decimal(1000), Decimal(1), Money(200, "USD")),
    ...     PercentTier(Decimal(10000), Decimal(2), Money(300, "USD")),
    ...     PercentTier(None, Decimal(3), Money(400, "USD"))])
    >>> tiers.price(Decimal(500)).amount, tiers.price(Decimal(1050)).amount
    (Money('205', 'USD'), Money('511', 'USD'))
    >>> print(tiers.price(Decimal(1050)).explain())
    1% of 1000 USD in tier 1 (0 to 1000): 10 USD
    tier 1 (0 to 1000) flat price: 200 USD
    2% of 50 USD in tier 2 (1000 to 10000): 1 USD
    tier 2 (1000 to 10000) flat price: 300 USD

    .. versionadded:: 0.3
    """

    kind: ClassVar[str] = "graduated_transaction_percentage"
    basis: ClassVar[Basis] = "usage"
    keys: ClassVar[tuple[str, ...]] = ("tiers",)

    tiers: tuple[PercentTier, ...] = attrs.field(converter=_to_tiers, validator=_check_tiers)
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))

    def __attrs_post_init__(self) -> None:
        check_flat_prices(self.tiers, self.currency)

    @property
    def line_unit_price(self) -> Money | None:
        return None

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """Each tier's percent of its part of *quantity*, plus the flat prices reached."""
        cur = self.currency
        total = Decimal(0)
        details: list[Detail] = []
        for index, lower, part, tier in tier_parts(self.tiers, quantity, first=True):
            label = tier_label(index, lower, tier.up_to)
            amount = part * tier.percent / 100
            total += amount
            details.append(
                Detail(
                    f"{tier.percent}% of {part} {cur} in {label}", None, None, Money(amount, cur)
                )
            )
            if tier.flat_price is not None:
                total += tier.flat_price.amount
                details.append(Detail(f"{label} flat price", None, None, tier.flat_price))
        return Priced(Money(total, cur), tuple(details))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.kind, "tiers": [t.to_dict() for t in self.tiers]}

    @classmethod
    def read(
        cls, r: FieldReader, data: Mapping[str, Any], path: str
    ) -> GraduatedTransactionPercentage | None:
        rows, ok = read_tier_rows(r, data, path, ("percent", "flat_price"))
        tiers: list[PercentTier] = []
        for up_to, fields, tpath in rows:
            percent = read_percent(r, fields, tpath)
            flat = r.price(fields, "flat_price", tpath, required=False)
            if percent is None or (fields.get("flat_price") is not None and flat is None):
                ok = False
            elif ok:
                tiers.append(PercentTier(up_to, percent, flat))
        if not ok or not tiers:
            return None
        assert r.currency is not None, "the plan's currency is read before its charges"
        return cls(tiers=tiers, currency=r.currency)
