"""Delivering notifications without ever holding a sync back.

`Notifier.notify` only puts deliveries on a bounded queue (``put_nowait``: a full queue drops the
delivery, counts it and logs ``notify.dropped``); one background thread sends them. Per target:

- a token bucket (``--notify-rate`` per minute, as a burst too): over it, a delivery is dropped
  (``notify.rate_limited``): a daemon failing every tick must not flood a channel;
- a repeated outcome is not sent again: a ``sync_succeeded`` or ``sync_failed`` with the same
  commit and message as the last one of that kind that target received (the daemon retries a
  failing commit every tick; one message says it), until the other outcome was delivered;
- retries: a connection error, a 429 or a 5xx is retried twice, after 0.5 s then 1 s; any other
  answer is final (logged ``notify.failed`` with its status, never its body).

Bodies: JSON serialised, then scrubbed by the one redactor, then (generic webhook) signed:
``X-Reconciler-Signature-256: sha256=<hex HMAC-SHA256 of the body, keyed with the secret file's
content>``, with ``X-Reconciler-Event`` and ``X-Reconciler-Delivery`` (a unique id, also in the
body, that a receiver can use to refuse a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from reconciler import __version__
from reconciler.notify import payloads
from reconciler.notify.events import SYNC_FAILED, SYNC_SUCCEEDED, Event
from reconciler.notify.targets import Target
from reconciler.ratelimit import TokenBucket
from reconciler.secrets import default_redactor
from reconciler.textsafe import json_text

_log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Reconciler-Signature-256"
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
ATTEMPTS = 3
_OUTCOMES = (SYNC_SUCCEEDED, SYNC_FAILED)


@dataclass(frozen=True, slots=True)
class Delivery:
    target: Target
    event: Event
    id: str


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def build_request(delivery: Delivery) -> Request:
    """The HTTP request of one delivery (pure but for the redactor): URL, scrubbed body, headers."""
    target, event = delivery.target, delivery.event
    headers = {"Content-Type": "application/json", "User-Agent": f"apim-reconciler/{__version__}"}
    url = target.url
    data: dict[str, Any]
    if target.kind == "webhook":
        data = payloads.generic(event, delivery.id)
    elif target.kind == "slack":
        data = payloads.slack(event)
    elif target.kind == "teams":
        data = payloads.teams(event)
    elif target.kind == "github":
        data = payloads.github_status(event, target.context, target.target_url)
        url = target.status_url(event.commit or "")
        headers |= {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        headers["Authorization"] = "Bearer " + (target.secret or b"").decode()
    else:  # gitlab
        data = payloads.gitlab_status(event, target.context, target.target_url)
        url = target.status_url(event.commit or "")
        headers["PRIVATE-TOKEN"] = (target.secret or b"").decode()
    body = default_redactor().scrub(json_text(data)).encode("utf-8")
    if target.kind == "webhook" and target.secret is not None:
        signature = hmac.new(target.secret, body, hashlib.sha256).hexdigest()
        headers |= {
            SIGNATURE_HEADER: f"sha256={signature}",
            "X-Reconciler-Event": event.kind,
            "X-Reconciler-Delivery": delivery.id,
        }
    return Request(url, body, headers)


class Notifier:
    """Sends events to targets from a background thread; `notify` never blocks."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        rate_per_minute: float = 6.0,
        queue_size: int = 100,
        timeout: float = 10.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.targets = tuple(targets)
        self._queue: queue.Queue[Delivery | None] = queue.Queue(maxsize=queue_size)
        burst = max(1, int(rate_per_minute))
        self._buckets = {t.name: TokenBucket(rate_per_minute / 60.0, burst) for t in self.targets}
        self._last: dict[tuple[str, str], tuple[str | None, str]] = {}
        self._timeout = timeout
        self._backoff = backoff
        self._sleep = sleep
        self._lock = threading.Lock()
        self.counts = {"sent": 0, "failed": 0, "dropped": 0, "suppressed": 0}
        self._thread = threading.Thread(target=self._work, name="reconciler-notify", daemon=True)
        self._thread.start()

    def notify(self, events: Sequence[Event]) -> None:
        for event in events:
            for target in self.targets:
                if event.kind not in target.events:
                    continue
                if target.kind in ("github", "gitlab") and not _FULL_SHA.match(event.commit or ""):
                    continue  # a status belongs to a git commit: a failed snapshot or a folder has none
                try:
                    self._queue.put_nowait(Delivery(target, event, uuid.uuid4().hex))
                except queue.Full:
                    self._count("dropped")
                    _log.warning(
                        "notify.dropped", target=target.name, notify_event=event.kind, why="queue full"
                    )

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued within ``timeout`` seconds, then stop (the rest is dropped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._queue.put(None, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def _work(self) -> None:
        with httpx.Client(timeout=self._timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                delivery = self._queue.get()
                if delivery is None:
                    return
                try:
                    self._deliver(client, delivery)
                except Exception:  # a bug here must not end the thread: later events still go out
                    self._count("failed")
                    _log.exception("notify.crashed", target=delivery.target.name)

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        target, event = delivery.target, delivery.event
        log = _log.bind(
            target=target.name, notify_event=event.kind, commit=event.commit, delivery=delivery.id
        )
        key = (target.name, event.kind)
        if event.kind in _OUTCOMES and self._last.get(key) == (event.commit, event.message):
            self._count("suppressed")
            log.debug("notify.repeat_suppressed")
            return
        if not self._buckets[target.name].take():
            self._count("dropped")
            log.warning("notify.rate_limited")
            return
        request = build_request(delivery)
        error = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = client.post(request.url, content=request.body, headers=request.headers)
            except httpx.HTTPError as failure:
                error = type(failure).__name__
            else:
                if response.is_success:
                    self._count("sent")
                    if event.kind in _OUTCOMES:
                        self._last[key] = (event.commit, event.message)
                        other = SYNC_FAILED if event.kind == SYNC_SUCCEEDED else SYNC_SUCCEEDED
                        self._last.pop((target.name, other), None)
                    log.info("notify.sent", status=response.status_code, attempt=attempt)
                    return
                error = f"HTTP {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    break  # the receiver refused it: sending it again would be refused again
            if attempt < ATTEMPTS:
                self._sleep(self._backoff * 2 ** (attempt - 1))
        self._count("failed")
        log.warning("notify.failed", error=error, attempts=attempt)
