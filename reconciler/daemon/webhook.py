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
from collections.abc import Mapping
from pathlib import Path

from reconciler.ratelimit import TokenBucket
from reconciler.secrets.store import SecretFileError, read_secret_text

SIGNATURE_HEADER = "x-hub-signature-256"
GITLAB_HEADER = "x-gitlab-token"


class WebhookSecretError(Exception):
    """The secret file cannot be read, or is empty (the message names the file, not its content)."""


__all__ = ["TokenBucket", "WebhookSecretError", "authenticated", "read_webhook_secret"]

MIN_SECRET_LENGTH = 16
"""Shorter shared secrets can be guessed; `openssl rand -hex 32` gives 64 characters."""


def read_webhook_secret(path: Path) -> bytes:
    """The secret (surrounding whitespace dropped), remembered by the redactor.

    Refused, with a message naming the file and never its content, when it is larger than
    `MAX_SECRET_FILE_SIZE`, not UTF-8, empty or only whitespace, or shorter than
    `MIN_SECRET_LENGTH` characters: a webhook that anyone can guess the secret of is worse than none.
    """
    try:
        secret = read_secret_text(path, "webhook secret")
    except SecretFileError as error:
        raise WebhookSecretError(str(error)) from None
    if len(secret) < MIN_SECRET_LENGTH:
        raise WebhookSecretError(
            f"the webhook secret in {path} is shorter than {MIN_SECRET_LENGTH} characters: "
            "use a long random one (openssl rand -hex 32)"
        )
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
