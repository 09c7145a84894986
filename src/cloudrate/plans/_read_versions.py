"""The ``versions`` of a plan document: dated changes of its charges, every problem recorded.

Each version names when it takes effect and what changes from the version before:

- ``effective_from``: a date (midnight in the plan's timezone) or an instant with its
  UTC offset (``2026-10-10T12:00:00+02:00``); versions ascend, after the plan takes
  effect and before it ends;
- ``version``: an optional label (by default the date, or the instant);
- ``charges``: changes of existing charges by ``name``; only the keys given change,
  ``null`` drops a key, and a new ``model`` drops the old model's keys it does not read;
- ``add``: new charges, appended after the others;
- ``remove``: names of charges no longer billed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from cloudrate._documents import FieldReader, join_path

from ._charge import Charge
from ._kinds import MODELS
from ._model import OtherCharges
from ._read_charge import read_charge
from ._versions import PriceVersion, instant_text, local_midnight

__all__ = ["VERSION_KEYS", "read_versions"]

VERSION_KEYS = ("effective_from", "version", "charges", "add", "remove")

_WHEN = (
    "a date such as 2026-10-10 (midnight in the plan's timezone) or an instant with its "
    "offset such as 2026-10-10T00:00:00+02:00"
)


def _instant(
    r: FieldReader, fields: Mapping[str, Any], path: str, timezone: str | None
) -> datetime | None:
    """When a version takes effect, or None after recording why it cannot be read."""
    value = fields.get("effective_from")
    where = join_path(path, "effective_from")
    if value is None:
        r.doc.problem(where, "missing", f"effective_from is required: {_WHEN}")
        return None
    instant: datetime | None = value if isinstance(value, datetime) else None
    day: date | None = value if isinstance(value, date) and instant is None else None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
            else:
                instant = datetime.fromisoformat(text)
        except ValueError:
            r.doc.problem(where, "bad_instant", f"expected {_WHEN}", value)
            return None
    if day is not None:
        return None if timezone is None else local_midnight(day, timezone)
    if instant is None:
        r.doc.problem(where, "bad_instant", f"expected {_WHEN}", value)
        return None
    if instant.utcoffset() is None:
        r.doc.problem(
            where,
            "no_offset",
            "an instant needs its UTC offset (+02:00, or Z for UTC); or give a date for "
            "midnight in the plan's timezone",
            value,
        )
        return None
    return instant


def _merge(old: Charge, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The plan-file entry of *old* with the keys of *entry*: a new model drops the keys
    of the old model that it does not read, and ``null`` drops a key."""
    merged = old.to_dict()
    kind = entry.get("model")
    if kind is not None and kind != merged.get("model"):
        reads = set(MODELS[kind].keys) if isinstance(kind, str) and kind in MODELS else set()
        for key in set(type(old.model).keys) - reads:
            merged.pop(key, None)
    merged.update(entry)
    return {key: value for key, value in merged.items() if value is not None}


def _list(r: FieldReader, fields: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = fields.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        r.doc.problem(join_path(path, key), "not_a_list", "expected a list of charges")
        return []
    return value


class _Version:
    """Reads one version's changes against the charges in force before it."""

    def __init__(
        self, r: FieldReader, path: str, previous: Sequence[Charge], failed: set[str]
    ) -> None:
        self.r, self.path, self.previous, self.failed = r, path, previous, failed
        self.names = [c.name for c in previous]

    def _unknown(self, where: str, name: str, doing: str) -> None:
        near = difflib.get_close_matches(name, self.names, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}?" if near else f"charges are {', '.join(self.names)}"
        self.r.doc.problem(
            where, "unknown_charge", f"no charge of this name to {doing}; {hint}", name
        )

    def _removed(self, fields: Mapping[str, Any]) -> tuple[str, ...]:
        remove = self.r.names(fields, "remove", self.path)
        for name in remove:
            if name not in self.names and name not in self.failed:
                self._unknown(join_path(self.path, "remove"), name, "remove")
        return remove

    def _changed(self, fields: Mapping[str, Any], remove: tuple[str, ...]) -> dict[str, Charge]:
        by_name = {c.name: c for c in self.previous}
        changed: dict[str, Charge] = {}
        for index, entry in enumerate(_list(self.r, fields, "charges", self.path)):
            epath = join_path(join_path(self.path, "charges"), index)
            name = entry.get("name") if isinstance(entry, Mapping) else None
            if not isinstance(name, str):
                self.r.mapping(entry, epath, ())
                if isinstance(entry, Mapping):
                    self.r.doc.problem(join_path(epath, "name"), "missing", "name the charge")
                continue
            if name in self.failed:
                continue
            if name not in by_name:
                self._unknown(join_path(epath, "name"), name, "change (list new ones under add)")
            elif name in remove or name in changed:
                self.r.doc.problem(
                    join_path(epath, "name"),
                    "duplicate_change",
                    "this charge is already changed or removed in this version; keep one",
                    name,
                )
            else:
                earlier = [n for n in self.names[: self.names.index(name)] if n not in remove]
                charge = read_charge(self.r, _merge(by_name[name], entry), epath, earlier)
                if charge is None:
                    self.failed.add(name)
                else:
                    changed[name] = charge
        return changed

    def _added(self, fields: Mapping[str, Any], kept: list[Charge]) -> None:
        for index, entry in enumerate(_list(self.r, fields, "add", self.path)):
            apath = join_path(join_path(self.path, "add"), index)
            names = [c.name for c in kept]
            name = entry.get("name") if isinstance(entry, Mapping) else None
            if isinstance(name, str) and name in names:
                self.r.doc.problem(
                    join_path(apath, "name"),
                    "duplicate_charge",
                    "is already a charge of the plan; change it under charges, or remove it",
                    name,
                )
                continue
            charge = read_charge(self.r, entry, apath, names)
            if charge is not None:
                kept.append(charge)
            elif isinstance(name, str):
                self.failed.add(name)

    def _still_named(
        self, fields: Mapping[str, Any], kept: list[Charge], changed: Mapping[str, Charge]
    ) -> None:
        """A percentage or minimum left unchanged may not name a charge removed here."""
        where = join_path(self.path, "remove") if "remove" in fields else self.path
        for index, charge in enumerate(kept):
            if charge.name in changed or charge.name in self.failed:
                continue
            if not isinstance(charge.model, OtherCharges):
                continue
            earlier = {c.name for c in kept[:index]}
            for name in charge.model.of:
                if name not in earlier and name not in self.failed:
                    self.r.doc.problem(
                        where,
                        "still_named",
                        f"charge {charge.name!r} is priced from it (its 'of'); change "
                        f"{charge.name}'s of under charges in this version too",
                        name,
                    )
                    self.failed.add(charge.name)  # reported once, not again by later versions

    def charges(self, fields: Mapping[str, Any]) -> list[Charge]:
        remove = self._removed(fields)
        changed = self._changed(fields, remove)
        kept = [changed.get(c.name, c) for c in self.previous if c.name not in remove]
        self._added(fields, kept)
        self._still_named(fields, kept, changed)
        return kept


def read_versions(
    r: FieldReader,
    data: Mapping[str, Any],
    charges: Sequence[Charge],
    declared: set[str],
    timezone: str | None,
    bounds: tuple[date | None, date | None],
) -> list[PriceVersion]:
    """The plan's price versions; *charges* are the plan's own (those read without
    problems, of the names *declared*), *timezone* the plan's (None when not valid),
    *bounds* its ``effective_from`` and ``effective_to`` (None: open)."""
    raw = data.get("versions")
    if raw is None:
        return []
    if not isinstance(raw, list):
        r.doc.problem("versions", "not_a_list", "expected a list of versions")
        return []
    versions: list[PriceVersion] = []
    previous: list[Charge] = list(charges)
    failed = declared - {c.name for c in charges}
    last: datetime | None = None
    for index, item in enumerate(raw):
        path = join_path("versions", index)
        fields = r.mapping(item, path, VERSION_KEYS)
        at = _instant(r, fields, path, timezone)
        if at is not None and timezone is not None:
            _check_when(r, path, at, last, bounds, timezone)
            last = at
        label = r.text(fields, "version", path)
        previous = _Version(r, path, previous, failed).charges(fields)
        if at is not None:
            versions.append(PriceVersion(effective_from=at, charges=previous, version=label))
    return versions


def _check_when(
    r: FieldReader,
    path: str,
    at: datetime,
    last: datetime | None,
    bounds: tuple[date | None, date | None],
    timezone: str,
) -> None:
    """A version takes effect after the one before, and while the plan is effective."""
    where = join_path(path, "effective_from")
    seen = instant_text(at, timezone)
    first, final = bounds
    start = None if first is None else local_midnight(first, timezone)
    end = None if final is None else local_midnight(final + timedelta(days=1), timezone)
    if last is not None and at <= last:
        r.doc.problem(
            where,
            "versions_not_ascending",
            f"must be after {instant_text(last, timezone)}, the previous version's; list "
            "versions from the earliest",
            seen,
        )
    if start is not None and at <= start:
        r.doc.problem(
            where,
            "version_before_plan",
            f"must be after the plan takes effect (effective_from {first}); "
            "change the plan's own charges instead",
            seen,
        )
    if end is not None and at >= end:
        r.doc.problem(
            where,
            "version_after_plan",
            f"must be before the plan ends (effective_to {final}, inclusive); make it "
            "earlier or extend effective_to",
            seen,
        )
