"""Price versions: dated changes of a plan's charges, and the charges in force at an instant.

A :class:`PriceVersion` holds the whole charge list in force from its *effective_from*
instant until the next version. In plan files a version is written as the change from
the one before (``charges`` changes named charges, ``add`` appends new ones, ``remove``
drops some); :func:`version_to_dict` writes that form and the loader reads it back.
In a change, only the keys given change, ``null`` drops a key, and a new ``model``
drops the keys of the old model that the new one does not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from cloudrate.exceptions import PlanError
from cloudrate.period import zone

from ._charge import Charge

if TYPE_CHECKING:  # pragma: no cover
    from ._plan import Plan

__all__ = [
    "PriceVersion",
    "changed_charges",
    "check_versions",
    "in_force",
    "instant_text",
    "local_midnight",
    "require_aware",
    "version_label",
    "version_to_dict",
]


def require_aware(value: datetime, where: str) -> datetime:
    """*value* if it is an aware datetime, else an error saying how to give one."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise PlanError(
            f"{where}: {value!r} is not an instant; pass an aware datetime such as "
            "datetime(2026, 10, 10, tzinfo=ZoneInfo('Europe/Berlin'))"
        )
    return value


def _check_aware(_inst: object, _attr: object, value: datetime) -> None:
    require_aware(value, "effective_from")


def _instant_key(value: datetime) -> datetime:
    """The instant in UTC: what versions compare by. Python never finds a time in a
    repeated hour (the last hour of summer time) equal to a time of another timezone,
    so a Berlin ``02:00`` on the day clocks go back would not equal itself read back from
    its ``+02:00`` text."""
    return value.astimezone(UTC)


def _to_charges(value: Iterable[Charge]) -> tuple[Charge, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class PriceVersion:
    """The plan's whole charge list in force from *effective_from* (an aware datetime)
    until the next version; *version* labels it (by default its date, or its instant when
    it does not start at midnight in the plan's timezone).

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> PriceVersion(effective_from=datetime(2026, 10, 10), charges=())
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: effective_from: ... is not an instant; pass an aware datetime...

    .. versionadded:: 0.2
    """

    effective_from: datetime = attrs.field(validator=_check_aware, eq=_instant_key)
    charges: tuple[Charge, ...] = attrs.field(converter=_to_charges)
    version: str | None = None


def local_midnight(day: date, timezone: str) -> datetime:
    """The instant *day* starts in *timezone*."""
    return datetime.combine(day, time(), tzinfo=zone(timezone))


def instant_text(instant: datetime, timezone: str) -> str:
    """``2026-10-10`` for a local midnight in *timezone*, else the instant in ISO form."""
    local = instant.astimezone(zone(timezone))
    if local.time() == time() and local_midnight(local.date(), timezone) == instant:
        return local.date().isoformat()
    return instant.isoformat()


def version_label(version: PriceVersion, timezone: str) -> str:
    """The version's own label, else when it takes effect (:func:`instant_text`)."""
    return version.version or instant_text(version.effective_from, timezone)


def in_force(versions: Sequence[PriceVersion], instant: datetime) -> PriceVersion | None:
    """The last version in effect at *instant*, or None before the first."""
    require_aware(instant, "instant")
    current = None
    for version in versions:
        if version.effective_from <= instant:
            current = version
    return current


def check_versions(plan: Plan) -> None:
    """Versions ascend, and each takes effect after the plan does and before it ends."""
    tz = plan.timezone
    start = local_midnight(plan.effective_from, tz) if plan.effective_from else None
    end = local_midnight(plan.effective_to + timedelta(days=1), tz) if plan.effective_to else None
    previous: datetime | None = None
    for index, version in enumerate(plan.versions):
        at = version.effective_from
        where = f"versions[{index}] effective_from {instant_text(at, tz)}"
        if previous is not None and at <= previous:
            raise PlanError(
                f"{where} is not after {instant_text(previous, tz)}, the previous "
                "version's; list versions from the earliest"
            )
        if start is not None and at <= start:
            raise PlanError(
                f"{where} is not after the plan takes effect ({plan.effective_from}); "
                "change the plan's own charges instead, or make the version later"
            )
        if end is not None and at >= end:
            raise PlanError(
                f"{where} is after the plan ends ({plan.effective_to}); make the version "
                "earlier, or extend effective_to"
            )
        previous = at


def changed_charges(
    previous: Sequence[Charge],
    changes: Iterable[Charge] = (),
    add: Iterable[Charge] = (),
    remove: Iterable[str] = (),
) -> list[Charge]:
    """*previous* without *remove*, each charge in *changes* replacing the one of its name,
    then *add* appended: the charge list of a new version."""
    names = [c.name for c in previous]
    gone, replaced = set(remove), {c.name: c for c in changes}
    unknown = sorted((gone | set(replaced)) - set(names))
    if unknown:
        raise PlanError(
            f"version: no charge {unknown[0]!r} to change or remove; charges are "
            f"{', '.join(names)} (list a new charge under add)"
        )
    kept = [replaced.get(c.name, c) for c in previous if c.name not in gone]
    for charge in add:
        if charge.name in {c.name for c in kept}:
            raise PlanError(
                f"version: {charge.name!r} is already a charge; change it instead of adding it"
            )
        kept.append(charge)
    return kept


def _split(previous: Sequence[Charge], new: Sequence[Charge]) -> tuple[list[Charge], list[Charge]]:
    """*new* as (kept, added): the longest start of *new* that keeps charges of *previous*
    in their order, then the rest, appended (a kept charge out of order is re-added)."""
    index = {c.name: i for i, c in enumerate(previous)}
    kept: list[Charge] = []
    last = -1
    for charge in new:
        at = index.get(charge.name)
        if at is None or at <= last:
            break
        kept.append(charge)
        last = at
    return kept, list(new[len(kept) :])


def _change(old: Charge, new: Charge) -> dict[str, Any]:
    """The keys that turn *old*'s plan-file entry into *new*'s: those that differ, and
    ``None`` for those *new* does not have (a new model drops, by itself, the keys of the
    old model it does not read)."""
    before, after = old.to_dict(), new.to_dict()
    dropped: set[str] = set()
    if before["model"] != after["model"]:
        dropped = set(type(old.model).keys) - set(type(new.model).keys)
    entry: dict[str, Any] = {"name": new.name}
    entry.update((k, v) for k, v in after.items() if k != "name" and before.get(k) != v)
    entry.update((k, None) for k in before if k not in after and k not in dropped)
    return entry


def version_to_dict(
    previous: Sequence[Charge], version: PriceVersion, timezone: str
) -> dict[str, Any]:
    """*version* as plan-file data: what changed since the *previous* charge list."""
    out: dict[str, Any] = {"effective_from": instant_text(version.effective_from, timezone)}
    if version.version is not None:
        out["version"] = version.version
    kept, added = _split(previous, version.charges)
    before = {c.name: c for c in previous}
    changes = [_change(before[c.name], c) for c in kept if before[c.name].to_dict() != c.to_dict()]
    removed = [c.name for c in previous if c.name not in {k.name for k in kept}]
    if changes:
        out["charges"] = changes
    if added:
        out["add"] = [c.to_dict() for c in added]
    if removed:
        out["remove"] = removed
    return out
