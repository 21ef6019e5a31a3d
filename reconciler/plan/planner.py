"""The solver: desired state + what APIM holds -> a Plan. Pure: no I/O, no clock.

Two passes keep a no-op sync cheap. `reads_needed` looks only at listing summaries and names the
objects whose full state must be read; the caller reads them; `make_plan` decides. An object we own,
whose recorded spec hash equals the desired one and whose `updatedAt` is not later than the
recorded `appliedAt` plus a tolerance, is `unchanged` without ever being read.

A console edit of a field that the listing itself shows (name, description, version, visibility,
lifecycle and state, tags, labels) is caught without a read and without clocks: the listing is
compared with the manifest. For the other fields, `updatedAt` is the signal.

Why a tolerance: `appliedAt` is taken on our clock just before the request is sent, `updatedAt` on
APIM's clock when it writes, so even an untouched object shows `updatedAt > appliedAt` by the
request latency plus any clock skew (APIM may also touch `updatedAt` while deploying). The default,
120 s, absorbs both. Its cost: a console edit made within that window after an apply is not seen
until the manifest changes, or until a deep check (`PlanOptions.full_read`) reads everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import overload

from reconciler.manifests.hrid import resource_hrid
from reconciler.manifests.model import JSON, ResourceId
from reconciler.plan.desired import DesiredResource, DesiredState
from reconciler.plan.diff import FieldChange, diff
from reconciler.plan.guards import guard_deletions
from reconciler.plan.kinds import RemoteKind, remote_kind
from reconciler.plan.model import Action, ActionKind, Plan, PlanOptions
from reconciler.plan.normalise import comparable, hashable
from reconciler.plan.ownership import (
    Ownership,
    OwnershipRecord,
    ParsedRecord,
    format_instant,
)
from reconciler.plan.state import FullStates, ReadRequest, RemoteSummary

Summaries = Mapping[ResourceId, Sequence[RemoteSummary]]
"""Listing summaries by context (the ManagementContext's ResourceId)."""


@dataclass(frozen=True)
class _Pair:
    desired: DesiredResource
    summary: RemoteSummary | None
    parsed: ParsedRecord


def reads_needed(
    desired: Mapping[ResourceId, DesiredState], summaries: Summaries, options: PlanOptions | None = None
) -> tuple[ReadRequest, ...]:
    """The full reads `make_plan` needs: objects whose hash differs, that were modified after our last
    apply, or that a desired resource would collide with (not ours)."""
    options = options or PlanOptions()
    requests: list[ReadRequest] = []
    for context in sorted(set(desired) | set(summaries)):
        pairs, _ = _match(desired.get(context), summaries.get(context, ()), options)
        for pair in pairs:
            if pair.summary is None:
                continue
            reason = _read_reason(pair, options)
            if reason is not None:
                requests.append(
                    ReadRequest(
                        context,
                        pair.summary.kind,
                        pair.summary.id,
                        pair.summary.hrid or pair.desired.hrid,
                        pair.desired.id,
                        reason,
                    )
                )
    return tuple(requests)


def make_plan(
    desired: Mapping[ResourceId, DesiredState],
    summaries: Summaries,
    full_states: FullStates,
    options: PlanOptions | None = None,
    broken_contexts: frozenset[ResourceId] = frozenset(),
) -> Plan:
    """Decide every action. Contexts are independent; within one, APIs come before applications
    (which subscribe to them) and deletions come last, applications before APIs."""
    options = options or PlanOptions()
    actions: list[Action] = []
    for context in sorted(set(desired) | set(summaries)):
        state = desired.get(context)
        listing = summaries.get(context, ())
        pairs, leftovers = _match(state, listing, options)
        context_actions = [_decide(pair, full_states, options) for pair in pairs]
        owned = sum(1 for s in listing if _ours_here(s.ownership(options.owner_id), context))
        deletions = [_deletion(context, s, p) for s, p in leftovers if _ours_here(p, context)]
        context_actions += guard_deletions(
            deletions,
            owned=owned,
            desired=len(state.resources) if state else 0,
            broken=context in broken_contexts,
            options=options,
        )
        actions += sorted(context_actions, key=_order)
    return Plan(tuple(actions))


def _ours_here(parsed: ParsedRecord, context: ResourceId) -> bool:
    """Ours, and written through this context (records from before contexts were recorded count)."""
    return (
        parsed.ownership is Ownership.OURS and parsed.record is not None and parsed.record.belongs_to(context)
    )


def _match(
    state: DesiredState | None, listing: Sequence[RemoteSummary], options: PlanOptions
) -> tuple[list[_Pair], list[tuple[RemoteSummary, ParsedRecord]]]:
    """Pair each desired resource with the object that holds it in APIM, if any.

    Tried in order: our own record naming the manifest, then HRID, crossId (APIs), and expected id.
    Indexed, so that an environment of thousands of objects stays linear.
    """
    parsed = [s.ownership(options.owner_id) for s in listing]
    index: dict[tuple[str, RemoteKind, object], list[int]] = {}
    for position, (summary, record) in enumerate(zip(listing, parsed, strict=True)):
        keys: list[tuple[str, object]] = [
            ("hrid", summary.hrid),
            ("cross", summary.cross_id),
            ("id", summary.id),
        ]
        if record.ownership is Ownership.OURS and record.record is not None:
            keys.append(("record", record.record.resource))
        for name, value in keys:
            if value is not None:
                index.setdefault((name, summary.kind, value), []).append(position)
    used: set[int] = set()
    pairs: list[_Pair] = []
    for resource in sorted(state.resources if state else (), key=lambda r: r.id):
        kind = resource.remote_kind
        lookups: list[tuple[str, object]] = [("record", resource.id), ("hrid", resource.hrid)]
        if kind is RemoteKind.API:
            lookups.append(("cross", resource.cross_id))
        lookups.append(("id", resource.remote_id))
        found = next(
            (p for name, value in lookups for p in index.get((name, kind, value), ()) if p not in used), None
        )
        if found is None:
            pairs.append(_Pair(resource, None, ParsedRecord(Ownership.UNOWNED)))
        else:
            used.add(found)
            pairs.append(_Pair(resource, listing[found], parsed[found]))
    leftovers = [(s, parsed[i]) for i, s in enumerate(listing) if i not in used]
    return pairs, leftovers


def _touched(summary: RemoteSummary, record: OwnershipRecord, options: PlanOptions) -> bool:
    if summary.updated_at is None or record.applied_at is None:
        return True  # cannot tell: be safe and look
    return summary.updated_at > record.applied_at + options.drift_tolerance


def _listing_disagrees(summary: RemoteSummary, body: Mapping[str, JSON]) -> bool:
    """A console edit of a field the listing shows, seen at no cost; a false alarm costs one read."""
    for field, shown in summary.listed.items():
        wanted = body.get(field)
        if isinstance(wanted, list) and isinstance(shown, list):
            differs = sorted(map(str, wanted)) != sorted(map(str, shown))
        elif isinstance(wanted, str) and isinstance(shown, str):
            differs = wanted.strip() != shown.strip()
        else:
            differs = False  # absent on one side: only a full read can tell a default from an edit
        if differs:
            return True
    return False


def _read_reason(pair: _Pair, options: PlanOptions) -> str | None:
    record = pair.parsed.record
    summary = pair.summary
    assert summary is not None  # pairs without a summary never get here (type narrowing)  # nosec B101
    if pair.parsed.ownership is not Ownership.OURS or record is None:
        return f"exists in APIM ({pair.parsed.ownership})"
    if record.spec_hash != pair.desired.spec_hash:
        return "desired spec changed since last apply"
    if _touched(summary, record, options):
        return "modified in APIM after last apply"
    if _listing_disagrees(summary, pair.desired.body):
        return "the listing differs from the manifest (edited in APIM?)"
    if options.full_read:
        return "full read requested"
    return None


def _decide(pair: _Pair, full_states: FullStates, options: PlanOptions) -> Action:
    d, summary, parsed = pair.desired, pair.summary, pair.parsed
    record = OwnershipRecord(options.owner_id, d.id, options.git_commit, d.spec_hash, context=d.context)
    base = Action(
        kind=ActionKind.UNCHANGED,
        context=d.context,
        resource=d.id,
        hrid=d.hrid,
        remote_kind=d.remote_kind,
        remote_id=summary.id if summary else d.remote_id,
        position=d.position,
    )
    if summary is None:
        # A creation shows the body as sent (GKO defaults in, server defaults not).
        return _with(base, ActionKind.CREATE, "not in APIM", CreationChanges(d), d, record)
    actual = full_states.get((d.context, summary.id))
    changes = (
        diff(comparable(d.kind, d.body), comparable(d.kind, actual), locate=d.position_of)
        if actual is not None
        else ()
    )
    unread = "" if actual is not None else "; full state not read"
    if parsed.ownership is Ownership.FOREIGN:
        owner = parsed.record.owner if parsed.record else "?"
        return _with(
            base, ActionKind.CONFLICT, f"owned by another reconciler ({owner!r}); not touched", changes
        )
    if parsed.ownership in (Ownership.UNOWNED, Ownership.MALFORMED):
        why = (
            "exists in APIM without an ownership record"
            if parsed.ownership is Ownership.UNOWNED
            else (f"exists in APIM with an unreadable ownership record ({parsed.problem})")
        )
        if options.adopt:
            return _with(base, ActionKind.UPDATE, f"adopting: {why}{unread}", changes, d, record)
        return _with(base, ActionKind.CONFLICT, f"{why}; not touched (use adopt to take it over)", changes)
    ours = parsed.record
    assert ours is not None  # Ownership.OURS always carries its record (type narrowing)  # nosec B101
    touched = _touched(summary, ours, options) or _listing_disagrees(summary, d.body)
    since = _since(summary, ours)
    if ours.spec_hash != d.spec_hash:
        reason = "manifest changed since last apply"
        if touched and since:
            reason += f"; APIM was also modified{since} and those edits are overwritten"
        if actual is not None and not changes:
            reason += " (only fields that APIM does not echo)"
        return _with(base, ActionKind.UPDATE, reason + unread, changes, d, record)
    if not touched and (not options.full_read or actual is None):
        unread = " (full state not available)" if options.full_read else ""
        return _with(
            base, ActionKind.UNCHANGED, f"ownership record matches; not modified since last apply{unread}"
        )
    if actual is None:
        return _with(
            base,
            ActionKind.UPDATE,
            f"modified in APIM{since}; full state not read, re-applying",
            (),
            d,
            record,
        )
    if not changes:
        return _with(base, ActionKind.UNCHANGED, f"no managed field differs (touched in APIM{since})")
    if options.revert_drift:
        return _with(base, ActionKind.DRIFTED, f"modified in APIM{since}; reverting", changes, d, record)
    return _with(
        base, ActionKind.DRIFTED, f"modified in APIM{since}; not reverted (revert_drift off)", changes
    )


class CreationChanges(Sequence[FieldChange]):
    """The changes of a creation: every field of the body as sent (GKO defaults in, server defaults
    not), worked out each time they are read.

    They are only a view of the body, which the action holds anyway, and only reports read them:
    held for every creation of a cold sync of 10,000 APIs, they were a third of its memory.
    """

    __slots__ = ("_desired",)

    def __init__(self, desired: DesiredResource) -> None:
        self._desired = desired

    def _changes(self) -> tuple[FieldChange, ...]:
        d = self._desired
        return diff(hashable(d.kind, d.body), {}, locate=d.position_of)

    @overload
    def __getitem__(self, index: int) -> FieldChange: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[FieldChange]: ...

    def __getitem__(self, index: int | slice) -> FieldChange | Sequence[FieldChange]:
        return self._changes()[index]

    def __len__(self) -> int:
        return len(self._changes())

    def __iter__(self) -> Iterator[FieldChange]:
        return iter(self._changes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self._changes() == tuple(other)

    def __hash__(self) -> int:
        return hash(self._changes())

    def __repr__(self) -> str:
        return f"CreationChanges({self._desired.id})"


def _since(summary: RemoteSummary, record: OwnershipRecord) -> str:
    if summary.updated_at is None or record.applied_at is None:
        return ""
    return (
        f" at {format_instant(summary.updated_at)}, after last apply at {format_instant(record.applied_at)}"
    )


def _with(
    base: Action,
    kind: ActionKind,
    reason: str,
    changes: Sequence[FieldChange] = (),
    desired: DesiredResource | None = None,
    record: OwnershipRecord | None = None,
) -> Action:
    return replace(
        base,
        kind=kind,
        reason=reason,
        changes=changes,
        body=desired.body if desired is not None else None,
        record=record if desired is not None else None,
    )


def _deletion(context: ResourceId, summary: RemoteSummary, parsed: ParsedRecord) -> Action:
    record = parsed.record
    assert record is not None  # only OURS records reach a deletion (type narrowing)  # nosec B101
    return Action(
        kind=ActionKind.DELETE,
        context=context,
        resource=record.resource,
        hrid=summary.hrid or resource_hrid(record.resource.namespace, record.resource.name),
        remote_kind=summary.kind,
        reason=f"owned, no longer in the repository (last applied from commit {record.commit or '?'})",
        remote_id=summary.id,
    )


_PHASE = {RemoteKind.API: (0, 3), RemoteKind.APPLICATION: (1, 2)}


def _order(action: Action) -> tuple[int, str, str, str]:
    removing = action.kind in (ActionKind.DELETE, ActionKind.BLOCKED, ActionKind.SKIPPED)
    phases = _PHASE.get(action.remote_kind) or _PHASE[remote_kind(action.resource.kind)]
    r = action.resource  # its fields in ResourceId's order: plain tuples compare faster than dataclasses
    return (phases[1] if removing else phases[0], r.kind, r.namespace, r.name)
