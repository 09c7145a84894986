"""The dates lifecycle steps take: plain dates, or *now* read in the period's timezone.

Nothing here reads a clock; *now* is always what the caller passes in.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from cloudrate.exceptions import InvoiceError

__all__ = ["checked_date", "local_date"]


def local_date(now: date | datetime, tz: tzinfo) -> date:
    """*now* as a date in *tz* (aware datetimes only); a date is taken as it is.

    >>> from zoneinfo import ZoneInfo
    >>> from datetime import timezone
    >>> local_date(datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc), ZoneInfo("Europe/Berlin"))
    datetime.date(2026, 12, 1)
    """
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvoiceError(
                f"now: {now.isoformat()} has no timezone; pass an aware "
                "datetime (e.g. datetime.now(timezone.utc)) or a date"
            )
        return now.astimezone(tz).date()
    if isinstance(now, date):
        return now
    raise InvoiceError(f"now: expected a date or an aware datetime (got {now!r})")


def checked_date(value: object, where: str) -> date:
    """*value* if it is a :class:`datetime.date` (not a datetime), else an error naming *where*.

    >>> checked_date(date(2026, 11, 1), "issued_on")
    datetime.date(2026, 11, 1)
    """
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvoiceError(f"{where}: expected a datetime.date (got {value!r})")
    return value
