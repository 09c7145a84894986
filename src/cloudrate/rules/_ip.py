"""Public IP rules: the default (source-NAT) IP, the first IP free, secondary IPs.

Each rule credits the share of an IP charge's line that belongs to the IPs it exempts,
as adjustment lines naming the IP and why. The share of an IP is the line's amount times
that IP's part of the line's usage; the credits are rounded by largest remainder over
all IPs of the line, so crediting every IP brings the line to exactly zero.

"Free for one IP" gives an account one free public IP in total by default: when the
default IP is not charged, that IP is the free one (:data:`FREE_IPS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

import attrs
from moneyed import Money

from cloudrate.exceptions import PlanError, RatingError
from cloudrate.plans import Detail
from cloudrate.rating import AccountBill, RatedLine
from cloudrate.usage import UsageRecord

from ._base import RuleContext, adjustment

__all__ = [
    "FREE_IPS",
    "DefaultIpCharge",
    "FreeFirstIp",
    "FreeIps",
    "IpAcquisition",
    "SecondaryIpBilling",
    "ip_history_from_usage",
]

_TRUE = frozenset({"true", "1", "yes", "y"})
#: Record attributes that mark a network's default IP (CloudStack's source-NAT IP).
DEFAULT_ATTRIBUTES = ("is_default", "issourcenat", "source_nat")
#: Record attributes that mark a secondary IP on an instance's NIC.
SECONDARY_ATTRIBUTES = ("is_secondary", "secondary")
#: Why an IP is credited: the kind of its credit line, and the middle of its charge name.
CreditKind = Literal["default_ip", "free_ip", "secondary_ip"]
CREDIT_KINDS: tuple[CreditKind, ...] = get_args(CreditKind)
#: Credits that make a public (not secondary) IP free: they count towards "one free IP".
_PUBLIC_CREDITS: tuple[CreditKind, ...] = ("default_ip", "free_ip")
#: How many IPs "free for one IP" frees: ``one_in_total`` (an IP an earlier rule already
#: made free, such as the default IP, is the free one) or ``one_more`` (one IP besides
#: those: with the default IP not charged, two IPs are free).
FreeIps = Literal["one_in_total", "one_more"]
FREE_IPS: tuple[FreeIps, ...] = get_args(FreeIps)


def _flag(record: UsageRecord, names: Iterable[str]) -> bool:
    return any(record.attributes.get(n, "").strip().lower() in _TRUE for n in names)


@attrs.frozen(kw_only=True)
class IpAcquisition:
    """When *account* acquired the IP *resource_id* (and released it, if it did).

    Hosts build these from CloudStack's ``listPublicIpAddresses`` (``allocated``,
    ``issourcenat``) or their own IP table, for every IP the account ever held, so the
    first IP stays the same from one period to the next.
    """

    account: str
    resource_id: str
    acquired_at: datetime
    released_at: datetime | None = None
    is_secondary: bool = False

    def held_at(self, moment: datetime) -> bool:
        return self.acquired_at <= moment and (
            self.released_at is None or moment < self.released_at
        )


def ip_history_from_usage(
    records: Iterable[UsageRecord],
    metric: str = "public_ip_hours",
) -> tuple[IpAcquisition, ...]:
    """A fallback history: each IP acquired at its earliest record of *metric*.

    Only as stable as the usage given: pass the account's full history when you can.
    """
    first: dict[tuple[str, str], tuple[datetime, bool]] = {}
    for r in records:
        if r.metric != metric or r.resource_id is None:
            continue
        key = (r.account, r.resource_id)
        if key not in first or r.start < first[key][0]:
            first[key] = (r.start, _flag(r, SECONDARY_ATTRIBUTES))
    return tuple(
        IpAcquisition(account=a, resource_id=rid, acquired_at=t, is_secondary=s)
        for (a, rid), (t, s) in sorted(first.items())
    )


def _rated_records(
    bill: AccountBill, context: RuleContext, charge: str, line: RatedLine
) -> list[UsageRecord]:
    """The records *line* of *charge* rated, refused unless they are all in *context*."""
    plan_charge = context.plan.charge(charge)
    records = [
        r for r in context.records(bill.account, line.metric) if plan_charge.matches(r.attributes)
    ]
    if len(records) != line.records:
        raise RatingError(
            f"the rule context holds {len(records)} {line.metric!r} record(s) of "
            f"{bill.account!r} for charge {charge!r}, but {line.records} were rated; pass the "
            "usage you rated: RuleContext.for_result(result, usage)"
        )
    return records


def _segments(
    bill: AccountBill,
    line: RatedLine,
    records: Sequence[UsageRecord],
    credited: Callable[[UsageRecord], bool],
    done: set[str],
) -> dict[tuple[str, bool], Decimal]:
    """Usage per (IP, credited or not); an IP in *done* was credited by an earlier rule."""
    segments: dict[tuple[str, bool], Decimal] = {}
    for r in records:
        if r.resource_id is None:
            raise RatingError(
                f"a {line.metric!r} record of {bill.account!r} has no resource_id; IP rules "
                "need the IP's id on every record"
            )
        key = (r.resource_id, r.resource_id not in done and credited(r))
        segments[key] = segments.get(key, Decimal(0)) + r.quantity
    return segments


def _shares(
    line: RatedLine, context: RuleContext, parts: Sequence[Decimal], total: Decimal
) -> tuple[list[Decimal], list[Decimal]]:
    """*line*'s amount split by *parts* of its *total* usage: exact and rounded shares."""
    exact = [line.amount.amount * part / total for part in parts]
    rounded = context.rounding.allocate(exact, line.currency)
    # Under placement="total" the line's rounded amount comes from the whole bill's
    # allocation; move the difference to the largest share so the shares add up to it.
    gap = line.rounded.amount - sum(rounded, Decimal(0))
    if gap:
        biggest = max(range(len(exact)), key=lambda i: (abs(exact[i]), -i))
        rounded[biggest] += gap
    return exact, rounded


def _credit_details(
    line: RatedLine,
    rid: str,
    quantity: Decimal,
    total: Decimal,
    share: Decimal,
    why: str,
    *,
    partly: bool,
) -> tuple[Detail, ...]:
    """Why the credit of IP *rid* is what it is; *partly* when some of its usage is billed."""
    currency = line.currency
    return (
        Detail(
            f"{rid}: {quantity} of {total} {line.metric} usage",
            quantity,
            None,
            Money(share, currency),
        ),
        Detail(why, None, None, Money(-share, currency)),
        Detail(
            f"{rid} net for the usage credited" if partly else f"{rid} net",
            None,
            None,
            Money(Decimal(0), currency),
        ),
    )


def _ip_credits(
    bill: AccountBill,
    context: RuleContext,
    charge: str,
    kind: CreditKind,
    credited: Callable[[UsageRecord], bool],
    why: Callable[[str], str],
) -> tuple[RatedLine, ...]:
    """Credit lines for the records of *charge*'s line that *credited* selects."""
    try:
        line = bill.line(charge)
    except KeyError:
        return ()
    records = _rated_records(bill, context, charge, line)
    total = sum((r.quantity for r in records), Decimal(0))
    if not records or total == 0 or line.amount.amount == 0:
        return ()
    done = _already_credited(bill, charge)  # an IP is credited once, whatever the rules
    segments = _segments(bill, line, records, credited, done)
    keys = sorted(segments)
    exact, rounded = _shares(line, context, [segments[k] for k in keys], total)
    out = []
    for key, share, share_rounded in zip(keys, exact, rounded, strict=True):
        rid, is_credited = key
        if not is_credited or share == 0:
            continue
        quantity = segments[key]
        partly = (rid, False) in segments
        out.append(
            adjustment(
                bill,
                context,
                charge=f"{charge}:{kind}:{rid}",
                description=why(rid),
                amount=-share,
                rounded=-share_rounded,
                kind=kind,
                details=_credit_details(line, rid, quantity, total, share, why(rid), partly=partly),
                service=line.service,
                metric=line.metric,
                quantity=quantity,
                unit=line.unit,
            )
        )
    return tuple(out)


def _already_credited(
    bill: AccountBill, charge: str, kinds: tuple[CreditKind, ...] = CREDIT_KINDS
) -> set[str]:
    """The IPs of *charge* that earlier rules credited with one of *kinds*."""
    prefixes = tuple(f"{charge}:{k}:" for k in kinds)
    return {line.charge.split(":", 2)[2] for line in bill.lines if line.charge.startswith(prefixes)}


def _check_free_ips(_inst: object, _attr: object, value: object) -> None:
    if value not in FREE_IPS:
        raise PlanError(
            f"free_ips: must be one of {', '.join(FREE_IPS)} (got {value!r}); "
            "'one_in_total' gives an account one free public IP, the default IP included"
        )


@attrs.frozen(kw_only=True)
class DefaultIpCharge:
    """Whether the default public IP (CloudStack's source-NAT IP) is billed.

    ``enabled=True`` (the default) bills it like any IP and adds nothing; ``False``
    credits its share of *charge*. A record is a default IP's when one of *attributes*
    is true (``is_default``, ``issourcenat`` or ``source_nat``).
    """

    enabled: bool = True
    charge: str = "public_ip"
    attributes: tuple[str, ...] = DEFAULT_ATTRIBUTES

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:
        if self.enabled:
            return ()
        return _ip_credits(
            bill,
            context,
            self.charge,
            "default_ip",
            lambda r: _flag(r, self.attributes),
            lambda rid: f"Default IP {rid} (source NAT) is not charged",
        )


@attrs.frozen(kw_only=True)
class SecondaryIpBilling:
    """Whether secondary IPs on an instance's NIC are billed.

    ``enabled=True`` bills them; ``False`` credits them. With *all_secondary* every record
    of *charge* is a secondary IP (a plan with its own ``secondary_ip`` charge); otherwise
    records are selected by *attributes* (``is_secondary`` or ``secondary``).
    """

    enabled: bool = True
    charge: str = "public_ip"
    attributes: tuple[str, ...] = SECONDARY_ATTRIBUTES
    all_secondary: bool = False

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:
        if self.enabled:
            return ()
        return _ip_credits(
            bill,
            context,
            self.charge,
            "secondary_ip",
            lambda r: self.all_secondary or _flag(r, self.attributes),
            lambda rid: f"Secondary IP {rid} is not charged",
        )


@attrs.frozen(kw_only=True)
class FreeFirstIp:
    """The first public IP an account acquires is free; further IPs are billed.

    At any moment the free IP is, among the public (not secondary) IPs the account holds
    then and that no earlier rule already credited, the one acquired earliest (ties by
    resource id). A record is free when its IP is the free one at the record's start. The
    acquisition times come from the context's ``ip_history``; an IP missing from it counts
    as acquired at its earliest record in this period.

    *free_ips* says how this combines with IPs an earlier rule already made free (the
    default IP when :class:`DefaultIpCharge` is disabled): ``"one_in_total"`` (the
    default) gives the account one free public IP in total, so while it holds such an IP
    this rule frees nothing more; ``"one_more"`` frees one IP besides them (the earlier
    behaviour: default IP off and first IP free gave two free IPs). Secondary IPs made
    free by :class:`SecondaryIpBilling` do not count: they never take the free slot.

    >>> FreeFirstIp().free_ips, FreeFirstIp(free_ips="one_more").free_ips
    ('one_in_total', 'one_more')
    """

    enabled: bool = True
    charge: str = "public_ip"
    secondary_attributes: tuple[str, ...] = SECONDARY_ATTRIBUTES
    free_ips: FreeIps = attrs.field(default="one_in_total", validator=_check_free_ips)

    def lines(self, bill: AccountBill, context: RuleContext) -> Sequence[RatedLine]:
        if not self.enabled:
            return ()
        try:
            metric = bill.line(self.charge).metric
        except KeyError:
            return ()
        history = {
            h.resource_id: h
            for h in context.ip_history
            if isinstance(h, IpAcquisition) and h.account == bill.account
        }
        for h in ip_history_from_usage(context.records(bill.account), metric or ""):
            history.setdefault(h.resource_id, h)
        skip = _already_credited(bill, self.charge)
        candidates = sorted(
            (h for h in history.values() if not h.is_secondary and h.resource_id not in skip),
            key=lambda h: (h.acquired_at, h.resource_id),
        )
        # IPs that are already free: under "one_in_total" they are the account's free IP.
        taken = (
            [
                history[rid]
                for rid in sorted(_already_credited(bill, self.charge, _PUBLIC_CREDITS))
                if rid in history
            ]
            if self.free_ips == "one_in_total"
            else []
        )

        def free_at(moment: datetime) -> str | None:
            if any(h.held_at(moment) for h in taken):
                return None
            return next((h.resource_id for h in candidates if h.held_at(moment)), None)

        def credited(record: UsageRecord) -> bool:
            if _flag(record, self.secondary_attributes):
                return False
            return record.resource_id == free_at(record.start)

        def why(rid: str) -> str:
            when = history[rid].acquired_at.date().isoformat()
            return f"First public IP {rid} (acquired {when}) is free"

        return _ip_credits(bill, context, self.charge, "free_ip", credited, why)
