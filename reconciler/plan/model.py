"""The plan: what a sync will do, per resource, and why. Frozen, so a plan can be shown, then applied
exactly as shown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from reconciler import kinds
from reconciler.defaults import DEFAULT_OWNER
from reconciler.kinds import RemoteKind
from reconciler.manifests.model import Position, ResourceId
from reconciler.plan.diff import FieldChange
from reconciler.plan.ownership import OwnershipRecord, with_record

JSON = Any

DEFAULT_DRIFT_TOLERANCE = timedelta(seconds=120)
DEFAULT_PRUNE_THRESHOLD = 0.25


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    DRIFTED = "drifted"  # changed in APIM behind our back; reverted unless revert_drift=False
    CONFLICT = "conflict"  # desired, but APIM holds it without our record, or another owner's
    BLOCKED = "blocked"  # a write a guard refused (`Action.refused` says which): something looks wrong
    SKIPPED = "skipped"  # a deletion not made because prune is turned off (as asked: not an error)


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. `git_commit` goes into every ownership record written."""

    owner_id: str = DEFAULT_OWNER
    git_commit: str = ""
    prune: bool = True
    force_prune: bool = False
    prune_threshold: float = DEFAULT_PRUNE_THRESHOLD
    revert_drift: bool = True
    adopt: bool = False
    drift_tolerance: timedelta = DEFAULT_DRIFT_TOLERANCE
    full_read: bool = False  # read every managed object (a periodic deep check; see docs/plan.md)
    allow_rollback: bool = False  # let a sync of an older commit overwrite what a newer one wrote
    commit_time: datetime | None = None
    """When `git_commit` was committed (git sources): an object written from a commit committed
    later is not overwritten or deleted by this sync (a rollback) unless `allow_rollback`."""
    now: datetime | None = None
    """When the sync started (the caller's clock): an ownership record that claims a later apply time
    was edited by hand, and is not trusted to skip a read."""


@dataclass(frozen=True)
class Action:
    """One thing to do (or, for unchanged/conflict/blocked, to report) about one object."""

    kind: ActionKind
    context: ResourceId
    resource: ResourceId
    hrid: str
    remote_kind: RemoteKind
    reason: str = ""
    changes: Sequence[FieldChange] = ()
    remote_id: str | None = None
    position: Position | None = None
    body: Mapping[str, JSON] | None = field(default=None, repr=False, compare=False)
    record: OwnershipRecord | None = None
    refused: ActionKind | None = None
    """For a BLOCKED action: what it would have done (a deletion, a creation, an update)."""
    after: ResourceId | None = None
    """For a deletion that moves a resource (to another context, or to a new HRID): the context whose
    write of the same resource must have succeeded in this sync before this object is deleted."""

    @property
    def phase(self) -> int:
        """When it runs (and where it is listed): its kind's place in the dependency order, every
        write before any deletion (kinds.phase); a refused or skipped deletion is listed with them."""
        removing = (self.refused or self.kind) in (ActionKind.DELETE, ActionKind.SKIPPED)
        return kinds.phase(
            kinds.named_or_remote(self.resource.kind, self.remote_kind).name, deleting=removing
        )

    @property
    def writes(self) -> bool:
        """True when applying this action sends a request to APIM."""
        if self.kind is ActionKind.DRIFTED:
            return self.body is not None
        return self.kind in (ActionKind.CREATE, ActionKind.UPDATE, ActionKind.DELETE)

    @property
    def is_error(self) -> bool:
        return self.kind in (ActionKind.CONFLICT, ActionKind.BLOCKED)

    def request_body(self, applied_at: datetime) -> dict[str, JSON]:
        """The body to PUT: the desired body with our ownership record stamped with `applied_at`.

        `applied_at` is the time the caller sends the request (timezone-aware). Secrets are still
        `Secret` leaves: the HTTP layer reveals them (see `canonical.reveal_all`).
        """
        if self.body is None or self.record is None:
            raise ValueError(f"a {self.kind} action has no body to send")
        return with_record(self.body, self.record.stamped(applied_at))


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]

    @property
    def has_changes(self) -> bool:
        return any(a.writes for a in self.actions)

    @property
    def has_errors(self) -> bool:
        return any(a.is_error for a in self.actions)

    def counts(self) -> dict[str, int]:
        """Counts by what will happen: create, update (reverted drift included), delete, and reports."""
        counter: Counter[str] = Counter()
        for action in self.actions:
            if action.kind is ActionKind.DRIFTED:
                counter["drifted"] += 1
                if action.writes:
                    counter["update"] += 1
            else:
                counter[str(action.kind)] += 1
        return {kind: counter.get(kind, 0) for kind in ActionKind}

    def summary(self) -> str:
        """`Plan: 2 to create, 1 to update, 0 to delete` and, when any, the other counts."""
        c = self.counts()
        text = f"Plan: {c['create']} to create, {c['update']} to update, {c['delete']} to delete"
        extras = [
            f"{c[k]} {label}"
            for k, label in (
                ("drifted", "drifted"),
                ("conflict", "in conflict"),
                ("blocked", "blocked"),
                ("skipped", "not pruned"),
            )
            if c[k]
        ]
        return text + (f" ({', '.join(extras)})" if extras else "")

    def writes(self) -> tuple[Action, ...]:
        """The actions the apply engine must perform, in order."""
        return tuple(a for a in self.actions if a.writes)


@dataclass(frozen=True)
class Outcome:
    """What happened when one action was applied."""

    action: Action
    ok: bool
    error: str | None = None
    conflict: bool = False  # refused because something else holds the same path (a 400 in APIM)
    detail: str | None = None
    """What happened, when it is not simply "applied" (a deletion that found nothing: "already gone")."""
    interrupted: bool = False  # not run, or cut off in flight, because the sync was stopped
    dry_run: bool = False
    """Sent with `dryRun=true` (`diff --server-side`), or, for a deletion, not sent at all: whatever
    APIM answered, nothing was stored, so it is never reported as applied."""
