"""Read CloudStack ``listUsageRecords`` responses (JSON or XML) into usage records."""

from __future__ import annotations

import decimal
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, get_args
from xml.etree import ElementTree

import attrs

from cloudrate._money import EXACT
from cloudrate.exceptions import CloudrateError, ConfigError, OptionError, Problem, UsageError
from cloudrate.usage import RepeatedKeyError, UsageRecord, empty_file, not_utf8, unique_keys

from ._record_id import record_id_of
from ._types import USAGE_TYPES, UsageType

__all__ = [
    "ACCOUNT_KEYS",
    "AccountBy",
    "AccountNamer",
    "CloudStackImport",
    "OnError",
    "parse_cloudstack_date",
    "read_cloudstack",
    "records_from_cloudstack",
]

#: What names a record's account: its ``accountid`` (default), ``account`` name,
#: ``domain/account`` path, or ``project`` (the project's name, else the account).
AccountBy = Literal["accountid", "account", "domain/account", "project"]
#: Every :data:`AccountBy` option.
ACCOUNT_KEYS: tuple[AccountBy, ...] = get_args(AccountBy)
#: What a bad record does: ``raise`` a :class:`ConfigError` listing every one, or
#: ``report`` them in :attr:`CloudStackImport.problems`.
OnError = Literal["raise", "report"]
_ON_ERROR: tuple[OnError, ...] = get_args(OnError)
#: A function naming the account of a raw record, for naming :data:`AccountBy` does not offer.
AccountNamer = Callable[[Mapping[str, Any]], str]

#: Fields that are not copied into attributes: the quantity, times and display texts.
_SKIP = frozenset({"rawusage", "usage", "startdate", "enddate", "description", "tags"})
# Exact arithmetic: any digit lost raises instead of rounding silently.
_STRICT = EXACT.copy()
_STRICT.traps[decimal.Inexact] = True


class _RecordError(Exception):
    """One field of one record is wrong; collected as a :class:`Problem`."""

    def __init__(self, field: str, message: str, value: object = None) -> None:
        super().__init__(message)
        self.field, self.message, self.value = field, message, value


def parse_cloudstack_date(text: str, field: str = "startdate") -> datetime:
    """Parse a date as CloudStack writes it, with or without quotes around the ``T``.

    >>> parse_cloudstack_date("2011-12-15'T'23:59:59+00:00").isoformat()
    '2011-12-15T23:59:59+00:00'
    >>> parse_cloudstack_date("2009-09-15T00:00:00-0700").isoformat()
    '2009-09-15T00:00:00-07:00'
    """
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{field}: missing; CloudStack gives e.g. 2011-12-15'T'00:00:00+00:00")
    try:
        value = datetime.fromisoformat(text.strip().replace("'T'", "T"))
    except ValueError:
        raise UsageError(
            f"{field}: {text!r} is not a CloudStack date such as 2011-12-15'T'00:00:00+00:00"
        ) from None
    if value.utcoffset() is None:
        raise UsageError(f"{field}: {text!r} has no UTC offset; usage dates need one")
    return value


def _tidy(value: Decimal) -> Decimal:
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize(_STRICT)


def _number(row: Mapping[str, Any], field: str) -> Decimal:
    value = row.get(field)
    if value is None or value == "":
        raise _RecordError(field, "missing")
    if isinstance(value, bool | float):
        raise _RecordError(field, "expected an exact number (string or integer)", value)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except decimal.InvalidOperation:
        raise _RecordError(field, "not a number", value) from None
    if not number.is_finite() or number < 0:
        raise _RecordError(field, "must be a finite number >= 0", value)
    return number


def _check_gb(gb_bytes: int) -> int:
    rest = gb_bytes
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    if gb_bytes <= 0 or rest != 1:
        raise OptionError(
            f"gb_bytes must be a power-of-two/ten size such as 2**30 or 10**9 "
            f"so bytes convert to GB exactly (got {gb_bytes})",
            path="gb_bytes",
            value=gb_bytes,
        )
    return gb_bytes


def _account(row: Mapping[str, Any], account_by: AccountBy | AccountNamer) -> str:
    if callable(account_by):
        return str(account_by(row))
    if account_by == "accountid":
        name = row.get("accountid") or row.get("account")
    elif account_by == "account":
        name = row.get("account")
    elif account_by == "project":
        name = row.get("project") or row.get("account")
    else:
        domain = row.get("domainpath") or row.get("domain") or row.get("domainid")
        name = f"{domain}/{row.get('account')}" if domain and row.get("account") else None
    if name in (None, ""):
        raise _RecordError("account", f"no value to name the account by ({account_by})")
    return str(name)


def _attributes(row: Mapping[str, Any], kind: UsageType, gb: int) -> dict[str, object]:
    attributes: dict[str, object] = {
        key: value
        for key, value in row.items()
        if key not in _SKIP and value is not None and not isinstance(value, dict | list)
    }
    attributes["usagetype_name"] = kind.name
    for field in ("size", "virtualsize"):
        if row.get(field) not in (None, ""):
            attributes[f"{field}_gb"] = _tidy(_number(row, field) / gb)
    for tag in row.get("tags") or ():
        if isinstance(tag, Mapping) and tag.get("key") is not None:
            attributes[f"tag.{tag['key']}"] = tag.get("value", "")
    return attributes


def _date(row: Mapping[str, Any], field: str) -> datetime:
    value = row.get(field)
    try:
        return parse_cloudstack_date(value if isinstance(value, str) else "", field)
    except UsageError as exc:
        raise _RecordError(field, str(exc).split(": ", 1)[1]) from None


def _convert(
    row: Mapping[str, Any],
    kind: UsageType,
    gb: int,
    account_by: AccountBy | AccountNamer,
    origin: str,
) -> UsageRecord:
    raw = _number(row, "rawusage")
    attributes = _attributes(row, kind, gb)
    if kind.measure == "bytes":
        quantity = raw / gb
    elif kind.measure == "size_hours":
        quantity = raw * (_number(row, "size") / gb)
        attributes["hours"] = raw
    else:
        quantity = raw
    start, end = _date(row, "startdate"), _date(row, "enddate")
    usage_id = row.get("usageid")
    return UsageRecord(
        account=_account(row, account_by),
        metric=kind.metric,
        quantity=_tidy(quantity),
        start=start,
        end=end,
        record_id=record_id_of(row, start, end),
        resource_id=None if usage_id in (None, "") else str(usage_id),
        service=kind.service,
        attributes=attributes,
        origin=origin,
    )


def _compute(record: UsageRecord, row: Mapping[str, Any]) -> list[UsageRecord]:
    """vCPU-hours and memory GB-hours of a RUNNING_VM record (memory in MB, GB = 1024 MB),
    each with the record's id and ``/`` and its metric."""
    hours = record.quantity
    extra = []
    if row.get("cpunumber") not in (None, ""):
        extra.append(
            attrs.evolve(
                record,
                metric="vcpu_hours",
                quantity=_tidy(hours * _number(row, "cpunumber")),
                record_id=f"{record.record_id}/vcpu_hours",
            )
        )
    if row.get("memory") not in (None, ""):
        extra.append(
            attrs.evolve(
                record,
                metric="memory_gb_hours",
                quantity=_tidy(hours * _number(row, "memory") / 1024),
                record_id=f"{record.record_id}/memory_gb_hours",
            )
        )
    return extra


@attrs.frozen
class CloudStackImport:
    """The records read from CloudStack, the usage types not imported (with their record
    counts) and the records that could not be read (with their index and field)."""

    records: tuple[UsageRecord, ...]
    unknown_types: Mapping[int, int] = attrs.field(factory=dict)
    problems: tuple[Problem, ...] = ()

    def warnings(self) -> list[str]:
        """One line per unknown usage type and per problem."""
        lines = [
            f"{n} record(s) of unknown CloudStack usage type {t} not imported"
            for t, n in sorted(self.unknown_types.items())
        ]
        return lines + [str(p) for p in self.problems]


def _check_options(on_error: object, account_by: object) -> None:
    """Refuse options mypy would have caught, for callers without type checking."""
    if on_error not in _ON_ERROR:
        raise OptionError(
            f"on_error must be 'raise' or 'report' (got {on_error!r})", path="on_error"
        )
    if not callable(account_by) and account_by not in ACCOUNT_KEYS:
        raise OptionError(
            f"account_by must be one of {', '.join(ACCOUNT_KEYS)} or a function "
            f"(got {account_by!r})",
            path="account_by",
        )


def _usage_type_number(row: object) -> int:
    """The ``usagetype`` of *row*, which must be a record (a mapping)."""
    if not isinstance(row, Mapping):
        raise _RecordError("", "expected an object with the usage record's fields", row)
    raw_type = row.get("usagetype")
    try:
        return int(str(raw_type).strip())
    except ValueError:
        raise _RecordError("usagetype", "missing or not an integer", raw_type) from None


def records_from_cloudstack(
    rows: Iterable[Mapping[str, Any]],
    *,
    account_by: AccountBy | AccountNamer = "accountid",
    gb_bytes: int = 2**30,
    on_error: OnError = "raise",
    compute_metrics: bool = False,
    source: str = "listUsageRecords",
) -> CloudStackImport:
    """Turn CloudStack usage records (dicts as the API returns them) into usage records.

    Each record gets a ``record_id`` derived from the fields that identify a CloudStack
    usage record (:func:`~cloudrate.integrations.cloudstack._record_id.record_id_of`,
    docs/cloudstack.md), so a page imported twice is billed once.

    Args:
        rows: the ``usagerecord`` objects of one or more responses.
        account_by: what names the account: ``"accountid"`` (default), ``"account"``,
            ``"domain/account"``, ``"project"`` (project name, else account) or a function.
        gb_bytes: bytes in a GB; 2**30 as CloudStack and its quota plugin count.
        on_error: ``"raise"`` raises :class:`ConfigError` listing every bad record;
            ``"report"`` returns them in :attr:`CloudStackImport.problems`.
        compute_metrics: also emit ``vcpu_hours`` (hours x ``cpunumber``) and
            ``memory_gb_hours`` (hours x ``memory`` MB / 1024) for each RUNNING_VM record,
            for plans that price CPU and memory rather than offerings.

    >>> rows = [{"accountid": "a1", "usagetype": 4, "rawusage": "1073741824",
    ...          "startdate": "2026-10-01'T'00:00:00+00:00",
    ...          "enddate": "2026-10-01'T'23:59:59+00:00"},
    ...         {"accountid": "a1", "usagetype": 99, "rawusage": "1"}]
    >>> result = records_from_cloudstack(rows)
    >>> [(r.metric, r.quantity) for r in result.records], dict(result.unknown_types)
    ([('network_sent_gb', Decimal('1'))], {99: 1})
    """
    _check_options(on_error, account_by)
    gb = _check_gb(gb_bytes)
    records: list[UsageRecord] = []
    unknown: Counter[int] = Counter()
    problems: list[Problem] = []
    with decimal.localcontext(_STRICT):
        for index, row in enumerate(rows):
            where = f"usagerecord[{index}]"
            try:
                number = _usage_type_number(row)
                kind = USAGE_TYPES.get(number)
                if kind is None:
                    unknown[number] += 1
                    continue
                record = _convert(row, kind, gb, account_by, f"{source} {where}")
                records.append(record)
                if compute_metrics and kind.number == 1:
                    records.extend(_compute(record, row))
            except _RecordError as bad:
                path = f"{where}.{bad.field}" if bad.field else where
                problems.append(
                    Problem(path, "bad_usage_record", bad.message, bad.value, source=source)
                )
            except (CloudrateError, decimal.DecimalException) as exc:
                problems.append(Problem(where, "bad_usage_record", str(exc), source=source))
    if problems and on_error == "raise":
        raise ConfigError(problems, source=source)
    return CloudStackImport(tuple(records), dict(sorted(unknown.items())), tuple(problems))


def _json_rows(document: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(document, list):
        for item in document:
            if isinstance(item, Mapping) and (
                "listusagerecordsresponse" in item or "usagerecord" in item
            ):
                yield from _json_rows(item)
            else:
                yield item
        return
    if not isinstance(document, Mapping):
        raise UsageError("expected a listUsageRecords response: an object or a list")
    body = document.get("listusagerecordsresponse", document)
    if not isinstance(body, Mapping):
        raise UsageError("listusagerecordsresponse: expected an object")
    _refuse_error(body.get("errorcode"), body.get("errortext"))
    yield from body.get("usagerecord") or ()


def _refuse_error(code: object, text: object) -> None:
    if code not in (None, ""):
        raise UsageError(
            f"the CloudStack API answered with error {code}: {text or '(no text)'}; "
            "fix the request (dates, permissions) and fetch the usage again"
        )


def _xml_rows(text: str) -> Iterator[dict[str, Any]]:
    root = ElementTree.fromstring(text)
    _refuse_error(root.findtext("errorcode"), root.findtext("errortext"))
    for element in root.iter("usagerecord"):
        row: dict[str, Any] = {}
        tags: list[dict[str, str]] = []
        for child in element:
            if child.tag == "tags":
                tags.append({c.tag: (c.text or "").strip() for c in child})
            else:
                row[child.tag] = (child.text or "").strip()
        if tags:
            row["tags"] = tags
        yield row


def read_cloudstack(
    source: str | Path | IO[str] | Mapping[str, Any] | list[Any],
    *,
    account_by: AccountBy | AccountNamer = "accountid",
    gb_bytes: int = 2**30,
    on_error: OnError = "raise",
    compute_metrics: bool = False,
) -> CloudStackImport:
    """Read a ``listUsageRecords`` response: a file path, an open file, JSON or XML text,
    or the parsed JSON. Pages may be given as a list of responses. The options are those
    of :func:`records_from_cloudstack`.

    >>> text = ('{"listusagerecordsresponse": {"count": 1, "usagerecord": [{"account": "admin",'
    ...         '"accountid": "a1", "usagetype": 1, "rawusage": "24", "offeringid": "small",'
    ...         '"startdate": "2011-12-15\\'T\\'00:00:00+00:00",'
    ...         '"enddate": "2011-12-15\\'T\\'23:59:59+00:00"}]}}')
    >>> [r] = read_cloudstack(text).records
    >>> r.metric, r.quantity, r.attributes["offeringid"]
    ('running_vm_hours', Decimal('24'), 'small')
    """
    rows: Iterable[Mapping[str, Any]]
    if isinstance(source, Mapping | list):
        rows, name = _json_rows(source), "listUsageRecords"
    else:
        text, name = _text_of(source)
        rows = _parse_rows(text.lstrip(), name)
    return records_from_cloudstack(
        rows,
        account_by=account_by,
        gb_bytes=gb_bytes,
        on_error=on_error,
        compute_metrics=compute_metrics,
        source=name,
    )


def _text_of(source: str | Path | IO[str]) -> tuple[str, str]:
    """The text of a response and the name problems are reported under."""
    if isinstance(source, Path) or (
        isinstance(source, str) and source.lstrip()[:1] not in ("{", "[", "<")
    ):
        name = str(source)
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise ConfigError(
                [Problem("file", "unreadable", f"cannot read the file: {exc.strerror}")],
                source=name,
            ) from None
        if not raw:
            raise empty_file(
                name, no_usage='a response without records: {"listusagerecordsresponse": {}}'
            )
        bad = not_utf8(raw, name)
        if bad is not None:
            raise bad
        return raw.decode("utf-8").removeprefix("\ufeff"), name
    if isinstance(source, str):
        return source, "listUsageRecords"
    return source.read(), getattr(source, "name", "<stream>")


def _parse_rows(text: str, name: str) -> list[Mapping[str, Any]]:
    """The records of a JSON or XML response, all read before any is converted."""
    try:
        if text.startswith("<"):
            return list(_xml_rows(text))
        document = json.loads(text, parse_float=Decimal, object_pairs_hook=unique_keys)
        return list(_json_rows(document))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [Problem(f"line {exc.lineno}", "bad_json", exc.msg, line=exc.lineno)], source=name
        ) from None
    except RepeatedKeyError as exc:
        message = (
            f"the key {exc.key!r} is given twice in one object; keep one (which one was "
            "meant cannot be guessed)"
        )
        raise ConfigError([Problem("", "duplicate_key", message, exc.key)], source=name) from None
    except RecursionError:
        message = "objects and lists nested deeper than Python can read; not a CloudStack response"
        raise ConfigError([Problem("", "too_deep", message)], source=name) from None
    except ElementTree.ParseError as exc:
        line = exc.position[0]
        raise ConfigError(
            [Problem(f"line {line}", "bad_xml", str(exc), line=line)], source=name
        ) from None
