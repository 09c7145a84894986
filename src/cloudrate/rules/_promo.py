"""Promo codes: generate, validate, redeem and apply as discount lines.

Codes are the configured prefix, a dash and random letters and digits without the
look-alikes 0/O and 1/I (``NEWUSER-7F3K9Q``). Randomness is passed in (a
:class:`random.Random`), so a seeded generator gives the same codes every run.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs
from moneyed import Money

from cloudrate._money import check_money, to_decimal
from cloudrate.exceptions import CloudrateError, PlanError
from cloudrate.plans import Detail
from cloudrate.rating import AccountBill, RatedLine

from ._base import RuleContext, adjustment

__all__ = [
    "PromoCode",
    "PromoDiscount",
    "PromoError",
    "Redemption",
    "RedemptionStore",
    "find_code",
    "generate_code",
]

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CODE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")


class PromoError(CloudrateError, ValueError):
    """A promo code cannot be used; *reason* is a stable code (``expired``, ``used_up``...)."""

    def __init__(self, code: str, reason: str, message: str) -> None:
        self.code, self.reason = code, reason
        super().__init__(f"promo code {code!r}: {message} [{reason}]")


def _check_prefix(prefix: str) -> str:
    if not _CODE.match(prefix or ""):
        raise PlanError(
            f"promo code prefix: use capital letters, digits and dashes, such "
            f"as 'NEWUSER' (got {prefix!r})"
        )
    return prefix


def generate_code(prefix: str, rng: random.Random, length: int = 6) -> str:
    """A new code: *prefix*, a dash and *length* random characters from *rng*.

    >>> generate_code("NEWUSER", random.Random(7))
    'NEWUSER-...'
    >>> generate_code("NEWUSER", random.Random(7)) == generate_code("NEWUSER", random.Random(7))
    True
    """
    if length < 4:
        raise PlanError(f"promo code length: at least 4 so codes cannot be guessed (got {length})")
    return f"{_check_prefix(prefix)}-{''.join(rng.choice(ALPHABET) for _ in range(length))}"


def _normalise(code: object) -> str:
    return str(code).strip().upper()


def _fixed(value: object) -> Money | None:
    """A fixed discount: an amount the customer can see taken off, so in whole minor units
    of its currency (0.05 EUR, never 0.050001)."""
    return None if value is None else check_money(value, "fixed", payable=True)


def _percent(value: object) -> Decimal | None:
    if value is None:
        return None
    pct = to_decimal(value, "percent")
    if not 0 < pct <= 100:
        raise PlanError(f"percent: must be above 0 and at most 100 (got {pct})")
    return pct


@attrs.frozen(kw_only=True)
class PromoCode:
    """A promo code: a *percent* or *fixed* discount, optionally limited to some
    *charges* or *metrics*, with redemption limits and a validity window.

    *max_redemptions* caps redemptions over all accounts (None: no cap),
    *max_per_account* per account. *valid_from* is inclusive, *valid_until* exclusive.
    *first_time_only* accepts only accounts the host marks as new customers (no bill yet).

    A *fixed* amount is in whole minor units of its currency, so every bill it lowers
    stays payable; a *percent* discount is rounded by the bill's rounding policy.

    >>> PromoCode(code="WELCOME", fixed=Money("0.050001", "EUR"))
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: fixed: 0.050001 EUR has more decimals than the 2 minor \
units of EUR; give it in steps of 0.01, such as 0.05 or 0.06
    """

    code: str = attrs.field(converter=_normalise)
    percent: Decimal | None = attrs.field(default=None, converter=_percent)
    fixed: Money | None = attrs.field(default=None, converter=_fixed)
    charges: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    metrics: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    max_redemptions: int | None = None
    max_per_account: int = 1
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    first_time_only: bool = False
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise PlanError(f"promo code {self.code!r}: use capital letters, digits and dashes")
        if (self.percent is None) == (self.fixed is None):
            raise PlanError(f"promo code {self.code!r}: give either percent or fixed")
        if self.fixed is not None and self.fixed.amount <= 0:
            raise PlanError(f"promo code {self.code!r}: fixed must be above 0")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise PlanError(f"promo code {self.code!r}: valid_until must be after valid_from")

    @property
    def label(self) -> str:
        off = (
            f"{self.percent}%"
            if self.percent is not None
            else (f"{self.fixed.amount} {self.fixed.currency.code}" if self.fixed else "")
        )
        return self.description or f"Promo code {self.code} ({off} off)"

    def check(
        self, account: str, now: datetime, store: RedemptionStore, *, new_customer: bool = False
    ) -> None:
        """Raise :class:`PromoError` unless *account* may redeem this code at *now*."""
        if self.valid_from is not None and now < self.valid_from:
            raise PromoError(
                self.code,
                "not_yet_valid",
                f"valid from {self.valid_from.isoformat()}, not yet at {now.isoformat()}",
            )
        if self.valid_until is not None and now >= self.valid_until:
            raise PromoError(self.code, "expired", f"expired at {self.valid_until.isoformat()}")
        if self.first_time_only and not new_customer:
            raise PromoError(self.code, "first_time_only", "only for new customers")
        if self.max_redemptions is not None and store.count(self.code) >= self.max_redemptions:
            raise PromoError(
                self.code, "used_up", f"all {self.max_redemptions} redemptions are used"
            )
        if store.count(self.code, account) >= self.max_per_account:
            raise PromoError(
                self.code,
                "already_redeemed",
                f"{account!r} already redeemed it {self.max_per_account} time(s)",
            )

    def redeem(
        self, account: str, now: datetime, store: RedemptionStore, *, new_customer: bool = False
    ) -> Redemption:
        """Check, then record a redemption in *store* (atomically: limits hold even when
        several redemptions race)."""
        self.check(account, now, store, new_customer=new_customer)
        redemption = Redemption(code=self.code, account=account, at=now)
        if not store.add(redemption, self.max_redemptions, self.max_per_account):
            self.check(account, now, store, new_customer=new_customer)
            raise PromoError(self.code, "used_up", "the redemption limit was reached")
        return redemption


def find_code(
    text: str, codes: Mapping[str, PromoCode] | Iterable[PromoCode], prefix: str | None = None
) -> PromoCode:
    """The promo code a customer typed (case and surrounding spaces ignored).

    >>> find_code(" newuser-7f3k9q ", [PromoCode(code="NEWUSER-7F3K9Q", percent=10)]).percent
    Decimal('10')
    """
    wanted = str(text).strip().upper()
    if not _CODE.match(wanted):
        raise PromoError(
            wanted, "malformed", "not a promo code: capital letters and digits joined by dashes"
        )
    if prefix is not None and not wanted.startswith(prefix.upper() + "-"):
        raise PromoError(wanted, "malformed", f"promo codes start with {prefix}-")
    table = codes if isinstance(codes, Mapping) else {c.code: c for c in codes}
    try:
        return table[wanted]
    except KeyError:
        raise PromoError(wanted, "unknown", "no such promo code") from None


@attrs.frozen
class Redemption:
    code: str
    account: str
    at: datetime


@runtime_checkable
class RedemptionStore(Protocol):
    """Where redemptions are kept. ``add`` must check the limits and add atomically."""

    def count(self, code: str, account: str | None = None) -> int: ...

    def add(
        self,
        redemption: Redemption,
        max_total: int | None,
        max_per_account: int,
    ) -> bool: ...


@attrs.frozen
class PromoDiscount:
    """The discount of a redeemed *promo* on a bill, as one line.

    The discount applies to the bill's usage lines (kind ``charge``) whose charge is in
    the code's *charges* or whose metric is in its *metrics* (all usage lines when both are
    empty). A percent code takes that share of their exact amounts, rounded by the bill's
    policy; a fixed code takes its amount. Either takes at most the rounded amount of those
    lines, so a bill never goes below zero.
    """

    promo: PromoCode

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:
        p = self.promo
        limited = bool(p.charges or p.metrics)
        eligible = [
            x
            for x in bill.lines
            if x.kind == "charge"
            and (
                not limited
                or x.charge in p.charges
                or (x.metric is not None and x.metric in p.metrics)
            )
        ]
        currency = str(bill.total.currency.code)
        base_exact = sum((x.amount.amount for x in eligible), Decimal(0))
        base = sum((x.rounded.amount for x in eligible), Decimal(0))
        if base_exact <= 0:
            return ()
        details = tuple(Detail(f"applies to {x.charge}", None, None, x.rounded) for x in eligible)
        if p.percent is not None:
            exact = -base_exact * p.percent / 100
            # The exact lines can add up to more than the rounded ones (three lines of
            # 0.004 are 0.012, rounded 0.00 each): never take off more than they show.
            rounded = max(context.rounding.round(exact, currency), -base)
        else:
            assert p.fixed is not None
            if str(p.fixed.currency.code) != currency:
                raise PromoError(
                    p.code,
                    "currency",
                    f"its amount is in {p.fixed.currency.code}, the bill in {currency}",
                )
            rounded = -min(p.fixed.amount, base)
            exact = -min(p.fixed.amount, base_exact)
        return (
            adjustment(
                bill,
                context,
                charge=f"promo:{p.code}",
                description=p.label,
                amount=exact,
                rounded=rounded,
                kind="discount",
                details=details,
            ),
        )
