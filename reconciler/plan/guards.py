"""Prune guards: the rules that stand between a mistake in git and a mass deletion in APIM.

Deletion candidates are already limited to objects that carry our ownership record, bound to them,
with our owner id (the planner never proposes anything else). On top of that, per context:

* prune can be turned off (`PlanOptions.prune=False`): deletions are then `skipped`, not errors;
* an empty desired set deletes nothing: an empty checkout, a wrong path, a bad glob;
* deleting all owned objects, or more than `prune_threshold` of them, is refused.

A repository that failed to load or validate never reaches the planner (the sync stops first), so
there is no rule for it here. The last two rules can be overridden with `force_prune`. A refused
deletion stays in the plan as a `blocked` action with the reason, so it is visible, never silently
dropped.

A refusal must also *last*. If the creations of the same sync went ahead, the next sync would count
more owned objects and let the same deletions through (5 of 20 refused, then 5 of 100 allowed).
So while a context's deletions are refused, whatever would add to its owned objects (a creation, an
adoption, an object moving in from another context) is held back too: the next sync meets the same
numbers and refuses again, until somebody confirms the deletions (`--force-prune`) or restores the
manifests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.plan.model import Action, ActionKind, PlanOptions


def guard_deletions(
    deletions: Sequence[Action], *, owned: int, desired: int, options: PlanOptions
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
    reason = refusal(len(deletions), owned=owned, desired=desired, options=options)
    if reason is None:
        return tuple(deletions)
    return tuple(block(a, f"not deleted: {reason}") for a in deletions)


def hold_growth(actions: Sequence[Action], adds_owned: Sequence[bool]) -> list[Action]:
    """The actions of a context whose deletions were refused: those that would add an owned object held."""
    return [
        block(
            a,
            "held back while this context's deletions are refused (confirm them with --force-prune, "
            "or restore their manifests)",
        )
        if grows
        else a
        for a, grows in zip(actions, adds_owned, strict=True)
    ]


def block(action: Action, why: str) -> Action:
    """`action` refused by a guard: it stays in the plan, as an error, and sends nothing."""
    return replace(
        action,
        kind=ActionKind.BLOCKED,
        refused=action.kind,
        reason=f"{action.reason}; {why}" if action.reason else why,
        body=None,
        record=None,
    )


def refusal(count: int, *, owned: int, desired: int, options: PlanOptions) -> str | None:
    """Why `count` deletions must not happen, or None when they may."""
    if not options.prune:
        return "prune is disabled"
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
