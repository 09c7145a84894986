"""A promo code redemption store in memory, for one process."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from cloudrate.rules import Redemption

__all__ = ["InMemoryRedemptionStore"]


class InMemoryRedemptionStore:
    """Redemptions in a list, guarded by a lock (one process)."""

    def __init__(self) -> None:
        self._items: list[Redemption] = []
        self._lock = threading.Lock()

    def count(self, code: str, account: str | None = None) -> int:
        return sum(
            1 for r in self._items if r.code == code and (account is None or r.account == account)
        )

    def add(self, redemption: Redemption, max_total: int | None, max_per_account: int) -> bool:
        with self._lock:
            if max_total is not None and self.count(redemption.code) >= max_total:
                return False
            if self.count(redemption.code, redemption.account) >= max_per_account:
                return False
            self._items.append(redemption)
            return True

    def __iter__(self) -> Iterator[Redemption]:
        return iter(tuple(self._items))
