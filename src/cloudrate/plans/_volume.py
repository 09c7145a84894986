"""Volume tiers: all units at the price of the tier the total lands in."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._model import ZeroUsage
from ._priced import Detail, Priced, PricedLines, Texts, detail_parts, exponent_of
from ._tiers import (
    Tier,
    TieredModel,
    check_tiers,
    check_zero_usage,
    read_tiers,
    read_zero_usage,
    scaled_tiers,
    tier_label,
    to_tiers,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

__all__ = ["Volume"]


@attrs.frozen
class Volume(TieredModel):
    """Price every unit at the tier the whole quantity lands in, plus that tier's flat price.

    The total can drop when a quantity crosses into a cheaper tier. A quantity of 0
    costs nothing (no tier is reached), unless *zero_usage* is ``first_flat_fee``: then
    0, and an account without usage, land in the first tier and pay its flat price
    (Lago's rule).

    >>> v = Volume(tiers=[Tier(Decimal(100), Money("1.00", "EUR")),
    ...                   Tier(None, Money("0.80", "EUR"))])
    >>> v.price(Decimal(100)).amount, v.price(Decimal(101)).amount
    (Money('100.00', 'EUR'), Money('80.80', 'EUR'))

    .. versionchanged:: 0.2
       *zero_usage*.
    """

    kind: ClassVar[str] = "volume"

    tiers: tuple[Tier, ...] = attrs.field(converter=to_tiers, validator=check_tiers)
    zero_usage: ZeroUsage = attrs.field(default="free", validator=check_zero_usage, kw_only=True)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """All of *quantity* at the price of the tier that holds it."""
        currency = self.currency
        if quantity == 0:
            return self.zero_priced()
        lower, index = Decimal(0), 0
        for index, tier in enumerate(self.tiers):  # noqa: B007 - the tier found is used below
            if tier.up_to is None or quantity <= tier.up_to:
                break
            lower = tier.up_to
        label = tier_label(index, lower, tier.up_to)
        amount = quantity * tier.unit_price.amount
        details = [Detail(label, quantity, tier.unit_price, Money(amount, currency))]
        if tier.flat_price is not None:
            amount += tier.flat_price.amount
            details.append(Detail(f"{label} flat price", None, None, tier.flat_price))
        return Priced(Money(amount, currency), tuple(details))

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Volume | None:
        tiers = read_tiers(r, data, path)
        zero_usage = read_zero_usage(r, data, path)
        return None if tiers is None else cls(tiers=tiers, zero_usage=zero_usage)

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        """The vectorised twin of :meth:`price`: every unit at the tier holding the whole
        quantity, plus that tier's flat price; 0 costs nothing (the first tier's flat
        price under ``first_flat_fee``).

        >>> import numpy as np
        >>> v = Volume(tiers=[Tier(Decimal(100), Money("1.00", "EUR")),
        ...                   Tier(None, Money("0.80", "EUR"))])
        >>> v.price_scaled(np.array([0, 100, 101]), 0, 2).tolist()
        [0, 10000, 8080]
        """
        import numpy as np

        from cloudrate._intmath import LIMIT, exact_add, exact_mul

        tiers = scaled_tiers(self.tiers, s, a)
        if tiers is None:
            return None
        total: np.ndarray = np.zeros(len(qty), dtype=np.int64)
        placed = (qty == 0).astype(bool)
        wide = qty.dtype == object
        for up, price, flat in tiers:
            if up is None or (not wide and up > LIMIT):  # every int64 quantity fits
                here = ~placed
            else:
                here = (~placed) & (qty <= up).astype(bool)
            total = exact_add(total, exact_mul(np.where(here, qty, 0), price))
            if flat:
                total = exact_add(total, exact_mul(here.astype(np.int64), flat))
            placed = placed | here
        if self.first_flat is not None:  # no usage: the first tier's flat price
            zeros = (qty == 0).astype(bool).astype(np.int64)
            total = exact_add(total, exact_mul(zeros, tiers[0][2]))
        return total

    def price_lines(
        self, qty: np.ndarray, exps: np.ndarray, s: int, a: int, texts: Texts
    ) -> PricedLines | None:
        """:meth:`price` of many quantities at once (see ``PerUnit.price_lines``): the
        whole quantity at its tier's price; 0 is ``Decimal(0)`` with no details (the first
        tier's flat price under ``first_flat_fee``).

        >>> import numpy as np
        >>> from cloudrate.rating.columnar._texts import decimal_texts
        >>> v = Volume(tiers=[Tier(Decimal(100), Money("1.00", "EUR")),
        ...                   Tier(None, Money("0.80", "EUR"))])
        >>> p = v.price_lines(np.array([0, 1010]), np.array([0, -1]), 1, 3, decimal_texts)
        >>> p.explanation == [v.price(Decimal(0)).explain(), v.price(Decimal("101.0")).explain()]
        True
        """
        import numpy as np

        from cloudrate._intmath import exact_mul

        amount = self.price_scaled(qty, s, a)
        tiers = scaled_tiers(self.tiers, s, a)
        if amount is None or tiers is None or qty.dtype == object:
            return None
        exponent = np.zeros(len(qty), dtype=np.int64)
        explanation = [""] * len(qty)
        placed = qty == 0
        lower = Decimal(0)
        for index, (tier, (up, price, _)) in enumerate(zip(self.tiers, tiers, strict=True)):
            here = ~placed if up is None else (~placed) & (qty <= up)
            rows = np.flatnonzero(here)
            placed = placed | here
            label = tier_label(index, lower, tier.up_to)
            lower = tier.up_to or lower
            if len(rows) == 0:
                continue
            part_exp = exps[rows] + exponent_of(tier.unit_price.amount)
            flat = tier.flat_price
            exponent[rows] = (
                part_exp if flat is None else np.minimum(part_exp, exponent_of(flat.amount))
            )
            before, between, after = detail_parts(label, tier.unit_price, self.currency)
            tail = "" if flat is None else f"\n{label} flat price: {flat.amount} {self.currency}"
            for i, q, x in zip(
                rows.tolist(),
                texts(qty[rows], s, exps[rows]),
                texts(exact_mul(qty[rows], price), a, part_exp),
                strict=True,
            ):
                explanation[i] = f"{before}{q}{between}{x}{after}{tail}"
        first = self.first_flat
        zeros = np.flatnonzero(qty == 0)
        if first is not None and len(zeros):
            label = tier_label(0, Decimal(0), self.tiers[0].up_to)
            exponent[zeros] = min(0, exponent_of(first.amount))
            for i in zeros.tolist():
                explanation[i] = f"{label} flat price: {first.amount} {self.currency}"
        return PricedLines(amount, exponent, explanation)
