"""When a charge applies: its validity window, whole days in the plan's timezone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from cloudrate._documents import FieldReader, join_path
from cloudrate.exceptions import PlanError

__all__ = ["FIRST_DAY", "LAST_DAY", "Validity", "read_validity"]

#: The first and last days a window may name: one day inside Python's dates, so that
#: the window's instants exist in every timezone.
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise PlanError(f"valid: expected a date such as 2026-10-01, not a date and time ({value})")
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise PlanError(f"valid: {value!r} is not a date such as 2026-10-01") from None
    else:
        raise PlanError(f"valid: expected a date such as 2026-10-01 (got {value!r})")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PlanError(f"valid: {day} is outside {FIRST_DAY} to {LAST_DAY}")
    return day


def _check(inst: Validity, _attr: object, _value: Any) -> None:
    if inst.start is None and inst.end is None:
        raise PlanError("valid: give a first day (from), a last day (until) or both")
    if inst.start is not None and inst.end is not None and inst.end < inst.start:
        raise PlanError(
            f"valid: the last day {inst.end} is before the first day {inst.start}; "
            "until is the last day included"
        )


@attrs.frozen
class Validity:
    """The days a charge applies: from *start* to *end*, both included, in the plan's
    timezone; None leaves that side open.

    The charge prices the usage records its window touches, each record whole, as
    CloudStack's quota plugin applies a tariff to every usage record between the
    tariff's start and end dates (``QuotaManagerImpl.isQuotaTariffInPeriodToBeApplied``):
    see :func:`cloudrate.period.overlaps`. In a plan file:
    ``valid: {from: 2026-01-01, until: 2026-06-30}``.

    >>> v = Validity(date(2026, 1, 1), date(2026, 6, 30))
    >>> [str(t) for t in v.bounds(ZoneInfo("UTC"))]
    ['2026-01-01 00:00:00+00:00', '2026-07-01 00:00:00+00:00']
    >>> v.to_data()
    {'from': '2026-01-01', 'until': '2026-06-30'}
    """

    start: date | None = attrs.field(default=None, converter=_day)
    end: date | None = attrs.field(default=None, converter=_day, validator=_check)

    def __str__(self) -> str:
        first = "" if self.start is None else f"from {self.start}"
        last = "" if self.end is None else f"until {self.end}"
        return " ".join(part for part in (first, last) if part)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The window as instants ``[start, end)`` in *tz*: the first day's midnight and
        the midnight after the last day (None on an open side)."""
        low = None if self.start is None else datetime(*self.start.timetuple()[:3], tzinfo=tz)
        high = (
            None
            if self.end is None
            else datetime(*self.end.timetuple()[:3], tzinfo=tz) + timedelta(days=1)
        )
        return low, high

    def to_data(self) -> dict[str, str]:
        """The plan-document form, read back by :func:`read_validity` to an equal one."""
        out = {}
        if self.start is not None:
            out["from"] = self.start.isoformat()
        if self.end is not None:
            out["until"] = self.end.isoformat()
        return out


def read_validity(r: FieldReader, data: Mapping[str, Any], path: str) -> Validity | None:
    """The charge's ``valid`` window (None when absent or after recording its problems)."""
    raw = data.get("valid")
    if raw is None:
        return None
    where = join_path(path, "valid")
    if not isinstance(raw, Mapping):
        r.doc.problem(where, "not_a_mapping", "expected {from: 2026-01-01, until: 2026-06-30}")
        return None
    count = len(r.doc.problems)
    fields = r.mapping(raw, where, ("from", "until"))
    first, last = r.day(fields, "from", where), r.day(fields, "until", where)
    if len(r.doc.problems) > count:
        return None
    try:
        return Validity(first, last)
    except PlanError as exc:
        r.doc.problem(where, "bad_value", str(exc).removeprefix("valid: "))
        return None
