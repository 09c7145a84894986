"""Running and allocated VM time from CloudStack VM events (issue 13).

The rules are those of CloudStack's usage server, ``UsageManagerImpl.createVMHelperEvent``
(apache/cloudstack, usage/src/main/java/com/cloud/usage/UsageManagerImpl.java): VM.CREATE
opens an ALLOCATED_VM span and VM.DESTROY ends it, VM.START opens a RUNNING_VM span and
VM.STOP ends it, VM.UPGRADE and VM.DYNAMIC.SCALE end the open spans and open new ones.
The events' JSON is ``listEvents``'s (``EventResponse``: type, level, state, account,
domain, resourceid, created; https://cloudstack.apache.org/api/apidocs-4.20/apis/listEvents.html).
Expected hours are worked out by hand, or by integrating the VM's state over time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import BillingPeriod, ConfigError, rate
from cloudrate.integrations.cloudstack import quota_plan, vm_hours_from_events
from cloudrate.rating.columnar import rate_table, to_table

D = Decimal
OCTOBER = BillingPeriod.month(2026, 10)
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def ev(
    kind: str, when: datetime, vm: str = "vm-1", state: str = "Completed", **more: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "state": state,
        "level": "INFO",
        "account": "acme",
        "domain": "ROOT",
        "domainid": "d-1",
        "resourceid": vm,
        "resourcetype": "VirtualMachine",
        "created": when.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        **more,
    }


def seconds(result: Any, metric: str, vm: str = "vm-1") -> Decimal:
    return sum(
        (r.quantity for r in result.records if r.metric == metric and r.resource_id == vm),
        D(0),
    )


def hours(result: Any, metric: str, vm: str = "vm-1") -> Decimal:
    """Whole hours (the worked examples have whole hours)."""
    total = seconds(result, metric, vm)
    assert total % 3600 == 0, total
    return total / 3600


class TestWorkedExamples:
    def test_create_stop_destroy(self):
        """Deployed (and started) October 1 00:00, stopped October 2 12:00, destroyed
        October 3 00:00: 36 running hours, 48 allocated hours."""
        events = [
            ev("VM.CREATE", T0, state="Created"),
            ev("VM.CREATE", T0),
            ev("VM.STOP", T0 + timedelta(hours=36)),
            ev("VM.DESTROY", T0 + timedelta(hours=48)),
        ]
        got = vm_hours_from_events({"listeventsresponse": {"count": 4, "event": events}}, OCTOBER)
        assert (hours(got, "running_vm_seconds"), hours(got, "allocated_vm_seconds")) == (36, 48)
        assert got.problems == ()
        [running] = [r for r in got.records if r.metric == "running_vm_seconds"]
        assert running.attributes["usagetype_name"] == "RUNNING_VM"
        assert running.attributes["virtualmachineid"] == "vm-1"
        assert running.account == "ROOT/acme"
        assert running.record_id == (
            "cs-events:running_vm_seconds:vm-1:2026-10-01T00:00:00+00:00/2026-10-02T12:00:00+00:00"
        )

    def test_usage_events_create_does_not_start(self):
        """The usage server's VM.CREATE only allocates (the VM.START follows): created
        October 1, started October 1 06:00, still running at the month's end: 738 running
        hours, 744 allocated."""
        events = [
            {
                "type": "VM.CREATE",
                "resourceid": "vm-1",
                "account": "acme",
                "domain": "ROOT",
                "created": "2026-10-01T00:00:00+00:00",
                "offeringid": "small",
            },
            {
                "type": "VM.START",
                "resourceid": "vm-1",
                "account": "acme",
                "domain": "ROOT",
                "created": "2026-10-01T06:00:00+00:00",
                "offeringid": "small",
            },
        ]
        got = vm_hours_from_events(events, OCTOBER)
        assert (hours(got, "running_vm_seconds"), hours(got, "allocated_vm_seconds")) == (738, 744)
        assert {r.attributes["offeringid"] for r in got.records} == {"small"}

    def test_upgrade_splits_at_the_offering_change(self):
        """Stopped October 10, upgraded to 'large' at 01:00, started at 02:00: allocated
        time is split at the upgrade (216 + 1 h small, 527 h large), as the usage server
        ends the allocated span and opens one with the new offering."""
        events = [
            ev("VM.CREATE", T0, serviceofferingid="small"),
            ev("VM.STOP", T0 + timedelta(days=9)),
            ev("VM.UPGRADE", T0 + timedelta(days=9, hours=1), serviceofferingid="large"),
            ev("VM.START", T0 + timedelta(days=9, hours=2)),
        ]
        got = vm_hours_from_events(events, OCTOBER)
        allocated = {
            r.attributes["offeringid"]: r.quantity / 3600
            for r in got.records
            if r.metric == "allocated_vm_seconds"
        }
        assert allocated == {"small": 217, "large": 527}
        assert hours(got, "running_vm_seconds") == 216 + 526

    def test_dynamic_scale_splits_running_time(self):
        events = [
            ev("VM.CREATE", T0, serviceofferingid="custom", cpunumber="2"),
            ev("VM.DYNAMIC.SCALE", T0 + timedelta(hours=10), cpunumber="4"),
        ]
        got = vm_hours_from_events(events, OCTOBER)
        running = sorted(
            (r.attributes["cpunumber"], r.quantity / 3600)
            for r in got.records
            if r.metric == "running_vm_seconds"
        )
        assert running == [("2", 10), ("4", 734)]

    def test_destroying_a_running_vm_ends_both(self):
        """listEvents shows only VM.DESTROY when a running VM is destroyed (its stop is
        internal): both spans end there."""
        got = vm_hours_from_events([ev("VM.CREATE", T0), ev("VM.DESTROY", T0 + 5 * HOUR)], OCTOBER)
        assert (hours(got, "running_vm_seconds"), hours(got, "allocated_vm_seconds")) == (5, 5)

    def test_recover_and_expunge(self):
        """A destroyed VM recovered is allocated again (the usage server gets a VM.CREATE
        for it); expunging a destroyed VM changes nothing; expunging a stopped one ends it."""
        events = [
            ev("VM.CREATE", T0, state="Created"),
            ev("VM.DESTROY", T0 + 2 * HOUR),
            ev("VM.RECOVER", T0 + 3 * HOUR),
            ev("VM.EXPUNGE", T0 + 7 * HOUR),
            ev("VM.EXPUNGE", T0 + 8 * HOUR),
        ]
        got = vm_hours_from_events(events, OCTOBER)
        assert hours(got, "allocated_vm_seconds") == 2 + 4
        assert hours(got, "running_vm_seconds") == 0

    def test_a_vm_running_before_its_events(self):
        """A VM running since before the events (as listVirtualMachines described it) runs
        from the period's start: stopped October 11 00:00, 240 running hours; allocated all
        month."""
        vm = {
            "id": "vm-1",
            "state": "Running",
            "account": "acme",
            "domain": "ROOT",
            "serviceofferingid": "small",
            "name": "web",
        }
        got = vm_hours_from_events([ev("VM.STOP", T0 + timedelta(days=10))], OCTOBER, before=[vm])
        assert (hours(got, "running_vm_seconds"), hours(got, "allocated_vm_seconds")) == (240, 744)
        assert all(r.attributes["name"] == "web" for r in got.records)
        quiet = vm_hours_from_events([], OCTOBER, before=[vm])
        assert (hours(quiet, "running_vm_seconds"), hours(quiet, "allocated_vm_seconds")) == (
            744,
            744,
        )

    def test_only_completed_successful_events_count(self):
        """Scheduled and Started entries, failed actions (level ERROR) and other types are
        counted, not used."""
        events = [
            ev("VM.CREATE", T0),
            ev("VM.STOP", T0 + HOUR, state="Scheduled"),
            ev("VM.STOP", T0 + HOUR, state="Started"),
            {**ev("VM.STOP", T0 + 2 * HOUR), "level": "ERROR"},
            ev("VM.REBOOT", T0 + 3 * HOUR),
            ev("VM.MIGRATE", T0 + 4 * HOUR),
            ev("VM.STOP", T0 + 5 * HOUR),
        ]
        got = vm_hours_from_events(events, OCTOBER)
        assert hours(got, "running_vm_seconds") == 5
        assert got.ignored == {
            "VM.MIGRATE Completed": 1,
            "VM.REBOOT Completed": 1,
            "VM.STOP Completed": 1,
            "VM.STOP Scheduled": 1,
            "VM.STOP Started": 1,
        }

    def test_priced_by_the_quota_plan(self):
        """36 running hours at 72 EUR a VM-month of 744 hours: 3.48 EUR; 48 allocated
        hours at 7.44: 0.48 EUR. Both engines."""
        events = [
            ev("VM.CREATE", T0),
            ev("VM.STOP", T0 + 36 * HOUR),
            ev("VM.DESTROY", T0 + 48 * HOUR),
        ]
        records = vm_hours_from_events(events, OCTOBER).records
        plan = quota_plan(
            {"RUNNING_VM": "72", "ALLOCATED_VM": "7.44"}, currency="EUR", from_events=True
        )
        result = rate(plan, records, OCTOBER)
        assert rate_table(plan, to_table(records), OCTOBER).to_json() == result.to_json()
        bill = result.bill("ROOT/acme")
        assert bill.line("running_vm").rounded.amount == D("3.48")
        assert bill.line("allocated_vm").rounded.amount == D("0.48")

    def test_read_from_a_file_and_pages(self, tmp_path):
        """A response file, text and pages read the same; a page fetched twice once."""
        page = {
            "listeventsresponse": {
                "count": 2,
                "event": [ev("VM.CREATE", T0, id="e1"), ev("VM.STOP", T0 + HOUR, id="e2")],
            }
        }
        path = tmp_path / "events.json"
        path.write_text(json.dumps(page), encoding="utf-8")
        from_file = vm_hours_from_events(path, OCTOBER)
        assert vm_hours_from_events(str(path), OCTOBER) == from_file
        assert vm_hours_from_events(json.dumps(page), OCTOBER) == from_file
        assert vm_hours_from_events([page, page], OCTOBER) == from_file
        assert hours(from_file, "running_vm_seconds") == 1

    def test_seconds_are_exact(self):
        """Events a second apart give one second, not a rounded fraction of an hour."""
        got = vm_hours_from_events(
            [ev("VM.CREATE", T0), ev("VM.STOP", T0 + timedelta(seconds=1))], OCTOBER
        )
        [running] = [r for r in got.records if r.metric == "running_vm_seconds"]
        assert running.quantity == D(1)


HOUR = timedelta(hours=1)


class TestPeriodEdges:
    def test_spans_are_cut_at_the_period_edges(self):
        """Started September 30 12:00, stopped November 1 12:00: October holds 744 h,
        September 12 h, November 12 h; the parts add up to the whole."""
        events = [ev("VM.CREATE", T0 - 12 * HOUR), ev("VM.STOP", T0 + timedelta(days=31, hours=12))]
        months = [BillingPeriod.month(2026, m) for m in (9, 10, 11)]
        parts = [hours(vm_hours_from_events(events, p), "running_vm_seconds") for p in months]
        assert parts == [12, 744, 12]
        whole = BillingPeriod(months[0].start, months[-1].end)
        assert hours(vm_hours_from_events(events, whole), "running_vm_seconds") == sum(parts)

    def test_events_after_the_period_only_check_the_sequence(self):
        got = vm_hours_from_events([ev("VM.CREATE", T0 + timedelta(days=40))], OCTOBER)
        assert got.records == ()


class TestProblems:
    def test_every_inconsistent_event_is_reported_at_once(self):
        """A stop without a start, a start of a running VM, a destroy of a VM never
        created, an upgrade of a destroyed VM: each at its index, with the VM and instant."""
        events = [
            ev("VM.STOP", T0, vm="a"),
            ev("VM.CREATE", T0, vm="b"),
            ev("VM.START", T0 + HOUR, vm="b"),
            ev("VM.DESTROY", T0, vm="c"),
            ev("VM.CREATE", T0, vm="d", state="Created"),
            ev("VM.DESTROY", T0 + HOUR, vm="d"),
            ev("VM.UPGRADE", T0 + 2 * HOUR, vm="d"),
        ]
        with pytest.raises(ConfigError) as caught:
            vm_hours_from_events(events, OCTOBER)
        problems = caught.value.problems
        assert [(p.path, p.code) for p in problems] == [
            ("event[0]", "vm_event_order"),
            ("event[2]", "vm_event_order"),
            ("event[3]", "vm_event_order"),
            ("event[6]", "vm_event_order"),
        ]
        assert "VM.STOP of a VM that is absent, not running" in problems[0].message
        assert "(VM a)" in problems[0].message
        assert "VM.START of a VM that is running, not stopped" in problems[1].message
        reported = vm_hours_from_events(events, OCTOBER, on_error="report")
        assert len(reported.problems) == 4
        assert hours(reported, "running_vm_seconds", "b") == 744  # the misfit is left out

    @pytest.mark.parametrize(
        ("event", "path", "message"),
        [
            (
                {"type": "VM.START", "created": "2026-10-01T00:00:00+0000", "account": "a"},
                "event[0].resourceid",
                "missing",
            ),
            (
                ev("VM.START", T0) | {"created": "yesterday"},
                "event[0].created",
                "not a CloudStack date",
            ),
            (
                ev("VM.START", T0) | {"created": "2026-10-01T00:00:00"},
                "event[0].created",
                "no UTC offset",
            ),
            (
                ev("VM.START", T0) | {"account": None, "domain": None},
                "event[0].account",
                "no value",
            ),
            ("VM.START", "event[0]", "expected an object"),
        ],
    )
    def test_unreadable_events(self, event, path, message):
        with pytest.raises(ConfigError) as caught:
            vm_hours_from_events([event], OCTOBER)
        [problem] = caught.value.problems
        assert (problem.path, problem.code) == (path, "bad_event")
        assert message in problem.message

    def test_an_event_id_with_two_contents(self):
        with pytest.raises(ConfigError, match="also event\\[0\\]"):
            vm_hours_from_events(
                [ev("VM.CREATE", T0, id="e1"), ev("VM.STOP", T0, id="e1")], OCTOBER
            )

    def test_bad_before(self):
        with pytest.raises(ConfigError) as caught:
            vm_hours_from_events(
                [], OCTOBER, before=[{"id": "vm-1", "state": "Migrating"}, {"state": "Running"}, 3]
            )
        assert [(p.path, p.code) for p in caught.value.problems] == [
            ("before[0].state", "bad_event"),
            ("before[1].id", "bad_event"),
            ("before[2]", "bad_event"),
        ]

    def test_bad_documents(self, tmp_path):
        with pytest.raises(ConfigError) as caught:
            vm_hours_from_events("{not json", OCTOBER)
        assert caught.value.problems[0].code == "bad_json"
        with pytest.raises(ConfigError) as caught:
            vm_hours_from_events(tmp_path / "missing.json", OCTOBER)
        assert caught.value.problems[0].code == "unreadable"
        with pytest.raises(Exception, match="error 431"):
            vm_hours_from_events(
                {"listeventsresponse": {"errorcode": 431, "errortext": "x"}}, OCTOBER
            )
        with pytest.raises(Exception, match="on_error"):
            vm_hours_from_events([], OCTOBER, on_error="ignore")  # type: ignore[arg-type]


# --- properties --------------------------------------------------------------------------

#: The moves of a lifecycle from each state: (event type, state of the event, new state).
MOVES = {
    "absent": [("VM.CREATE", "Created", "stopped"), ("VM.CREATE", "Completed", "running")],
    "stopped": [
        ("VM.START", "Completed", "running"),
        ("VM.DESTROY", "Completed", "destroyed"),
        ("VM.UPGRADE", "Completed", "stopped"),
    ],
    "running": [
        ("VM.STOP", "Completed", "stopped"),
        ("VM.DESTROY", "Completed", "destroyed"),
        ("VM.DYNAMIC.SCALE", "Completed", "running"),
    ],
    "destroyed": [("VM.RECOVER", "Completed", "stopped"), ("VM.EXPUNGE", "Completed", "destroyed")],
}


@st.composite
def lifecycles(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[datetime, str]]]:
    """A valid sequence of one VM's events, around October 2026, and its states in time."""
    state, at = "absent", T0 - timedelta(hours=draw(st.integers(0, 48)))
    events, states = [], []
    for _ in range(draw(st.integers(1, 10))):
        kind, phase, state = draw(st.sampled_from(MOVES[state]))
        at += timedelta(seconds=draw(st.sampled_from((1, 3600, 86400, 7 * 86400 + 7))))
        events.append(ev(kind, at, state=phase))
        states.append((at, state))
    return events, states


def _integrate(
    states: list[tuple[datetime, str]], period: BillingPeriod, wanted: set[str]
) -> Decimal:
    """Seconds of *period* the VM spent in a state of *wanted*: its state between each
    event and the next (after the last, to the period's end)."""
    total = timedelta(0)
    ends = [t for t, _ in states[1:]] + [period.end]
    for (start, state), end in zip(states, ends, strict=True):
        if state in wanted:
            low, high = max(start, period.start), min(end, period.end)
            if high > low:
                total += high - low
    return D(total // timedelta(seconds=1))


@settings(max_examples=150, deadline=None)
@given(lifecycles(), st.randoms())
def test_time_is_the_state_integrated_in_any_event_order(lifecycle, rnd):
    events, states = lifecycle
    shuffled = list(events)
    rnd.shuffle(shuffled)
    got = vm_hours_from_events(shuffled, OCTOBER)
    assert got == vm_hours_from_events(events, OCTOBER)
    running = _integrate(states, OCTOBER, {"running"})
    allocated = _integrate(states, OCTOBER, {"running", "stopped"})
    assert seconds(got, "running_vm_seconds") == running
    assert seconds(got, "allocated_vm_seconds") == allocated
    for record in got.records:
        assert OCTOBER.start <= record.start < record.end <= OCTOBER.end


@settings(max_examples=60, deadline=None)
@given(lifecycles(), st.sampled_from(((2026, 9), (2026, 11), (2028, 2))))
def test_adjacent_periods_add_up(lifecycle, month):
    """The time of two adjacent months is the time of the two together."""
    events, _ = lifecycle
    first = BillingPeriod.month(*month)
    second = BillingPeriod(first.end, first.end + timedelta(days=30))
    both = BillingPeriod(first.start, second.end)
    for metric in ("running_vm_seconds", "allocated_vm_seconds"):
        parts = [seconds(vm_hours_from_events(events, p), metric) for p in (first, second)]
        assert sum(parts) == seconds(vm_hours_from_events(events, both), metric)


@settings(max_examples=60, deadline=None)
@given(st.permutations([ev("VM.CREATE", T0), ev("VM.STOP", T0 + HOUR), ev("VM.START", T0 + HOUR)]))
def test_a_stop_and_start_in_one_second_is_a_restart(events):
    """Events of one instant are applied in the order that fits the VM's state."""
    got = vm_hours_from_events(events, OCTOBER)
    assert hours(got, "running_vm_seconds") == 744
    assert got.problems == ()
