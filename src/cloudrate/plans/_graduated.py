"""Graduated tiers: each unit is priced in the tier it falls in."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._money import exact

from ._model import ZeroUsage
from ._priced import Detail, Priced, PricedLines, Texts, detail_parts, exponent_of, join_steps
from ._tiers import (
    Tier,
    TieredModel,
    check_tiers,
    check_zero_usage,
    read_tiers,
    read_zero_usage,
    scaled_tiers,
    tier_label,
    tier_parts,
    to_tiers,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from cloudrate._documents import FieldReader

_Steps = list[list[str]]

__all__ = ["Graduated"]


@attrs.frozen
class Graduated(TieredModel):
    """Price each unit by the tier it falls in, then add the tiers up.

    A tier's flat price is added when the quantity reaches into that tier (is above the
    tier's lower bound). A quantity of 0 costs nothing, unless *zero_usage* is
    ``first_flat_fee``: then the first tier's flat price is charged for every quantity,
    0 and an account without usage included (Lago's rule).

    >>> g = Graduated(tiers=[Tier(Decimal(100), Money("0.10", "EUR")),
    ...                      Tier(None, Money("0.05", "EUR"))])
    >>> g.price(Decimal(150)).amount
    Money('12.50', 'EUR')
    >>> print(g.price(Decimal("100.5")).explain())
    tier 1 (0 to 100): 100 x 0.10 EUR = 10.00 EUR
    tier 2 (above 100): 0.5 x 0.05 EUR = 0.025 EUR
    >>> setup = Graduated(tiers=[Tier(Decimal(10), Money("2", "USD"), Money("100", "USD")),
    ...                          Tier(None, Money("1", "USD"), Money("50", "USD"))],
    ...                   zero_usage="first_flat_fee")
    >>> print(setup.price(Decimal(0)).explain())
    tier 1 (0 to 10) flat price: 100 USD

    .. versionchanged:: 0.2
       *zero_usage*.
    """

    kind: ClassVar[str] = "graduated"

    tiers: tuple[Tier, ...] = attrs.field(converter=to_tiers, validator=check_tiers)
    zero_usage: ZeroUsage = attrs.field(default="free", validator=check_zero_usage, kw_only=True)

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """The sum over tiers of the units in each tier times its price, plus flat prices."""
        if quantity <= 0:
            return self.zero_priced()
        currency = self.currency
        total = Decimal(0)
        details: list[Detail] = []
        for index, lower, units, tier in tier_parts(self.tiers, quantity):
            label = tier_label(index, lower, tier.up_to)
            amount = units * tier.unit_price.amount
            total += amount
            details.append(Detail(label, units, tier.unit_price, Money(amount, currency)))
            if tier.flat_price is not None:
                total += tier.flat_price.amount
                details.append(Detail(f"{label} flat price", None, None, tier.flat_price))
        return Priced(Money(total, currency), tuple(details))

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Graduated | None:
        tiers = read_tiers(r, data, path)
        zero_usage = read_zero_usage(r, data, path)
        return None if tiers is None else cls(tiers=tiers, zero_usage=zero_usage)

    def price_scaled(self, qty: np.ndarray, s: int, a: int) -> np.ndarray | None:
        """The vectorised twin of :meth:`price`: each tier's units at its price, plus the
        flat price of every tier the quantity reaches into (the first tier's for every
        quantity under ``first_flat_fee``).

        >>> import numpy as np
        >>> g = Graduated(tiers=[Tier(Decimal(100), Money("0.10", "EUR")),
        ...                      Tier(None, Money("0.05", "EUR"))])
        >>> g.price_scaled(np.array([0, 1500]), 1, 3).tolist()
        [0, 12500]
        """
        import numpy as np

        from cloudrate._intmath import LIMIT, exact_add, exact_mul, to_int64_or_object

        tiers = scaled_tiers(self.tiers, s, a)
        if tiers is None:
            return None
        total: np.ndarray = np.zeros(len(qty), dtype=np.int64)
        lower = 0
        wide = qty.dtype == object
        always = self.zero_usage == "first_flat_fee"  # the first tier is always reached
        for up, price, flat in tiers:
            if not wide and lower > LIMIT:
                break  # no int64 quantity reaches this tier
            units = qty - lower
            units = np.where(units > 0, units, 0)
            if up is not None and (wide or up - lower <= LIMIT):
                units = np.minimum(units, up - lower)
            total = exact_add(total, exact_mul(to_int64_or_object(units), price))
            if flat:
                if always and lower == 0:
                    reached = np.ones(len(qty), dtype=np.int64)
                else:
                    reached = (qty > lower).astype(bool).astype(np.int64)
                total = exact_add(total, exact_mul(reached, flat))
            if up is None:
                break
            lower = up
        return total

    def price_lines(
        self, qty: np.ndarray, exps: np.ndarray, s: int, a: int, texts: Texts
    ) -> PricedLines | None:
        """:meth:`price` of many quantities at once (see ``PerUnit.price_lines``): each
        tier's units, ``min(quantity, up_to) - lower`` with the exponents Decimal
        arithmetic gives them, and the total's exponent, the smallest of its parts and 0.

        >>> import numpy as np
        >>> from cloudrate.rating.columnar._texts import decimal_texts
        >>> g = Graduated(tiers=[Tier(Decimal(100), Money("0.10", "EUR")),
        ...                      Tier(None, Money("0.05", "EUR"))])
        >>> p = g.price_lines(np.array([1005]), np.array([-1]), 1, 3, decimal_texts)
        >>> p.explanation == [g.price(Decimal("100.5")).explain()], p.exponent.tolist()
        (True, [-3])
        """
        import numpy as np

        amount = self.price_scaled(qty, s, a)
        tiers = scaled_tiers(self.tiers, s, a)
        if amount is None or tiers is None or qty.dtype == object:
            return None
        exponent = np.zeros(len(qty), dtype=np.int64)
        steps: _Steps = [[] for _ in range(len(qty))]
        lower, lower_exp, lower_dec = 0, 0, Decimal(0)
        for index, (tier, (up, price, _)) in enumerate(zip(self.tiers, tiers, strict=True)):
            rows = np.flatnonzero(qty > lower)
            if len(rows) == 0:
                break
            q, e = qty[rows], exps[rows]
            if up is None:
                upper, upper_exp = q, e
            else:  # min(quantity, up_to) is the quantity unless up_to is below it
                above = q > up
                upper = np.where(above, up, q)
                upper_exp = np.where(above, exponent_of(tier.up_to or Decimal(0)), e)
            units, units_exp = upper - lower, np.minimum(upper_exp, lower_exp)
            part_exp = units_exp + exponent_of(tier.unit_price.amount)
            exponent[rows] = np.minimum(exponent[rows], part_exp)
            label = tier_label(index, lower_dec, tier.up_to)
            self._tier_steps(
                steps, rows, label, tier, (units, units_exp, price, part_exp), (s, a, texts)
            )
            if tier.flat_price is not None:
                flat = f"{label} flat price: {tier.flat_price.amount} {self.currency}"
                exponent[rows] = np.minimum(exponent[rows], exponent_of(tier.flat_price.amount))
                for i in rows.tolist():
                    steps[i].append(flat)
            if up is None or tier.up_to is None:
                break
            lower, lower_exp, lower_dec = up, exponent_of(tier.up_to), tier.up_to
        self._zero_steps(qty, exponent, steps)
        return PricedLines(amount, exponent, join_steps(steps))

    def _zero_steps(self, qty: np.ndarray, exponent: np.ndarray, steps: _Steps) -> None:
        """The explanation and exponent of the quantities no tier is reached by: the first
        tier's flat price under ``first_flat_fee`` (see :meth:`TieredModel.zero_priced`)."""
        import numpy as np

        flat = self.first_flat
        if flat is None:
            return
        rows = np.flatnonzero(qty <= 0)
        if len(rows) == 0:
            return
        label = tier_label(0, Decimal(0), self.tiers[0].up_to)
        exponent[rows] = min(0, exponent_of(flat.amount))
        text = f"{label} flat price: {flat.amount} {self.currency}"
        for i in rows.tolist():
            steps[i].append(text)

    def _tier_steps(
        self,
        steps: _Steps,
        rows: np.ndarray,
        label: str,
        tier: Tier,
        part: tuple[np.ndarray, np.ndarray, int, np.ndarray],
        scales: tuple[int, int, Texts],
    ) -> None:
        """Add the detail of *tier* to the steps of *rows*: *part* is the units (scale s)
        with their exponents, the unit price (scale a - s) and the amount's exponents;
        *scales* is s, a and the text writer."""
        from cloudrate._intmath import exact_mul, to_int64_or_object

        units, units_exp, price, part_exp = part
        s, a, texts = scales
        amounts = exact_mul(to_int64_or_object(units), price)
        before, between, after = detail_parts(label, tier.unit_price, self.currency)
        for i, q, x in zip(
            rows.tolist(), texts(units, s, units_exp), texts(amounts, a, part_exp), strict=True
        ):
            steps[i].append(f"{before}{q}{between}{x}{after}")
