"""A VM's lifecycle: its events applied in time order, as CloudStack's usage server
applies them (``UsageManagerImpl.createVMHelperEvent``), into running and allocated spans.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import attrs

from cloudrate.period import BillingPeriod
from cloudrate.usage import UsageRecord

__all__ = ["EVENT_METRICS", "Action", "Event", "Span", "Vm", "VmState", "run"]

#: The metric of each kind of VM time, and the CloudStack usage type it stands for.
EVENT_METRICS = {"running": "running_vm_seconds", "allocated": "allocated_vm_seconds"}
_TYPE_NAMES = {"running": "RUNNING_VM", "allocated": "ALLOCATED_VM"}

#: What an event does to a VM: ``deploy`` is listEvents' completed VM.CREATE (the
#: deployment's start phase), ``change`` a VM.UPGRADE or VM.DYNAMIC.SCALE.
Action = Literal["create", "recover", "deploy", "start", "change", "stop", "destroy", "expunge"]
#: The order events of one instant are first tried in: a VM's life, first to last.
_RANK: dict[str, int] = {
    "create": 0,
    "recover": 1,
    "deploy": 2,
    "start": 3,
    "change": 4,
    "stop": 5,
    "destroy": 6,
    "expunge": 7,
}
_NAMES = {"deploy": "VM.CREATE (completed)", "change": "VM.UPGRADE or VM.DYNAMIC.SCALE"}
#: ``absent``: not created yet (or not known); ``stopped``: allocated, not running.
VmState = Literal["absent", "stopped", "running", "destroyed"]
_EXISTS = ("stopped", "running")


@attrs.frozen
class Event:
    """One event of one VM, as read: its position in the input, instant and action,
    the account it belongs to, the offering fields it carries and its id."""

    index: int
    vm: str
    at: datetime
    action: Action
    account: str
    attributes: Mapping[str, str]
    key: str  # the event's id (or empty), to order events of one instant

    def order(self) -> tuple[Any, ...]:
        return (self.at, _RANK[self.action], self.key)

    @property
    def name(self) -> str:
        return _NAMES.get(self.action, f"VM.{self.action.upper()}")


@attrs.frozen
class Span:
    """An open span: since when, whose, with which attributes."""

    start: datetime
    account: str
    attributes: Mapping[str, str]


@attrs.define
class Vm:
    """One VM's state, its open spans and the spans it closed."""

    vm: str
    state: VmState = "absent"
    running: Span | None = None
    allocated: Span | None = None
    done: list[tuple[str, datetime, Span]] = attrs.field(factory=list)

    def copy(self) -> Vm:
        return attrs.evolve(self, done=list(self.done))

    def apply(self, event: Event) -> str | None:
        """Apply *event*: the problem with it (and the VM left as it was), or None."""
        problem = _REFUSE[event.action](self.state, event)
        if problem is None:
            getattr(self, f"_{event.action}")(event)
        return problem

    def _create(self, event: Event) -> None:
        self.allocated, self.state = _span(event), "stopped"

    _recover = _create

    def _deploy(self, event: Event) -> None:
        offering = event.attributes.get("offeringid")
        if self.allocated is None:
            self.allocated = _span(event)
        elif offering is not None and self.allocated.attributes.get("offeringid") != offering:
            # started with another offering: the usage server ends the allocated span
            # and opens one with the new offering
            self._reopen("allocated", event)
        self.running, self.state = _span(event), "running"

    _start = _deploy

    def _change(self, event: Event) -> None:
        for kind in ("running", "allocated"):
            self._reopen(kind, event)

    def _reopen(self, kind: str, event: Event) -> None:
        """End the open span of *kind* at *event* and open one with its attributes."""
        span = getattr(self, kind)
        if span is not None:
            self._close(kind, event.at)
            merged = {**span.attributes, **event.attributes}
            setattr(self, kind, Span(event.at, span.account, merged))

    def _stop(self, event: Event) -> None:
        self._close("running", event.at)
        self.state = "stopped"

    def _destroy(self, event: Event) -> None:
        if self.state in _EXISTS:
            self._close("running", event.at)
            self._close("allocated", event.at)
            self.state = "destroyed"

    _expunge = _destroy

    def _close(self, kind: str, at: datetime) -> None:
        span = getattr(self, kind)
        if span is not None:
            self.done.append((kind, at, span))
            setattr(self, kind, None)

    def records(self, period: BillingPeriod, source: str) -> Iterator[UsageRecord]:
        """The VM's spans inside *period*, cut at its edges, as usage records in seconds
        (spans still open run to the period's end)."""
        spans = list(self.done)
        for kind in ("running", "allocated"):
            span = getattr(self, kind)
            if span is not None:
                spans.append((kind, period.end, span))
        for kind, end, span in spans:
            start, stop = max(span.start, period.start), min(end, period.end)
            if stop > start:
                yield self._record(kind, start, stop, span, source)

    def _record(
        self, kind: str, start: datetime, stop: datetime, span: Span, source: str
    ) -> UsageRecord:
        micros = (stop - start) // timedelta(microseconds=1)
        seconds = Decimal(micros).scaleb(-6).normalize()
        metric = EVENT_METRICS[kind]
        return UsageRecord(
            account=span.account,
            metric=metric,
            quantity=seconds.quantize(Decimal(1)) if seconds == seconds.to_integral() else seconds,
            start=start,
            end=stop,
            record_id=f"cs-events:{metric}:{self.vm}:{_utc(start)}/{_utc(stop)}",
            resource_id=self.vm,
            service="Compute",
            attributes={
                **span.attributes,
                "virtualmachineid": self.vm,
                "usagetype_name": _TYPE_NAMES[kind],
            },
            origin=f"{source} VM {self.vm}",
        )


def _span(event: Event) -> Span:
    return Span(event.at, event.account, dict(event.attributes))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


#: When an action does not fit a VM's state: the problem, else None.
_Refusal = Callable[[VmState, "Event"], "str | None"]


def _exists_not(word: str) -> _Refusal:
    def refuse(state: VmState, event: Event) -> str | None:
        if state in _EXISTS:
            return f"{event.name} of a VM that exists ({state}); {word}"
        return None

    return refuse


def _must_be(wanted: tuple[str, ...], word: str) -> _Refusal:
    def refuse(state: VmState, event: Event) -> str | None:
        if state not in wanted:
            return f"{event.name} of a VM that is {state}, not {word}"
        return None

    return refuse


def _deployable(state: VmState, event: Event) -> str | None:
    if state == "running":
        return f"{event.name} of a VM already running"
    return None


def _expungeable(state: VmState, event: Event) -> str | None:
    if state == "absent":
        return f"{event.name} of a VM never created"
    return None


#: When each action does not fit the VM's state: the problem, else None.
_REFUSE: dict[str, _Refusal] = {
    "create": _exists_not("destroy it first"),
    "recover": _must_be(("destroyed",), "destroyed"),
    "deploy": _deployable,
    "start": _must_be(("stopped",), "stopped"),
    "change": _must_be(_EXISTS, "allocated"),
    "stop": _must_be(("running",), "running"),
    "destroy": _must_be(_EXISTS, "allocated"),
    "expunge": _expungeable,
}


def run(vm: Vm, events: list[Event]) -> list[tuple[Event, str]]:
    """Apply one VM's *events*, sorted by :meth:`Event.order`. Events of one instant
    are applied in the first of their orders that fits the VM's state (so a stop and a
    start in the same second are a restart of a running VM, a brief start of a stopped
    one); if none fits, in sorted order, each misfit left out and returned with its
    problem."""
    problems: list[tuple[Event, str]] = []
    for _, group in itertools.groupby(events, key=lambda e: e.at):
        same = list(group)
        orders = itertools.permutations(same) if len(same) <= 5 else iter([tuple(same)])
        for order in orders:
            trial = vm.copy()
            if all(trial.apply(e) is None for e in order):
                vm.state, vm.running, vm.allocated, vm.done = (
                    trial.state,
                    trial.running,
                    trial.allocated,
                    trial.done,
                )
                break
        else:
            for event in same:
                problem = vm.apply(event)
                if problem is not None:
                    problems.append((event, problem))
    return problems
