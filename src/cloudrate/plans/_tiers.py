"""Tiers: the bands of quantity that graduated and volume pricing price differently."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate.exceptions import CurrencyMismatchError, PlanError

from ._fields import as_money, as_optional_quantity, non_negative_money

__all__ = ["Tier", "check_tiers", "tier_label", "to_tiers"]


def _optional_money(value: Any) -> Money | None:
    return None if value is None else as_money(value)


@attrs.frozen
class Tier:
    """Units up to and including *up_to* cost *unit_price*; ``None`` means no limit.

    *flat_price*, if given, is added once when the quantity reaches into the tier.

    >>> Tier(Decimal(100), Money("0.10", "EUR"))
    Tier(up_to=Decimal('100'), unit_price=Money('0.10', 'EUR'), flat_price=None)
    """

    up_to: Decimal | None = attrs.field(converter=as_optional_quantity)
    unit_price: Money = attrs.field(converter=as_money, validator=non_negative_money)
    flat_price: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain data as a plan file writes it (amounts as decimal strings)."""
        out: dict[str, Any] = {
            "up_to": None if self.up_to is None else str(self.up_to),
            "unit_price": str(self.unit_price.amount),
        }
        if self.flat_price is not None:
            out["flat_price"] = str(self.flat_price.amount)
        return out


def to_tiers(value: Iterable[Tier]) -> tuple[Tier, ...]:
    """Typed converter: any iterable of tiers to a tuple."""
    return tuple(value)


def check_tiers(_inst: object, _attr: object, tiers: Sequence[Tier]) -> None:
    """Tiers must be non-empty, ascending, in one currency, and end open."""
    if not tiers:
        raise PlanError("tiers: give at least one tier; the last has up_to=None")
    currency = tiers[0].unit_price.currency.code
    previous: Decimal | None = Decimal(0)
    for index, tier in enumerate(tiers):
        for name in ("unit_price", "flat_price"):
            price = getattr(tier, name)
            if price is not None and price.currency.code != currency:
                raise CurrencyMismatchError(currency, price.currency.code, f"tier {index} {name}")
        last = index == len(tiers) - 1
        if tier.up_to is None and not last:
            raise PlanError(
                f"tier {index} has up_to=None but is not the last tier; only the last "
                "tier is open, sort tiers by up_to"
            )
        if tier.up_to is not None:
            if last:
                raise PlanError(
                    "the last tier must have up_to=None so every quantity has a price "
                    f"(got up_to={tier.up_to})"
                )
            assert previous is not None
            if tier.up_to <= previous:
                raise PlanError(
                    f"tier {index} up_to must be above {previous}, the previous up_to; "
                    f"sort tiers by up_to (got {tier.up_to})"
                )
            previous = tier.up_to


def tier_label(index: int, lower: Decimal, upper: Decimal | None) -> str:
    """``'tier 1 (0 to 100)'``, ``'tier 2 (above 100)'``: tiers are numbered from 1."""
    span = f"above {lower}" if upper is None else f"{lower} to {upper}"
    return f"tier {index + 1} ({span})"
