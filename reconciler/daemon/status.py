"""What the daemon knows about its last syncs: the ``/status`` document and the ``/readyz`` answer.

The document follows Flux's status conventions, which GitOps users already read:
``lastAttemptedRevision``, ``lastAppliedRevision`` and conditions ``Ready``, ``Reconciling`` and
``Stalled`` whose ``lastTransitionTime`` moves only when their status does, and, as Flux keeps, a
short history of the last syncs. It is built from values already shown in reports (resource ids,
actions, APIM errors, manifest problems): never a secret value, and the HTTP layer scrubs it once
more with the process's redactor.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.daemon.syncrows import by_context, counts, resources
from reconciler.identity import IdentityStatus
from reconciler.report.problems import problem_json
from reconciler.source import SourceError
from reconciler.sync.result import SyncResult

READY = "Ready"
_SUMMARY_KEYS = ("revision", "outcome", "ok", "durationSeconds", "summary")
RECONCILING = "Reconciling"
STALLED = "Stalled"

#: Syncs kept in ``history``, as many as Flux keeps in a Kustomization's status.
HISTORY_SIZE = 5


@dataclass(frozen=True, slots=True)
class Condition:
    """One Flux-style condition; ``status`` is ``"True"``, ``"False"`` or ``"Unknown"``."""

    type: str
    status: str
    reason: str
    message: str
    last_transition_time: datetime

    def to_json(self) -> dict[str, str | None]:
        return {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": _iso(self.last_transition_time),
        }


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def sync_outcome(result: SyncResult) -> str:
    """The metrics label of a finished sync: success; invalid when refused for errors in the
    repository or its secrets (nothing read or applied); failure otherwise, a sync stopped before it
    made its plan included (nothing to fix by hand)."""
    if result.ok:
        return "success"
    if result.plan is None and result.errors:
        return "invalid"
    return "failure"


@dataclass(frozen=True, slots=True)
class SyncStart:
    """The sync in flight: what caused it, which revision, when (wall clock and monotonic)."""

    reason: str | None
    revision: str
    at: datetime
    monotonic: float


def _history_entry(
    start: SyncStart, duration: float, outcome: str, result: SyncResult | None
) -> dict[str, Any]:
    return {
        "revision": start.revision,
        "reason": start.reason,
        "startedAt": _iso(start.at),
        "durationSeconds": round(duration, 3),
        "outcome": outcome,
        "ok": result.ok if result is not None else False,
        "counts": counts(result) if result is not None else None,
        "contexts": by_context(result) if result is not None else None,
        "failedContexts": len(result.failures) if result is not None else None,
        "manifestErrors": len(result.errors) if result is not None else None,
    }


def _failure_message(result: SyncResult) -> str:
    if result.errors:
        first = result.errors[0]
        more = len(result.errors) - 1
        return f"{len(result.errors)} manifest error(s); first: {first}" + (
            f" (and {more} more)" if more else ""
        )
    parts = []
    if result.failures:
        parts.append(
            f"{len(result.failures)} context(s) failed: "
            + "; ".join(f"{f.context}: {f.stage}: {f.message}" for f in result.failures[:3])
        )
    if result.failed_outcomes:
        parts.append(f"{len(result.failed_outcomes)} action(s) failed")
    if result.plan is not None and result.plan.has_errors:
        parts.append("conflicts or blocked deletions: " + result.plan.summary())
    return "; ".join(parts) or "sync failed"


def _identity_json(status: IdentityStatus, now: datetime) -> dict[str, Any]:
    expires = status.token_expires_at
    return {
        "context": status.context,
        "ok": status.ok,
        "who": status.who,
        "serviceAccount": status.service_account,
        "missingRoles": list(status.missing_roles),
        "tokenExpiresAt": _iso(expires),
        "tokenExpiresInSeconds": round((expires - now).total_seconds()) if expires else None,
        "revoked": status.revoked,
        "warnings": list(status.warnings),
        "error": status.error,
    }


class StatusBoard:
    """The daemon's state, updated by the loop and read by the HTTP handlers."""

    def __init__(
        self,
        source_url: str,
        ref: str | None,
        *,
        ready_within: float,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self.source_url = source_url
        self.ref = ref
        self.ready_within = ready_within
        now = self._clock()
        self._conditions = {
            READY: Condition(READY, "Unknown", "Progressing", "waiting for the first sync", now),
            RECONCILING: Condition(RECONCILING, "False", "Idle", "no sync running", now),
            STALLED: Condition(STALLED, "False", "Idle", "", now),
        }
        self.last_attempted_revision: str | None = None
        self.last_applied_revision: str | None = None
        self.last_sync_time: datetime | None = None
        self.last_successful_sync_time: datetime | None = None
        self.first_sync_done = False
        self.last_tick_ok = False
        self._last_ok_monotonic: float | None = None
        self._running_since: float | None = None
        self._current: SyncStart | None = None
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY_SIZE)  # newest first
        self.shutting_down = False
        self.last_result: dict[str, Any] = {}
        self.source_error: dict[str, Any] | None = None
        self.syncs = 0
        self.identities: list[IdentityStatus] = []
        self.suspension: dict[str, Any] = {"suspended": False, "by": None, "since": None}
        self.suspended_plan: dict[str, Any] | None = None

    # -- updates ---------------------------------------------------------------------------------

    def _set(self, kind: str, status: str, reason: str, message: str) -> None:
        old = self._conditions[kind]
        moment = old.last_transition_time if old.status == status else self._clock()
        self._conditions[kind] = replace(
            old, status=status, reason=reason, message=message, last_transition_time=moment
        )

    def sync_started(self, reason: str, revision: str) -> None:
        with self._lock:
            self._running_since = self._monotonic()
            self._current = SyncStart(reason, revision, self._clock(), self._running_since)
            self._set(RECONCILING, "True", "Progressing", f"sync running ({reason})")

    def sync_ended(self) -> None:
        with self._lock:
            self._running_since = None
            self._current = None
            self._set(RECONCILING, "False", "Idle", "no sync running")

    def record_unchanged(self, commit: str) -> None:
        """A tick whose snapshot is the one already applied: nothing to do, and nothing wrong."""
        with self._lock:
            self.source_error = None
            self.last_tick_ok = True
            self._last_ok_monotonic = self._monotonic()
            self._set(READY, "True", "ReconciliationSucceeded", f"applied revision {commit}; unchanged")

    def record_result(self, result: SyncResult, duration: float) -> None:
        with self._lock:
            now = self._clock()
            self.syncs += 1
            self.first_sync_done = True
            self.source_error = None
            self.last_attempted_revision = result.commit
            self.last_sync_time = now
            outcome = sync_outcome(result)
            start = self._current or SyncStart(None, result.commit, now - timedelta(seconds=duration), 0.0)
            self._history.appendleft(_history_entry(start, duration, outcome, result))
            self._current = None
            self.last_result = {
                "revision": result.commit,
                "outcome": outcome,
                "ok": result.ok,
                "durationSeconds": round(duration, 3),
                "summary": result.plan.summary() if result.plan is not None else None,
                "resources": resources(result),
                "failures": [
                    {"context": str(f.context), "stage": f.stage, "message": f.message}
                    for f in result.failures
                ],
                "problems": [problem_json(p) for p in result.all_problems],
            }
            if result.ok:
                self.last_applied_revision = result.commit
                self.last_successful_sync_time = now
                self.last_tick_ok = True
                self._last_ok_monotonic = self._monotonic()
                self._set(READY, "True", "ReconciliationSucceeded", f"applied revision {result.commit}")
                self._set(STALLED, "False", "Idle", "")
                return
            self.last_tick_ok = False
            message = _failure_message(result)
            if outcome == "invalid":
                self._set(READY, "False", "ValidationFailed", f"revision {result.commit}: {message}")
                self._set(STALLED, "True", "ValidationFailed", "fix the manifests: nothing was applied")
            else:
                self._set(READY, "False", "ReconciliationFailed", f"revision {result.commit}: {message}")
                self._set(STALLED, "False", "RetryingNextTick", "retried at the next tick")

    def record_source_error(self, error: SourceError) -> None:
        with self._lock:
            self.last_tick_ok = False
            self.source_error = {
                "type": type(error).__name__,
                "message": error.message,
                "retryable": error.retryable,
                "time": _iso(self._clock()),
            }
            self._set(READY, "False", error.reason, error.message)
            if error.retryable:
                self._set(STALLED, "False", "RetryingNextTick", "retried at the next tick")
            else:
                self._set(STALLED, "True", error.reason, "needs a human: " + error.message)

    def record_suspension(self, state: dict[str, Any]) -> None:
        """Suspended or not (suspend.SuspendState.to_json); resuming forgets the plan made meanwhile."""
        with self._lock:
            self.suspension = state
            if not state["suspended"]:
                self.suspended_plan = None

    def record_suspended_plan(self, result: SyncResult) -> None:
        """What a sync would do, planned while suspended (diff mode: nothing was written)."""
        with self._lock:
            self.source_error = None
            self.suspended_plan = {
                "revision": result.commit,
                "time": _iso(self._clock()),
                "ok": result.ok,
                "summary": result.plan.summary() if result.plan is not None else None,
                "hasChanges": result.has_changes,
                "resources": resources(result),
                "problems": [problem_json(p) for p in result.all_problems],
            }

    def record_identities(self, statuses: Sequence[IdentityStatus]) -> None:
        with self._lock:
            self.identities = list(statuses)

    def record_crash(self, message: str) -> None:
        with self._lock:
            self.last_tick_ok = False
            if self._current is not None:  # the crash ended a sync (not, say, the snapshot)
                duration = self._monotonic() - self._current.monotonic
                self._history.appendleft(_history_entry(self._current, duration, "error", None))
                self._current = None
            self._set(READY, "False", "InternalError", message)

    def mark_shutting_down(self) -> None:
        with self._lock:
            self.shutting_down = True

    # -- reads -----------------------------------------------------------------------------------

    def readiness(self) -> Readiness:
        with self._lock:
            if self.shutting_down:
                return Readiness(False, "shutting down")
            if self.suspension["suspended"]:
                # Ready: suspended is a state someone asked for, and a 503 would take the pod out of
                # the Service that carries POST /resume (and page whoever watches readiness).
                return Readiness(
                    True,
                    f"suspended by {self.suspension['by']} since {self.suspension['since']}: "
                    "nothing is written to APIM until resumed",
                )
            if not self.first_sync_done:
                return Readiness(False, "the first sync has not completed yet")
            revoked = [i.context for i in self.identities if i.revoked]
            if revoked:
                return Readiness(
                    False,
                    f"APIM refuses the token of {', '.join(revoked)} (revoked or expired): replace it, e.g. "
                    "with apim-reconciler service-account rotate",
                )
            if not self.last_tick_ok:
                condition = self._conditions[READY]
                return Readiness(
                    False, f"the last sync attempt failed: {condition.reason}: {condition.message}"
                )
            now = self._monotonic()
            reference = self._last_ok_monotonic or 0.0
            if self._running_since is not None:
                reference = max(reference, self._running_since)
            age = now - reference
            if age > self.ready_within:
                return Readiness(
                    False, f"no successful sync attempt for {age:.0f}s (bound {self.ready_within:.0f}s)"
                )
            return Readiness(True, "ok")

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "source": self.source_url,
                "ref": self.ref,
                "lastAttemptedRevision": self.last_attempted_revision,
                "lastAppliedRevision": self.last_applied_revision,
                "lastSyncTime": _iso(self.last_sync_time),
                "lastSuccessfulSyncTime": _iso(self.last_successful_sync_time),
                "syncs": self.syncs,
                "conditions": [c.to_json() for c in self._conditions.values()],
                "sourceError": self.source_error,
                "lastSync": {k: v for k, v in self.last_result.items() if k in _SUMMARY_KEYS} or None,
                "history": list(self._history),
                "resources": self.last_result.get("resources", []),
                "failures": self.last_result.get("failures", []),
                "problems": self.last_result.get("problems", []),
                "identities": [_identity_json(i, self._clock()) for i in self.identities],
                "suspension": {**self.suspension, "plan": self.suspended_plan},
            }
