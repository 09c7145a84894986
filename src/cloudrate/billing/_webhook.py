"""Deliver outbox events to a webhook: signed POSTs, retried with backoff, at least once.

Each event is POSTed as its JSON (:meth:`Event.to_json`) with ``Cloudrate-Event-Id``,
``Cloudrate-Event-Type`` and ``Cloudrate-Signature: sha256=<hex HMAC-SHA256 of the body>``.
A 2xx answer delivers it; 5xx, 408, 429, timeouts and connection errors are retried after
``backoff``, ``2 * backoff``, ``4 * backoff``... seconds, capped at ``max_backoff``; any other
answer is permanent. Redirects are not followed: a POST must reach the configured URL.
Only the standard library is used (:mod:`urllib.request`).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import math
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.message import Message
from typing import Protocol
from urllib.parse import urlsplit

import attrs

from cloudrate.exceptions import BillingError, DeliveryError

from ._events import Event

__all__ = ["Delivery", "DeliveryReport", "Outbox", "WebhookDeliverer", "verify_signature"]

#: Headers the deliverer sets itself; extra headers may not replace them.
_OWN_HEADERS = frozenset(
    {"content-type", "content-length", "cloudrate-event-id", "cloudrate-event-type"}
    | {"cloudrate-signature", "connection", "host", "transfer-encoding"}
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SECONDS = re.compile(r"\s*(\d{1,9})(\.\d+)?\s*")


class Outbox(Protocol):
    """The store's queue of events not yet delivered (oldest first, by ``seq``)."""

    def pending_events(self, limit: int = 100, *, tenant: str | None = None) -> Sequence[Event]:
        """At most *limit* unacknowledged events (of *tenant* if given), oldest first."""
        ...

    def acknowledge(self, ids: Iterable[str]) -> int:
        """Mark *ids* delivered; unknown or acknowledged ids are ignored. How many changed."""
        ...


@attrs.frozen(kw_only=True)
class Delivery:
    """How delivering one event ended: *status* and *error* are the last attempt's.

    >>> Delivery(event_id="evt_1", delivered=True, attempts=2, status=204).raise_for_failure()
    Delivery(event_id='evt_1', delivered=True, attempts=2, status=204, error=None)
    """

    event_id: str
    delivered: bool
    attempts: int
    status: int | None = None  #: the last HTTP status; None when no answer came
    error: str | None = None  #: why the last attempt failed

    def raise_for_failure(self) -> Delivery:
        """This delivery if it succeeded, else raise :class:`DeliveryError` saying why."""
        if not self.delivered:
            raise DeliveryError(
                f"event {self.event_id} was not delivered after {self.attempts} "
                f"attempt{'s' if self.attempts != 1 else ''}: {self.error}; it stays pending, "
                "fix the receiver and call deliver_pending again"
            )
        return self


@attrs.frozen(kw_only=True)
class DeliveryReport:
    """What :meth:`WebhookDeliverer.deliver_pending` did: the ids delivered and acknowledged,
    in order, and the first event that failed (which, with every later one, stays pending).

    >>> DeliveryReport(delivered=("evt_1",), acknowledged=1).ok
    True
    """

    delivered: tuple[str, ...] = ()
    acknowledged: int = 0  #: how many the outbox marked (fewer if another worker did first)
    failed: str | None = None
    reason: str | None = None
    failure: Delivery | None = None

    @property
    def ok(self) -> bool:
        """True when no event failed."""
        return self.failed is None

    def raise_for_failure(self) -> DeliveryReport:
        """This report if every event read was delivered, else raise :class:`DeliveryError`."""
        if self.failure is not None:
            self.failure.raise_for_failure()
        return self


def _secret_bytes(secret: bytes | str, where: str) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not isinstance(key, bytes):  # the value is not shown: it may be a real secret
        raise BillingError(
            f"{where}: expected bytes or str (got a {type(secret).__name__}); "
            "pass the shared secret as text or bytes"
        )
    if not key:
        raise BillingError(
            f"{where}: must not be empty (got {secret!r}); pass the secret shared with the "
            "receiver, e.g. secrets.token_hex(32)"
        )
    return key


def _signature(body: bytes, secret: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str, secret: bytes | str) -> bool:
    """Whether *header* (``Cloudrate-Signature``) signs exactly *body* with *secret*.

    Compare in constant time; pass the raw body bytes, before any JSON parsing.

    >>> import hmac
    >>> body = b'{"id":"evt_1"}'
    >>> header = "sha256=" + hmac.new(b"s3cret", body, "sha256").hexdigest()
    >>> verify_signature(body, header, "s3cret")
    True
    >>> verify_signature(body + b" ", header, "s3cret"), verify_signature(body, header, "other")
    (False, False)
    """
    expected = _signature(body, _secret_bytes(secret, "verify_signature secret"))
    scheme, _, digest = header.strip().partition("=")
    seen = f"{scheme.lower()}={digest.lower()}".encode()
    return hmac.compare_digest(seen, expected.encode())


def _number(name: str, value: object, *, least: float, strict: bool, fix: str) -> None:
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > least if strict else value >= least)
    ):
        return
    bound = f"above {least}" if strict else f"at least {least}"
    raise BillingError(f"WebhookDeliverer {name}: must be a number {bound} (got {value!r}); {fix}")


def _check_url(_inst: object, _attr: object, value: str) -> None:
    good = False
    if isinstance(value, str) and value.isprintable() and " " not in value:
        try:
            parts = urlsplit(value)
            good = (
                parts.scheme in ("http", "https")
                and bool(parts.hostname)
                and parts.username is None
                and parts.port != 0  # a port that is not a number raises ValueError
            )
        except ValueError:
            pass
    if not good:
        raise BillingError(
            f"WebhookDeliverer url: must be an http or https URL with a host and no user "
            f"(got {value!r}); pass the receiver's full address, e.g. "
            "'https://example.com/hooks/cloudrate', and credentials in headers"
        )


def _check_secret(_inst: object, _attr: object, value: bytes | str) -> None:
    _secret_bytes(value, "WebhookDeliverer secret")


def _check_timeout(_inst: object, _attr: object, value: float) -> None:
    _number("timeout", value, least=0, strict=True, fix="pass seconds per attempt, e.g. 10")


def _check_attempts(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BillingError(
            f"WebhookDeliverer max_attempts: must be a whole number of at least 1 (got "
            f"{value!r}); pass how many times to try in all, e.g. 5 (1 means no retry)"
        )


def _headers(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    try:
        pairs = tuple((name, text) for name, text in dict(value).items())
    except (TypeError, ValueError):
        raise BillingError(
            f"WebhookDeliverer headers: expected a mapping of names to values (got {value!r}); "
            "pass e.g. {'Authorization': 'Bearer ...'}"
        ) from None
    for name, text in pairs:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise BillingError(
                f"WebhookDeliverer headers: {name!r} is not a header name; use letters, digits "
                "and '-', e.g. 'Authorization'"
            )
        if name.lower() in _OWN_HEADERS:
            raise BillingError(
                f"WebhookDeliverer headers: {name!r} is set by the deliverer and cannot be "
                "replaced; remove it from headers"
            )
        if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
            raise BillingError(
                f"WebhookDeliverer headers[{name!r}]: must be text on one line (got {text!r}); "
                "remove line breaks from the value"
            )
    return pairs


def _opener() -> urllib.request.OpenerDirector:
    """An opener without a redirect handler: a 3xx is an answer, not a new address, as
    following it would turn the POST into a GET and report success for a request the
    receiver never saw. Proxies come from the environment, as with ``urlopen``."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


@attrs.frozen
class _Outcome:
    status: int | None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


def _answered(code: int, reason: str, headers: Message) -> _Outcome:
    retryable = code >= 500 or code in (408, 429)
    match = _SECONDS.fullmatch(headers.get("Retry-After") or "")
    wait = float(match.group(0)) if match else None
    why = "retrying" if retryable else "not retried: only 5xx, 408 and 429 are"
    return _Outcome(code, f"HTTP {code} {reason} ({why})", retryable, wait)


@attrs.frozen(kw_only=True)
class WebhookDeliverer:
    """POST outbox events to *url*, signed with *secret*, retrying with a capped backoff.

    *timeout* is seconds per attempt; after a retryable failure the deliverer calls
    *sleep* with ``backoff * 2 ** (n - 1)`` seconds (n the attempt that failed), at most
    *max_backoff*, or longer if the receiver's numeric ``Retry-After`` asks (also capped).
    *jitter*, if given, maps each delay to the one used (e.g. ``lambda d: random.uniform(0,
    d)``); without it the schedule is deterministic. *headers* are sent with every request.

    >>> hook = WebhookDeliverer(url="https://example.com/hooks", secret="s3cret")
    >>> hook.retry_delays()
    (1.0, 2.0, 4.0, 8.0)
    >>> WebhookDeliverer(url="ftp://example.com", secret="s3cret")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.BillingError: WebhookDeliverer url: must be an http or https URL ...

    .. versionadded:: 0.1
    """

    url: str = attrs.field(validator=_check_url)
    secret: bytes | str = attrs.field(validator=_check_secret, repr=False)
    timeout: float = attrs.field(default=10.0, validator=_check_timeout)
    max_attempts: int = attrs.field(default=5, validator=_check_attempts)
    backoff: float = 1.0
    max_backoff: float = 60.0
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False, eq=False)
    jitter: Callable[[float], float] | None = attrs.field(default=None, repr=False, eq=False)
    headers: tuple[tuple[str, str], ...] = attrs.field(factory=dict, converter=_headers)

    def __attrs_post_init__(self) -> None:
        _number("backoff", self.backoff, least=0, strict=False, fix="pass seconds, e.g. 1")
        _number(
            "max_backoff",
            self.max_backoff,
            least=self.backoff,
            strict=False,
            fix="pass the longest wait in seconds, at least backoff, e.g. 60",
        )

    def retry_delays(self) -> tuple[float, ...]:
        """The waits between attempts when every attempt fails without ``Retry-After``."""
        return tuple(self._delay(n, None) for n in range(1, self.max_attempts))

    def sign(self, body: bytes) -> str:
        """The ``Cloudrate-Signature`` value for *body*: ``sha256=`` and the hex HMAC."""
        return _signature(body, _secret_bytes(self.secret, "WebhookDeliverer secret"))

    def deliver(self, event: Event) -> Delivery:
        """POST *event* until the receiver accepts it, refuses it, or attempts run out.

        Never raises for network or HTTP failures: they end as a :class:`Delivery` with
        ``delivered=False`` (call :meth:`Delivery.raise_for_failure` to raise instead).
        """
        body = event.to_json().encode("utf-8")
        headers = {
            "User-Agent": "cloudrate-webhook",  # extra headers may replace it
            **dict(self.headers),
            "Content-Type": "application/json",
            "Cloudrate-Event-Id": event.id,
            "Cloudrate-Event-Type": event.type,
            "Cloudrate-Signature": self.sign(body),
        }
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(body, headers)
            done = outcome.error is None or not outcome.retryable
            if done or attempts >= self.max_attempts:
                return Delivery(
                    event_id=event.id,
                    delivered=outcome.error is None,
                    attempts=attempts,
                    status=outcome.status,
                    error=outcome.error,
                )
            self.sleep(self._delay(attempts, outcome.retry_after))

    def deliver_pending(
        self, outbox: Outbox, *, limit: int = 100, tenant: str | None = None
    ) -> DeliveryReport:
        """Deliver up to *limit* pending events oldest first, acknowledging each at once.

        Stops at the first event that cannot be delivered, so the receiver sees events in
        order; it and every later event stay pending for the next call. A crash between
        delivery and acknowledgement delivers that one event again (at least once).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise BillingError(
                f"deliver_pending limit: must be a whole number of at least 1 (got {limit!r}); "
                "pass how many events to read, e.g. 100"
            )
        delivered: list[str] = []
        acknowledged = 0
        for event in outbox.pending_events(limit, tenant=tenant):
            result = self.deliver(event)
            if not result.delivered:
                return DeliveryReport(
                    delivered=tuple(delivered),
                    acknowledged=acknowledged,
                    failed=event.id,
                    reason=result.error,
                    failure=result,
                )
            acknowledged += outbox.acknowledge([event.id])
            delivered.append(event.id)
        return DeliveryReport(delivered=tuple(delivered), acknowledged=acknowledged)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = self.backoff * 2 ** min(attempt - 1, 64)
        if self.jitter is not None:
            delay = self.jitter(min(delay, self.max_backoff))
        return float(min(max(delay, retry_after or 0.0), self.max_backoff))

    def _attempt(self, body: bytes, headers: dict[str, str]) -> _Outcome:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        opener = _opener()
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return _Outcome(status=response.status)
        except urllib.error.HTTPError as err:
            with err:
                return _answered(err.code, str(err.reason), err.headers)
        except urllib.error.URLError as err:
            return self._failed(err.reason)
        except (OSError, http.client.HTTPException) as err:
            return self._failed(err)
        except ValueError as err:  # http.client refuses a URL or header it cannot send
            return _Outcome(None, f"request refused before sending: {err}")

    def _failed(self, reason: object) -> _Outcome:
        if isinstance(reason, TimeoutError):
            text = f"timed out after {self.timeout} s without an answer"
        else:
            text = f"connection failed: {reason}"
        return _Outcome(None, text, retryable=True)
