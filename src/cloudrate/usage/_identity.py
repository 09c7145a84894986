"""Usage identity: which records are copies of one another, and which copy is billed.

The rule, which :func:`cloudrate.rate` applies through :func:`dedupe` and the columnar
engine applies to whole columns:

- **Identity.** A record with a ``record_id`` is identified by ``(account, record_id)``.
  A record without one is identified by its content: ``(account, metric, quantity,
  start, end, resource_id, service, attributes)``, every field, quantity included, so
  two records that differ in anything are never merged.
- **Exact duplicates.** Copies with one identity and the same content (every field
  equal: quantities by value, ``1.5 == 1.50``; times by instant) are one record: the
  first copy is kept, the others are dropped and counted in ``duplicates_dropped``.
- **Corrections.** Copies of one ``(account, record_id)`` with different content are
  versions, ranked by ``revision`` (a record without one ranks below revision 0). The
  first copy of the highest revision is kept, whatever the order the copies arrive in;
  every copy of a lower revision is dropped and counted in ``corrections``.
- **Conflicts.** Two different contents with the same ``(account, record_id)`` and the
  same revision (or both without one) cannot be told apart: that is a
  :class:`~cloudrate.exceptions.DuplicateUsageError` naming both rows and both contents,
  raised before anything is rated.

A ``revision`` needs a ``record_id`` (it numbers versions of one record). Kept records
stay where their kept copy arrived, in the order given.

.. versionadded:: 0.2
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import attrs

from cloudrate.exceptions import DuplicateUsageError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ._record import UsageRecord

__all__ = [
    "MAX_REVISION",
    "Deduplicated",
    "conflict_error",
    "dedupe",
    "identity_hash",
    "identity_key",
    "parse_revision",
    "revision_rank",
]

#: The largest revision: both engines hold revisions as 64-bit integers.
MAX_REVISION = 2**63 - 1


def parse_revision(value: object) -> int | None:
    """A revision from an int or digit text (spaces around ignored); None stays None.

    >>> parse_revision(" 2 "), parse_revision(0), parse_revision(None)
    (2, 0, None)
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        kind = "a boolean" if isinstance(value, bool) else f"the {type(value).__name__}"
        raise UsageError(
            f"revision: got {kind} {value!r}; give a whole number such as 1 (0 or more)"
        )
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise UsageError(
                f"revision: {value!r} is not a whole number; write the digits alone, such as 2"
            )
        value = int(text)
    if value < 0 or value > MAX_REVISION:
        raise UsageError(
            f"revision: {value} is out of range; a revision counts corrections from 0 "
            f"to {MAX_REVISION}"
        )
    return value


def revision_rank(revision: int | None) -> int:
    """The rank of a revision among the versions of one record: absent ranks lowest.

    >>> revision_rank(None) < revision_rank(0) < revision_rank(1)
    True
    """
    return -1 if revision is None else revision


def identity_key(record: UsageRecord) -> tuple[Any, ...]:
    """What makes *record* the record it is: ``("record_id", account, record_id)`` for a
    record with an id, else ``("content", ...)`` with every field but the id.

    >>> from datetime import datetime, timezone
    >>> from cloudrate.usage import UsageRecord
    >>> t0, t1 = (datetime(2026, 10, d, tzinfo=timezone.utc) for d in (1, 2))
    >>> identity_key(UsageRecord(account="acme", metric="m", quantity=1, start=t0, end=t1,
    ...                          record_id="r-1"))
    ('record_id', 'acme', 'r-1')
    """
    r = record
    return _key(
        r.account, r.metric, r.quantity, r.start, r.end, r.record_id, r.resource_id, r.service,
        r.attributes,
    )  # fmt: skip


def identity_hash(record: UsageRecord) -> int:
    """The hash of *record*'s identity: equal for records with equal
    :func:`identity_key`, computed with the quantity as :func:`_quantity_key`'s text
    (hashing a Decimal of many decimals costs several times more).

    >>> from datetime import datetime, timezone
    >>> from cloudrate.usage import UsageRecord
    >>> t0, t1 = (datetime(2026, 10, d, tzinfo=timezone.utc) for d in (1, 2))
    >>> a, b = (UsageRecord(account="acme", metric="m", quantity=q, start=t0, end=t1)
    ...         for q in ("1.5", "1.50"))
    >>> identity_hash(a) == identity_hash(b) == a._identity
    True
    """
    r = record
    key = None if r.record_id else _quantity_key(r.quantity)
    return hash(
        _key(r.account, r.metric, key, r.start, r.end, r.record_id, r.resource_id, r.service,
             r.attributes)
    )  # fmt: skip


def _quantity_key(quantity: Decimal) -> str:
    """A quantity as the identity hash reads it: its digits without the zeros at their
    end (the fraction's, then the whole number's when no fraction is left), so equal
    quantities give one text; zero is ``"0"``. Whole numbers ten times apart give one
    text too (7, 70, 700.0): their records' hashes may meet, and :func:`dedupe` then
    compares the records themselves.

    >>> [_quantity_key(Decimal(t)) for t in ("1.50", "1.5", "1E+3", "0.00", "70", "700.0")]
    ['1.5', '1.5', '1', '0', '7', '7']
    """
    if not quantity:
        return "0"  # 0, 0.00 and -0 are equal
    # "f": every digit, never an exponent
    return format(quantity, "f").rstrip("0").rstrip(".").rstrip("0")


#: Deletes the characters of plain digits with a point (what is left was something else).
_PLAIN = str.maketrans("", "", "0123456789.")


def _quantity_keys(texts: Sequence[str], quantities: Sequence[Decimal]) -> list[str]:
    """``[_quantity_key(q) for q in quantities]`` where each quantity was parsed from the
    text at its place: from the texts themselves, a column at a time, when every one is
    plain digits with at most a point inside, written without a leading point or a zero
    before another digit (the usual export), else from the values.

    >>> texts = ["1.50", "100", "2.", "0.0", "0", "0.25", "100.0"]
    >>> _quantity_keys(texts, [Decimal(t) for t in texts])
    ['1.5', '1', '2', '0', '0', '0.25', '1']
    """
    lines = "\n" + "\n".join(texts) + "\n"  # each text between two line ends
    if (
        lines.translate(_PLAIN) != "\n" * (len(texts) + 1)  # not only digits and points
        or "\n." in lines  # a leading point
        # a zero before a digit (a text "0" is one zero alone)
        or lines.count("\n0") != lines.count("\n0.") + texts.count("0")
    ):
        return list(map(_quantity_key, quantities))
    zeros, points = repeat("0"), repeat(".")
    keys = list(map(str.rstrip, map(str.rstrip, map(str.rstrip, texts, zeros), points), zeros))
    if "" in keys:  # a zero ("0", "0.0") lost every digit
        keys = [key or "0" for key in keys]
    return keys


def _key(
    account: str,
    metric: str,
    quantity: Decimal | str | None,
    start: datetime,
    end: datetime,
    record_id: str | None,
    resource_id: str | None,
    service: str | None,
    attributes: Mapping[str, str],
) -> tuple[Any, ...]:
    """:func:`identity_key` from the fields themselves; with the quantity's
    :func:`_quantity_key` instead of the quantity, the key :func:`identity_hash` hashes
    (a record with an id leaves the quantity out)."""
    if record_id:
        return ("record_id", account, record_id)
    return (
        "content",
        account,
        metric,
        quantity,
        start,
        end,
        resource_id,
        service,
        _attribute_items(attributes),
    )


def _attribute_items(attributes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The attributes as the identity key holds them: (name, value) pairs by name."""
    return tuple(sorted(attributes.items())) if attributes else ()


def _key_hashes(
    accounts: Sequence[str],
    metrics: Sequence[str],
    quantities: Sequence[Decimal],
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    record_ids: Sequence[str | None],
    resource_ids: Sequence[str | None],
    services: Sequence[str | None],
    attributes: Sequence[Mapping[str, str]],
    items: Sequence[tuple[tuple[str, str], ...]],
    quantity_keys: Sequence[str] | None = None,
) -> Iterable[int]:
    """:func:`identity_hash` of every row of these columns, where ``items[i]`` is
    ``_attribute_items(attributes[i])`` and *quantity_keys*, when given, the
    :func:`_quantity_key` of each quantity: the identity hashes of records built a batch
    at a time. The keys are built as :func:`identity_hash` builds them, in C when every row is
    identified the same way."""
    if not any(record_ids):
        keys = map(_quantity_key, quantities) if quantity_keys is None else quantity_keys
        return map(
            hash,
            zip(
                repeat("content"), accounts, metrics, keys, starts, ends, resource_ids,
                services, items,
            ),
        )  # fmt: skip
    if all(record_ids):
        return map(hash, zip(repeat("record_id"), accounts, record_ids))
    mixed = [None if i else _quantity_key(q) for q, i in zip(quantities, record_ids, strict=True)]
    rows = zip(
        accounts, metrics, mixed, starts, ends, record_ids, resource_ids, services, attributes,
        strict=True,
    )  # fmt: skip
    return [hash(_key(*row)) for row in rows]


@attrs.frozen(kw_only=True)
class Deduplicated:
    """The records to bill and what :func:`dedupe` dropped.

    *records* are the kept records in the order given (each where its kept copy
    arrived); *duplicates_dropped* counts copies identical to a kept record,
    *corrections* copies superseded by a higher revision of their ``record_id``.
    """

    records: Sequence[UsageRecord]
    duplicates_dropped: int = 0
    corrections: int = 0

    @property
    def dropped(self) -> int:
        """Every copy not billed."""
        return self.duplicates_dropped + self.corrections


def dedupe(records: Iterable[UsageRecord]) -> Deduplicated:
    """The records to bill: exact duplicates dropped, corrections applied (see the rule
    above). Raises :class:`~cloudrate.exceptions.DuplicateUsageError` on a conflict.

    Each record carries a hash of its identity from when it was built, so records with
    no repeated identity (the usual case) cost one pass over those hashes; only records
    whose identity repeats are compared field by field.

    >>> from datetime import datetime, timezone
    >>> from cloudrate.usage import UsageRecord
    >>> t0, t1 = (datetime(2026, 10, d, tzinfo=timezone.utc) for d in (1, 2))
    >>> def rec(q, revision=None):
    ...     return UsageRecord(account="acme", metric="vcpu_hours", quantity=q, start=t0,
    ...                        end=t1, record_id="r-1", revision=revision)
    >>> found = dedupe([rec("2", revision=1), rec("1"), rec("2", revision=1)])
    >>> [r.quantity for r in found.records], found.duplicates_dropped, found.corrections
    ([Decimal('2')], 1, 1)
    """
    given = records if isinstance(records, Sequence) else list(records)
    repeated = _repeated_positions(given)
    if not repeated:
        return Deduplicated(records=given)
    drop, duplicates, corrections = _resolve(given, repeated)
    kept = [r for i, r in enumerate(given) if i not in drop]
    return Deduplicated(records=kept, duplicates_dropped=duplicates, corrections=corrections)


_HASH = attrgetter("_identity")
#: From this many records the identity hashes are checked with numpy, when installed.
_NUMPY_FROM = 20_000


@cache
def _numpy() -> Any:
    """numpy, or None when it is not installed (then a set does the same check)."""
    if importlib.util.find_spec("numpy") is None:  # pragma: no cover - numpy is installed
        return None
    return importlib.import_module("numpy")


def _repeated_positions(records: Sequence[UsageRecord]) -> list[int]:
    """The positions of records whose identity hash is shared with another record: the
    only records that can be copies (equal identities have equal hashes)."""
    n = len(records)
    if n < 2:
        return []
    np = _numpy() if n >= _NUMPY_FROM else None
    if np is not None:
        hashes = np.fromiter(map(_HASH, records), dtype=np.int64, count=n)
        ordered = np.sort(hashes)
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return []
        shared = np.unique(ordered[1:][same])
        return [int(i) for i in np.flatnonzero(np.isin(hashes, shared))]
    hashes = list(map(_HASH, records))
    if len(set(hashes)) == n:
        return []
    seen: dict[int, int] = {}
    for h in hashes:
        seen[h] = seen.get(h, 0) + 1
    return [i for i, h in enumerate(hashes) if seen[h] > 1]


class _Versions:
    """The versions of one ``(account, record_id)`` seen so far: per revision rank, the
    first copy (position, record) and how many copies arrived."""

    __slots__ = ("copies", "first")

    def __init__(self) -> None:
        self.first: dict[int, tuple[int, UsageRecord]] = {}
        self.copies: dict[int, int] = {}


def _resolve(records: Sequence[UsageRecord], positions: list[int]) -> tuple[set[int], int, int]:
    """(positions to drop, duplicates, corrections) of the records at *positions* (in
    order), compared exactly; raises on a conflict."""
    drop: set[int] = set()
    duplicates = 0
    firsts: dict[UsageRecord, int] = {}  # records without an id: first position by content
    versions: dict[tuple[str, str], _Versions] = {}
    for i in positions:
        record = records[i]
        if not record.record_id:
            if firsts.setdefault(record, i) != i:
                drop.add(i)
                duplicates += 1
            continue
        entry = versions.setdefault((record.account, record.record_id), _Versions())
        rank = revision_rank(record.revision)
        first = entry.first.get(rank)
        if first is None:
            entry.first[rank] = (i, record)
            entry.copies[rank] = 1
        elif first[1] != record:
            raise conflict_error(
                (_where(first[1], first[0]), first[1].to_dict()),
                (_where(record, i), record.to_dict()),
            )
        else:
            entry.copies[rank] += 1
            drop.add(i)
    corrections = 0
    for entry in versions.values():
        top = max(entry.first)
        for rank, (i, _) in entry.first.items():
            if rank == top:
                duplicates += entry.copies[rank] - 1
            else:
                drop.add(i)
                corrections += entry.copies[rank]
    return drop, duplicates, corrections


def _where(record: UsageRecord, index: int) -> str:
    """Where a record came from: its origin (file and line), else its index."""
    return record.origin or f"usage[{index}]"


def conflict_error(
    first: tuple[str, Mapping[str, Any]], second: tuple[str, Mapping[str, Any]]
) -> DuplicateUsageError:
    """The error for two different contents of one record and revision: each of *first*
    and *second* is (where the row is, its content as :meth:`UsageRecord.to_dict` gives
    it). Both engines raise it, so the message reads the same.

    >>> err = conflict_error(("a.csv line 2", {"account": "acme", "record_id": "r-1",
    ...                       "quantity": "1"}), ("a.csv line 9", {"account": "acme",
    ...                       "record_id": "r-1", "quantity": "2"}))
    >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
    a.csv line 2 and a.csv line 9 are two versions of record_id 'r-1' of account 'acme'
    with the same revision (none) but different content: a.csv line 2 has {"account":
    "acme", "record_id": "r-1", "quantity": "1"}, a.csv line 9 has {"account": "acme",
    "record_id": "r-1", "quantity": "2"}; to correct the earlier copy give the later
    one a higher revision (revision: 0 or more), or give one of them another record_id
    if they are different records
    """
    (where_a, a), (where_b, b) = first, second
    revision = a.get("revision")
    shown = "none" if revision is None else str(revision)
    fix = "0 or more" if revision is None else str(revision + 1)
    err = DuplicateUsageError(
        f"{where_a} and {where_b} are two versions of record_id {a.get('record_id')!r} of "
        f"account {a.get('account')!r} with the same revision ({shown}) but different "
        f"content: {where_a} has {_text(a)}, {where_b} has {_text(b)}; to correct the "
        f"earlier copy give the later one a higher revision (revision: {fix}), or give "
        "one of them another record_id if they are different records"
    )
    err.first, err.second = where_a, where_b  # type: ignore[attr-defined]
    return err


def _text(content: Mapping[str, Any]) -> str:
    """A record's content as one line of JSON text, in its field order."""
    return json.dumps(dict(content), ensure_ascii=False, default=str)
