"""Usage no charge prices: the reasons, the tally per metric and account, and what to do.

Both engines count unpriced records into an :class:`UnpricedTally` and settle it the
same way: reported on the result (``on_unpriced="report"``) or refused with
:class:`~cloudrate.exceptions.UnpricedUsageError` (``"error"``).
"""

from __future__ import annotations

from typing import Literal, get_args

from cloudrate.exceptions import OptionError, UnpricedUsageError

from ._result import UnpricedUsage

__all__ = [
    "NO_CHARGE",
    "NO_SELECTION",
    "OnUnpriced",
    "UnpricedReason",
    "UnpricedTally",
    "check_on_unpriced",
]

#: Why records went unpriced: no charge names their metric, or charges do but none of
#: their ``where`` selectors picks the records.
UnpricedReason = Literal[
    "no charge prices this metric", "no charge's 'where' selects these records"
]
NO_CHARGE: UnpricedReason = "no charge prices this metric"
NO_SELECTION: UnpricedReason = "no charge's 'where' selects these records"

#: What to do with unpriced usage: list it on the result, or refuse the rating.
OnUnpriced = Literal["report", "error"]


def check_on_unpriced(value: object) -> OnUnpriced:
    """*value* if it is an :data:`OnUnpriced` option, else a ValueError saying the choices."""
    if value not in get_args(OnUnpriced):
        raise OptionError(
            f"on_unpriced must be 'report' or 'error' (got {value!r})", path="on_unpriced"
        )
    return value  # type: ignore[return-value]


class UnpricedTally:
    """Counts of unpriced records by (metric, reason) and account.

    >>> tally = UnpricedTally()
    >>> tally.add("gpu_hours", NO_CHARGE, "acme")
    >>> tally.add("gpu_hours", NO_CHARGE, "acme", 2)
    >>> [(u.metric, u.records, u.accounts) for u in tally.settle("report")]
    [('gpu_hours', 3, ('acme',))]
    """

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, metric: str, reason: UnpricedReason, account: str, records: int = 1) -> None:
        bucket = self.counts.setdefault((metric, reason), {})
        bucket[account] = bucket.get(account, 0) + records

    def accounts(self) -> set[str]:
        """Every account with unpriced records (it still gets a bill)."""
        return {account for bucket in self.counts.values() for account in bucket}

    def settle(self, on_unpriced: OnUnpriced) -> tuple[UnpricedUsage, ...]:
        """The unpriced usage, sorted by metric and reason; raises under ``"error"``."""
        found = tuple(
            UnpricedUsage(metric, reason, sum(bucket.values()), tuple(sorted(bucket)))
            for (metric, reason), bucket in sorted(self.counts.items())
        )
        if found and on_unpriced == "error":
            records: dict[str, int] = {}
            reasons: dict[str, list[str]] = {}
            for u in found:  # a metric may go unpriced for both reasons
                records[u.metric] = records.get(u.metric, 0) + u.records
                reasons.setdefault(u.metric, []).append(u.reason)
            # the plain case (no charge names the metric) goes without saying
            said = {m: "; ".join(r) for m, r in reasons.items() if r != [NO_CHARGE]}
            raise UnpricedUsageError(records, said)
        return found
