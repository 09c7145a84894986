"""A usage record: who used how much of what, and when.

A usage record says that *account* used *quantity* of *metric* between *start* and
*end*. Quantities are Decimals in the unit the plan declares as the metric's
``usage_unit``. Times are timezone-aware and kept in UTC, so records compare by the
instants they name (two times of one timezone would otherwise compare by wall clock,
which is wrong in the hour a clock goes back).

A record is identified by ``(account, record_id)`` when it has a ``record_id``, else by
its content; ``revision`` numbers corrections of one ``record_id``. The rule of which
copies are billed is in :mod:`cloudrate.usage._identity` (:func:`cloudrate.usage.dedupe`).
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any

import attrs

from cloudrate._money import MAX_PLACES, MAX_QUANTITY, check_quantity, to_decimal
from cloudrate.exceptions import OptionError, PlanError, UsageError, WrongTypeError
from cloudrate.period import seconds_between

from ._identity import _key_hashes, identity_hash, parse_revision

__all__ = ["UsageRecord", "parse_quantity"]


def _attributes(value: Mapping[str, object] | None) -> Mapping[str, str]:
    if not value:
        return _EMPTY
    return _FrozenAttrs({str(k): _attr_text(v) for k, v in value.items()})


def _attr_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_attr_text(v) for v in value)
    return str(value)


class _FrozenAttrs(dict[str, str]):
    """A read-only, hashable dict of record attributes."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def __reduce__(self) -> tuple[type[_FrozenAttrs], tuple[dict[str, str]]]:
        """Pickled and copied whole, as a new read-only dict of the same items (a dict's
        own way sets the items one by one, which a read-only dict refuses)."""
        return type(self), (dict(self),)

    def _refuse(self, *_a: object, **_k: object) -> None:
        raise WrongTypeError(
            "usage record attributes are read-only; build a new record with evolve()"
        )

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]


_EMPTY: Mapping[str, str] = _FrozenAttrs()
_ZERO = Decimal(0)


def parse_quantity(value: object) -> Decimal:
    """A usage quantity from a Decimal, an int or decimal text: the one rule both
    engines' readers apply (never a float, never negative, no digit separators).

    >>> parse_quantity(" 2.50 ")
    Decimal('2.50')
    """
    if type(value) is Decimal:  # the usual case in code
        if _plainly_within(value):
            return value
    elif type(value) is str and "_" not in value:  # the usual case in files
        try:
            q = Decimal(value.strip())
        except InvalidOperation:
            pass  # the full checks below say why
        else:
            # plain digits below the bound: never more decimals than MAX_PLACES
            plain = len(value) <= MAX_PLACES and "e" not in value and "E" not in value
            if q.is_finite() and not q < 0 and q < MAX_QUANTITY and plain:
                return q
    return _quantity(value)


def _plainly_within(value: Decimal) -> bool:
    """Whether *value* is a quantity by a quick test: finite, from 0 to below
    :data:`MAX_QUANTITY`, and written out plainly in at most :data:`MAX_PLACES`
    characters (so never with more decimals). False sends it to the full rules."""
    if not (value.is_finite() and _ZERO <= value < MAX_QUANTITY):
        return False
    text = str(value)  # "1e-105" under a caller's context with capitals=0
    return len(text) <= MAX_PLACES and "E" not in text and "e" not in text


def _quantity(value: object) -> Decimal:
    """:func:`parse_quantity` by the full rules, with the reason for any refusal."""
    if isinstance(value, str) and "_" in value:
        raise UsageError(
            f"quantity: {value!r} has a digit separator; write the digits alone, such as "
            "'1000' for 1_000"
        )
    try:
        q = to_decimal(value, "quantity")
    except PlanError as exc:  # a usage record is not a plan: report it as bad usage
        raise UsageError(str(exc)) from None
    if q < 0:
        raise UsageError(
            f"quantity: {q} is negative; usage is never negative, give credits as an "
            "adjustment instead"
        )
    return check_quantity(q, error=UsageError)


def _quantities(texts: Sequence[str]) -> list[Decimal] | None:
    """``[parse_quantity(t) for t in texts]`` when every text takes its usual case (no
    digit separator, a finite decimal, not negative), computed a column at a time; None
    when any does not (:func:`parse_quantity` row by row then says which and why).

    ``Decimal(text)`` ignores the spaces around the digits exactly as
    ``Decimal(text.strip())`` does.
    """
    joined = "".join(texts)
    if "_" in joined:
        return None
    if texts and max(map(len, texts)) > MAX_PLACES:
        return None  # perhaps more decimals than MAX_PLACES: row by row
    try:
        values = list(map(Decimal, texts))
    except (ArithmeticError, ValueError, TypeError):
        return None
    if not all(map(Decimal.is_finite, values)):
        return None
    if values and (min(values) < 0 or max(values) >= MAX_QUANTITY):
        return None
    if ("e" in joined or "E" in joined) and any(_too_fine(v) for v in values):
        return None  # an exponent past MAX_PLACES decimals: row by row says so
    return values


def _too_fine(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent < -MAX_PLACES


def _utc(value: object) -> object:
    """An aware datetime as the same instant in UTC; anything else as given (refused by
    the validator)."""
    if type(value) is datetime and value.tzinfo is UTC:  # already UTC: as it is
        return value
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if type(value) is datetime and value.tzinfo is UTC:  # what _utc gives an aware time
        return
    if not isinstance(value, datetime):
        raise UsageError(f"{attribute.name}: expected a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise UsageError(
            f"{attribute.name}: {value.isoformat()} has no timezone; give an aware datetime "
            "such as 2026-10-01T00:00:00+00:00"
        )


def _check(
    account: str,
    metric: str,
    start: datetime,
    end: datetime,
    record_id: str | None,
    revision: int | None,
) -> None:
    """The rules across a record's fields, for every way a record is built."""
    if end < start:
        raise UsageError(
            f"end {end.isoformat()} is before start {start.isoformat()}; "
            "swap them or fix the record's times"
        )
    if not account:
        raise UsageError("account: empty; every record belongs to an account")
    if not metric:
        raise UsageError("metric: empty; name the metric the record measures")
    if revision is not None and not record_id:
        raise UsageError(
            f"revision: {revision} on a record without record_id; a revision "
            "numbers the corrections of one record_id, so give the record its record_id"
        )


def _checks_pass(
    accounts: Sequence[str],
    metrics: Sequence[str],
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    record_ids: Sequence[str | None],
    revisions: Sequence[int | None],
) -> bool:
    """Whether every row of these columns passes :func:`_check` (a column at a time)."""
    return (
        all(accounts)
        and all(metrics)
        and not any(map(operator.lt, ends, starts))
        and all(i for i, r in zip(record_ids, revisions, strict=True) if r is not None)
    )


@attrs.frozen(kw_only=True)
class UsageRecord:
    """One measurement of usage.

    >>> from datetime import datetime, timezone
    >>> r = UsageRecord(account="acme", metric="vcpu_hours", quantity="2.5",
    ...                 start=datetime(2026, 10, 1, tzinfo=timezone.utc),
    ...                 end=datetime(2026, 10, 1, 1, tzinfo=timezone.utc))
    >>> r.quantity
    Decimal('2.5')
    """

    account: str
    metric: str
    quantity: Decimal = attrs.field(converter=parse_quantity)
    start: datetime = attrs.field(converter=_utc, validator=_aware)
    end: datetime = attrs.field(converter=_utc, validator=_aware)
    record_id: str | None = None
    #: The correction counter of a record_id: the highest revision is billed (0 or more;
    #: absent ranks below 0). See :func:`cloudrate.usage.dedupe`.
    revision: int | None = attrs.field(default=None, converter=parse_revision)
    resource_id: str | None = None
    service: str | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict, converter=_attributes)
    #: Where the record was read (``usage.csv line 5``), for messages; not part of the
    #: record: records that differ only in origin are equal.
    origin: str | None = attrs.field(default=None, eq=False, repr=False)
    #: :func:`~cloudrate.usage.identity_hash`, computed once when the record is built,
    #: so :func:`~cloudrate.usage.dedupe` finds copies without rehashing.
    _identity: int = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check(self.account, self.metric, self.start, self.end, self.record_id, self.revision)
        object.__setattr__(self, "_identity", identity_hash(self))

    @classmethod
    def _checked(
        cls,
        account: str,
        metric: str,
        quantity: Decimal,
        start: datetime,
        end: datetime,
        record_id: str | None,
        revision: int | None,
        resource_id: str | None,
        service: str | None,
        attributes: Mapping[str, str],
        origin: str | None,
    ) -> UsageRecord:
        """A record from fields already converted by the rules the public constructor
        applies (:func:`parse_quantity`, UTC times from :func:`~cloudrate.usage.parse_time`,
        :func:`~cloudrate.usage.parse_revision`, attributes from :func:`_attributes`):
        the readers' fast path. The rules across fields are checked here too; the result
        equals the record the public constructor builds from the same values.
        """
        _check(account, metric, start, end, record_id, revision)
        self = _new(cls)
        _set_account(self, account)
        _set_metric(self, metric)
        _set_quantity(self, quantity)
        _set_start(self, start)
        _set_end(self, end)
        _set_record_id(self, record_id)
        _set_revision(self, revision)
        _set_resource_id(self, resource_id)
        _set_service(self, service)
        _set_attributes(self, attributes)
        _set_origin(self, origin)
        _set_identity(self, identity_hash(self))  # every field is set
        return self

    @classmethod
    def _checked_columns(
        cls,
        accounts: Sequence[str],
        metrics: Sequence[str],
        quantities: Sequence[Decimal],
        starts: Sequence[datetime],
        ends: Sequence[datetime],
        record_ids: Sequence[str | None],
        revisions: Sequence[int | None],
        resource_ids: Sequence[str | None],
        services: Sequence[str | None],
        attributes: Sequence[Mapping[str, str]],
        attribute_items: Sequence[tuple[tuple[str, str], ...]],
        origins: Sequence[str | None],
        quantity_keys: Sequence[str] | None = None,
    ) -> list[UsageRecord] | None:
        """The records :meth:`_checked` builds from each row of these columns (all of one
        length, converted by the same rules; ``attribute_items[i]`` is the identity
        key's form of ``attributes[i]``, ``quantity_keys[i]`` when given the identity
        hash's text of ``quantities[i]``), built a column at a time; None when a row
        breaks a rule across fields (build the rows one by one to say which and why).
        """
        columns = (accounts, metrics, quantities, starts, ends, record_ids, revisions)
        n = len(accounts)
        others = (resource_ids, services, attributes, attribute_items, origins)
        if any(len(c) != n for c in (*columns, *others)):
            raise OptionError("UsageRecord._checked_columns: columns of different lengths")
        if not _checks_pass(accounts, metrics, starts, ends, record_ids, revisions):
            return None
        records = list(map(_new, repeat(cls, n)))
        hashes = _key_hashes(
            accounts, metrics, quantities, starts, ends, record_ids, resource_ids, services,
            attributes, attribute_items, quantity_keys,
        )  # fmt: skip
        for set_slot, column in (
            (_set_account, accounts),
            (_set_metric, metrics),
            (_set_quantity, quantities),
            (_set_start, starts),
            (_set_end, ends),
            (_set_record_id, record_ids),
            (_set_revision, revisions),
            (_set_resource_id, resource_ids),
            (_set_service, services),
            (_set_attributes, attributes),
            (_set_origin, origins),
            (_set_identity, hashes),
        ):
            deque(map(set_slot, records, column), maxlen=0)  # in C, one slot at a time
        return records

    def __getstate__(self) -> dict[str, Any]:
        """The fields, without the identity hash (string hashes differ between processes)."""
        return {a.name: getattr(self, a.name) for a in attrs.fields(type(self)) if a.init}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_identity", identity_hash(self))

    @property
    def seconds(self) -> Decimal:
        """The length of the record's interval in seconds (exact)."""
        return seconds_between(self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (quantity as a decimal string)."""
        out: dict[str, Any] = {
            "account": self.account,
            "metric": self.metric,
            "quantity": str(self.quantity),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
        for name in ("record_id", "revision", "resource_id", "service"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out


# The slots of a record, set directly by UsageRecord._checked (a frozen record refuses
# ordinary assignment; its own __init__ sets them the same way).
_new = object.__new__
(
    _set_account,
    _set_metric,
    _set_quantity,
    _set_start,
    _set_end,
    _set_record_id,
    _set_revision,
    _set_resource_id,
    _set_service,
    _set_attributes,
    _set_origin,
    _set_identity,
) = (
    vars(UsageRecord)[name].__set__
    for name in (
        "account",
        "metric",
        "quantity",
        "start",
        "end",
        "record_id",
        "revision",
        "resource_id",
        "service",
        "attributes",
        "origin",
        "_identity",
    )
)
