"""The part of a billing period a plan covers: a subscription's side of a plan change.

When a customer changes plan (or a price version starts) within a period, each side is
rated under its plan with a :class:`Coverage`: only the usage inside it belongs to it, and
what is priced per period (flat fees without a metric, free allowances, minimum spend) is
prorated by the share of the period the coverage spans, measured by a proration rule.
Flat fees per resource need nothing more: their resources' active spans lie inside.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from cloudrate.exceptions import RatingError
from cloudrate.period import BillingPeriod
from cloudrate.plans import PRORATIONS, Proration, current_proration, proration_factor

__all__ = ["Coverage"]


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise RatingError(
            f"coverage {attribute.name}: expected an aware datetime such as "
            f"2026-10-16T00:00:00+00:00 (got {value!r})"
        )


def _proration(_inst: object, _attr: object, value: str) -> None:
    if value not in PRORATIONS:
        raise RatingError(f"coverage proration: one of {', '.join(PRORATIONS)} (got {value!r})")


@attrs.frozen(kw_only=True)
class Coverage:
    """The span ``[start, end)`` of a period that a plan covers, named by *label* (which
    plan, which subscription) in every line's explanation.

    >>> from datetime import UTC
    >>> october = BillingPeriod.month(2026, 10, "UTC")
    >>> side = Coverage(start=datetime(2026, 10, 16, tzinfo=UTC), end=october.end,
    ...                 label="plan Pro")
    >>> f"{side.share(october):.6f}"  # 16 of 31 days
    '0.516129'
    """

    start: datetime = attrs.field(validator=_aware)
    end: datetime = attrs.field(validator=_aware)
    label: str = ""
    proration: Proration = attrs.field(
        default="days", converter=current_proration, validator=_proration
    )

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise RatingError(
                f"coverage end {self.end.isoformat()} is not after its start "
                f"{self.start.isoformat()}"
            )

    def share(self, period: BillingPeriod) -> Decimal:
        """The share of *period* this coverage spans, by its proration rule."""
        return proration_factor([(self.start, self.end)], period, self.proration)

    def check(self, period: BillingPeriod) -> None:
        """Refuse a coverage that reaches outside *period*."""
        if self.start < period.start or self.end > period.end:
            raise RatingError(
                f"coverage {self.start.isoformat()} to {self.end.isoformat()} reaches "
                f"outside the period {period.label}; cover a part of the period"
            )

    def describe(self, period: BillingPeriod, share: Decimal) -> str:
        """The explanation step every line of the covered part carries."""
        tz = period.tz
        first = self.start.astimezone(tz).isoformat()
        last = self.end.astimezone(tz).isoformat()
        what = f"{self.label}: " if self.label else ""
        return (
            f"{what}covers {first} to {last}, {_ratio(share)} of the period "
            f"{period.label} ({self.proration})"
        )


def _ratio(share: Decimal) -> str:
    """*share* as text: exact when short, else to 6 places (the exact value is used)."""
    text = format(share.normalize(), "f")
    return text if len(text) <= 10 else f"{share:.6f}"
