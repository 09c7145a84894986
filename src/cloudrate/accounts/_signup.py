"""Account verification refund (billing setting 9) and signup payment (setting 10).

A portal may ask for a payment to activate an account (:class:`SignupPayment`) and may
refund that deposit, fully or partly, once the account is verified
(:class:`VerificationRefund`). The refund is credited to the prepaid wallet as a
``refund`` ledger entry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, exact, to_decimal
from cloudrate.exceptions import PlanError, WalletError

from ._entry import LedgerEntry

__all__ = ["SignupPayment", "VerificationOutcome", "VerificationRefund"]


def _percent(value: object) -> Decimal:
    result = to_decimal(value, "verification_refund.percent")
    if not Decimal(0) <= result <= Decimal(100):
        raise PlanError(f"verification_refund.percent: must be between 0 and 100 (got {result})")
    return result


@attrs.frozen
class VerificationOutcome:
    """What happens to a signup deposit on verification: the part *refunded*, the part
    *kept*, the ledger *entries* to post, and the *reason* in words."""

    refunded: Money
    kept: Money
    entries: tuple[LedgerEntry, ...]
    reason: str


@attrs.frozen
class VerificationRefund:
    """Refund *percent* of the signup deposit when the account is verified, if *enabled*.

    >>> from datetime import datetime, timezone
    >>> rule = VerificationRefund(enabled=True, percent=Decimal("50"))
    >>> at = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> outcome = rule.on_verified("acme", Money("5.00", "USD"), at=at)
    >>> outcome.refunded, outcome.kept
    (Money('2.50', 'USD'), Money('2.50', 'USD'))
    >>> outcome.entries[0].kind, outcome.entries[0].key
    ('refund', 'verification-refund:acme')
    >>> VerificationRefund(enabled=False, percent=Decimal("100")).on_verified(
    ...     "acme", Money("5.00", "USD"), at=at).kept
    Money('5.00', 'USD')
    """

    enabled: bool = False
    percent: Decimal = attrs.field(default=Decimal(100), converter=_percent)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data (the percent as a decimal string)."""
        return {"enabled": self.enabled, "percent": str(self.percent)}

    def refund_amount(self, deposit: Money, rounding: RoundingPolicy | None = None) -> Money:
        """The part of *deposit* refunded, rounded by *rounding* (half-up to the currency's
        minor units by default); zero when disabled."""
        code = deposit.currency.code
        if deposit.amount < 0:
            raise WalletError(f"deposit: must not be negative (got {deposit.amount} {code})")
        if not self.enabled:
            return Money(Decimal(0), code)
        exact = EXACT.divide(EXACT.multiply(deposit.amount, self.percent), Decimal(100))
        return Money((rounding or RoundingPolicy()).round(exact, code), code)

    @exact
    def on_verified(
        self,
        account: str,
        deposit: Money,
        *,
        at: datetime,
        key: str | None = None,
        rounding: RoundingPolicy | None = None,
    ) -> VerificationOutcome:
        """The refund of *account*'s *deposit* once verified at *at*; *key* defaults to
        ``verification-refund:<account>`` so one account is refunded once."""
        refunded = self.refund_amount(deposit, rounding)
        code = deposit.currency.code
        kept = Money(deposit.amount - refunded.amount, code)
        if not self.enabled:
            return VerificationOutcome(
                refunded,
                kept,
                (),
                f"verification refund is disabled; the deposit of {deposit.amount} {code} is kept",
            )
        reason = (
            f"{self.percent}% of the {deposit.amount} {code} signup deposit refunded on "
            f"verification: {refunded.amount} {code}, {kept.amount} {code} kept"
        )
        entries: tuple[LedgerEntry, ...] = ()
        if refunded.amount > 0:
            entries = (
                LedgerEntry(
                    account=account,
                    kind="refund",
                    amount=refunded,
                    key=key or f"verification-refund:{account}",
                    at=at,
                    memo=reason,
                ),
            )
        return VerificationOutcome(refunded, kept, entries, reason)


def _check_signup(_inst: object, _attr: object, value: Any) -> None:
    if value is not None and (not isinstance(value, Money) or value.amount <= 0):
        raise PlanError(
            f"signup_payment.amount: must be Money above zero such as "
            f"Money('5.00', 'USD'), or None (got {value!r})"
        )


@attrs.frozen
class SignupPayment:
    """Whether activating an account requires a payment, and how much.

    >>> rule = SignupPayment(enabled=True, amount=Money("5.00", "USD"))
    >>> rule.required, rule.due()
    (True, Money('5.00', 'USD'))
    >>> SignupPayment(enabled=False, amount=None).due() is None
    True
    """

    enabled: bool = False
    amount: Money | None = attrs.field(default=None, validator=_check_signup)

    def __attrs_post_init__(self) -> None:
        if self.enabled and self.amount is None:
            raise PlanError(
                "signup_payment.amount: required when signup payment is enabled; "
                "give the amount to collect, e.g. Money('5.00', 'USD')"
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data (the amount as a decimal string)."""
        amount = (
            None
            if self.amount is None
            else {"amount": str(self.amount.amount), "currency": self.amount.currency.code}
        )
        return {"enabled": self.enabled, "amount": amount}

    @property
    def required(self) -> bool:
        """Whether the signup activation page asks for a payment."""
        return self.enabled

    def due(self) -> Money | None:
        """The amount to collect at activation, ``None`` when no payment is required."""
        return self.amount if self.enabled else None

    def can_activate(self, paid: Money | None) -> bool:
        """Whether an account that paid *paid* at signup may be activated."""
        due = self.due()
        if due is None:
            return True
        if paid is None:
            return False
        if paid.currency != due.currency:
            raise WalletError(
                f"signup payment is in {paid.currency.code} but "
                f"{due.currency.code} is due; convert it first"
            )
        return bool(paid.amount >= due.amount)

    def check(self, paid: Money | None) -> None:
        """Raise :class:`WalletError` stating the amount due if *paid* does not activate."""
        if not self.can_activate(paid):
            due = self.due()
            assert due is not None
            got = "nothing" if paid is None else f"{paid.amount} {paid.currency.code}"
            raise WalletError(
                f"activation requires a signup payment of {due.amount} "
                f"{due.currency.code} (paid {got}); collect the payment first"
            )
