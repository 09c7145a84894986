"""Budget alerts: thresholds, forecast, no repeats per period, and sending by SMTP."""

from __future__ import annotations

import socketserver
import threading
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.portal.budget import (
    DEFAULT_FORECAST_AFTER,
    Budget,
    InMemoryAlertStore,
    SmtpSender,
    SQLiteAlertStore,
    check_budget,
    forecast_month_end,
)

OCT = cloudrate.BillingPeriod.month(2026, 10)
NOV = cloudrate.BillingPeriod.month(2026, 11)
BUDGET = Budget(account="acme", amount=Money("100", "EUR"), recipients=["ops@acme.example"])


def at(day: int, period=OCT) -> datetime:
    return period.start.replace(day=day)


def thresholds(alerts):
    return [(int(a.threshold), a.basis) for a in alerts]


def test_actual_thresholds_in_order_without_forecast():
    budget = Budget(account="acme", amount=Money("100", "EUR"), use_forecast=False)
    store = InMemoryAlertStore()
    assert check_budget(budget, OCT, Money("49.99", "EUR"), at(30), store) == ()
    assert thresholds(check_budget(budget, OCT, Money("50", "EUR"), at(30), store)) == [
        (50, "actual")
    ]
    assert thresholds(check_budget(budget, OCT, Money("120", "EUR"), at(31), store)) == [
        (80, "actual"),
        (100, "actual"),
    ]


def test_forecast_warns_early_and_each_threshold_once():
    """10 EUR by day 3 of 31 forecasts 103.33: all three thresholds, by forecast. 100 EUR
    on day 20 then reaches all three: each gets its "reached" alert too, once; the next
    month starts afresh."""
    store, sent = InMemoryAlertStore(), []
    first = check_budget(BUDGET, OCT, Money("10", "EUR"), at(4), store, sent.append)
    assert thresholds(first) == [(50, "forecast"), (80, "forecast"), (100, "forecast")]
    reached = check_budget(BUDGET, OCT, Money("100", "EUR"), at(20), store, sent.append)
    assert thresholds(reached) == [(50, "actual"), (80, "actual"), (100, "actual")]
    assert check_budget(BUDGET, OCT, Money("120", "EUR"), at(25), store, sent.append) == ()
    assert len(sent) == 6
    nov = check_budget(BUDGET, NOV, Money("60", "EUR"), at(30, NOV), store, sent.append)
    assert thresholds(nov)[0] == (50, "actual")


def test_failed_send_is_retried():
    store, calls = InMemoryAlertStore(), []

    def flaky(alert):
        calls.append(alert.key)
        if len(calls) == 1:
            raise ConnectionError("smtp down")

    budget = Budget(account="acme", amount=Money("100", "EUR"), thresholds=[50])
    with pytest.raises(ConnectionError):
        check_budget(budget, OCT, Money("60", "EUR"), at(30), store, flaky)
    assert len(check_budget(budget, OCT, Money("60", "EUR"), at(30), store, flaky)) == 1


@given(st.decimals(min_value=0, max_value=10**6, places=2), st.integers(min_value=1, max_value=31))
def test_forecast_is_the_pace_so_far(mtd, day):
    """forecast x elapsed = month-to-date x period length, exactly."""
    now = at(day)
    fc = forecast_month_end(Money(mtd, "EUR"), OCT, now).amount
    elapsed = cloudrate.period.seconds_between(OCT.start, now)
    assert fc == mtd if elapsed == 0 else fc * elapsed == mtd * OCT.seconds


def test_bad_budgets():
    with pytest.raises(cloudrate.PlanError, match="email"):
        Budget(account="a", amount=Money("1", "EUR"), recipients=["not-an-address"])
    with pytest.raises(cloudrate.PlanError, match="ascending"):
        Budget(account="a", amount=Money("1", "EUR"), thresholds=[80, 50])
    with pytest.raises(cloudrate.CurrencyMismatchError):
        check_budget(BUDGET, OCT, Money("1", "USD"), at(2), InMemoryAlertStore())


class FakeSMTP:
    sent: list = []  # noqa: RUF012 - messages captured across instances

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.tls = True

    def login(self, user, password):
        self.user = user

    def send_message(self, msg):
        FakeSMTP.sent.append(msg)


def test_smtp_sender_with_a_fake_smtp_class():
    sender = SmtpSender(
        host="mail.example",
        sender="billing@example.com",
        smtp_class=FakeSMTP,
        starttls=True,
        username="u",
        password="p",
    )
    check_budget(BUDGET, OCT, Money("90", "EUR"), at(30), InMemoryAlertStore(), sender)
    subjects = [m["Subject"] for m in FakeSMTP.sent]
    assert any("reached 80%" in s for s in subjects)
    assert FakeSMTP.sent[0]["To"] == "ops@acme.example"


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 localhost test SMTP\r\n")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                self.server.messages.append(b"".join(data).decode())
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_smtp_sender_against_a_local_server():
    """A real smtplib session with an SMTP server on 127.0.0.1 in this process."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler) as server:
        server.messages = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            sender = SmtpSender(
                host="127.0.0.1",
                port=server.server_address[1],
                sender="billing@example.com",
                timeout=5,
            )
            budget = Budget(
                account="acme",
                amount=Money("100", "EUR"),
                thresholds=[100],
                recipients=["a@acme.example", "b@acme.example"],
            )
            check_budget(budget, OCT, Money("100.00", "EUR"), at(31), InMemoryAlertStore(), sender)
        finally:
            server.shutdown()
    (message,) = server.messages
    assert "Budget alert: acme has reached 100%" in message
    assert "Month-to-date cost: 100.00 EUR" in message
    assert "To: a@acme.example, b@acme.example" in message


def test_sqlite_alert_store_remembers_across_connections(tmp_path):
    path = tmp_path / "alerts.sqlite"
    first = SQLiteAlertStore(path)
    assert len(check_budget(BUDGET, OCT, Money("60", "EUR"), at(31), first)) == 1
    first.close()
    again = SQLiteAlertStore(path)
    assert check_budget(BUDGET, OCT, Money("60", "EUR"), at(31), again) == ()
    again.close()


class TestForecastAfter:
    """The forecast alerts only once ``forecast_after`` of the period has gone."""

    def test_one_hour_forecasts_nothing_by_default(self):
        """1 EUR in the first hour extrapolates to 744 EUR: by default no alert yet."""
        one_hour = OCT.start + timedelta(hours=1)
        assert forecast_month_end(Money("1", "EUR"), OCT, one_hour).amount == 744
        assert check_budget(BUDGET, OCT, Money("1", "EUR"), one_hour, InMemoryAlertStore()) == ()

    def test_zero_forecasts_from_the_first_hour(self):
        """forecast_after=timedelta(0) is the earlier behaviour: every threshold at once."""
        eager = Budget(account="acme", amount=Money("100", "EUR"), forecast_after=timedelta(0))
        one_hour = OCT.start + timedelta(hours=1)
        alerts = check_budget(eager, OCT, Money("1", "EUR"), one_hour, InMemoryAlertStore())
        assert thresholds(alerts) == [(50, "forecast"), (80, "forecast"), (100, "forecast")]

    def test_the_default_is_three_days_to_the_second(self):
        """At 3 days less a second nothing; at 3 days the forecast (10 x 31 / 3 = 103.33)
        alerts."""
        assert BUDGET.forecast_after == DEFAULT_FORECAST_AFTER == timedelta(days=3)
        store = InMemoryAlertStore()
        early = at(4) - timedelta(seconds=1)
        assert check_budget(BUDGET, OCT, Money("10", "EUR"), early, store) == ()
        assert len(check_budget(BUDGET, OCT, Money("10", "EUR"), at(4), store)) == 3

    def test_actual_alerts_do_not_wait(self):
        """The month-to-date cost reaching a threshold alerts at any time."""
        one_hour = OCT.start + timedelta(hours=1)
        alerts = check_budget(BUDGET, OCT, Money("55", "EUR"), one_hour, InMemoryAlertStore())
        assert thresholds(alerts) == [(50, "actual")]

    def test_a_week_for_a_cautious_host(self):
        weekly = Budget(account="acme", amount=Money("100", "EUR"), forecast_after=timedelta(7))
        store = InMemoryAlertStore()
        assert check_budget(weekly, OCT, Money("30", "EUR"), at(7), store) == ()
        # 30 EUR after 7 days forecasts 30 x 31 / 7 = 132.86: all three
        assert len(check_budget(weekly, OCT, Money("30", "EUR"), at(8), store)) == 3

    @pytest.mark.parametrize("bad", [timedelta(hours=-1), 3, "3 days", None])
    def test_bad_forecast_after(self, bad):
        with pytest.raises(cloudrate.PlanError, match=r"forecast_after: .*timedelta\(days=3\)"):
            Budget(account="a", amount=Money("1", "EUR"), forecast_after=bad)


class TestForecastAndActualApart:
    """A forecast alert and the actual alert of one threshold are two keys."""

    def test_the_keys_differ_by_basis(self):
        store = InMemoryAlertStore()
        [forecast] = check_budget(
            Budget(account="acme", amount=Money("100", "EUR"), thresholds=[100]),
            OCT,
            Money("40", "EUR"),
            at(11),  # 40 x 31 / 10 = 124
            store,
        )
        assert forecast.key == ("acme", "2026-10", "100", "forecast")
        assert (
            forecast.subject()
            == "Budget alert: acme is forecast to reach 100% of its 2026-10 budget"
        )
        assert store.was_sent(forecast.key) and not store.was_sent(
            ("acme", "2026-10", "100", "actual")
        )

    def test_reached_after_forecast_still_alerts(self):
        """The case that used to be lost: forecast on day 11, reached on day 28."""
        budget = Budget(account="acme", amount=Money("100", "EUR"), thresholds=[100])
        store, sent = InMemoryAlertStore(), []
        check_budget(budget, OCT, Money("40", "EUR"), at(11), store, sent.append)
        check_budget(budget, OCT, Money("99.99", "EUR"), at(27), store, sent.append)
        check_budget(budget, OCT, Money("100.00", "EUR"), at(28), store, sent.append)
        assert [(a.basis, str(a.month_to_date.amount)) for a in sent] == [
            ("forecast", "40"),
            ("actual", "100.00"),
        ]
        assert sent[1].subject() == "Budget alert: acme has reached 100% of its 2026-10 budget"

    def test_reached_first_sends_no_forecast_afterwards(self):
        """Once the cost has reached a threshold, a forecast of it says nothing new."""
        store, sent = InMemoryAlertStore(), []
        # day 20 (19 days gone): 50 reached; 50 x 31 / 19 = 81.58 forecasts 80
        first = check_budget(BUDGET, OCT, Money("50", "EUR"), at(20), store, sent.append)
        assert thresholds(first) == [(50, "actual"), (80, "forecast")]
        # day 21 (20 days gone): 85 reaches 80; 85 x 31 / 20 = 131.75 forecasts 100
        second = check_budget(BUDGET, OCT, Money("85", "EUR"), at(21), store, sent.append)
        assert thresholds(second) == [(80, "actual"), (100, "forecast")]
        last = check_budget(BUDGET, OCT, Money("100", "EUR"), at(31), store, sent.append)
        assert thresholds(last) == [(100, "actual")]
        assert (50, "forecast") not in thresholds(sent)

    def test_without_forecast_only_actual(self):
        budget = Budget(account="acme", amount=Money("100", "EUR"), use_forecast=False)
        store = InMemoryAlertStore()
        assert check_budget(budget, OCT, Money("49", "EUR"), at(5), store) == ()
        assert not budget.forecasts_at(OCT, at(31))

    @given(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=15000), st.integers(min_value=1, max_value=744)
            ),
            min_size=1,
            max_size=12,
        )
    )
    def test_each_alert_once_and_every_reached_threshold_told(self, checks):
        """Any run of checks with a growing cost: each (threshold, basis) is sent at most
        once, and every threshold the last cost reached got its actual alert."""
        store, sent = InMemoryAlertStore(), []
        cents, hours = sorted(c for c, _ in checks), sorted(h for _, h in checks)
        for c, h in zip(cents, hours, strict=True):
            now = OCT.start + timedelta(hours=h)
            check_budget(BUDGET, OCT, Money(c, "EUR") / 100, now, store, sent.append)
        keys = [a.key for a in sent]
        assert len(keys) == len(set(keys))
        last = Money(cents[-1], "EUR") / 100
        reached = {
            str(t) for t in BUDGET.thresholds if last.amount >= BUDGET.amount.amount * t / 100
        }
        assert {a.key[2] for a in sent if a.basis == "actual"} == reached


def test_sqlite_alert_store_carries_an_older_file_over(tmp_path):
    """A file from before forecast and actual were apart: each row counts for both, as it
    did; the old table is gone afterwards."""
    import sqlite3

    path = tmp_path / "alerts.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE budget_alerts_sent (account TEXT NOT NULL, period TEXT NOT NULL,"
        " threshold TEXT NOT NULL, PRIMARY KEY (account, period, threshold))"
    )
    db.execute("INSERT INTO budget_alerts_sent VALUES ('acme', '2026-10', '50')")
    db.commit()
    db.close()
    store = SQLiteAlertStore(path)
    assert store.was_sent(("acme", "2026-10", "50", "actual"))
    assert store.was_sent(("acme", "2026-10", "50", "forecast"))
    assert not store.was_sent(("acme", "2026-10", "80", "actual"))
    store.close()
    db = sqlite3.connect(path)
    tables = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    db.close()
    assert [name for (name,) in tables] == ["budget_alerts"]
    again = SQLiteAlertStore(path)  # opening again changes nothing
    assert again.was_sent(("acme", "2026-10", "50", "actual"))
    again.close()
