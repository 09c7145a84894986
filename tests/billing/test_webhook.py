"""Webhook delivery against a real local HTTP server and an in-memory outbox.

The server (``http.server`` on 127.0.0.1, a free port) records every request and answers
from a script; waits between attempts go to an injected ``sleep`` that records them, so no
test waits for the backoff or asserts on the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import socket
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import pytest

from cloudrate.billing._events import Event, new_event
from cloudrate.billing._webhook import (
    Delivery,
    DeliveryReport,
    WebhookDeliverer,
    verify_signature,
)
from cloudrate.exceptions import BillingError, DeliveryError

SECRET = "whsec_test"
DELAY = "delay"  # a scripted answer: hold the request past the client's timeout


@attrs.frozen
class Received:
    """One request as the server read it: header names keep the case they were sent in."""

    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Receiver:
    """A scripted webhook receiver: each request takes the next answer (default 200)."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.requests: list[Received] = []
        self.script: list[Any] = []
        self.log = log
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, tuple(self.headers.items()), body))
                    receiver.log.append(("post", self.headers.get("Cloudrate-Event-Id", "")))
                    answer = receiver.script.pop(0) if receiver.script else 200
                if answer == DELAY:
                    receiver.release.wait(timeout=30)
                    answer = 200
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up (timeout) and closed the connection
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = False  # server_close() joins the handlers

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, *answers: Any) -> None:
        """Queue answers: a status, ``(status, headers)`` or :data:`DELAY`."""
        self.script.extend(answers)

    def ids(self) -> list[str | None]:
        return [r.header("Cloudrate-Event-Id") for r in self.requests]


class FakeOutbox:
    """The two outbox methods over a list; writes ("ack", id) to the shared log."""

    def __init__(self, events: Iterable[Event], log: list[tuple[str, str]]) -> None:
        self.events = list(events)
        self.acked: set[str] = set()
        self.ack_calls: list[list[str]] = []
        self.log = log
        self.crash_on_ack = False

    def pending_events(self, limit: int = 100, *, tenant: str | None = None) -> Sequence[Event]:
        waiting = [
            e
            for e in sorted(self.events, key=lambda e: e.seq)
            if e.id not in self.acked and (tenant is None or e.tenant == tenant)
        ]
        return waiting[:limit]

    def acknowledge(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        self.ack_calls.append(ids)
        if self.crash_on_ack:
            self.crash_on_ack = False
            raise RuntimeError("the worker died before the acknowledgement was written")
        known = {e.id for e in self.events}
        changed = {i for i in ids if i in known and i not in self.acked}
        self.acked |= changed
        self.log.extend(("ack", i) for i in ids if i in changed)
        return len(changed)

    def pending_ids(self) -> list[str]:
        return [e.id for e in self.pending_events(1000)]


def _event(subject: str, seq: int, tenant: str = "default") -> Event:
    event = new_event(tenant, "invoice.finalised", subject, "2026-01-31", {"total": "12.50"})
    return attrs.evolve(event, seq=seq)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests go straight to the local server, whatever proxy the environment names."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)


@pytest.fixture(name="log")
def _log() -> list[tuple[str, str]]:
    return []


@pytest.fixture(name="receiver")
def _receiver(log: list[tuple[str, str]]) -> Iterator[Receiver]:
    receiver = Receiver(log)
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join()


@pytest.fixture(name="sleeps")
def _sleeps() -> list[float]:
    return []


@pytest.fixture(name="hook")
def _hook(receiver: Receiver, sleeps: list[float]) -> WebhookDeliverer:
    return WebhookDeliverer(url=receiver.url, secret=SECRET, timeout=5, sleep=sleeps.append)


@pytest.fixture(name="event")
def _event_fixture() -> Event:
    return _event("INV-2026-0001", 1)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


class TestWebhookDeliverer:
    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/hooks",
            "example.com/hooks",
            "http://",
            "https://example.com:notaport/",
            "https://example.com:0/",
            "https://user:pw@example.com/",
            "https://example.com/a b",
            "",
            None,
        ],
    )
    def test_refuses_urls_that_are_not_http(self, url):
        """Only an http(s) URL with a host is accepted; the error names the field, value
        and an example of a good one."""
        with pytest.raises(BillingError, match=r"url: must be an http or https URL.*e\.g\."):
            WebhookDeliverer(url=url, secret=SECRET)

    @pytest.mark.parametrize("secret", ["", b"", None, 42])
    def test_refuses_empty_or_odd_secrets(self, secret):
        """An empty secret would sign nothing; a non-text secret is refused by type."""
        with pytest.raises(BillingError, match=r"secret: (must not be empty|expected bytes)"):
            WebhookDeliverer(url="https://example.com/", secret=secret)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("timeout", 0),
            ("timeout", -1),
            ("timeout", float("nan")),
            ("timeout", float("inf")),
            ("timeout", True),
            ("timeout", "5"),
            ("max_attempts", 0),
            ("max_attempts", 2.5),
            ("max_attempts", True),
            ("backoff", -1),
            ("backoff", float("nan")),
            ("max_backoff", 0.5),
            ("max_backoff", float("inf")),
        ],
    )
    def test_refuses_bad_numbers(self, field, value):
        """Each bad number is refused naming the field, the value seen and the fix."""
        with pytest.raises(BillingError, match=rf"{field}: must be .*\(got {value!r}\); pass"):
            WebhookDeliverer(url="https://example.com/", secret=SECRET, **{field: value})

    @pytest.mark.parametrize(
        ("headers", "message"),
        [
            ({"Cloudrate-Signature": "sha256=0"}, "set by the deliverer"),
            ({"content-type": "text/plain"}, "set by the deliverer"),
            ({"X-Token": "a\r\nX-Evil: 1"}, "one line"),
            ({"Bad Name": "x"}, "not a header name"),
        ],
    )
    def test_refuses_headers_that_would_change_the_request(self, headers, message):
        """Extra headers cannot replace the signed ones or smuggle in more headers."""
        with pytest.raises(BillingError, match=message):
            WebhookDeliverer(url="https://example.com/", secret=SECRET, headers=headers)

    def test_secret_stays_out_of_repr(self):
        """The secret is never printed with the deliverer (logs, tracebacks)."""
        hook = WebhookDeliverer(url="https://example.com/", secret="very-secret-value")
        assert "very-secret-value" not in repr(hook)

    def test_retry_delays_double_then_cap(self):
        """The schedule doubles from backoff and stops growing at max_backoff."""
        assert WebhookDeliverer(url="https://x.test/", secret=SECRET).retry_delays() == (
            1.0,
            2.0,
            4.0,
            8.0,
        )
        capped = WebhookDeliverer(
            url="https://x.test/", secret=SECRET, max_attempts=7, backoff=0.5, max_backoff=3
        )
        assert capped.retry_delays() == (0.5, 1.0, 2.0, 3.0, 3.0, 3.0)
        assert (
            WebhookDeliverer(url="https://x.test/", secret=SECRET, max_attempts=1).retry_delays()
            == ()
        )


class TestDeliver:
    def test_posts_the_event_json_signed(self, hook, receiver, event):
        """The body is the event's JSON bytes; the headers carry id, type and a signature
        the receiver verifies with the shared secret."""
        result = hook.deliver(event)
        assert result == Delivery(event_id=event.id, delivered=True, attempts=1, status=200)
        (got,) = receiver.requests
        assert got.path == "/hooks"
        assert got.body == event.to_json().encode()
        names = {k for k, _ in got.headers}
        assert {"Cloudrate-Event-Id", "Cloudrate-Event-Type", "Cloudrate-Signature"} <= names
        assert got.header("Content-Type") == "application/json"
        assert got.header("Cloudrate-Event-Id") == event.id
        assert got.header("Cloudrate-Event-Type") == "invoice.finalised"
        expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.header("Cloudrate-Signature") == f"sha256={expected}"

    def test_signature_verifies_only_the_exact_body_and_secret(self, hook, receiver, event):
        """verify_signature accepts the received body and refuses a tampered one or
        another secret."""
        hook.deliver(event)
        (got,) = receiver.requests
        signature = got.header("Cloudrate-Signature")
        assert signature is not None
        assert verify_signature(got.body, signature, SECRET)
        assert verify_signature(got.body, signature, SECRET.encode())
        tampered = got.body.replace(b"12.50", b"1250.00")
        assert tampered != got.body
        assert not verify_signature(tampered, signature, SECRET)
        assert not verify_signature(got.body, signature, "another-secret")

    def test_extra_headers_are_sent(self, receiver, sleeps, event):
        """Headers given to the deliverer go with every request."""
        hook = WebhookDeliverer(
            url=receiver.url, secret=SECRET, headers={"Authorization": "Bearer t0ken"}
        )
        hook.deliver(event)
        assert receiver.requests[0].header("Authorization") == "Bearer t0ken"

    def test_retries_server_errors_with_doubling_backoff(self, hook, receiver, sleeps, event):
        """5xx answers are retried after 1, 2, 4 s (recorded, not waited) until a 2xx."""
        receiver.answer(500, 502, 503, 204)
        result = hook.deliver(event)
        assert result.delivered
        assert (result.attempts, result.status, result.error) == (4, 204, None)
        assert sleeps == [1.0, 2.0, 4.0]
        assert len(receiver.requests) == 4

    def test_backoff_is_capped(self, receiver, sleeps, event):
        """No wait is longer than max_backoff."""
        hook = WebhookDeliverer(
            url=receiver.url, secret=SECRET, max_attempts=6, max_backoff=5, sleep=sleeps.append
        )
        receiver.answer(500, 500, 500, 500, 500, 500)
        result = hook.deliver(event)
        assert not result.delivered
        assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]

    @pytest.mark.parametrize("status", [408, 429, 500, 503, 599])
    def test_retryable_statuses(self, hook, receiver, sleeps, event, status):
        """408, 429 and every 5xx are retried."""
        receiver.answer(status)
        result = hook.deliver(event)
        assert result.delivered and result.attempts == 2
        assert sleeps == [1.0]

    def test_honours_numeric_retry_after(self, hook, receiver, sleeps, event):
        """A numeric Retry-After longer than the schedule's wait is waited, up to the cap;
        a date form falls back to the schedule."""
        receiver.answer(
            (503, {"Retry-After": "7"}),
            (429, {"Retry-After": "3600"}),
            (503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            (503, {"Retry-After": "0"}),
        )
        result = hook.deliver(event)
        assert result.delivered and result.attempts == 5
        assert sleeps == [7.0, 60.0, 4.0, 8.0]

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
    def test_other_4xx_are_permanent(self, hook, receiver, sleeps, event, status):
        """A 4xx other than 408 and 429 is not retried: one request, no wait."""
        receiver.answer(status)
        result = hook.deliver(event)
        assert not result.delivered
        assert (result.attempts, result.status) == (1, status)
        assert result.error is not None and "not retried" in result.error
        assert sleeps == []
        assert len(receiver.requests) == 1

    @pytest.mark.parametrize("status", [301, 302, 307])
    def test_redirects_are_not_followed(self, hook, receiver, sleeps, event, status):
        """A redirect fails the delivery: following it could turn the POST into a GET."""
        receiver.answer((status, {"Location": "/elsewhere"}))
        result = hook.deliver(event)
        assert not result.delivered and result.status == status
        assert len(receiver.requests) == 1

    def test_fails_after_max_attempts(self, receiver, sleeps, event):
        """Every attempt failing ends as a failed Delivery with the last status; there is
        no wait after the last attempt."""
        hook = WebhookDeliverer(
            url=receiver.url, secret=SECRET, max_attempts=3, sleep=sleeps.append
        )
        receiver.answer(500, 500, 503)
        result = hook.deliver(event)
        assert not result.delivered
        assert (result.attempts, result.status) == (3, 503)
        assert result.error is not None and result.error.startswith("HTTP 503")
        assert sleeps == [1.0, 2.0]
        with pytest.raises(DeliveryError, match=f"{event.id} was not delivered after 3 attempts"):
            result.raise_for_failure()

    def test_timeouts_are_retried(self, receiver, sleeps, event):
        """An answer slower than the timeout counts as a failed attempt and is retried."""
        hook = WebhookDeliverer(url=receiver.url, secret=SECRET, timeout=0.5, sleep=sleeps.append)
        receiver.answer(DELAY, 200)
        result = hook.deliver(event)
        assert result.delivered and result.attempts == 2
        assert sleeps == [1.0]

    def test_timeout_every_time_is_a_failed_delivery(self, receiver, sleeps, event):
        """Timing out on every attempt ends as a Delivery naming the timeout."""
        hook = WebhookDeliverer(
            url=receiver.url, secret=SECRET, timeout=0.5, max_attempts=2, sleep=sleeps.append
        )
        receiver.answer(DELAY, DELAY)
        result = hook.deliver(event)
        assert not result.delivered
        assert (result.attempts, result.status) == (2, None)
        assert result.error == "timed out after 0.5 s without an answer"

    def test_connection_refused_is_a_failed_delivery(self, sleeps, event):
        """A closed port is retried, then reported as a failed Delivery, not raised."""
        hook = WebhookDeliverer(
            url=_closed_port_url(), secret=SECRET, max_attempts=3, sleep=sleeps.append
        )
        result = hook.deliver(event)
        assert not result.delivered
        assert (result.attempts, result.status) == (3, None)
        assert result.error is not None and result.error.startswith("connection failed:")
        assert sleeps == [1.0, 2.0]

    def test_jitter_is_used_only_when_injected(self, receiver, sleeps, event):
        """An injected jitter maps each scheduled wait; without it the waits are exact."""
        hook = WebhookDeliverer(
            url=receiver.url, secret=SECRET, sleep=sleeps.append, jitter=lambda d: d / 4
        )
        receiver.answer(500, 500)
        assert hook.deliver(event).delivered
        assert sleeps == [0.25, 0.5]


class TestDeliverPending:
    def test_delivers_oldest_first_and_acknowledges_each_at_once(self, hook, receiver, log):
        """Each event is acknowledged right after its delivery, before the next is sent."""
        events = [_event("INV-3", 3), _event("INV-1", 1), _event("INV-2", 2)]
        outbox = FakeOutbox(events, log)
        report = hook.deliver_pending(outbox)
        ordered = [e.id for e in sorted(events, key=lambda e: e.seq)]
        assert report == DeliveryReport(delivered=tuple(ordered), acknowledged=3)
        assert report.ok
        assert log == [(step, i) for i in ordered for step in ("post", "ack")]
        assert outbox.ack_calls == [[i] for i in ordered]
        assert outbox.pending_ids() == []

    def test_stops_at_the_first_failure_and_keeps_the_rest_pending(self, receiver, sleeps, log):
        """An event that fails after every attempt stops the run: it and every later event
        stay pending, in order; nothing after it is sent."""
        hook = WebhookDeliverer(
            url=receiver.url, secret=SECRET, max_attempts=2, sleep=sleeps.append
        )
        first, second, third = _event("INV-1", 1), _event("INV-2", 2), _event("INV-3", 3)
        outbox = FakeOutbox([first, second, third], log)
        receiver.answer(200, 500, 500)
        report = hook.deliver_pending(outbox)
        assert report.delivered == (first.id,)
        assert (report.failed, report.acknowledged, report.ok) == (second.id, 1, False)
        assert report.reason is not None and report.reason.startswith("HTTP 500")
        assert report.failure is not None and report.failure.attempts == 2
        assert receiver.ids() == [first.id, second.id, second.id]
        assert outbox.pending_ids() == [second.id, third.id]
        with pytest.raises(DeliveryError, match=second.id):
            report.raise_for_failure()

        report = hook.deliver_pending(outbox)  # the receiver is back
        assert report.delivered == (second.id, third.id) and report.ok
        assert outbox.pending_ids() == []

    def test_a_permanent_failure_also_stops(self, hook, receiver, sleeps, log):
        """A refused event (4xx) is not retried and holds back the later ones."""
        first, second = _event("INV-1", 1), _event("INV-2", 2)
        outbox = FakeOutbox([first, second], log)
        receiver.answer(422)
        report = hook.deliver_pending(outbox)
        assert (report.delivered, report.failed) == ((), first.id)
        assert receiver.ids() == [first.id]
        assert sleeps == []
        assert outbox.pending_ids() == [first.id, second.id]

    def test_redelivery_sends_the_same_id_and_bytes(self, hook, receiver, log):
        """If the worker dies after delivering but before acknowledging, the next run
        delivers the event again with the same id, body and signature, so the receiver
        de-duplicates by Cloudrate-Event-Id (at least once)."""
        event = _event("INV-1", 1)
        outbox = FakeOutbox([event], log)
        outbox.crash_on_ack = True
        with pytest.raises(RuntimeError, match="worker died"):
            hook.deliver_pending(outbox)
        assert outbox.pending_ids() == [event.id]
        assert hook.deliver_pending(outbox).delivered == (event.id,)
        once, twice = receiver.requests
        assert once.header("Cloudrate-Event-Id") == twice.header("Cloudrate-Event-Id") == event.id
        assert once.body == twice.body
        assert once.header("Cloudrate-Signature") == twice.header("Cloudrate-Signature")
        assert outbox.pending_ids() == []

    def test_passes_limit_and_tenant_to_the_outbox(self, hook, receiver, log):
        """Only up to *limit* events of *tenant* are read and delivered."""
        events = [_event("A-1", 1, "acme"), _event("B-1", 2, "beta"), _event("A-2", 3, "acme")]
        outbox = FakeOutbox(events, log)
        report = hook.deliver_pending(outbox, limit=1, tenant="acme")
        assert report.delivered == (events[0].id,)
        assert receiver.ids() == [events[0].id]
        assert outbox.pending_ids() == [events[1].id, events[2].id]

    def test_empty_outbox(self, hook, receiver, log):
        """Nothing pending: nothing sent, an empty successful report."""
        report = hook.deliver_pending(FakeOutbox([], log))
        assert report == DeliveryReport() and report.ok
        assert report.raise_for_failure() is report
        assert receiver.requests == []

    @pytest.mark.parametrize("limit", [0, -1, 1.5, True])
    def test_refuses_a_bad_limit(self, hook, log, limit):
        """The limit is a whole number of at least 1."""
        with pytest.raises(BillingError, match=rf"limit: .*\(got {limit!r}\)"):
            hook.deliver_pending(FakeOutbox([], log), limit=limit)


class TestVerifySignature:
    BODY = b'{"id":"evt_1","type":"invoice.paid"}'

    def _header(self, body: bytes = BODY, secret: bytes = b"s3cret") -> str:
        return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()

    def test_accepts_str_or_bytes_secret_and_hex_in_any_case(self):
        """The same secret as text or bytes verifies; hex digits may be upper case."""
        header = self._header()
        assert verify_signature(self.BODY, header, "s3cret")
        assert verify_signature(self.BODY, header, b"s3cret")
        assert verify_signature(self.BODY, f"  {header.upper()} ", b"s3cret")

    @pytest.mark.parametrize(
        "header",
        ["", "sha256=", "sha1=abc", "sha256=zz", "sha256=é", "garbage", "sha512=" + "0" * 128],
    )
    def test_refuses_malformed_headers(self, header):
        """Anything but a matching sha256 signature is refused, never raised."""
        assert not verify_signature(self.BODY, header, "s3cret")

    def test_refuses_another_body_or_secret(self):
        """One byte more or another secret gives False."""
        header = self._header()
        assert not verify_signature(self.BODY + b"\n", header, "s3cret")
        assert not verify_signature(self.BODY, header, "s3cret2")

    def test_refuses_an_empty_secret(self):
        """Verifying with an empty secret is a configuration mistake, reported as such."""
        with pytest.raises(BillingError, match="secret: must not be empty"):
            verify_signature(self.BODY, self._header(), "")
