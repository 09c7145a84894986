"""Tiers: the bands of quantity that graduated and volume pricing price differently."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import attrs
from moneyed import Money

from cloudrate._documents import join_path
from cloudrate._money import exact
from cloudrate.exceptions import CurrencyMismatchError, PlanError

from ._fields import as_money, as_optional_quantity, non_negative_money
from ._model import ZERO_USAGE, Basis, ZeroUsage
from ._priced import Detail, Priced

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = [
    "Tier",
    "TieredModel",
    "check_ascending",
    "check_tiers",
    "check_zero_usage",
    "read_tier_rows",
    "read_tiers",
    "read_zero_usage",
    "scaled_tiers",
    "tier_label",
    "tier_parts",
    "tier_prices",
    "to_tiers",
]


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


class _Bounded(Protocol):
    @property
    def up_to(self) -> Decimal | None: ...


def check_ascending(tiers: Sequence[_Bounded], covers: str = "quantity has a price") -> None:
    """Tiers ascend by ``up_to`` and only the last is open (``up_to=None``), as it must be
    so that every quantity (or amount: *covers*) falls in a tier. The one check of tier
    order: priced tiers (:class:`Tier`) and percent tiers alike."""
    previous = Decimal(0)
    for index, tier in enumerate(tiers):
        last = index == len(tiers) - 1
        if tier.up_to is None and not last:
            raise PlanError(
                f"tier {index + 1} has up_to=None but is not the last tier; only the last "
                "tier is open, sort tiers by up_to"
            )
        if tier.up_to is not None:
            if last:
                raise PlanError(
                    f"the last tier must have up_to=None so every {covers} (got up_to={tier.up_to})"
                )
            if tier.up_to <= previous:
                raise PlanError(
                    f"tier {index + 1} up_to must be above {previous}, the previous up_to; "
                    f"sort tiers by up_to (got {tier.up_to})"
                )
            previous = tier.up_to


def check_tiers(_inst: object, _attr: object, tiers: Sequence[Tier]) -> None:
    """Tiers must be non-empty, in one currency, ascending, and end open."""
    if not tiers:
        raise PlanError("tiers: give at least one tier; the last has up_to=None")
    currency = tiers[0].unit_price.currency.code
    for index, tier in enumerate(tiers):
        for name in ("unit_price", "flat_price"):
            price = getattr(tier, name)
            if price is not None and price.currency.code != currency:
                raise CurrencyMismatchError(
                    currency, price.currency.code, f"tier {index + 1} {name}"
                )
    check_ascending(tiers)


def check_zero_usage(_inst: object, _attr: object, value: object) -> None:
    """``zero_usage`` must be one of :data:`~cloudrate.plans.ZERO_USAGE`."""
    if value not in ZERO_USAGE:
        raise PlanError(f"zero_usage: must be one of {', '.join(ZERO_USAGE)} (got {value!r})")


def read_zero_usage(r: FieldReader, data: Mapping[str, Any], path: str) -> ZeroUsage:
    """A tiered charge's ``zero_usage`` in a plan file (``free`` when absent)."""
    return r.choice(data, "zero_usage", path, ZERO_USAGE, "free")


def tier_label(index: int, lower: Decimal, upper: Decimal | None) -> str:
    """``'tier 1 (0 to 100)'``, ``'tier 2 (above 100)'``: tiers are numbered from 1."""
    span = f"above {lower}" if upper is None else f"{lower} to {upper}"
    return f"tier {index + 1} ({span})"


class Bounded(Protocol):
    """A tier as far as graduated pricing walks it: its upper bound (None: no bound)."""

    @property
    def up_to(self) -> Decimal | None: ...


_T = TypeVar("_T", bound=Bounded)


def tier_parts(
    tiers: Sequence[_T], quantity: Decimal, *, first: bool = False
) -> Iterator[tuple[int, Decimal, Decimal, _T]]:
    """``(index, lower bound, part of quantity, tier)`` of each tier *quantity* reaches
    into, in order: the walk of graduated pricing. With *first*, the first tier is
    reached even by no quantity (its part is then 0), so that its flat price applies.

    >>> from moneyed import Money
    >>> tiers = [Tier(Decimal(100), Money("0.10", "EUR")), Tier(None, Money("0.05", "EUR"))]
    >>> [(i, lower, part) for i, lower, part, _ in tier_parts(tiers, Decimal(150))]
    [(0, Decimal('0'), Decimal('100')), (1, Decimal('100'), Decimal('50'))]
    >>> [i for i, *_ in tier_parts(tiers, Decimal(0))]
    []
    >>> [i for i, *_ in tier_parts(tiers, Decimal(0), first=True)]
    [0]
    """
    lower = Decimal(0)
    for index, tier in enumerate(tiers):
        if quantity <= lower and not (first and index == 0):
            return
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        yield index, lower, upper - lower if upper > lower else Decimal(0), tier
        if tier.up_to is None:
            return
        lower = tier.up_to


TierRow = tuple[Decimal | None, dict[str, Any], str]


def read_tier_rows(
    r: FieldReader, data: Mapping[str, Any], path: str, keys: tuple[str, ...]
) -> tuple[list[TierRow], bool]:
    """The tiers of a plan file as ``(up_to, fields, path)`` rows, and whether every bound
    is valid. Every problem of the list is recorded, not just the first, and the rows of
    tiers with a bad bound are still returned so their prices get checked too."""
    raw = data.get("tiers")
    where = join_path(path, "tiers")
    if not isinstance(raw, list) or not raw:
        r.doc.problem(
            where,
            "missing" if raw is None else "not_a_list",
            "give a list of tiers; the last has up_to: null",
        )
        return [], False
    rows: list[TierRow] = []
    previous = Decimal(0)
    ok = True
    for index, item in enumerate(raw):
        tpath = join_path(where, index)
        fields = r.mapping(item, tpath, ("up_to", *keys))
        up_to, good = _read_bound(r, fields, tpath, index, len(raw), previous)
        ok = ok and good
        if up_to is not None:
            previous = up_to
        if "up_to" in fields:
            rows.append((up_to, fields, tpath))
    return rows, ok


def _read_bound(
    r: FieldReader,
    fields: Mapping[str, Any],
    tpath: str,
    index: int,
    count: int,
    previous: Decimal,
) -> tuple[Decimal | None, bool]:
    """One tier's ``up_to``: the bound and whether it is valid where it stands."""
    bound = join_path(tpath, "up_to")
    if "up_to" not in fields:
        r.doc.problem(bound, "missing", "up_to is required (null for the last tier)")
        return None, False
    up_to = r.number(fields, "up_to", tpath, above=True)
    if up_to is None and fields.get("up_to") is not None:
        return None, False  # a bad bound was reported; the tier must not pass as open
    last = index == count - 1
    if up_to is None and not last:
        r.doc.problem(
            bound,
            "open_tier_not_last",
            "only the last tier may have up_to: null; sort tiers by up_to",
        )
        return None, False
    if up_to is not None and last:
        r.doc.problem(
            bound,
            "last_tier_bounded",
            "the last tier must have up_to: null so every quantity has a price",
            str(up_to),
        )
        return up_to, False
    if up_to is not None and index > 0 and up_to <= previous:
        r.doc.problem(
            bound,
            "tiers_not_ascending",
            f"must be above {previous}, the previous up_to; sort tiers by up_to",
            str(up_to),
        )
        return up_to, False
    return up_to, True


def read_tiers(r: FieldReader, data: Mapping[str, Any], path: str) -> list[Tier] | None:
    """The priced tiers of a graduated or volume charge in a plan file."""
    rows, ok = read_tier_rows(r, data, path, ("unit_price", "flat_price"))
    tiers: list[Tier] = []
    for up_to, fields, tpath in rows:
        unit_price = r.price(fields, "unit_price", tpath)
        flat_price = r.price(fields, "flat_price", tpath, required=False)
        if unit_price is None or ("flat_price" in fields and flat_price is None):
            ok = False
        elif ok:
            tiers.append(Tier(up_to, unit_price, flat_price))
    return tiers if ok else None


def tier_prices(tiers: Iterable[Tier]) -> tuple[Decimal, ...]:
    """Every price of *tiers* (unit and flat), for the vectorised scale."""
    out: list[Decimal] = []
    for tier in tiers:
        out.append(tier.unit_price.amount)
        if tier.flat_price is not None:
            out.append(tier.flat_price.amount)
    return tuple(out)


def scaled_tiers(tiers: Iterable[Tier], s: int, a: int) -> list[tuple[int | None, int, int]] | None:
    """Tiers as integers: ``(up_to at scale s, unit price at scale a - s, flat at scale a)``;
    None when one is not whole at its scale."""
    from cloudrate._intmath import scaled_int

    out: list[tuple[int | None, int, int]] = []
    for tier in tiers:
        up = None if tier.up_to is None else scaled_int(tier.up_to, s)
        price = scaled_int(tier.unit_price.amount, a - s)
        flat = 0 if tier.flat_price is None else scaled_int(tier.flat_price.amount, a)
        if (tier.up_to is not None and up is None) or price is None or flat is None:
            return None
        out.append((up, price, flat))
    return out


class TieredModel:
    """What graduated and volume pricing share: tiers in one currency (:attr:`tiers`),
    priced on usage, with no single unit price to show on a line, and what no usage
    costs (:attr:`zero_usage`)."""

    __slots__ = ()

    kind: ClassVar[str]
    basis: ClassVar[Basis] = "usage"
    keys: ClassVar[tuple[str, ...]] = ("tiers", "zero_usage")
    tiers: tuple[Tier, ...]
    zero_usage: ZeroUsage

    @property
    def currency(self) -> str:
        return str(self.tiers[0].unit_price.currency.code)

    @property
    def line_unit_price(self) -> Money | None:
        return None

    def prices(self) -> tuple[Decimal, ...]:
        return tier_prices(self.tiers)

    @property
    def first_flat(self) -> Money | None:
        """The flat price no usage costs: the first tier's under ``first_flat_fee``."""
        return self.tiers[0].flat_price if self.zero_usage == "first_flat_fee" else None

    @exact
    def zero_priced(self) -> Priced:
        """What no usage costs: nothing, or under ``first_flat_fee`` the first tier's
        flat price, explained as that tier's flat price."""
        currency = self.currency
        flat = self.first_flat
        if flat is None:
            return Priced(Money(Decimal(0), currency), ())
        label = f"{tier_label(0, Decimal(0), self.tiers[0].up_to)} flat price"
        return Priced(Money(Decimal(0) + flat.amount, currency), (Detail(label, None, None, flat),))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.kind, "tiers": [t.to_dict() for t in self.tiers]}
        if self.zero_usage != "free":
            out["zero_usage"] = self.zero_usage
        return out
