"""The daemon's watch over its own APIM identities: at start, daily, and whenever APIM says 401.

A revoked token should not look like a flaky network: the daemon checks who each context's
credentials are (`reconciler.identity.check_identity`), publishes each token's expiry as a metric,
warns ahead of it, and fails `/readyz` with the reason when APIM refuses a token, so that the
platform tells a human instead of the loop retrying in silence.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog

from reconciler.identity import IdentityStatus, check_identity
from reconciler.identity.contexts import context_key
from reconciler.manifests.model import MANAGEMENT_CONTEXT, ManifestSet, Resource
from reconciler.secrets import SecretStore
from reconciler.sync.result import SyncResult
from reconciler.sync.settings import SyncSettings

_log = structlog.get_logger(__name__)

DEFAULT_INTERVAL = 86_400.0


def contexts_in_scope(manifests: ManifestSet, settings: SyncSettings) -> list[Resource]:
    """The ManagementContexts this process syncs (its shard, its ``--context`` selection)."""
    return [c for c in manifests.of_kind(MANAGEMENT_CONTEXT) if settings.scope.context_selected(c.id)]


def token_expiry_seconds(status: IdentityStatus, now: datetime) -> float:
    """Seconds until the token expires (negative once expired); +Inf when APIM lists the token
    without an expiry (it never expires); NaN when that is not known (no token read: Basic
    credentials, a JWT without ``exp``, a token list that cannot be read)."""
    token = status.token
    if token is not None and token.expires_at is not None:
        return (token.expires_at - now).total_seconds()
    if token is not None and token.source == "token list":
        return math.inf
    return math.nan


def context_names(manifests: ManifestSet, settings: SyncSettings) -> list[str]:
    """The names of `contexts_in_scope` as `IdentityStatus.context` spells them (``namespace/name``)."""
    return [context_key(c) for c in contexts_in_scope(manifests, settings)]


class IdentityWatch:
    """Decides when to check identities and runs the checks of every context in scope."""

    def __init__(
        self,
        settings: SyncSettings,
        *,
        interval: float = DEFAULT_INTERVAL,
        warn_days: float = 30.0,
        monotonic: Callable[[], float],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.interval = interval
        self.warn_days = warn_days
        self._monotonic = monotonic
        self._clock = clock
        self._last_check: float | None = None

    def due(self, result: SyncResult) -> bool:
        """At start, every `interval`, and at once after a sync that APIM answered with a 401."""
        if self.interval <= 0:
            return False
        if self._last_check is None or any(f.status == 401 for f in result.failures):
            return True
        return self._monotonic() - self._last_check >= self.interval

    async def check(self, result: SyncResult) -> list[IdentityStatus]:
        self._last_check = self._monotonic()
        contexts = contexts_in_scope(result.manifests, self.settings)
        store = SecretStore(
            self.settings.secrets_dir, self.settings.config_dir, env_policy=self.settings.env_policy
        )
        statuses = list(
            await asyncio.gather(
                *(
                    check_identity(
                        c, store, self.settings.client, warn_days=self.warn_days, now=self._clock()
                    )
                    for c in contexts
                )
            )
        )
        self._log(statuses)
        return statuses

    def _log(self, statuses: Sequence[IdentityStatus]) -> None:
        for status in statuses:
            if status.revoked:
                _log.error("daemon.identity_revoked", context=status.context, error=status.error)
            elif not status.ok:
                _log.error("daemon.identity_unusable", context=status.context, error=status.error)
            for warning in status.warnings:
                _log.warning("daemon.identity_warning", context=status.context, warning=warning)
