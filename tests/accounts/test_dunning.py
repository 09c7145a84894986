"""The dunning schedule: the latest reminder an unpaid invoice has reached, and suspension of
its account once the most overdue invoice is far enough past due."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from moneyed import Money

from cloudrate.accounts import DunningInvoice, DunningSchedule, DunningStep, dunning_steps
from cloudrate.exceptions import PlanError

DUE = date(2026, 11, 1)
SCHEDULE = DunningSchedule(reminders=(3, 7, 14), suspend_after=21)


def eur(text: str) -> Money:
    return Money(text, "EUR")


def _steps(invoices, on: date) -> list[tuple[str, str]]:
    return [(s.action, s.subject) for s in SCHEDULE.steps(invoices, on)]


class TestDunningSchedule:
    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2026, 11, 1), []),  # the due date: day 0
            (date(2026, 11, 3), []),  # day 2
            (date(2026, 11, 4), [("reminder", "INV-1/1")]),  # day 3
            (date(2026, 11, 7), [("reminder", "INV-1/1")]),  # day 6
            (date(2026, 11, 8), [("reminder", "INV-1/2")]),  # day 7
            (date(2026, 11, 15), [("reminder", "INV-1/3")]),  # day 14
            (date(2026, 11, 21), [("reminder", "INV-1/3")]),  # day 20
            (date(2026, 11, 22), [("reminder", "INV-1/3"), ("suspend", "acme")]),  # day 21
        ],
    )
    def test_days_after_due(self, on, expected):
        """Reminder n on its day and until the next; suspension from day 21 on."""
        invoice = DunningInvoice("acme", "INV-1", DUE, eur("9.00"))
        assert _steps([invoice], on) == expected

    def test_the_step_carries_what_the_event_needs(self):
        invoice = DunningInvoice("acme", "INV-1", DUE, eur("9.00"))
        [step] = SCHEDULE.steps([invoice], date(2026, 11, 9))
        assert step == DunningStep(
            action="reminder",
            account="acme",
            invoice="INV-1",
            days_overdue=8,
            due=DUE,
            outstanding=eur("9.00"),
            reminder=2,
        )

    def test_nothing_outstanding_nothing_due(self):
        """A paid invoice gets no reminder and suspends nothing."""
        paid = DunningInvoice("acme", "INV-1", DUE, eur("0.00"))
        assert _steps([paid], date(2026, 12, 31)) == []

    def test_one_suspension_per_account_for_its_most_overdue_invoice(self):
        """Two late invoices of acme: a reminder each, one suspension naming the older
        (due 1 November, 22 days); globex's 14 days give only a reminder."""
        invoices = [
            DunningInvoice("globex", "INV-3", date(2026, 11, 9), eur("5.00")),
            DunningInvoice("acme", "INV-2", date(2026, 11, 15), eur("5.00")),
            DunningInvoice("acme", "INV-1", DUE, eur("9.00")),
        ]
        steps = SCHEDULE.steps(invoices, date(2026, 11, 23))
        assert [(s.action, s.subject, s.days_overdue) for s in steps] == [
            ("reminder", "INV-1/3", 22),
            ("reminder", "INV-2/2", 8),
            ("suspend", "acme", 22),
            ("reminder", "INV-3/3", 14),
        ]
        assert steps[2].invoice == "INV-1"

    def test_without_suspension(self):
        schedule = DunningSchedule(reminders=(1,), suspend_after=None)
        invoice = DunningInvoice("acme", "INV-1", DUE, eur("9.00"))
        assert [s.subject for s in schedule.steps([invoice], date(2027, 6, 1))] == ["INV-1/1"]

    def test_days_count_in_the_timezone(self):
        """23:30 UTC on 3 November is 4 November in Berlin: day 3 there, not yet in UTC."""
        invoice = DunningInvoice("acme", "INV-1", DUE, eur("9.00"))
        now = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
        assert SCHEDULE.steps([invoice], now) == ()
        berlin = DunningSchedule(timezone="Europe/Berlin")
        assert [s.subject for s in berlin.steps([invoice], now)] == ["INV-1/1"]

    def test_invoice_objects_are_adapted(self):
        """Any object with number, due_on, amount_due and a customer with an id will do;
        drafts are skipped."""

        class Customer:
            id = "acme"

        class Invoice:
            number, state, customer = "INV-7", "issued", Customer()
            due_on, amount_due = DUE, eur("9.00")

        class Draft(Invoice):
            state = "draft"

        assert _steps([Invoice(), Draft()], date(2026, 11, 4)) == [("reminder", "INV-7/1")]

    def test_an_invoice_without_account_is_refused(self):
        class Invoice:
            number, due, outstanding = "INV-7", DUE, eur("9.00")

        with pytest.raises(PlanError, match="invoice 'INV-7': dunning needs the account"):
            SCHEDULE.steps([Invoice()], date(2026, 11, 4))

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"reminders": (7, 3)}, "days must rise, each once"),
            ({"reminders": (3, 3)}, "days must rise, each once"),
            ({"reminders": (0, 3)}, r"reminders\[0\]: expected a whole number of days"),
            ({"reminders": "3"}, "expected days such as"),
            ({"suspend_after": 0}, "suspend_after: expected a whole number"),
            ({"timezone": "Nowhere"}, "'Nowhere' is not an IANA timezone"),
        ],
    )
    def test_bad_schedules_say_the_fix(self, kwargs, message):
        with pytest.raises(PlanError, match=message):
            DunningSchedule(**kwargs)

    def test_naive_now_is_refused(self):
        with pytest.raises(PlanError, match="has no timezone"):
            SCHEDULE.steps([], datetime(2026, 11, 4))

    def test_dunning_steps_defaults_to_3_7_14_and_21(self):
        invoice = DunningInvoice("acme", "INV-1", DUE, eur("9.00"))
        assert [s.subject for s in dunning_steps([invoice], date(2026, 11, 22))] == [
            "INV-1/3",
            "acme",
        ]
        assert DunningSchedule().to_dict() == {
            "reminders": [3, 7, 14],
            "suspend_after": 21,
            "timezone": "UTC",
        }
