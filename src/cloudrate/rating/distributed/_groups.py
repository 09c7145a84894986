"""Lines on the workers: partials split into account groups, each group finished apart.

A partial holds one account's state on rows that name the account, so splitting every
partition's partial by a hash of the account (:func:`split_partial`) sends all of an
account's state to one group. Each group is combined and finished on its own
(:func:`rate_group`: the same :func:`cloudrate.rating.columnar.finish`), and the groups'
bills, put back in account order, are the bills of the whole (:func:`merge_results`).
Rows without an account (the counts of copies left out) go to group 0.

The hash is CRC-32 of the account's UTF-8 bytes: the same in every process, unlike
Python's ``hash()`` of a string.
"""

from __future__ import annotations

import gc
import itertools
import pickle
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import OptionError, RatingError
from cloudrate.rating import RatingResult
from cloudrate.rating._unpriced import OnUnpriced, UnpricedTally, check_on_unpriced
from cloudrate.rating.columnar import PARTIAL_SCHEMA, combine_partials, finish

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan

__all__ = [
    "check_disjoint",
    "check_groups",
    "dumps",
    "group_of",
    "grouped_accounts",
    "loads",
    "merge_results",
    "paused_gc",
    "rate_group",
    "split_partial",
]


def check_groups(groups: object) -> int:
    """*groups* if it is a whole number >= 1, else a ValueError saying so."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise OptionError(f"groups must be a whole number >= 1 (got {groups!r})", path="groups")
    return groups


def group_of(account: str, groups: int) -> int:
    """The group of *account* among *groups*, the same in every process.

    >>> group_of("acme", 1), group_of("acme", 4) == group_of("acme", 4)
    (0, True)
    """
    return zlib.crc32(account.encode()) % groups


def grouped_accounts(accounts: Iterable[str], groups: int) -> list[list[str]]:
    """*accounts* sorted into their *groups* (each list in the given order).

    >>> grouped_accounts(["a", "b", "a"], 1)
    [['a', 'b', 'a']]
    """
    out: list[list[str]] = [[] for _ in range(groups)]
    for account in accounts:
        out[group_of(account, groups)].append(account)
    return out


def split_partial(partial: pa.Table, groups: int) -> list[pa.Table]:
    """*partial* cut into *groups* tables by :func:`group_of` each row's account.

    Rows keep their order within each group (a resource's spans stay first seen first).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if groups == 1 or partial.num_rows == 0:
        return [partial] + [PARTIAL_SCHEMA.empty_table()] * (groups - 1)
    encoded = pc.dictionary_encode(partial.column("account")).combine_chunks()
    of_value = np.array(
        [group_of(a, groups) for a in encoded.dictionary.to_pylist()] + [0], dtype=np.int64
    )
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    group = of_value[codes]
    order = np.argsort(group, kind="stable")
    ordered = partial.take(pa.array(order))
    bounds = np.searchsorted(group[order], np.arange(groups + 1))
    return [ordered.slice(int(a), int(b - a)) for a, b in itertools.pairwise(bounds)]


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while many acyclic objects are built.

    Building or unpickling a result's lines creates millions of objects; each automatic
    collection walks every live one, which more than doubles the time. Nothing built
    here holds a cycle, and reference counting still frees what is dropped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dumps(value: Any) -> bytes:
    """*value* pickled for the way back to the driver (bytes travel without a copy),
    with the collector paused (see :func:`paused_gc`)."""
    with paused_gc():
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """The value :func:`dumps` wrote (with the collector paused: see :func:`paused_gc`)."""
    with paused_gc():
        return pickle.loads(data)


def rate_group(
    plan: Plan,
    partials: Iterable[Any],
    period: BillingPeriod,
    *,
    rounding: RoundingPolicy | None = None,
    accounts: Iterable[str] = (),
) -> RatingResult:
    """Combine one group's partials and finish them: the bills of the group's accounts.

    Unpriced usage is reported (:func:`merge_results` settles it for the whole run).
    """
    with paused_gc():
        return finish(
            plan,
            combine_partials(partials),
            period,
            rounding=rounding,
            accounts=accounts,
            on_unpriced="report",
        )


def check_disjoint(accounts: Iterable[str]) -> None:
    """Raise RatingError when an account is among *accounts* twice: two groups or
    partitions billed it (usage said to be partitioned by account was not).

    >>> check_disjoint(["a", "b"])
    """
    for left, right in itertools.pairwise(sorted(accounts)):
        if left == right:
            raise RatingError(
                f"account {left!r} has usage in more than one partition; partition "
                "usage by account, or rate it with by_account=False (the default)"
            )


def merge_results(
    plan: Plan,
    period: BillingPeriod,
    results: Sequence[RatingResult],
    *,
    rounding: RoundingPolicy | None = None,
    on_unpriced: OnUnpriced = "report",
) -> RatingResult:
    """The result of all *results*, each the bills of its own accounts: bills in account
    order, copies counted once, unpriced usage settled as :func:`cloudrate.rate` does.

    Raises RatingError when two results bill the same account (usage said to be
    partitioned by account was not).
    """
    on_unpriced = check_on_unpriced(on_unpriced)
    bills = sorted((b for r in results for b in r.bills), key=lambda b: b.account)
    check_disjoint(b.account for b in bills)
    tally = UnpricedTally()
    for result in results:
        for u in result.unpriced:
            # the group's records all on its first account: settle() needs only the
            # sum per (metric, reason) and the accounts
            for i, account in enumerate(u.accounts):
                tally.add(u.metric, u.reason, account, u.records if i == 0 else 0)  # type: ignore[arg-type]
    return RatingResult(
        plan=plan,
        period=period,
        rounding=rounding or plan.rounding,
        bills=tuple(bills),
        unpriced=tally.settle(on_unpriced),
        duplicates_dropped=sum(r.duplicates_dropped for r in results),
        corrections=sum(r.corrections for r in results),
    )
