"""What the three renderers share: symbols, titles, outcomes, and what an incomplete plan says."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.manifests.model import ResourceId
from reconciler.plan.model import Action, ActionKind, Outcome, Plan

SYMBOL = {
    ActionKind.CREATE: "+",
    ActionKind.UPDATE: "~",
    ActionKind.DELETE: "-",
    ActionKind.DRIFTED: "!",
    ActionKind.CONFLICT: "x",
    ActionKind.BLOCKED: "x",
    ActionKind.UNCHANGED: "=",
    ActionKind.SKIPPED: "o",
}


def title(action: Action) -> str:
    return f"{SYMBOL[action.kind]} {label(action)} {action.resource} ({action.hrid})"


def label(action: Action) -> str:
    """What happens to the resource, in words: `create`, `drifted (reverting)`, `delete (refused)`."""
    text = {
        ActionKind.BLOCKED: f"{action.refused or ActionKind.DELETE} (refused)",
        ActionKind.SKIPPED: "delete (skipped)",
    }.get(action.kind, str(action.kind))
    if action.kind is ActionKind.DRIFTED and not action.writes:
        text = "drifted (not reverted)"
    elif action.kind is ActionKind.DRIFTED:
        text = "drifted (reverting)"
    return text


def outcomes_by_action(actions: Sequence[Action], outcomes: Sequence[Outcome] | None) -> dict[int, Outcome]:
    """Outcomes by position of their action in the plan (actions compare by value, so match by key)."""
    if not outcomes:
        return {}
    index = {(a.context, a.resource, a.kind): i for i, a in enumerate(actions)}
    found: dict[int, Outcome] = {}
    for outcome in outcomes:
        a = outcome.action
        position = index.get((a.context, a.resource, a.kind))
        if position is not None:
            found[position] = outcome
    return found


@dataclass(frozen=True)
class OutcomeCounts:
    """What the outcomes of a run add up to. In a dry run nothing is applied: `succeeded` counts the
    writes APIM validated, and deletions (which APIM cannot dry-run) are `not_sent`."""

    succeeded: int
    failed: int
    interrupted: int
    not_sent: int
    dry_run: bool

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> OutcomeCounts:
        dry_run = bool(outcomes) and all(o.dry_run for o in outcomes)
        stopped = sum(1 for o in outcomes if o.interrupted)
        failed = sum(1 for o in outcomes if not o.ok) - stopped
        not_sent = sum(1 for o in outcomes if o.ok and o.dry_run and o.action.kind is ActionKind.DELETE)
        return cls(len(outcomes) - failed - stopped - not_sent, failed, stopped, not_sent, dry_run)


def outcome_summary(outcomes: Sequence[Outcome] | None) -> str | None:
    if outcomes is None:
        return None
    counts = OutcomeCounts.of(outcomes)
    if counts.dry_run:
        text = (
            f"Dry run, nothing applied: {counts.succeeded} validated by APIM (dry run), "
            f"{counts.failed} failed"
        )
        text += f", {counts.not_sent} deletion(s) not sent" if counts.not_sent else ""
    else:
        text = f"Applied: {counts.succeeded} succeeded, {counts.failed} failed"
    return text + (f", {counts.interrupted} not done (interrupted)" if counts.interrupted else "")


@dataclass(frozen=True)
class NotRead:
    """A management context that a run could not read (or connect to): the plan says nothing about it."""

    context: ResourceId
    file: str | None = None
    """The manifest that defines the context, to find it in the repository."""

    def __str__(self) -> str:
        name = f"{self.context.namespace}/{self.context.name}"
        return f"{name} ({self.file})" if self.file else name


NO_CHANGES = "No changes. APIM matches the repository."


def no_changes(not_read: Sequence[NotRead]) -> str:
    """What an empty plan means: everything matches, or, with contexts not read, only what was read."""
    if not not_read:
        return NO_CHANGES
    return "No changes in the contexts that were read; nothing is known about the ones that were not."


def incomplete_line(not_read: Sequence[NotRead]) -> str | None:
    """The first line of a report whose plan leaves contexts out, naming each (and its file)."""
    if not not_read:
        return None
    names = ", ".join(map(str, not_read))
    which = f"context {names} was" if len(not_read) == 1 else f"{len(not_read)} contexts were"
    listed = "" if len(not_read) == 1 else f" ({names})"
    return (
        f"Plan incomplete: {which} not read{listed}; it is left out of the plan and its counts, "
        "and nothing was changed there."
    )


def summary_text(plan: Plan, not_read: Sequence[NotRead] = ()) -> str:
    """`Plan: 2 to create, ...`, labelled as covering only the contexts read when some were not."""
    text = plan.summary()
    if not not_read:
        return text
    names = ", ".join(f"{n.context.namespace}/{n.context.name}" for n in not_read)
    return text.replace("Plan:", f"Plan (incomplete, not read: {names}):", 1)
