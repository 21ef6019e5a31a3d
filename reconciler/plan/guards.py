"""Prune guards: the rules that stand between a mistake in git and a mass deletion in APIM.

Deletion candidates are already limited to objects that carry our ownership record with our owner
id (the planner never proposes anything else). On top of that, per context:

* prune can be turned off (`PlanOptions.prune=False`): deletions are then `skipped`, not errors;
* a context whose manifests failed to load or validate deletes nothing: a half-read repository
  looks exactly like a repository where things were removed;
* an empty desired set deletes nothing: an empty checkout, a wrong path, a bad glob;
* deleting all owned objects, or more than `prune_threshold` of them, is refused.

The last two can be overridden with `force_prune`; the broken-context guard cannot. A refused deletion stays in
the plan as a `blocked` action with the reason, so it is visible, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.plan.model import Action, ActionKind, PlanOptions


def guard_deletions(
    deletions: Sequence[Action],
    *,
    owned: int,
    desired: int,
    broken: bool,
    options: PlanOptions,
) -> tuple[Action, ...]:
    """The deletions of one context, each either kept as `delete` or turned into `blocked`.

    `owned` counts the context's objects that carry our record; `desired` its resources in git.
    """
    if not deletions:
        return ()
    if not options.prune:
        return tuple(
            replace(a, kind=ActionKind.SKIPPED, reason=f"{a.reason}; prune is disabled") for a in deletions
        )
    reason = refusal(len(deletions), owned=owned, desired=desired, broken=broken, options=options)
    if reason is None:
        return tuple(deletions)
    return tuple(
        replace(a, kind=ActionKind.BLOCKED, reason=f"{a.reason}; not deleted: {reason}") for a in deletions
    )


def refusal(count: int, *, owned: int, desired: int, broken: bool, options: PlanOptions) -> str | None:
    """Why `count` deletions must not happen, or None when they may."""
    if not options.prune:
        return "prune is disabled"
    if broken:
        return "the manifests of this context failed to load or validate"
    if options.force_prune:
        return None
    if desired == 0:
        return "the repository holds no resource for this context (use --force-prune to delete anyway)"
    if count >= owned:
        return f"it would delete all {owned} owned resources of this context (use --force-prune)"
    if count > options.prune_threshold * owned:
        return (
            f"it would delete {count} of {owned} owned resources, more than "
            f"{options.prune_threshold:.0%} (use --force-prune)"
        )
    return None
