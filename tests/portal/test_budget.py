"""Budget alerts: thresholds, forecast, no repeats per period, and sending by SMTP."""

from __future__ import annotations

import socketserver
import threading
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.portal.budget import (
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
    """10 EUR by day 3 of 31 forecasts 103.33: all three thresholds, by forecast; a later
    check in the same month sends nothing more; the next month starts afresh."""
    store, sent = InMemoryAlertStore(), []
    first = check_budget(BUDGET, OCT, Money("10", "EUR"), at(4), store, sent.append)
    assert thresholds(first) == [(50, "forecast"), (80, "forecast"), (100, "forecast")]
    assert check_budget(BUDGET, OCT, Money("100", "EUR"), at(20), store, sent.append) == ()
    assert len(sent) == 3
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
