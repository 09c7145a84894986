"""The dunning run on the stored invoices (SQLite and a real PostgreSQL): each reminder
written once, payments stop them, suspension through the account's state, reruns write
nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
from cloudrate.accounts import DunningSchedule
from cloudrate.billing import (
    BillingRun,
    DocumentStore,
    find_event,
    record_account_state,
    run_dunning,
    start_payment,
    succeed_payment,
)
from cloudrate.exceptions import BillingError

SCHEDULE = DunningSchedule(reminders=(3, 7, 14), suspend_after=21)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


@pytest.fixture(name="billed")
def _billed(store: DocumentStore) -> DocumentStore:
    """The sample period billed: INV-2026-0001 acme 235.89, -0002 globex 526.94, -0003
    initech 25.00, all issued 1 November and due 1 December 2026."""
    plan, usage = load_plan(sample_plan_path()), list(read_usage(sample_usage_path()))
    BillingRun(store=store).bill(rate(plan, usage))
    return store


def _written(events) -> list[tuple[str, str]]:
    return [(e.type, e.subject) for e in events]


class TestRunDunning:
    def test_nothing_before_the_first_reminder_day(self, billed):
        """On the due date and two days after: nothing."""
        assert run_dunning(billed, SCHEDULE, _at(date(2026, 12, 1))) == ()
        assert run_dunning(billed, SCHEDULE, _at(date(2026, 12, 3))) == ()

    def test_first_reminders_are_written_once(self, billed):
        """Day 3 (4 December): reminder 1 of each invoice; again the same day or the next:
        nothing new."""
        events = run_dunning(billed, SCHEDULE, _at(date(2026, 12, 4)))
        assert _written(events) == [
            ("invoice.reminder", "INV-2026-0001/1"),
            ("invoice.reminder", "INV-2026-0002/1"),
            ("invoice.reminder", "INV-2026-0003/1"),
        ]
        assert events[1].data == {
            "customer": "globex",
            "invoice": "INV-2026-0002",
            "reminder": 1,
            "days_overdue": 3,
            "due_on": "2026-12-01",
            "amount_due": "526.94",
            "currency": "EUR",
        }
        assert events[1].at == "2026-12-04T09:00:00+00:00"
        assert run_dunning(billed, SCHEDULE, _at(date(2026, 12, 4))) == ()
        assert run_dunning(billed, SCHEDULE, _at(date(2026, 12, 5))) == ()
        stored = find_event(billed, "invoice.reminder", "INV-2026-0003/1")
        assert stored is not None and stored.data["amount_due"] == "25.00"

    def test_payments_stop_reminders_and_reduce_what_is_due(self, billed):
        """acme pays in full and gets no reminder 2; globex pays 200.00 of 526.94 and is
        reminded of 326.94."""
        pay_day = date(2026, 12, 5)
        start_payment(billed, "INV-2026-0001", key="pay-acme", on=pay_day)
        succeed_payment(billed, "pay-acme", on=pay_day)
        start_payment(billed, "INV-2026-0002", key="pay-globex", on=pay_day, amount="200.00")
        succeed_payment(billed, "pay-globex", on=pay_day)
        events = run_dunning(billed, SCHEDULE, _at(date(2026, 12, 8)))
        assert _written(events) == [
            ("invoice.reminder", "INV-2026-0002/2"),
            ("invoice.reminder", "INV-2026-0003/2"),
        ]
        assert events[0].data["amount_due"] == "326.94"
        assert events[0].data["days_overdue"] == 7

    def test_a_missed_day_sends_only_the_current_reminder(self, billed):
        """First run on day 8: reminder 2, not 1 and 2."""
        events = run_dunning(billed, SCHEDULE, _at(date(2026, 12, 9)))
        assert {e.subject.split("/")[1] for e in events} == {"2"}

    def test_suspension_after_21_days_once(self, billed):
        """Day 21 (22 December): reminder 3 and account.suspended for each account (acme
        paid and gets neither); again: nothing; the day after: nothing."""
        start_payment(billed, "INV-2026-0001", key="pay-acme", on=date(2026, 12, 2))
        succeed_payment(billed, "pay-acme", on=date(2026, 12, 2))
        now = _at(date(2026, 12, 22))
        events = run_dunning(billed, SCHEDULE, now)
        assert _written(events) == [
            ("invoice.reminder", "INV-2026-0002/3"),
            ("invoice.reminder", "INV-2026-0003/3"),
            ("account.suspended", "globex/2026-12-22T09:00:00+00:00"),
            ("account.suspended", "initech/2026-12-22T09:00:00+00:00"),
        ]
        suspended = events[2].data
        assert suspended["account"] == "globex" and suspended["state"] == "suspended"
        assert suspended["invoice"] == "INV-2026-0002" and suspended["days_overdue"] == 21
        assert run_dunning(billed, SCHEDULE, now) == ()
        assert run_dunning(billed, SCHEDULE, _at(date(2026, 12, 23))) == ()

    def test_an_account_already_suspended_is_not_suspended_again(self, billed):
        """The outbox already reports initech suspended (by its wallet, say): no second
        account.suspended; once reported active again, dunning suspends it again."""
        record_account_state(billed, "initech", "suspended", at="2026-12-20")
        events = run_dunning(billed, SCHEDULE, _at(date(2026, 12, 22)))
        assert ("account.suspended", "initech/2026-12-22T09:00:00+00:00") not in _written(events)
        record_account_state(billed, "initech", "active", at="2026-12-23")
        again = run_dunning(billed, SCHEDULE, _at(date(2026, 12, 24)))
        assert _written(again) == [("account.suspended", "initech/2026-12-24T09:00:00+00:00")]

    def test_another_tenant_sees_nothing(self, billed):
        assert run_dunning(billed, SCHEDULE, _at(date(2026, 12, 22)), tenant="other") == ()

    def test_bad_arguments_say_the_fix(self, billed):
        with pytest.raises(BillingError, match="schedule: expected a DunningSchedule"):
            run_dunning(billed, (3, 7), _at(date(2026, 12, 4)))  # type: ignore[arg-type]
        with pytest.raises(BillingError, match="has no timezone"):
            run_dunning(billed, SCHEDULE, datetime(2026, 12, 4))
