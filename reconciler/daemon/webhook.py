"""``POST /trigger``: who may ask for a sync now, and how often.

A git host calls the webhook right after a push, so the new commit is applied in seconds instead
of at the next poll. Anyone who can reach the port could call it too, so a request must prove it
knows the shared secret, in one of the ways git hosts send it:

- GitHub, Gitea, Forgejo: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``;
- GitLab: ``X-Gitlab-Token: <secret>``;
- anything else (curl, a CI job): ``Authorization: Bearer <secret>``.

Comparisons are constant-time (`hmac.compare_digest`). The secret is read from its file at every
request, so a rotated (remounted) secret is used without a restart. A token bucket limits requests
before any work is done; a trigger never carries data: the daemon polls its source as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.secrets import default_redactor

SIGNATURE_HEADER = "x-hub-signature-256"
GITLAB_HEADER = "x-gitlab-token"


class WebhookSecretError(Exception):
    """The secret file cannot be read, or is empty (the message names the file, not its content)."""


def read_webhook_secret(path: Path) -> bytes:
    """The secret (one trailing newline dropped), remembered by the log redactor."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WebhookSecretError(f"cannot read the webhook secret file {path}: {error.strerror}") from None
    secret = text.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise WebhookSecretError(f"the webhook secret file {path} is empty")
    default_redactor().add(secret)
    return secret.encode("utf-8")


def authenticated(headers: Mapping[str, str], body: bytes, secret: bytes) -> bool:
    """Whether the request proves knowledge of ``secret`` (header names in lower case)."""
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.strip().encode("utf-8", "replace"), expected.encode())
    token = headers.get(GITLAB_HEADER)
    if token is None:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        token = value
    return hmac.compare_digest(token.strip().encode("utf-8", "replace"), secret)


class TokenBucket:
    """``rate`` requests per second on average, ``burst`` at once; the clock is injectable."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
