"""Percentage of other charges, flat or graduated by the amount it applies to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._documents import join_path
from cloudrate._money import check_amount, check_currency, exact, to_decimal
from cloudrate.exceptions import CurrencyMismatchError, PlanError

from ._fields import as_money, non_negative_money
from ._model import Basis, ZeroUsage
from ._priced import Detail, Priced
from ._tiers import (
    check_ascending,
    check_zero_usage,
    read_tier_rows,
    read_zero_usage,
    tier_parts,
)

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = ["PercentTier", "Percentage"]


def _percent(value: Any) -> Decimal:
    p = to_decimal(value, "percent")
    if not 0 <= p <= 100:
        raise PlanError(f"percent: must be between 0 and 100 (got {p})")
    return p


def _tier_percent(value: Any) -> Decimal:
    p = to_decimal(value, "percent")
    if p < 0:
        raise PlanError(f"percent: must be >= 0 (got {p}); 2 takes 2% of the tier's amount")
    return p


def _optional_amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    amount = check_amount(to_decimal(value, "up_to"), "up_to")
    if amount <= 0:
        raise PlanError(f"up_to: must be above 0 (got {amount})")
    return amount


def _optional_money(value: Any) -> Money | None:
    return None if value is None else as_money(value)


@attrs.frozen
class PercentTier:
    """*percent* of the part of the amount up to and including *up_to* (None: no limit).

    *flat_price*, if given, is added once when the amount reaches into the tier (Lago's
    graduated percentage flat fee). The tiers of a :class:`Percentage` (of other charges'
    amounts, at most 100%) and of a
    :class:`~cloudrate.plans.GraduatedTransactionPercentage` (of the period's total).

    >>> PercentTier(Decimal(1000), Decimal(1), Money(200, "USD")).to_dict()
    {'up_to': '1000', 'percent': '1', 'flat_price': '200'}

    .. versionchanged:: 0.2
       *flat_price*.
    .. versionchanged:: 0.3
       *percent* above 100 is the model's to refuse (:class:`Percentage` does).
    """

    up_to: Decimal | None = attrs.field(converter=_optional_amount)
    percent: Decimal = attrs.field(converter=_tier_percent)
    flat_price: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "up_to": None if self.up_to is None else str(self.up_to),
            "percent": str(self.percent),
        }
        if self.flat_price is not None:
            out["flat_price"] = str(self.flat_price.amount)
        return out


def _to_percent_tiers(value: Iterable[PercentTier]) -> tuple[PercentTier, ...]:
    return tuple(value)


def _check_percent_tiers(_inst: object, _attr: object, tiers: tuple[PercentTier, ...]) -> None:
    for index, tier in enumerate(tiers):
        if tier.percent > 100:
            raise PlanError(
                f"tier {index + 1} percent: must be between 0 and 100 (got {tier.percent})"
            )
    check_ascending(tiers, "amount has a percent")


def _to_names(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def check_flat_prices(tiers: Iterable[PercentTier], currency: str) -> None:
    """Raise :class:`CurrencyMismatchError` at the first tier whose flat price is not in
    the model's *currency*."""
    for index, tier in enumerate(tiers):
        flat = tier.flat_price
        if flat is not None and flat.currency.code != currency:
            raise CurrencyMismatchError(
                currency, flat.currency.code, f"tier {index + 1} flat_price"
            )


@attrs.frozen(kw_only=True)
class Percentage:
    """A share of the exact amounts of the charges named in *of*.

    Either one *percent* for the whole base, or graduated *tiers* of the base amount
    (e.g. 10% of the first 10,000 and 7% above), each with an optional flat price. The
    base is the sum of the exact, unrounded amounts of those charges for the account.
    A base of 0 costs nothing, unless the tiers' *zero_usage* is ``first_flat_fee``:
    then the first tier's flat price is charged whatever the base (Lago's rule).

    >>> support = Percentage(percent=Decimal(10), of=("compute", "storage"), currency="EUR")
    >>> support.price(Decimal("123.45")).amount
    Money('12.345', 'EUR')
    >>> tiered = Percentage(tiers=[PercentTier(Decimal(10000), Decimal(10)),
    ...                            PercentTier(None, Decimal(7))], of=("compute",), currency="EUR")
    >>> tiered.price(Decimal(15000)).amount
    Money('1350', 'EUR')

    .. versionchanged:: 0.2
       *zero_usage*, and tiers with a flat price.
    """

    kind: ClassVar[str] = "percentage"
    basis: ClassVar[Basis] = "charges"
    keys: ClassVar[tuple[str, ...]] = ("percent", "tiers", "of", "zero_usage")

    of: tuple[str, ...] = attrs.field(converter=_to_names)
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))
    percent: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_percent)
    )
    tiers: tuple[PercentTier, ...] = attrs.field(
        default=(), converter=_to_percent_tiers, validator=_check_percent_tiers
    )
    zero_usage: ZeroUsage = attrs.field(default="free", validator=check_zero_usage)

    def __attrs_post_init__(self) -> None:
        if (self.percent is None) == (not self.tiers):
            raise PlanError("percentage: give either percent or tiers, not both and not neither")
        if not self.of:
            raise PlanError("percentage: 'of' must name at least one charge")
        if self.percent is not None and self.zero_usage != "free":
            raise PlanError(
                "percentage: zero_usage applies to tiers (their first flat price); "
                "remove it or give tiers instead of percent"
            )
        check_flat_prices(self.tiers, self.currency)

    @exact
    def price(self, base: Decimal) -> Priced:
        """The percentage of *base*, the exact amount of the charges it applies to."""
        cur = self.currency
        if self.percent is not None:
            amount = base * self.percent / 100
            detail = Detail(f"{self.percent}% of {base} {cur}", None, None, Money(amount, cur))
            return Priced(Money(amount, cur), (detail,))
        first = self.tiers[0].flat_price
        if base <= 0 and self.zero_usage == "first_flat_fee" and first is not None:
            detail = Detail(self._flat_label(0), None, None, first)
            return Priced(Money(Decimal(0) + first.amount, cur), (detail,))
        total, details = Decimal(0), []
        for index, lower, span, tier in tier_parts(self.tiers, base):
            part = span * tier.percent / 100
            total += part
            details.append(
                Detail(
                    f"{tier.percent}% of {span} {cur} ({lower} to "
                    f"{'...' if tier.up_to is None else tier.up_to})",
                    None,
                    None,
                    Money(part, cur),
                )
            )
            if tier.flat_price is not None:
                total += tier.flat_price.amount
                details.append(Detail(self._flat_label(index), None, None, tier.flat_price))
        return Priced(Money(total, cur), tuple(details))

    def _flat_label(self, index: int) -> str:
        """``'flat price (0 to 10000)'``: the flat price of tier *index* and its span."""
        lower = Decimal(0) if index == 0 else self.tiers[index - 1].up_to
        upper = self.tiers[index].up_to
        return f"flat price ({lower} to {'...' if upper is None else upper})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.kind, "of": list(self.of)}
        if self.percent is not None:
            out["percent"] = str(self.percent)
        else:
            out["tiers"] = [t.to_dict() for t in self.tiers]
        if self.zero_usage != "free":
            out["zero_usage"] = self.zero_usage
        return out

    @property
    def line_unit_price(self) -> Money | None:
        return None

    @classmethod
    def read(cls, r: FieldReader, data: Mapping[str, Any], path: str) -> Percentage | None:
        of = r.names(data, "of", path)
        if not of:
            r.doc.problem(
                join_path(path, "of"), "missing", "name the charges this percentage is of"
            )
        if ("percent" in data) == ("tiers" in data):
            r.doc.problem(path, "percent_or_tiers", "give either percent or tiers, not both")
            return None
        assert r.currency is not None, "the plan's currency is read before its charges"
        zero_usage = read_zero_usage(r, data, path)
        if "percent" in data:
            if "zero_usage" in data:
                r.doc.problem(
                    join_path(path, "zero_usage"),
                    "not_applicable",
                    "zero_usage applies to tiers (their first flat price); remove it",
                )
                return None
            pct = _read_percent(r, data, path)
            return None if pct is None or not of else cls(percent=pct, of=of, currency=r.currency)
        tiers = _read_percent_tiers(r, data, path)
        if not tiers or not of:
            return None
        return cls(tiers=tiers, of=of, currency=r.currency, zero_usage=zero_usage)


def _read_percent(r: FieldReader, data: Mapping[str, Any], path: str) -> Decimal | None:
    pct: Decimal | None = r.number(data, "percent", path, required=True)
    if pct is not None and pct > 100:
        r.doc.problem(join_path(path, "percent"), "out_of_range", "must be at most 100", str(pct))
        return None
    return pct


def _read_percent_tiers(r: FieldReader, data: Mapping[str, Any], path: str) -> list[PercentTier]:
    rows, ok = read_tier_rows(r, data, path, ("percent", "flat_price"))
    tiers: list[PercentTier] = []
    for up_to, fields, tpath in rows:
        pct = _read_percent(r, fields, tpath)
        flat = r.price(fields, "flat_price", tpath, required=False)
        if pct is None or ("flat_price" in fields and flat is None):
            ok = False
        elif ok:
            tiers.append(PercentTier(up_to, pct, flat))
    return tiers if ok else []
