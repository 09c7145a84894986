"""Running and allocated VM time from CloudStack VM lifecycle events.

CloudStack's usage server turns VM events into its RUNNING_VM (1) and ALLOCATED_VM (2)
usage (``UsageManagerImpl.createVMHelperEvent``): VM.CREATE opens an allocated span and
VM.DESTROY ends it; VM.START opens a running span and VM.STOP ends it; VM.UPGRADE and
VM.DYNAMIC.SCALE end the open spans and open new ones (a new service offering). A portal
that has the events but not the usage records gets the same spans here, as usage
records in seconds (exact), cut at the billing period's edges.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import attrs

from cloudrate.exceptions import ConfigError, Problem, UsageError
from cloudrate.period import BillingPeriod
from cloudrate.usage import RepeatedKeyError, UsageRecord, unique_keys

from ._lifecycle import EVENT_METRICS, Action, Event, Span, Vm, VmState, run
from ._read import (
    AccountBy,
    AccountNamer,
    OnError,
    _account,
    _check_options,
    _RecordError,
    _text_of,
    parse_cloudstack_date,
)

__all__ = ["EVENT_METRICS", "VmEventHours", "vm_hours_from_events"]

_TYPES: dict[str, Action] = {
    "VM.CREATE": "create",
    "VM.RECOVER": "recover",
    "VM.START": "start",
    "VM.UPGRADE": "change",
    "VM.DYNAMIC.SCALE": "change",
    "VM.STOP": "stop",
    "VM.DESTROY": "destroy",
    "VM.EXPUNGE": "expunge",
}
#: The fields of an event (or of a VM in ``before``) kept as the records' attributes.
_KEPT = (
    "offeringid",
    "serviceofferingid",
    "templateid",
    "zoneid",
    "cpunumber",
    "cpuspeed",
    "memory",
    "hypervisor",
)
#: The states ``before`` may give (listVirtualMachines spells them Running, Stopped...).
_STATES: dict[str, VmState] = {
    "stopped": "stopped",
    "running": "running",
    "destroyed": "destroyed",
    "expunged": "destroyed",
}
#: Where the spans of a VM described by ``before`` begin: before any period.
_BEGINNING = datetime.min.replace(tzinfo=UTC)


@attrs.frozen
class VmEventHours:
    """The records of VM time read from events, the events not used (counted by type and
    state) and the inconsistent ones (with their index and what is wrong)."""

    records: tuple[UsageRecord, ...]
    ignored: Mapping[str, int] = attrs.field(factory=dict)
    problems: tuple[Problem, ...] = ()


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text else None


def _attributes(row: Mapping[str, Any], name_field: str) -> dict[str, str]:
    out = {k: t for k in _KEPT if (t := _text(row.get(k))) is not None}
    if "offeringid" not in out and "serviceofferingid" in out:
        out["offeringid"] = out["serviceofferingid"]
    name = _text(row.get(name_field))
    if name is not None:
        out["name"] = name
    return out


def _action(row: Mapping[str, Any]) -> tuple[Action | None, str]:
    """What the event does (None: not used) and how it is counted when not used."""
    kind = str(row.get("type", "")).strip().upper()
    state = str(row.get("state") or "").strip().lower()
    level = str(row.get("level") or "").strip().upper()
    label = f"{kind} {row.get('state') or ''}".strip()
    action = _TYPES.get(kind)
    if action is None or level == "ERROR":
        return None, label
    if kind == "VM.CREATE" and state == "completed":
        return "deploy", label  # listEvents: the deployment's start phase finished
    if state not in ("", "completed", "created" if kind == "VM.CREATE" else "completed"):
        return None, label
    return action, label


def _event(
    index: int, row: object, account_by: AccountBy | AccountNamer
) -> tuple[Event | None, str]:
    """The event *row* (None when it is not used) and its label for the ignored count."""
    if not isinstance(row, Mapping):
        raise _RecordError("", "expected an object with the event's fields", row)
    action, label = _action(row)
    if action is None:
        return None, label
    vm = _text(row.get("resourceid"))
    if vm is None:
        raise _RecordError("resourceid", "missing: the VM's id (CloudStack 4.17 and later send it)")
    created = row.get("created")
    try:
        at = parse_cloudstack_date(created if isinstance(created, str) else "", "created")
    except UsageError as exc:
        raise _RecordError("created", str(exc).split(": ", 1)[1]) from None
    account = _account(row, account_by)
    key = _text(row.get("id")) or ""
    return Event(index, vm, at, action, account, _attributes(row, "resourcename"), key), label


def _initial(row: object, account_by: AccountBy | AccountNamer) -> Vm:
    """A VM as ``before`` describes it: its state before its first event."""
    if not isinstance(row, Mapping):
        raise _RecordError("", "expected a VM's fields (as listVirtualMachines gives them)", row)
    vm = _text(row.get("id")) or _text(row.get("virtualmachineid"))
    if vm is None:
        raise _RecordError("id", "missing: the VM's id")
    state = _STATES.get(str(row.get("state", "")).strip().lower())
    if state is None:
        raise _RecordError("state", "expected Running, Stopped or Destroyed", row.get("state"))
    found = Vm(vm, state=state)
    if state in ("stopped", "running"):
        span = Span(_BEGINNING, _account(row, account_by), _attributes(row, "name"))
        found.allocated = span
        if state == "running":
            found.running = span
    return found


def _rows(document: Any) -> Iterator[Any]:
    """The events of a listEvents response, a list of responses, or a list of events."""
    if isinstance(document, list):
        for item in document:
            if isinstance(item, Mapping) and ("listeventsresponse" in item or "event" in item):
                yield from _rows(item)
            else:
                yield item
        return
    if not isinstance(document, Mapping):
        raise UsageError("expected a listEvents response: an object or a list")
    body = document.get("listeventsresponse", document)
    if not isinstance(body, Mapping):
        raise UsageError("listeventsresponse: expected an object")
    if body.get("errorcode") not in (None, ""):
        raise UsageError(
            f"the CloudStack API answered with error {body['errorcode']}: "
            f"{body.get('errortext') or '(no text)'}; fix the request and fetch the events again"
        )
    yield from body.get("event") or ()


def _parsed(source: Any) -> tuple[list[Any], str]:
    """The events of *source* and the name problems are reported under."""
    if isinstance(source, Mapping | list):
        return list(_rows(source)), "listEvents"
    text, name = _text_of(source)
    try:
        document = json.loads(text, parse_float=Decimal, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [Problem(f"line {exc.lineno}", "bad_json", exc.msg, line=exc.lineno)], source=name
        ) from None
    except RepeatedKeyError as exc:
        message = f"the key {exc.key!r} is given twice in one object; keep one"
        raise ConfigError([Problem("", "duplicate_key", message, exc.key)], source=name) from None
    return list(_rows(document)), name


def _copy_of(row: object, index: int, seen: dict[str, tuple[int, str]]) -> str | None:
    """None for an event seen first; for a copy of an earlier one (the same ``id``, or
    the same fields without one) an empty text when it is the same, the problem when
    the same id has other fields. A page fetched twice is read once."""
    if not isinstance(row, Mapping):
        return None
    text = json.dumps(row, sort_keys=True, default=str)
    key = _text(row.get("id")) or text
    earlier = seen.get(key)
    if earlier is None:
        seen[key] = (index, text)
        return None
    if earlier[1] == text:
        return ""
    return f"the event id {key!r} is also event[{earlier[0]}], with other fields; keep one fetch"


class _Reading:
    """Events and VMs read, with every problem kept."""

    def __init__(self, source: str, account_by: AccountBy | AccountNamer) -> None:
        self.source, self.account_by = source, account_by
        self.problems: list[Problem] = []
        self.ignored: Counter[str] = Counter()
        self.by_vm: dict[str, list[Event]] = {}
        self.vms: dict[str, Vm] = {}

    def problem(self, path: str, code: str, message: str, value: object = None) -> None:
        self.problems.append(Problem(path, code, message, value, source=self.source))

    def events(self, rows: list[Any]) -> None:
        seen: dict[str, tuple[int, str]] = {}
        for index, row in enumerate(rows):
            copy = _copy_of(row, index, seen)
            if copy is not None:
                if copy:
                    self.problem(f"event[{index}]", "bad_event", copy)
                continue
            try:
                event, label = _event(index, row, self.account_by)
            except _RecordError as bad:
                path = f"event[{index}].{bad.field}" if bad.field else f"event[{index}]"
                self.problem(path, "bad_event", bad.message, bad.value)
                continue
            if event is None:
                self.ignored[label] += 1
            else:
                self.by_vm.setdefault(event.vm, []).append(event)

    def before(self, rows: Iterable[Any]) -> None:
        for index, row in enumerate(rows):
            try:
                vm = _initial(row, self.account_by)
            except _RecordError as bad:
                path = f"before[{index}].{bad.field}" if bad.field else f"before[{index}]"
                self.problem(path, "bad_event", bad.message, bad.value)
            else:
                self.vms[vm.vm] = vm

    def records(self, period: BillingPeriod) -> list[UsageRecord]:
        records: list[UsageRecord] = []
        for vm_id in sorted(set(self.by_vm) | set(self.vms)):
            vm = self.vms.get(vm_id) or Vm(vm_id)
            mine = sorted(self.by_vm.get(vm_id, []), key=Event.order)
            for event, problem in run(vm, mine):
                self.problem(
                    f"event[{event.index}]",
                    "vm_event_order",
                    f"{problem}, at {event.at.isoformat()} (VM {vm_id}); fetch the VM's "
                    "missing events, or give its state before them in before=",
                )
            records.extend(vm.records(period, self.source))
        return records


def vm_hours_from_events(
    events: str | Path | IO[str] | Mapping[str, Any] | list[Any],
    period: BillingPeriod,
    *,
    before: Iterable[Mapping[str, Any]] = (),
    account_by: AccountBy | AccountNamer = "domain/account",
    on_error: OnError = "raise",
) -> VmEventHours:
    """The running and allocated time of each VM in *period*, from its lifecycle events.

    *events* is a ``listEvents`` response (a file path, an open file, JSON text or the
    parsed JSON), a list of responses (pages), or the event objects themselves, in any
    order. Each VM's events are applied in time order as CloudStack's usage server
    applies them: VM.CREATE (state ``Created``, or no state) allocates the VM, VM.START
    runs it, VM.STOP stops it, VM.DESTROY (or VM.EXPUNGE) ends both; VM.RECOVER
    allocates a destroyed VM again; VM.UPGRADE and VM.DYNAMIC.SCALE end the open spans
    and start new ones (with the event's offering fields, when it has them). A
    ``listEvents`` VM.CREATE in state ``Completed`` is the deployment's start phase
    ("starting Vm"): it runs the VM. Only completed events count: ``Scheduled`` and
    ``Started`` ones, events of level ``ERROR`` (failed actions) and other types
    (VM.REBOOT, VM.MIGRATE...) are counted in :attr:`VmEventHours.ignored`. Events of one
    instant are applied in whichever order fits the VM's state.

    *before* describes the VMs as they were before their first event given (as
    ``listVirtualMachines`` returns them: ``id``, ``state`` Running, Stopped or
    Destroyed, the account fields, ``serviceofferingid``...); a VM not in it did not
    exist before its first event. A span still open after the last event runs to the
    period's end.

    Each span inside the period becomes a record of ``running_vm_seconds`` or
    ``allocated_vm_seconds`` (exact seconds; price them with
    ``quota_plan(..., from_events=True)``, or declare ``usage_unit: VM-second``), cut
    at the period's edges, with the VM as ``resource_id`` and ``virtualmachineid``, and
    the kept offering fields as attributes. An event that does not fit its VM's state
    (a VM.STOP of a VM not running, a VM.START before the VM.CREATE...) is a problem:
    all are raised together as one :class:`~cloudrate.exceptions.ConfigError`, or with
    ``on_error="report"`` returned in :attr:`VmEventHours.problems` beside the records
    (the event left out).

    >>> events = {"listeventsresponse": {"count": 3, "event": [
    ...   {"type": "VM.CREATE", "state": "Completed", "level": "INFO", "account": "admin",
    ...    "domain": "ROOT", "resourceid": "vm-1", "created": "2026-10-01T00:00:00+0000"},
    ...   {"type": "VM.STOP", "state": "Completed", "level": "INFO", "account": "admin",
    ...    "domain": "ROOT", "resourceid": "vm-1", "created": "2026-10-02T12:00:00+0000"},
    ...   {"type": "VM.DESTROY", "state": "Completed", "level": "INFO", "account": "admin",
    ...    "domain": "ROOT", "resourceid": "vm-1", "created": "2026-10-03T00:00:00+0000"}]}}
    >>> hours = vm_hours_from_events(events, BillingPeriod.month(2026, 10))
    >>> [(r.metric, r.quantity / 3600) for r in hours.records]
    [('running_vm_seconds', Decimal('36')), ('allocated_vm_seconds', Decimal('48'))]
    """
    _check_options(on_error, account_by)
    rows, source = _parsed(events)
    reading = _Reading(source, account_by)
    reading.events(rows)
    reading.before(before)
    records = reading.records(period)
    problems = sorted(reading.problems, key=lambda p: _index(p.path))
    if problems and on_error == "raise":
        raise ConfigError(problems, source=source)
    return VmEventHours(tuple(records), dict(sorted(reading.ignored.items())), tuple(problems))


def _index(path: str) -> tuple[int, int, str]:
    """Problems in input order: those of ``before`` first, then the events'."""
    head, _, rest = path.partition("]")
    name, _, number = head.partition("[")
    return (0 if name == "before" else 1, int(number or 0), rest)
