"""Prune safety: what to do about an object of APIM that no manifest of the context claims.

An object is deleted only when the evidence is strong: our ownership record, bound to the object
carrying it, intact, and written through this context (ownership.py); a resource that moved (to
another context, or a new HRID) is deleted only after its new copy is written (`Action.after`); an
object a console user detached is never deleted. The planner (planner.py) asks `leftover` for every
listed object it did not match; the guards on the whole plan (guards.py) come after.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import replace

from reconciler.manifests.hrid import resource_hrid
from reconciler.manifests.model import ResourceId
from reconciler.plan import ids
from reconciler.plan.desired import DesiredState
from reconciler.plan.guards import block
from reconciler.plan.model import Action, ActionKind, PlanOptions
from reconciler.plan.ownership import Ownership, OwnershipRecord, ParsedRecord
from reconciler.plan.state import RemoteSummary

DETACHED = "MANAGEMENT"
"""The origin of an object a console user detached from its automation (mAPI v2 `_detach`)."""
DETACHED_REASON = "detached from apim-reconciler in APIM's console (its origin is MANAGEMENT)"

Placement = Mapping[ResourceId, ResourceId]
"""Every managed resource of the whole repository (whatever the scope of the run) -> its context."""


def ours_here(parsed: ParsedRecord, context: ResourceId) -> bool:
    """Ours, bound to its object, and written through this context (or before contexts were recorded)."""
    return parsed.ours and parsed.record is not None and parsed.record.belongs_to(context)


def leftover(
    context: ResourceId,
    summary: RemoteSummary,
    parsed: ParsedRecord,
    state: DesiredState | None,
    placement: Placement,
    listed: set[tuple[ResourceId, str]],
    planned: Set[ResourceId],
    options: PlanOptions,
) -> Action | None:
    """What to do about an object of the context that no desired resource claimed."""
    record = parsed.record
    if parsed.ownership is Ownership.COPIED and record is not None:
        return Action(
            kind=ActionKind.CONFLICT,
            context=context,
            resource=record.resource,
            hrid=summary.hrid or record.hrid or "",
            remote_kind=summary.kind,
            reason=f"the APIM object {summary.id} ({summary.name!r}) carries a copy of this resource's "
            f"ownership record ({parsed.problem}); not touched: remove the copied "
            "'apim-reconciler' metadata entry from it in APIM",
            remote_id=summary.id,
        )
    if not ours_here(parsed, context) or record is None:
        return None  # not ours, or another context's on the same environment: never ours to delete
    deletion = Action(
        kind=ActionKind.DELETE,
        context=context,
        resource=record.resource,
        hrid=record.hrid or summary.hrid or resource_hrid(record.resource.namespace, record.resource.name),
        remote_kind=summary.kind,
        reason=f"owned, no longer in the repository (last applied from commit {record.commit[:12] or '?'})",
        remote_id=summary.id,
        record=record,
    )
    if record.carrier_id is None and not _derived_from_record(summary, record, state):
        return block(
            deletion,
            "not deleted: its ownership record (from an earlier version) does not prove that it was "
            "written onto this object (delete it in APIM, or re-apply it once to bind the record)",
        )
    home = placement.get(record.resource)
    if home is not None:
        if home != context and (home, summary.id) in listed:
            return None  # moved to a context of the same environment, which takes the object over
        if home not in planned:
            return replace(
                deletion,
                kind=ActionKind.SKIPPED,
                reason=f"moved to context {home}, which this run does not sync: kept until a run syncs both",
            )
        where = "a new HRID" if home == context else f"context {home}"
        return replace(
            deletion,
            reason=f"moved to {where}: deleted once its new copy is written in this sync",
            after=home,
        )
    if parsed.altered:
        return block(deletion, f"not deleted: {parsed.problem}")
    if summary.origin == DETACHED:
        return block(deletion, f"not deleted: {DETACHED_REASON}")
    return deletion


def _derived_from_record(summary: RemoteSummary, record: OwnershipRecord, state: DesiredState | None) -> bool:
    """Whether the object is the one APIM derives from the record's default HRID (version-1 records).
    An application's id is derived by the same formula as an API's (plan/ids.py); only APIs are
    listed with a crossId."""
    if state is None:
        return False
    hrid = resource_hrid(record.resource.namespace, record.resource.name)
    cross = ids.cross_id(state.organization_id, hrid)
    return summary.cross_id == cross or summary.id == ids.name_uuid(cross + state.environment_id)
