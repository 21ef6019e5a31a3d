"""What a sync does about objects that left the repository: prune them, or keep them, and why.

Three policies, which every report names, because "nothing was deleted" means different things:

- ``prune`` (the default): owned objects that left the repository are deleted (behind the guards);
- ``prune-disabled`` (``--no-prune``, or a ``--label`` scope): those deletions are `skipped` by
  the planner ("prune is disabled"); a resource *moved* to another context or HRID is still
  deleted from its old place, since that is part of applying the move;
- ``never`` (``--mode apply``, decK's ``gateway apply``): the sync creates and updates, and never
  sends a DELETE, not even for a move (the old copy stays). It is applied here, on the planner's
  plan, so that the planner keeps one notion of pruning: every deletion it planned (or skipped, or
  a guard blocked) becomes a `skipped` action whose reason says it was kept by this mode.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from reconciler.plan.model import Action, ActionKind, Plan

KEPT_REASON = "kept: --mode apply never deletes"
_PRUNE_DISABLED = "; prune is disabled"  # the planner's suffix of a skipped deletion (plan/guards.py)


class DeletionPolicy(StrEnum):
    PRUNE = "prune"
    PRUNE_DISABLED = "prune-disabled"
    NEVER = "never"


def never_delete(plan: Plan) -> Plan:
    """``plan`` with no deletion left: each one (planned, skipped or blocked) kept, and said so."""
    return Plan(tuple(_kept(action) for action in plan.actions))


def _kept(action: Action) -> Action:
    deleting = action.kind in (ActionKind.DELETE, ActionKind.SKIPPED) or (
        action.kind is ActionKind.BLOCKED and action.refused is ActionKind.DELETE
    )
    if not deleting:
        return action
    why = action.reason.removesuffix(_PRUNE_DISABLED)
    if action.kind is ActionKind.BLOCKED:  # a guard's refusal: moot when nothing is deleted anyway
        why = why.split("; not deleted: ")[0]
    return replace(
        action,
        kind=ActionKind.SKIPPED,
        refused=None,
        reason=f"{why}; {KEPT_REASON}" if why else KEPT_REASON,
        body=None,
        record=None,
    )


def kept_count(plan: Plan | None) -> int:
    """How many objects the plan leaves in APIM although they left the repository (skipped deletions)."""
    return 0 if plan is None else sum(1 for a in plan.actions if a.kind is ActionKind.SKIPPED)
