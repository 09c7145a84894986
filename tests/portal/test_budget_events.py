"""Budget alerts kept as budget.threshold_reached events in the billing document store
(SQLite and a real PostgreSQL): one event per threshold and period, the figures with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from moneyed import Money

import cloudrate
from cloudrate.billing import DocumentStore, open_store
from cloudrate.exceptions import BillingError
from cloudrate.portal.budget import (
    AlertLog,
    AlertStore,
    Budget,
    DocumentAlertStore,
    InMemoryAlertStore,
    check_budget,
)

OCT = cloudrate.BillingPeriod.month(2026, 10)
NOV = cloudrate.BillingPeriod.month(2026, 11)
BUDGET = Budget(account="acme", amount=Money("100", "EUR"), recipients=["ops@acme.example"])
ACTUAL = Budget(account="acme", amount=Money("100", "EUR"), use_forecast=False)


def at(day: int, period: cloudrate.BillingPeriod = OCT) -> datetime:
    return period.start.replace(day=day)


@pytest.fixture(name="open_new", params=["sqlite", "postgres"])
def _open_new(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], DocumentStore]]:
    """Opens store objects on one fresh database: an SQLite file or a PostgreSQL database."""
    if request.param == "postgres":
        location = str(request.getfixturevalue("postgres_database"))
    else:
        location = str(tmp_path / "billing.db")
    opened: list[DocumentStore] = []

    def new() -> DocumentStore:
        opened.append(open_store(location))
        return opened[-1]

    yield new
    for store in opened:
        store.close()


@pytest.fixture(name="documents")
def _documents(open_new: Callable[[], DocumentStore]) -> DocumentStore:
    return open_new()


def _subjects(documents: DocumentStore) -> list[str]:
    return [e.subject for e in documents.events() if e.type == "budget.threshold_reached"]


def test_a_threshold_reached_writes_one_event_with_its_figures(documents):
    """The first check past 50 % writes its event; later checks of the period write none;
    the next period starts afresh."""
    alerts = DocumentAlertStore(documents)
    assert check_budget(ACTUAL, OCT, Money("49.99", "EUR"), at(20), alerts) == ()
    assert documents.events() == ()
    first = check_budget(ACTUAL, OCT, Money("50.00", "EUR"), at(20), alerts)
    assert [a.threshold for a in first] == [50]
    assert _subjects(documents) == ["acme/2026-10/50"]
    event = documents.events()[0]
    assert event.at == at(20).isoformat()
    assert event.data == {
        "account": "acme",
        "period": "2026-10",
        "threshold": "50",
        "basis": "actual",
        "month_to_date": "50.00",
        "forecast": str(first[0].forecast.amount),
        "budget": "100",
        "currency": "EUR",
    }
    assert check_budget(ACTUAL, OCT, Money("60.00", "EUR"), at(25), alerts) == ()
    assert len(documents.events()) == 1
    check_budget(ACTUAL, OCT, Money("120.00", "EUR"), at(31), alerts)
    check_budget(ACTUAL, NOV, Money("50.00", "EUR"), at(2, NOV), alerts)
    assert _subjects(documents) == [
        "acme/2026-10/50",
        "acme/2026-10/80",
        "acme/2026-10/100",
        "acme/2026-11/50",
    ]


def test_forecast_alerts_say_so(documents):
    """Forecast alerts have subjects of their own; the thresholds reached later get the
    plain subjects, so both are in the outbox."""
    alerts = DocumentAlertStore(documents)
    check_budget(BUDGET, OCT, Money("10", "EUR"), at(4), alerts)
    assert [(e.subject, e.data["basis"]) for e in documents.events()] == [
        ("acme/2026-10/50/forecast", "forecast"),
        ("acme/2026-10/80/forecast", "forecast"),
        ("acme/2026-10/100/forecast", "forecast"),
    ]
    reached = check_budget(BUDGET, OCT, Money("80", "EUR"), at(25), alerts)
    assert [(a.threshold, a.basis) for a in reached] == [(50, "actual"), (80, "actual")]
    assert [(e.subject, e.data["basis"]) for e in documents.events()][3:] == [
        ("acme/2026-10/50", "actual"),
        ("acme/2026-10/80", "actual"),
    ]
    assert check_budget(BUDGET, OCT, Money("80", "EUR"), at(26), alerts) == ()


def test_a_forecast_event_from_before_the_split_still_counts(documents):
    """An outbox from before: a forecast alert under the plain subject. It counts as the
    threshold's forecast alert, and the actual alert goes under ``.../actual``."""
    from cloudrate.billing import record_event

    record_event(
        documents,
        "budget.threshold_reached",
        "acme/2026-10/100",
        at=at(4).isoformat(),
        data={"account": "acme", "period": "2026-10", "threshold": "100", "basis": "forecast"},
    )
    alerts = DocumentAlertStore(documents)
    budget = Budget(account="acme", amount=Money("100", "EUR"), thresholds=[100])
    assert alerts.was_sent(("acme", "2026-10", "100", "forecast"))
    assert not alerts.was_sent(("acme", "2026-10", "100", "actual"))
    assert check_budget(budget, OCT, Money("60", "EUR"), at(11), alerts) == ()  # forecast: sent
    [reached] = check_budget(budget, OCT, Money("100", "EUR"), at(28), alerts)
    assert reached.basis == "actual"
    assert _subjects(documents) == ["acme/2026-10/100", "acme/2026-10/100/actual"]
    assert check_budget(budget, OCT, Money("110", "EUR"), at(29), alerts) == ()


def test_another_process_sees_what_was_marked(open_new):
    """Every worker that checks reads the same outbox: the second sends nothing."""
    sent: list[object] = []
    first = DocumentAlertStore(open_new())
    check_budget(ACTUAL, OCT, Money("55", "EUR"), at(20), first, sent.append)
    second = DocumentAlertStore(open_new())
    assert check_budget(ACTUAL, OCT, Money("55", "EUR"), at(21), second, sent.append) == ()
    assert len(sent) == 1


def test_a_failed_send_writes_no_event_and_is_retried(documents):
    """The event is written only after the callback returns."""
    alerts = DocumentAlertStore(documents)

    def fail(alert: object) -> None:
        raise OSError("smtp down")

    with pytest.raises(OSError, match="smtp down"):
        check_budget(ACTUAL, OCT, Money("50", "EUR"), at(20), alerts, fail)
    assert documents.events() == ()
    assert len(check_budget(ACTUAL, OCT, Money("50", "EUR"), at(21), alerts)) == 1
    assert documents.events()[0].at == at(21).isoformat()


def test_mark_sent_by_key_alone_is_dated_by_the_period(documents):
    """The AlertStore protocol's mark_sent works too, with what the key says."""
    alerts = DocumentAlertStore(documents)
    key = ("acme", "2026-10", "80", "actual")
    assert not alerts.was_sent(key)
    alerts.mark_sent(key)
    alerts.mark_sent(key)
    assert alerts.was_sent(key)
    assert not alerts.was_sent(("acme", "2026-10", "80", "forecast"))
    data = {"account": "acme", "period": "2026-10", "threshold": "80", "basis": "actual"}
    assert [(e.subject, e.at, e.data) for e in documents.events()] == [
        ("acme/2026-10/80", "2026-10", data)
    ]
    assert [a.threshold for a in check_budget(ACTUAL, OCT, Money("90", "EUR"), at(20), alerts)] == [
        50
    ]


def test_tenants_are_apart(documents):
    a, b = DocumentAlertStore(documents, tenant="a"), DocumentAlertStore(documents, tenant="b")
    check_budget(ACTUAL, OCT, Money("50", "EUR"), at(20), a)
    assert not b.was_sent(("acme", "2026-10", "50", "actual"))
    assert len(check_budget(ACTUAL, OCT, Money("50", "EUR"), at(20), b)) == 1
    assert [e.tenant for e in documents.events()] == ["a", "b"]


def test_it_is_an_alert_log_and_the_memory_store_is_not(documents):
    """check_budget gives the whole alert to an AlertLog; other stores get the key."""
    assert isinstance(DocumentAlertStore(documents), AlertLog)
    assert isinstance(DocumentAlertStore(documents), AlertStore)
    assert not isinstance(InMemoryAlertStore(), AlertLog)


def test_only_a_document_store_is_accepted():
    with pytest.raises(BillingError, match="expected a billing DocumentStore"):
        DocumentAlertStore(InMemoryAlertStore())  # type: ignore[arg-type]
