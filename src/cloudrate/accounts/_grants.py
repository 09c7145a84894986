"""Granted credits that expire, and the order in which a wallet's money is used.

A **grant** is a ``promo_credit`` entry whose ``reference`` carries its expiry:
``"expires:<ISO 8601 instant>"``, optionally followed by a space and the host's own
reference. No column is added to any store, so every ledger store keeps grants as they
are. Paid money (recharges) does not expire unless *paid_expire_after* is given.

Which credit a deduction uses is computed from the entries, never stored: each credit
entry is a *lot*, and each negative entry draws on the lots it may use, in the
**consumption order**:

1. lots that expire, soonest expiry first;
2. grants that do not expire;
3. paid money (recharges, refunds, positive adjustments).

Ties (the same expiry, or none) go to grants before paid money, then to the credit written
first.

A lot may be used until its expiry instant (exclusive); a negative entry dated at or after
it skips the lot. What no lot covers is *debt* (a negative balance), and the next credit of
any kind covers debt before it becomes a lot of its own. :func:`expire_credits` posts, for
each lot past its expiry, an ``adjustment`` of its unused remainder, keyed
``"expiry:<credit key>"``, dated at the expiry and referring to the credit: that entry
takes exactly that lot's remainder. So the balance stays the exact sum of the entries, and
``sum(remaining) - debt`` equals it at every step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.exceptions import UnknownAccountError, WalletError

from ._entry import EntryKind, LedgerEntry, _utc
from ._ledger import Ledger

__all__ = [
    "EXPIRES_PREFIX",
    "EXPIRY_PREFIX",
    "CreditLot",
    "Credits",
    "credit_expiry",
    "expire_credits",
    "expired_credit",
    "expiry_key",
    "grant_credit",
    "grant_entry",
    "wallet_credits",
]

#: How a grant's ``reference`` starts: ``"expires:2026-11-15T00:00:00+00:00"``.
EXPIRES_PREFIX = "expires:"
#: How the key of an expiry entry starts: ``"expiry:<credit key>"``.
EXPIRY_PREFIX = "expiry:"

CreditSource = Literal["grant", "paid"]


def expiry_key(credit_key: str) -> str:
    """The idempotency key of the entry that expires the credit keyed *credit_key*.

    >>> expiry_key("promo:WELCOME:acme")
    'expiry:promo:WELCOME:acme'
    """
    return EXPIRY_PREFIX + credit_key


def grant_entry(
    account: str,
    amount: Money,
    *,
    key: str,
    at: datetime,
    expires: datetime | None,
    memo: str = "",
    reference: str | None = None,
) -> LedgerEntry:
    """A granted credit (a ``promo_credit``) of *amount* usable until *expires*.

    *expires* (an aware datetime, after *at*) is written into the entry's reference as
    ``"expires:<instant in UTC>"``, followed by a space and *reference* when given;
    ``None`` grants a credit that never expires.

    >>> from datetime import timezone
    >>> e = grant_entry("acme", Money("10.00", "EUR"), key="grant:welcome:acme",
    ...                 at=datetime(2026, 11, 1, tzinfo=timezone.utc),
    ...                 expires=datetime(2026, 11, 15, tzinfo=timezone.utc), reference="WELCOME")
    >>> e.kind, e.reference
    ('promo_credit', 'expires:2026-11-15T00:00:00+00:00 WELCOME')
    >>> credit_expiry(e)
    datetime.datetime(2026, 11, 15, 0, 0, tzinfo=datetime.timezone.utc)

    .. versionadded:: 0.2
    """
    if expires is not None:
        until, since = _utc(expires), _utc(at)
        if until <= since:
            raise WalletError(
                f"grant {key!r}: expires {until.isoformat()} is not after its time "
                f"{since.isoformat()}; give an expiry after the grant"
            )
        marker = EXPIRES_PREFIX + until.isoformat()
        reference = marker if reference is None else f"{marker} {reference}"
    elif reference is not None and reference.startswith(EXPIRES_PREFIX):
        raise WalletError(
            f"grant {key!r}: reference {reference!r} starts with {EXPIRES_PREFIX!r}, which "
            "marks an expiry; pass the expiry as expires=..., not in the reference"
        )
    return LedgerEntry(
        account=account,
        kind="promo_credit",
        amount=amount,
        key=key,
        at=at,
        memo=memo,
        reference=reference,
    )


def grant_credit(
    ledger: Ledger,
    account: str,
    amount: Money,
    *,
    key: str,
    at: datetime,
    expires: datetime | None,
    memo: str = "",
    reference: str | None = None,
) -> LedgerEntry:
    """Post :func:`grant_entry` to *ledger*; the same key again is a no-op (the stored
    entry is returned).

    >>> from datetime import timezone
    >>> at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> ledger = Ledger()
    >>> _ = ledger.open("acme", "EUR", at=at)
    >>> grant_credit(ledger, "acme", Money("5.00", "EUR"), key="trial:acme", at=at,
    ...              expires=at + timedelta(days=30)).reference
    'expires:2026-12-01T00:00:00+00:00'

    .. versionadded:: 0.2
    """
    entry = grant_entry(
        account, amount, key=key, at=at, expires=expires, memo=memo, reference=reference
    )
    result = ledger.post([entry])
    return (result.written or result.existing)[0]


def credit_expiry(entry: LedgerEntry) -> datetime | None:
    """When the granted credit *entry* expires: parsed from its reference, ``None`` for
    every entry that is not an expiring grant."""
    ref = entry.reference
    if entry.kind != "promo_credit" or ref is None or not ref.startswith(EXPIRES_PREFIX):
        return None
    text = ref[len(EXPIRES_PREFIX) :].split(" ", 1)[0]
    try:
        return _utc(datetime.fromisoformat(text))
    except (ValueError, WalletError):
        raise WalletError(
            f"entry {entry.key!r}: reference {ref!r} does not give an expiry as "
            "'expires:<aware ISO 8601 instant>'; write grants with grant_entry()"
        ) from None


def expired_credit(entry: LedgerEntry) -> str | None:
    """The key of the credit that the expiry entry *entry* expires, or ``None`` when it
    is not one (an ``adjustment`` below zero keyed ``expiry:<its reference>``).

    >>> from datetime import timezone
    >>> e = LedgerEntry(account="acme", kind="adjustment", amount=Money("-6.00", "EUR"),
    ...                 key="expiry:grant-1", at=datetime(2026, 11, 15, tzinfo=timezone.utc),
    ...                 memo="credit grant-1 expired", reference="grant-1")
    >>> expired_credit(e)
    'grant-1'
    """
    ref = entry.reference
    if entry.kind != "adjustment" or entry.amount.amount >= 0 or not ref:
        return None
    return ref if entry.key == expiry_key(ref) else None


@attrs.frozen(kw_only=True)
class CreditLot:
    """One credit of a wallet and what became of it.

    *amount* is what the credit added; *used* what deductions (and earlier debt) took from
    it; *expired* what its expiry entry removed; *remaining* is what is left. *closed* says
    its expiry entry is in the ledger. *source* is ``grant`` (promo credits) or ``paid``.

    .. versionadded:: 0.2
    """

    key: str
    kind: EntryKind
    at: datetime
    amount: Money
    expires_at: datetime | None
    used: Money
    expired: Money
    closed: bool = False

    @property
    @exact
    def remaining(self) -> Money:
        return Money(
            self.amount.amount - self.used.amount - self.expired.amount,
            self.amount.currency.code,
        )

    @property
    def source(self) -> CreditSource:
        return "grant" if self.kind == "promo_credit" else "paid"

    def usable(self, at: datetime) -> bool:
        """Whether a deduction dated *at* may still use what is left of this lot."""
        return self.remaining.amount > 0 and (self.expires_at is None or at < self.expires_at)


@attrs.define
class _Lot:
    entry: LedgerEntry
    index: int
    expires_at: datetime | None
    used: Decimal = Decimal(0)
    expired: Decimal = Decimal(0)
    closed: bool = False

    @property
    def left(self) -> Decimal:
        return self.entry.amount.amount - self.used - self.expired

    def usable(self, at: datetime) -> bool:
        return self.left > 0 and (self.expires_at is None or at < self.expires_at)

    def frozen(self) -> CreditLot:
        cur = self.entry.currency
        return CreditLot(
            key=self.entry.key,
            kind=self.entry.kind,
            at=self.entry.at,
            amount=self.entry.amount,
            expires_at=self.expires_at,
            used=Money(self.used, cur),
            expired=Money(self.expired, cur),
            closed=self.closed,
        )


_NEVER = datetime.max.replace(tzinfo=UTC)


def _rank(expires_at: datetime | None, kind: EntryKind, index: int) -> tuple[datetime, int, int]:
    """The consumption order: soonest expiry first (never-expiring last), then grants
    before paid money, then the credit written first."""
    return (expires_at or _NEVER, 0 if kind == "promo_credit" else 1, index)


@attrs.frozen(kw_only=True)
class Credits:
    """A wallet's money by credit: its *lots* in the order they were credited, and the
    *debt* no lot covered (zero or above). :attr:`balance` is ``sum(remaining) - debt``,
    which is the sum of the entries.

    >>> from datetime import timezone
    >>> day = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
    >>> paid = LedgerEntry(account="acme", kind="recharge", amount=Money("20.00", "EUR"),
    ...                    key="pay-1", at=day(1))
    >>> promo = grant_entry("acme", Money("10.00", "EUR"), key="grant-1", at=day(1),
    ...                     expires=day(15))
    >>> used = LedgerEntry.deduction("acme", Money("4.00", "EUR"), key="use-1", at=day(3))
    >>> wallet = Credits.of([paid, promo, used], account="acme", currency="EUR")
    >>> [(lot.key, str(lot.remaining.amount)) for lot in wallet.lots]
    [('pay-1', '20.00'), ('grant-1', '6.00')]
    >>> wallet.balance
    Money('26.00', 'EUR')

    .. versionadded:: 0.2
    """

    account: str
    currency: str
    lots: tuple[CreditLot, ...]
    debt: Money

    @property
    @exact
    def balance(self) -> Money:
        left = sum((lot.remaining.amount for lot in self.lots), Decimal(0))
        return Money(left - self.debt.amount, self.currency)

    def order(self, at: datetime) -> tuple[CreditLot, ...]:
        """The lots a deduction dated *at* would use, in the order it uses them."""
        at = _utc(at)
        index = {lot.key: i for i, lot in enumerate(self.lots)}
        usable = [lot for lot in self.lots if lot.usable(at)]
        return tuple(
            sorted(usable, key=lambda lot: _rank(lot.expires_at, lot.kind, index[lot.key]))
        )

    def due_to_expire(self, now: datetime) -> tuple[CreditLot, ...]:
        """Lots past their expiry at *now* with money left and no expiry entry yet."""
        now = _utc(now)
        return tuple(
            lot
            for lot in self.lots
            if lot.expires_at is not None
            and lot.expires_at <= now
            and not lot.closed
            and lot.remaining.amount > 0
        )

    @classmethod
    @exact
    def of(
        cls,
        entries: Iterable[LedgerEntry],
        *,
        account: str,
        currency: str,
        paid_expire_after: timedelta | None = None,
    ) -> Credits:
        """Allocate *account*'s *entries* (in the order written) to lots.

        *paid_expire_after* makes each recharge expire that long after it was made
        (``None``, the default: paid money never expires).
        """
        _check_valid_for(paid_expire_after)
        lots: list[_Lot] = []
        by_key: dict[str, _Lot] = {}
        debt = Decimal(0)
        for index, entry in enumerate(entries):
            if entry.account != account:
                raise WalletError(
                    f"entry {entry.key!r} is of account {entry.account!r}, not {account!r}; "
                    "pass the entries of one account (ledger.entries(account))"
                )
            amount = entry.amount.amount
            if amount > 0:
                lot = _Lot(entry, index, _expiry(entry, paid_expire_after))
                lot.used = min(amount, debt)
                debt -= lot.used
                lots.append(lot)
                by_key[entry.key] = lot
                continue
            debt += _draw(-amount, entry, lots, by_key)
        return cls(
            account=account,
            currency=currency,
            lots=tuple(lot.frozen() for lot in lots),
            debt=Money(debt, currency),
        )


def _check_valid_for(value: object) -> None:
    if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
        raise WalletError(
            f"paid_expire_after: expected a positive timedelta such as timedelta(days=365), "
            f"or None for paid money that never expires (got {value!r})"
        )


def _expiry(entry: LedgerEntry, paid_expire_after: timedelta | None) -> datetime | None:
    if entry.kind == "recharge" and paid_expire_after is not None:
        return entry.at + paid_expire_after
    return credit_expiry(entry)


def _draw(
    need: Decimal, entry: LedgerEntry, lots: Sequence[_Lot], by_key: dict[str, _Lot]
) -> Decimal:
    """Take *need* for the negative *entry* from the lots; return what none covered."""
    target = expired_credit(entry)
    lot = by_key.get(target) if target is not None else None
    if lot is not None:
        take = min(need, max(lot.left, Decimal(0)))
        lot.expired += take
        lot.closed = True
        need -= take
    usable = [x for x in lots if x.usable(entry.at)]
    for lot in sorted(usable, key=lambda x: _rank(x.expires_at, x.entry.kind, x.index)):
        if need == 0:
            break
        take = min(need, lot.left)
        lot.used += take
        need -= take
    return need


def wallet_credits(
    ledger: Ledger, account: str, *, paid_expire_after: timedelta | None = None
) -> Credits:
    """*account*'s money in *ledger* by credit (see :meth:`Credits.of`).

    >>> from datetime import timezone
    >>> at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> ledger = Ledger()
    >>> _ = ledger.open("acme", "EUR", at=at)
    >>> _ = ledger.recharge("acme", Money("8.00", "EUR"), key="pay-1", at=at)
    >>> _ = grant_credit(ledger, "acme", Money("2.00", "EUR"), key="gift", at=at, expires=None)
    >>> _ = ledger.deduct("acme", Money("3.00", "EUR"), key="use-1", at=at)
    >>> [(lot.key, str(lot.used.amount)) for lot in wallet_credits(ledger, "acme").lots]
    [('pay-1', '1.00'), ('gift', '2.00')]

    .. versionadded:: 0.2
    """
    acct = ledger.store.account(account)
    if acct is None:
        raise UnknownAccountError(
            f"account {account!r} is not open; open it with "
            f"Ledger.open({account!r}, currency, at=...) first"
        )
    return Credits.of(
        ledger.entries(account),
        account=account,
        currency=acct.currency,
        paid_expire_after=paid_expire_after,
    )


def expire_credits(
    ledger: Ledger,
    now: datetime,
    *,
    accounts: Iterable[str] | None = None,
    paid_expire_after: timedelta | None = None,
) -> tuple[LedgerEntry, ...]:
    """Post the expiry of every credit past its expiry at *now*; return the entries written.

    For each lot of :meth:`Credits.due_to_expire` the expiry entry is an ``adjustment`` of
    minus its remainder, keyed ``"expiry:<credit key>"``, dated at the expiry (not at
    *now*), with the credit's key as reference: running it again writes nothing, and two
    runs at once write the same entry once. A lot used up before its expiry needs no entry.
    One batch per account; *accounts* limits the run (default: every account).

    Run it before the deductions of a period (e.g. at the start of each usage run): a
    deduction dated after an expiry never uses the expired lot, and a late deduction dated
    before it, posted after its expiry entry, uses the next lot instead.

    >>> from datetime import timezone
    >>> day = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
    >>> ledger = Ledger()
    >>> _ = ledger.open("acme", "EUR", at=day(1))
    >>> _ = grant_credit(ledger, "acme", Money("10.00", "EUR"), key="grant-1", at=day(1),
    ...                  expires=day(15))
    >>> _ = ledger.deduct("acme", Money("4.00", "EUR"), key="use-1", at=day(3))
    >>> [(e.key, str(e.amount.amount)) for e in expire_credits(ledger, day(16))]
    [('expiry:grant-1', '-6.00')]
    >>> expire_credits(ledger, day(17)), ledger.balance("acme")
    ((), Money('0.00', 'EUR'))

    .. versionadded:: 0.2
    """
    now = _utc(now)
    names = [a.name for a in ledger.store.accounts()] if accounts is None else list(accounts)
    written: list[LedgerEntry] = []
    for name in names:
        wallet = wallet_credits(ledger, name, paid_expire_after=paid_expire_after)
        batch = [
            LedgerEntry(
                account=name,
                kind="adjustment",
                amount=-lot.remaining,
                key=expiry_key(lot.key),
                at=lot.expires_at,
                memo=f"credit {lot.key} expired",
                reference=lot.key,
            )
            for lot in wallet.due_to_expire(now)
            if lot.expires_at is not None
        ]
        if batch:
            written.extend(ledger.post(batch).written)
    return tuple(written)
