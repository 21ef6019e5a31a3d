"""What is worth telling someone about a sync: four kinds of event, built from values already shown
in reports (ids, counts, messages), never from a resolved secret.

- ``sync_succeeded`` / ``sync_failed``: one of the two for every sync the daemon ran, and
  ``sync_failed`` for a snapshot that failed (git unreachable, a commit refused by --verify-commits);
- ``drift_detected``: the plan found objects changed in APIM behind git's back;
- ``prune_blocked``: a prune guard refused deletions (the sync fails; someone must confirm them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from reconciler.notify.eventkinds import DRIFT_DETECTED as DRIFT_DETECTED
from reconciler.notify.eventkinds import EVENT_KINDS as EVENT_KINDS
from reconciler.notify.eventkinds import PRUNE_BLOCKED as PRUNE_BLOCKED
from reconciler.notify.eventkinds import SYNC_FAILED as SYNC_FAILED
from reconciler.notify.eventkinds import SYNC_SUCCEEDED as SYNC_SUCCEEDED

if TYPE_CHECKING:
    from reconciler.plan.model import Action
    from reconciler.source import SourceError
    from reconciler.sync.result import SyncResult


#: Resources named in one event; the rest is counted.
MAX_NAMED = 20


@dataclass(frozen=True, slots=True)
class Event:
    """One notification, before any target's shape. ``commit`` is None when it is not known."""

    kind: str
    title: str
    message: str
    commit: str | None
    source: str
    time: datetime
    summary: str | None = None
    resources: tuple[str, ...] = field(default=())
    """``Kind namespace/name`` of the resources concerned (drifted, blocked), at most `MAX_NAMED`."""

    @property
    def ok(self) -> bool:
        return self.kind == SYNC_SUCCEEDED


def events_of_result(result: SyncResult, source: str, now: datetime | None = None) -> tuple[Event, ...]:
    """The events of one finished sync: its outcome, then drift and blocked prunes when any."""
    from reconciler.plan.model import ActionKind  # here: the planner and the kinds, not for --help

    moment = now or datetime.now(UTC)
    summary = result.plan.summary() if result.plan is not None else None
    short = result.commit[:12]
    events: list[Event] = []
    if result.ok:
        events.append(
            Event(
                SYNC_SUCCEEDED,
                f"Sync of {short} succeeded",
                summary or "",
                result.commit,
                source,
                moment,
                summary,
            )
        )
    else:
        events.append(
            Event(
                SYNC_FAILED,
                f"Sync of {short} failed",
                _failure(result),
                result.commit,
                source,
                moment,
                summary,
            )
        )
    if result.plan is None:
        return tuple(events)
    drifted = [a for a in result.plan.actions if a.kind is ActionKind.DRIFTED]
    if drifted:
        reverted = "reverted" if any(a.body is not None for a in drifted) else "reported, not reverted"
        events.append(
            Event(
                DRIFT_DETECTED,
                f"Drift detected at {short}",
                f"{len(drifted)} resource(s) changed in APIM behind git's back ({reverted})",
                result.commit,
                source,
                moment,
                summary,
                _names(drifted),
            )
        )
    blocked = [
        a for a in result.plan.actions if a.kind is ActionKind.BLOCKED and a.refused is ActionKind.DELETE
    ]
    if blocked:
        events.append(
            Event(
                PRUNE_BLOCKED,
                f"Prune blocked at {short}",
                f"{len(blocked)} deletion(s) refused by the prune guards: {blocked[0].reason}",
                result.commit,
                source,
                moment,
                summary,
                _names(blocked),
            )
        )
    return tuple(events)


def events_of_source_error(error: SourceError, source: str, now: datetime | None = None) -> Event:
    """A snapshot that failed: nothing was synced; the commit is not known here."""
    return Event(
        SYNC_FAILED,
        f"Sync failed: {type(error).__name__}",
        error.message,
        None,
        source,
        now or datetime.now(UTC),
    )


def _names(actions: Sequence[Action]) -> tuple[str, ...]:
    return tuple(f"{a.resource.kind} {a.resource.namespace}/{a.resource.name}" for a in actions[:MAX_NAMED])


def _failure(result: SyncResult) -> str:
    if result.errors:
        return f"{len(result.errors)} manifest error(s); first: {result.errors[0]}"
    parts = [f"{f.context}: {f.stage}: {f.message}" for f in result.failures[:3]]
    parts += [f"{o.action.kind} {o.action.resource}: {o.error}" for o in result.failed_outcomes[:3]]
    if result.interrupted:
        parts.append(result.interrupted)
    if not parts and result.plan is not None and result.plan.has_errors:
        parts.append("conflicts or blocked actions: " + result.plan.summary())
    return "; ".join(parts) or "sync failed"
