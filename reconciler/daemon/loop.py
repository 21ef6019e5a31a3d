"""The reconcile loop: when to sync, one sync at a time, and never dying of a failed one.

Each tick takes a snapshot of the source. A sync (load → validate → plan → apply) runs when the
commit changed, when the previous attempt failed (an APIM or git server that was down is retried),
when ``resync_interval`` has passed since the last sync (drift correction), and on a trigger
(webhook, SIGHUP, a file change under ``--watch``). Triggers coalesce: any number of them during a
sync queue exactly one more.

While suspended (suspend.py) a tick still takes its snapshot and plans in diff mode, when the
commit changed, on a trigger, or every ``resync_interval``, so that ``/status`` shows what a sync
would do; it writes nothing. A sync already running when the daemon is suspended finishes.

A failed stage never makes things worse: a snapshot that fails keeps the last good checkout and
applies nothing; a repository with errors is refused by the engine before any request; an
unexpected exception is logged, counted and the loop goes on at the next tick.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.identity import IdentityWatch, context_names, token_expiry_seconds
from reconciler.daemon.memory import release_freed_memory
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.status import StatusBoard, sync_outcome
from reconciler.daemon.suspend import SuspendState, Suspension
from reconciler.notify import Notifier, events_of_result, events_of_source_error
from reconciler.source import Snapshot, SourceError
from reconciler.sync.job import SyncJob
from reconciler.sync.result import SyncResult
from reconciler.sync.run import run_sync
from reconciler.sync.settings import SyncMode
from reconciler.sync.threads import in_daemon_thread

_log = structlog.get_logger(__name__)


def jittered(interval: float, jitter: float, rng: random.Random) -> float:
    """``interval`` ± ``jitter`` (a share), so that replicas do not poll in step."""
    return interval * (1 + rng.uniform(-jitter, jitter))


class ReconcileLoop:
    """Owns the timing and the single in-flight sync; `trigger` and `stop` may be called any time."""

    def __init__(
        self,
        job: SyncJob,
        config: DaemonConfig,
        *,
        status: StatusBoard,
        metrics: Metrics,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        identity: IdentityWatch | None = None,
        suspension: Suspension | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.job = job
        self.notifier = notifier
        self.suspension = suspension or Suspension()
        self._suspended_plan_commit: str | None = None
        self._suspended_plan_at: float | None = None
        self.identity = identity
        self.config = config
        self.status = status
        self.metrics = metrics
        self._rng = rng or random.Random()  # poll jitter, not cryptography  # nosec B311
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self._triggers: list[str] = []
        self._stopping = False
        self._synced_commit: str | None = None
        self._last_attempt_ok = False
        self._last_sync_at: float | None = None
        self._last_full_read_at: float | None = None
        self.syncing = False

    # -- control ---------------------------------------------------------------------------------

    def trigger(self, reason: str) -> None:
        """Ask for a sync now (or right after the one in flight). Call from the loop's thread."""
        if self._stopping:
            return
        if reason not in self._triggers:
            self._triggers.append(reason)
        _log.info("daemon.triggered", reason=reason, queued=self.syncing)
        self._wake.set()

    def suspend(self, by: str) -> SuspendState:
        """Write nothing from the next tick on (the sync in flight finishes). Call from the loop's thread."""
        return self.publish_suspension(self.suspension.suspend(by), by)

    def resume(self, by: str) -> SuspendState:
        """Clear a suspend request (a --suspend-file that exists still holds) and sync now if free."""
        state = self.publish_suspension(self.suspension.resume(), by)
        if not state.suspended:
            self.trigger("resume")
        return state

    def publish_suspension(self, state: SuspendState | None = None, by: str | None = None) -> SuspendState:
        """Put the switch's state in /status and /metrics (logged when it changed)."""
        state = state or self.suspension.state()
        was = self.status.suspension["suspended"]
        if state.suspended != was:
            event = "daemon.suspended" if state.suspended else "daemon.resumed"
            _log.warning(event, by=state.by if state.suspended else by)
        self.status.record_suspension(state.to_json())
        self.metrics.set_suspended(state.suspended)
        return state

    def stop(self) -> None:
        """Take no new work; the sync in flight, if any, finishes."""
        self._stopping = True
        self._wake.set()

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        reason = "start"
        while not self._stopping:
            forced = bool(self._triggers)
            if forced:
                reason = "+".join(self._triggers)
            self._triggers.clear()
            self._wake.clear()
            if await self.tick(reason, forced=forced) is not None:
                release_freed_memory()  # the sync's result is gone by now: only live objects stay
            if self._stopping:
                break
            if self._triggers:
                reason = "trigger"
                continue
            try:
                await asyncio.wait_for(
                    self._wake.wait(), jittered(self.config.interval, self.config.jitter, self._rng)
                )
                reason = "trigger"
            except TimeoutError:
                reason = "interval"

    async def tick(self, reason: str, *, forced: bool) -> SyncResult | None:
        """One poll, and a sync when one is due; never raises (except when cancelled)."""
        sync_id = uuid.uuid4().hex[:12]
        with structlog.contextvars.bound_contextvars(sync_id=sync_id):
            try:
                return await self._tick(reason, forced=forced)
            except asyncio.CancelledError:
                _log.warning("daemon.sync_cancelled", reason=reason)
                raise
            except Exception as error:
                self.metrics.count_loop_error()
                self.status.record_crash(f"unexpected error: {type(error).__name__}: {error}")
                self._last_attempt_ok = False
                _log.exception("daemon.tick_crashed", reason=reason)
                return None
            finally:
                if self.syncing:
                    self.syncing = False
                    self.status.sync_ended()

    async def once(self) -> SyncResult:
        """A single sync whatever the state (``run --once``); a failed snapshot raises `SourceError`."""
        snapshot = await in_daemon_thread(self.job.source.snapshot, name="reconciler-snapshot")
        with structlog.contextvars.bound_contextvars(sync_id=uuid.uuid4().hex[:12], commit=snapshot.commit):
            return await self._sync(snapshot, "once", full_read=self.job.settings.plan.full_read)

    async def _tick(self, reason: str, *, forced: bool) -> SyncResult | None:
        try:
            snapshot = await in_daemon_thread(self.job.source.snapshot, name="reconciler-snapshot")
        except SourceError as error:
            self.metrics.count_source_error()
            self.status.record_source_error(error)
            self._last_attempt_ok = False
            last = self.job.source.last_good
            _log.error(
                "daemon.source_failed",
                reason=reason,
                error=error.message,
                error_type=type(error).__name__,
                retryable=error.retryable,
                last_good_commit=last.commit if last is not None else None,
            )
            if self.notifier is not None:
                self.notifier.notify([events_of_source_error(error, self.job.source.source_url)])
            return None
        now = self._monotonic()
        was_suspended = self.status.suspension["suspended"]
        if self.publish_suspension(self.suspension.state(), "--suspend-file").suspended:
            return await self._plan_suspended(snapshot, reason, forced=forced, now=now)
        if was_suspended:  # the suspend file went away: what waited is applied now
            forced, reason = True, f"{reason}, resumed"
        resync_due = self._last_sync_at is None or now - self._last_sync_at >= self.config.resync_interval
        changed = snapshot.commit != self._synced_commit
        with structlog.contextvars.bound_contextvars(commit=snapshot.commit):
            if not (forced or changed or resync_due or not self._last_attempt_ok):
                self.status.record_unchanged(snapshot.commit)
                _log.debug("daemon.unchanged", reason=reason)
                return None
            if changed and self._synced_commit is not None:
                reason = f"{reason}, new commit"
            elif resync_due and not forced and not changed and self._last_attempt_ok:
                reason = "resync"
            full_read = self.job.settings.plan.full_read or self._full_read_due(now)
            result = await self._sync(snapshot, reason, full_read=full_read)
            self._synced_commit = snapshot.commit
            self._last_sync_at = now
            self._last_attempt_ok = result.ok
            if full_read and result.plan is not None:
                self._last_full_read_at = now
            return result

    async def _plan_suspended(
        self, snapshot: Snapshot, reason: str, *, forced: bool, now: float
    ) -> SyncResult | None:
        """While suspended: a diff-mode plan (reads only) for /status, when something may have moved."""
        last = self._suspended_plan_at
        due = forced or snapshot.commit != self._suspended_plan_commit or last is None
        if not due and last is not None and now - last < self.config.resync_interval:
            return None
        with structlog.contextvars.bound_contextvars(commit=snapshot.commit):
            result = await run_sync(self.job, snapshot, SyncMode.DIFF, full_read=False)
            self._suspended_plan_commit, self._suspended_plan_at = snapshot.commit, now
            self.status.record_suspended_plan(result)
            _log.info(
                "daemon.planned_while_suspended",
                reason=reason,
                summary=result.plan.summary() if result.plan is not None else None,
                has_changes=result.has_changes,
                errors=len(result.errors),
            )
        return result

    def _full_read_due(self, now: float) -> bool:
        if self._last_full_read_at is None:
            return True  # at start: whatever changed while no reconciler was running is seen
        interval = self.config.full_read_interval
        return interval > 0 and now - self._last_full_read_at >= interval

    async def _sync(self, snapshot: Snapshot, reason: str, *, full_read: bool) -> SyncResult:
        self.syncing = True
        self.status.sync_started(reason, snapshot.commit)
        _log.info("daemon.sync_started", reason=reason, full_read=full_read)
        started = self._monotonic()
        try:
            result = await run_sync(
                self.job,
                snapshot,
                SyncMode.APPLY,
                full_read=full_read,
                on_loaded=lambda manifests: self.metrics.declare_contexts(
                    context_names(manifests, self.job.settings)
                ),
            )
        except Exception:
            self.metrics.record_sync("error", self._monotonic() - started, None, time.time())
            raise
        duration = self._monotonic() - started
        outcome = sync_outcome(result)
        self.metrics.record_sync(outcome, duration, result, time.time())
        self.status.record_result(result, duration)
        self._log_result(result, outcome, duration)
        if self.notifier is not None:  # queued: a slow receiver never holds the loop
            self.notifier.notify(events_of_result(result, self.job.source.source_url))
        if self.identity is not None and self.identity.due(result):
            await self._check_identities(result)
        return result

    async def _check_identities(self, result: SyncResult) -> None:
        assert self.identity is not None  # only called when set  # nosec B101
        statuses = await self.identity.check(result)
        now = datetime.now(UTC)
        self.status.record_identities(statuses)
        self.metrics.record_token_expiry({s.context: token_expiry_seconds(s, now) for s in statuses})

    @staticmethod
    def _log_result(result: SyncResult, outcome: str, duration: float) -> None:
        summary = result.plan.summary() if result.plan is not None else None
        if result.ok:
            _log.info(
                "daemon.sync_succeeded",
                duration_s=round(duration, 3),
                summary=summary,
                applied=len(result.outcomes),
                requests=dict(result.requests),
            )
            return
        _log.error(
            "daemon.sync_failed",
            outcome=outcome,
            duration_s=round(duration, 3),
            summary=summary,
            errors=[str(p) for p in result.errors[:20]],
            failures=[f"{f.context}: {f.stage}: {f.message}" for f in result.failures],
            failed_actions=[
                f"{o.action.kind} {o.action.resource}: {o.error}" for o in result.failed_outcomes[:20]
            ],
        )
