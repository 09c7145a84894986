"""Automatic top-ups: rules that turn a wallet's state into top-up requests.

A rule says when a wallet wants money: when its balance falls below a threshold
(:class:`TopUpBelow`), or on a schedule (:class:`TopUpMonthly`, :class:`TopUpWeekly`).
:func:`topup_requests` asks every rule of every account and returns
:class:`TopUpRequest` values; nothing is charged and nothing is posted. The host charges
the customer's card for a request, then posts the recharge with the request's *key*::

    ledger.recharge(request.account, request.amount, key=request.key, at=..., reference=...)

The key is derived from the account, the rule's name and what triggered it (the entry that
crossed the threshold, or the schedule's slot), so asking again gives the same request
(same key, same amount) until a recharge with that key is in the ledger; then it is not
asked for again. Use the key as the payment provider's idempotency key too: a retried
charge is the same charge, and a retried recharge is a no-op.

Amounts are clamped to the ledger's :class:`~cloudrate.accounts.RechargeLimits`: below the
minimum recharge a request is **raised to the minimum** (a wallet that is low needs money,
and skipping would leave it low), above the maximum it is lowered to the maximum; the
request's *reason* says so.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

import attrs
from moneyed import Money

from cloudrate._money import check_money, exact
from cloudrate.exceptions import RechargeLimitError, UnknownAccountError, WalletError
from cloudrate.period import zone

from ._entry import Account, LedgerEntry, _utc
from ._ledger import Ledger
from ._recharge import RechargeLimits

__all__ = [
    "TopUpBelow",
    "TopUpDue",
    "TopUpMonthly",
    "TopUpRequest",
    "TopUpRule",
    "TopUpWeekly",
    "topup_requests",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _text(amount: Money) -> str:
    return f"{amount.amount} {amount.currency.code}"


def _positive(where: str) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, Money):
            raise WalletError(
                f"{where}: expected Money such as Money('20.00', 'EUR') (got {value!r})"
            )
        if value.amount <= 0:
            raise WalletError(
                f"{where}: must be above zero (got {_text(value)}); a top-up adds money"
            )
        check_money(value, where, payable=True, error=WalletError)  # recharged as is

    return check


def _money(where: str) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if not isinstance(value, Money):
            raise WalletError(
                f"{where}: expected Money such as Money('5.00', 'EUR') (got {value!r})"
            )
        check_money(value, where, error=WalletError)

    return check


def _name(value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip() or "/" in value):
        raise WalletError(
            f"name: expected a non-empty rule name without '/' such as 'low' (got {value!r}); "
            "it is part of every request's key"
        )


def _same_currency(rule: str, account: Account, *amounts: Money | None) -> None:
    for amount in amounts:
        if amount is not None and amount.currency.code != account.currency:
            raise WalletError(
                f"top-up rule {rule!r} of {account.name!r} is in {amount.currency.code} but the "
                f"account is in {account.currency}; give the rule's amounts in "
                f"{account.currency}"
            )


@attrs.frozen(kw_only=True)
class TopUpDue:
    """What a rule wants: *amount* for the trigger *slot* (an entry key or a date), dated
    *at*, and why (*reason*)."""

    slot: str
    at: datetime
    amount: Money
    reason: str


class TopUpRule(Protocol):
    """A rule that says when a wallet wants a top-up; nothing to subclass.

    .. versionadded:: 0.2
    """

    @property
    def name(self) -> str:
        """Unique among an account's rules; part of each request's key."""
        ...

    def due(
        self, account: Account, entries: Sequence[LedgerEntry], now: datetime
    ) -> tuple[TopUpDue, ...]:
        """The top-ups *account* (with its *entries*, in the order written) wants at *now*."""
        ...


@attrs.frozen(kw_only=True)
class TopUpBelow:
    """When an entry takes the balance from at or above *threshold* to below it, ask for
    *amount*, or for what brings the balance back up to *target*.

    The trigger is the latest entry that crossed; while the balance stays below, it is the
    same request. The *target* amount is computed from the balance right after that
    entry, so asking again gives the same amount. A wallet never at or above the threshold
    (a new, empty one) has not crossed it.

    >>> rule = TopUpBelow(threshold=Money("5.00", "EUR"), target=Money("20.00", "EUR"))
    >>> rule.name
    'below-5.00'

    .. versionadded:: 0.2
    """

    threshold: Money = attrs.field(validator=_money("threshold"))
    amount: Money | None = attrs.field(default=None, validator=_positive("amount"))
    target: Money | None = attrs.field(default=None, validator=_positive("target"))
    label: str | None = attrs.field(default=None, validator=lambda _i, _a, v: _name(v))

    def __attrs_post_init__(self) -> None:
        if (self.amount is None) == (self.target is None):
            raise WalletError(
                "TopUpBelow: give exactly one of amount= (a fixed top-up) or target= (top up "
                f"to that balance) (got amount={self.amount!r}, target={self.target!r})"
            )
        for other in (self.amount, self.target):
            if other is not None and other.currency != self.threshold.currency:
                raise WalletError(
                    f"TopUpBelow: threshold is in {self.threshold.currency.code} but "
                    f"{_text(other)} is not; give every amount of a rule in one currency"
                )
        if self.target is not None and self.target.amount <= self.threshold.amount:
            raise WalletError(
                f"TopUpBelow: target {_text(self.target)} must be above the threshold "
                f"{_text(self.threshold)}; a top-up to the threshold would leave it low"
            )

    @property
    def name(self) -> str:
        return self.label or f"below-{self.threshold.amount}"

    @exact
    def due(
        self, account: Account, entries: Sequence[LedgerEntry], now: datetime
    ) -> tuple[TopUpDue, ...]:
        _utc(now)
        _same_currency(self.name, account, self.threshold, self.amount, self.target)
        low, balance = self.threshold.amount, Decimal(0)
        crossing: tuple[LedgerEntry, Decimal, Decimal] | None = None
        for entry in entries:
            before, balance = balance, balance + entry.amount.amount
            if before >= low > balance:
                crossing = (entry, before, balance)
        if crossing is None or balance >= low:
            return ()
        entry, before, after = crossing
        cur = account.currency
        if self.target is not None:
            want = Money(self.target.amount - after, cur)
            how = f"top up to {_text(self.target)}"
        else:
            assert self.amount is not None  # exactly one of the two, checked when built
            want, how = self.amount, f"top up by {_text(self.amount)}"
        reason = (
            f"entry {entry.key!r} took the balance from {before} to {after} {cur}, below "
            f"the threshold of {_text(self.threshold)}; {how}"
        )
        return (TopUpDue(slot=entry.key, at=entry.at, amount=want, reason=reason),)


def _check_day(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 31:
        raise WalletError(
            f"day: expected a day of the month from 1 to 31 (got {value!r}); in shorter "
            "months a day past the end means the month's last day"
        )


def _weekday(value: object) -> int:
    if isinstance(value, str) and value.lower() in WEEKDAYS:
        return WEEKDAYS.index(value.lower())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise WalletError(
            f"weekday: expected 0 (Monday) to 6 (Sunday) or a day name such as 'monday' "
            f"(got {value!r})"
        )
    return value


def _check_zone(_inst: object, _attr: object, value: str) -> None:
    zone(value, "timezone")


def _scheduled(rule: _Schedule, account: Account, slot: date, every: str) -> tuple[TopUpDue, ...]:
    """The top-up of the slot starting on *slot* (local midnight), unless the slot began
    before the account was opened or before the rule's *start*."""
    _same_currency(rule.name, account, rule.amount)
    begins = datetime.combine(slot, time(0), tzinfo=zone(rule.timezone))
    if begins < account.opened_at or (rule.start is not None and slot < rule.start):
        return ()
    reason = f"scheduled top-up {every}, slot {slot.isoformat()}: {_text(rule.amount)}"
    return (TopUpDue(slot=slot.isoformat(), at=_utc(begins), amount=rule.amount, reason=reason),)


@attrs.frozen(kw_only=True)
class _Schedule:
    """What scheduled rules share: the amount, the timezone their days are counted in, an
    optional first day and label; :meth:`due` asks for the latest slot at *now*."""

    amount: Money = attrs.field(validator=_positive("amount"))
    timezone: str = attrs.field(default="UTC", validator=_check_zone)
    start: date | None = None
    label: str | None = attrs.field(default=None, validator=lambda _i, _a, v: _name(v))

    @property
    def name(self) -> str:  # pragma: no cover - each rule has its own
        raise NotImplementedError

    def _slot(self, today: date) -> date:  # pragma: no cover - each rule has its own
        raise NotImplementedError

    def _every(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def due(
        self,
        account: Account,
        entries: Sequence[LedgerEntry],  # noqa: ARG002 - the protocol's signature
        now: datetime,
    ) -> tuple[TopUpDue, ...]:
        today = _utc(now).astimezone(zone(self.timezone)).date()
        return _scheduled(self, account, self._slot(today), self._every())


@attrs.frozen(kw_only=True)
class TopUpMonthly(_Schedule):
    """Ask for *amount* every month on *day* (from local midnight in *timezone*).

    Only the latest slot at *now* is due, so a job that did not run for three months asks
    once, not three times. *day* past the end of a shorter month is its last day. Slots
    before the account was opened, or before *start*, are not due.

    >>> from datetime import timezone
    >>> rule = TopUpMonthly(day=31, amount=Money("50.00", "EUR"))
    >>> acct = Account("acme", "EUR", datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> [d.slot for d in rule.due(acct, (), datetime(2026, 3, 2, tzinfo=timezone.utc))]
    ['2026-02-28']

    .. versionadded:: 0.2
    """

    day: int = attrs.field(validator=_check_day)

    @property
    def name(self) -> str:
        return self.label or f"monthly-{self.day}"

    def _slot(self, today: date) -> date:
        slot = _month_day(today.year, today.month, self.day)
        if slot > today:
            year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
            slot = _month_day(year, month, self.day)
        return slot

    def _every(self) -> str:
        return f"on day {self.day} of each month"


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@attrs.frozen(kw_only=True)
class TopUpWeekly(_Schedule):
    """Ask for *amount* every week on *weekday* (0 or ``"monday"`` to 6 or ``"sunday"``),
    from local midnight in *timezone*; only the latest slot at *now* is due.

    >>> from datetime import timezone
    >>> rule = TopUpWeekly(weekday="monday", amount=Money("10.00", "EUR"))
    >>> acct = Account("acme", "EUR", datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> [d.slot for d in rule.due(acct, (), datetime(2026, 11, 18, tzinfo=timezone.utc))]
    ['2026-11-16']

    .. versionadded:: 0.2
    """

    weekday: int = attrs.field(converter=_weekday)

    @property
    def name(self) -> str:
        return self.label or f"weekly-{WEEKDAYS[self.weekday]}"

    def _slot(self, today: date) -> date:
        return today - timedelta(days=(today.weekday() - self.weekday) % 7)

    def _every(self) -> str:
        return f"every {WEEKDAYS[self.weekday]}"


@attrs.frozen(kw_only=True)
class TopUpRequest:
    """A top-up to charge: *amount* for *account*, with the recharge's idempotency *key*.

    *requested* is what the rule asked for before the recharge limits; *rule* is its name;
    *at* is when it was triggered (the crossing entry's time or the slot's start);
    *subject* (``"<account>/<rule>/<trigger>"``) names it in events, and *key* is
    ``"topup:" + subject``.

    .. versionadded:: 0.2
    """

    account: str
    amount: Money
    requested: Money
    rule: str
    trigger: str
    at: datetime
    reason: str

    @property
    def subject(self) -> str:
        return f"{self.account}/{self.rule}/{self.trigger}"

    @property
    def key(self) -> str:
        return "topup:" + self.subject

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; amounts as decimal strings."""
        return {
            "account": self.account,
            "key": self.key,
            "amount": str(self.amount.amount),
            "requested": str(self.requested.amount),
            "currency": self.amount.currency.code,
            "rule": self.rule,
            "trigger": self.trigger,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }


def _clamp(want: Money, limits: RechargeLimits) -> tuple[Money, str]:
    """*want* within *limits*: raised to the minimum, lowered to the maximum."""
    for bound in (limits.minimum, limits.maximum):
        if bound is not None and bound.currency != want.currency:
            raise RechargeLimitError(
                f"top-up of {_text(want)} is in another currency than the recharge limits "
                f"({bound.currency.code}); give the account's rules and limits one currency"
            )
    if limits.minimum is not None and want.amount < limits.minimum.amount:
        return limits.minimum, f"; raised to the minimum recharge of {_text(limits.minimum)}"
    if limits.maximum is not None and want.amount > limits.maximum.amount:
        return limits.maximum, f"; lowered to the maximum recharge of {_text(limits.maximum)}"
    return want, ""


def _rules(name: str, value: TopUpRule | Iterable[TopUpRule]) -> tuple[TopUpRule, ...]:
    rules: tuple[TopUpRule, ...] = tuple(value) if isinstance(value, Iterable) else (value,)
    names = [r.name for r in rules]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise WalletError(
            f"rules[{name!r}]: more than one rule is named {doubled[0]!r}; give each rule of "
            "an account its own label= (the name is part of each request's key)"
        )
    return rules


def topup_requests(
    ledger: Ledger,
    rules: Mapping[str, TopUpRule | Iterable[TopUpRule]],
    now: datetime,
) -> tuple[TopUpRequest, ...]:
    """The top-ups the accounts in *rules* (account name to its rule or rules) want at *now*.

    A request whose key a recharge in the ledger already carries is done and not returned.
    Amounts are clamped to ``ledger.recharge_limits`` (raised to the minimum, lowered to
    the maximum). Requests come by account name, then in the order of its rules.

    >>> from datetime import timezone
    >>> at = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
    >>> ledger = Ledger(recharge_limits=RechargeLimits(minimum=Money("10.00", "EUR")))
    >>> _ = ledger.open("acme", "EUR", at=at)
    >>> _ = ledger.recharge("acme", Money("12.00", "EUR"), key="pay-1", at=at)
    >>> _ = ledger.deduct("acme", Money("8.00", "EUR"), key="use-1", at=at)
    >>> rule = TopUpBelow(threshold=Money("5.00", "EUR"), target=Money("10.00", "EUR"))
    >>> [request] = topup_requests(ledger, {"acme": rule}, at)
    >>> request.key, request.requested.amount, request.amount.amount
    ('topup:acme/below-5.00/use-1', Decimal('6.00'), Decimal('10.00'))
    >>> _ = ledger.recharge("acme", request.amount, key=request.key, at=at)
    >>> topup_requests(ledger, {"acme": rule}, at)
    ()

    .. versionadded:: 0.2
    """
    now = _utc(now)
    out: list[TopUpRequest] = []
    for name in sorted(rules):
        account = ledger.store.account(name)
        if account is None:
            raise UnknownAccountError(
                f"rules[{name!r}]: account {name!r} is not open; open it with "
                f"Ledger.open({name!r}, currency, at=...) before giving it top-up rules"
            )
        entries = ledger.entries(name)
        for rule in _rules(name, rules[name]):
            for due in rule.due(account, entries, now):
                request = _request(account, rule.name, due, ledger.recharge_limits)
                if ledger.store.entry(request.key) is None:
                    out.append(request)
    return tuple(out)


def _request(account: Account, rule: str, due: TopUpDue, limits: RechargeLimits) -> TopUpRequest:
    amount, note = _clamp(due.amount, limits)
    limits.check(amount)
    return TopUpRequest(
        account=account.name,
        amount=amount,
        requested=due.amount,
        rule=rule,
        trigger=due.slot,
        at=due.at,
        reason=due.reason + note,
    )
