"""The rows of the ``/status`` document that one sync's result gives: its resources, its counts, and
the same counts per management context.

Apart from `status` (the board, its conditions and readiness) because they are plain functions of a
`SyncResult`, read by the JSON document and, through it, by the page at ``/``: one context's line on
the page is the sum of that context's actions in this plan, never a number counted a second way.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reconciler.manifests.model import ResourceId
from reconciler.plan.model import Action, Plan
from reconciler.sync.result import SyncResult


def context_key(context: ResourceId) -> str:
    """A context as the identity checks name it: ``namespace/name``."""
    return f"{context.namespace}/{context.name}"


def counts(result: SyncResult) -> dict[str, int] | None:
    """Actions by kind, as the plan summary counts them, and the applied actions that failed;
    None without a plan: no count is claimed for what was not planned."""
    if result.plan is None:
        return None
    return result.plan.counts() | {"failed": len(result.failed_outcomes)}


def by_context(result: SyncResult) -> dict[str, dict[str, Any]] | None:
    """Per context (``namespace/name``): ``ok``, ``counts`` as in `counts`, and ``error`` for a
    context that could not be planned or applied; None when the sync made no plan and no context
    failed (manifest errors: nothing was read)."""
    if result.plan is None and not result.failures:
        return None
    contexts: dict[str, dict[str, Any]] = {}
    if result.plan is not None:
        groups: dict[ResourceId, list[Action]] = {}
        for action in result.plan.actions:
            groups.setdefault(action.context, []).append(action)
        failed = Counter(outcome.action.context for outcome in result.failed_outcomes)
        for context, actions in groups.items():
            plan = Plan(tuple(actions))
            contexts[context_key(context)] = {
                "ok": not failed[context] and not plan.has_errors,
                "counts": plan.counts() | {"failed": failed[context]},
                "error": None,
            }
    for failure in result.failures:
        contexts[context_key(failure.context)] = {
            "ok": False,
            "counts": None,
            "error": f"{failure.stage}: {failure.message}",
        }
    return dict(sorted(contexts.items()))


def resources(result: SyncResult) -> list[dict[str, Any]]:
    """One row per planned resource: what the plan said, whether it was applied, and why not."""
    if result.plan is None:
        return []
    outcomes = {id(o.action): o for o in result.outcomes}
    rows = []
    for action in result.plan.actions:
        outcome = outcomes.get(id(action))
        if outcome is not None:
            ok, error = outcome.ok, outcome.error
        else:
            ok, error = not action.is_error, action.reason if action.is_error else None
        rows.append(
            {
                "kind": action.resource.kind,
                "namespace": action.resource.namespace,
                "name": action.resource.name,
                "context": str(action.context),
                "hrid": action.hrid,
                "action": str(action.kind),
                "reason": action.reason or None,
                "applied": outcome is not None,
                "ok": ok,
                "error": error,
                "position": str(action.position) if action.position else None,
            }
        )
    return rows
