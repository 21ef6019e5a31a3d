"""Settings of the APIM client: timeouts, TLS, proxies, retries. Plain frozen data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.defaults import DEFAULT_MAX_RESPONSE_SIZE


@dataclass(frozen=True)
class Timeouts:
    """Seconds; explicit for each phase so that a hung server cannot hold a worker forever."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 10.0
    attempt: float | None = 30.0
    """The most one attempt may take in all (connect, send, wait, read the whole answer). httpx's
    read timeout bounds each read, so a server trickling a byte at a time would never trip it."""


@dataclass(frozen=True)
class TlsOptions:
    """TLS verification is on unless `insecure_skip_verify` says otherwise (which logs a warning)."""

    ca_bundle: Path | None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, and a per-server budget for one sync.

    `max_attempts` counts the first try. `budget` is the number of *retries* (not requests) all the
    requests to one server may spend in one sync; once spent, retryable failures are raised at once
    and, while the server keeps failing, new requests fail fast without being sent.
    `max_retry_after` is the longest `Retry-After` honoured; a longer one is reported as an error
    instead of stalling the sync.
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    budget: int = 30
    max_retry_after: float = 60.0
    retry_server_error_once: bool = False


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs besides the target and the credentials.

    `tls_overrides` maps a ManagementContext (``namespace/name``) to its own TLS options; the others
    use `tls`. `trust_env` makes httpx read HTTP_PROXY/HTTPS_PROXY/NO_PROXY (and SSL_CERT_FILE).
    """

    timeouts: Timeouts = field(default_factory=Timeouts)
    tls: TlsOptions = field(default_factory=TlsOptions)
    tls_overrides: Mapping[str, TlsOptions] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    trust_env: bool = True
    max_connections: int = 20
    max_keepalive_connections: int = 10
    user_agent: str = "apim-reconciler"
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    """Bytes; a larger answer is refused as it streams in (a 300 MB listing must not fill memory)."""
    allowed_urls: tuple[str, ...] = ()
    """Base URLs allowed for every credential from outside the repository (`--allowed-apim-url`);
    see reconciler/contexts/binding.py."""

    def tls_for(self, context_key: str | None) -> TlsOptions:
        if context_key is not None and context_key in self.tls_overrides:
            return self.tls_overrides[context_key]
        return self.tls
