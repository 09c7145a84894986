"""Ledger entries and accounts: the values a prepaid wallet is made of."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import attrs
from moneyed import Money

from cloudrate._money import check_currency, exact_class, to_decimal
from cloudrate.exceptions import WalletError

__all__ = ["KINDS", "Account", "EntryKind", "LedgerEntry"]

EntryKind = Literal["recharge", "deduction", "refund", "promo_credit", "adjustment"]

#: Entry kinds and the sign their amount must have: +1 credits the balance, -1 debits
#: it, 0 either way.
KINDS: dict[EntryKind, int] = {
    "recharge": 1,
    "deduction": -1,
    "refund": 1,
    "promo_credit": 1,
    "adjustment": 0,
}


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise WalletError(f"at: expected an aware datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise WalletError(
            f"at: {value.isoformat()} has no timezone; pass an aware datetime "
            "such as datetime(2026, 11, 1, tzinfo=timezone.utc)"
        )
    return value.astimezone(UTC)


def _money(value: object) -> Money:
    if not isinstance(value, Money):
        raise WalletError(f"amount: expected Money such as Money('10.00', 'EUR'), got {value!r}")
    amount = to_decimal(value.amount, "amount")
    return Money(amount, check_currency(value.currency.code, "amount.currency"))


def _text(name: str) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise WalletError(f"{name}: expected a non-empty string (got {value!r})")

    return check


@exact_class
@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One append-only line of a wallet: *amount* is its signed effect on the balance.

    Recharges, refunds and promo credits are positive, deductions negative,
    adjustments either. *key* is the idempotency key: posting an entry whose key is
    already in the ledger with the same content does nothing; with other content it
    is refused. *at* is when it happened (passed in, stored in UTC); *seq* is the
    position the store gave it (``None`` before it is stored).

    >>> from datetime import datetime, timezone
    >>> e = LedgerEntry.deduction("acme", Money("1.25", "EUR"), key="usage:acme:2026-11-01T05",
    ...                           at=datetime(2026, 11, 1, 6, tzinfo=timezone.utc))
    >>> e.amount, e.kind
    (Money('-1.25', 'EUR'), 'deduction')
    """

    account: str = attrs.field(validator=_text("account"))
    kind: EntryKind = attrs.field()
    amount: Money = attrs.field(converter=_money)
    key: str = attrs.field(validator=_text("key"))
    at: datetime = attrs.field(converter=_utc)
    memo: str = ""
    reference: str | None = None
    seq: int | None = attrs.field(default=None, eq=False)

    @kind.validator
    def _check_kind(self, _attr: object, value: object) -> None:
        if value not in KINDS:
            raise WalletError(
                f"kind: {value!r} is not an entry kind; use one of {', '.join(KINDS)}"
            )

    def __attrs_post_init__(self) -> None:
        sign, amount = KINDS[self.kind], self.amount.amount
        if amount == 0 or (sign > 0 and amount < 0) or (sign < 0 and amount > 0):
            need = {1: "above zero", -1: "below zero", 0: "not zero"}[sign]
            raise WalletError(
                f"entry {self.key!r}: a {self.kind} amount must be {need} "
                f"(got {amount} {self.currency})"
                + (
                    "; build it with LedgerEntry.deduction(), which takes the positive amount"
                    if sign < 0
                    else ""
                )
            )

    @classmethod
    def deduction(
        cls,
        account: str,
        amount: Money,
        *,
        key: str,
        at: datetime,
        memo: str = "",
        reference: str | None = None,
    ) -> LedgerEntry:
        """A deduction of the positive *amount* (stored negated)."""
        return cls(
            account=account,
            kind="deduction",
            amount=-_money(amount),
            key=key,
            at=at,
            memo=memo,
            reference=reference,
        )

    @property
    def currency(self) -> str:
        return str(self.amount.currency.code)

    def same_content(self, other: LedgerEntry) -> bool:
        """Whether *other* records the same event (everything but *seq*)."""
        return self == other and self.currency == other.currency

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the amount is a decimal string."""
        return {
            "seq": self.seq,
            "key": self.key,
            "account": self.account,
            "kind": self.kind,
            "amount": str(self.amount.amount),
            "currency": self.currency,
            "at": self.at.isoformat(),
            "memo": self.memo,
            "reference": self.reference,
        }


@attrs.frozen
class Account:
    """A wallet opened in one *currency* at *opened_at*; entries for it must use it."""

    name: str = attrs.field(validator=_text("account"))
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))
    opened_at: datetime = attrs.field(converter=_utc)
