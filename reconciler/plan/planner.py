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

What is never done on weak evidence:

* Only a record of ours that is bound to the object carrying it counts (ownership.py): a copy is a
  conflict, an altered record is not trusted to skip a read, and an object is deleted only when its
  record is bound, intact and written through this context.
* A resource that left a context but is still in the repository (moved to another context, or given
  a new HRID) is not a deletion: either the new place already holds the same object (a move within
  one environment), or the old object is deleted only after the new one was written in this sync
  (`Action.after`).
* An object written from a commit committed after this sync's is not updated or deleted (a
  rollback), unless `allow_rollback`.

Why one long module: it is read top to bottom as one decision (match, read,
decide, guard, order), like Flux's `reconcile()`; what it does about objects no manifest claims
(deletions and their safety) is prune.py, the guards and ids it uses live beside it (guards.py, ids.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import overload

from reconciler import kinds
from reconciler.kinds import RemoteKind
from reconciler.manifests.model import JSON, FieldPath, ResourceId
from reconciler.plan.desired import DesiredResource, DesiredState
from reconciler.plan.diff import ChangeOp, FieldChange, diff
from reconciler.plan.guards import block, guard_deletions, hold_growth
from reconciler.plan.model import Action, ActionKind, Plan, PlanOptions
from reconciler.plan.normalise import apim_text, comparable, hashable
from reconciler.plan.ownership import (
    MAX_RECORD_LENGTH,
    Ownership,
    OwnershipRecord,
    ParsedRecord,
    format_instant,
    view_digest,
)
from reconciler.plan.prune import DETACHED, DETACHED_REASON, Placement, leftover, ours_here
from reconciler.plan.state import FullStates, ReadRequest, RemoteSummary
from reconciler.secrets.value import Secret

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
            if pair.summary is None or not kinds.kind(pair.desired.kind).reads_full_state:
                # No read gives a v2 API back in the shape it is written (the Automation API refuses
                # v2 APIs; mAPI's views are another model): v2 APIs are planned from their listing.
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
    *,
    placement: Placement | None = None,
) -> Plan:
    """Decide every action. Contexts are independent; within one, APIs come before applications
    (which subscribe to them) and deletions come last, applications before APIs.

    `placement` tells where each resource of the whole repository lives (default: where `desired`
    puts it), so that a resource moved to a context outside this run's scope is not deleted.
    """
    options = options or PlanOptions()
    if placement is None:
        placement = {r.id: cid for cid, s in desired.items() for r in s.resources}
    listed = {(cid, s.id) for cid, items in summaries.items() for s in items}
    actions: list[Action] = []
    for context in sorted(set(desired) | set(summaries)):
        state = desired.get(context)
        listing = summaries.get(context, ())
        pairs, leftovers = _match(state, listing, options)
        decided = [_decide(p, full_states, options, placement) for p in pairs]
        owned = sum(1 for s in listing if ours_here(s.ownership(options.owner_id), context))
        prunable: list[Action] = []
        reported: list[Action] = []
        for summary, parsed in leftovers:
            action = leftover(context, summary, parsed, state, placement, listed, desired.keys(), options)
            if action is None:
                continue
            if action.kind is ActionKind.DELETE and action.after is None:
                prunable.append(action)
            elif action.kind is ActionKind.DELETE and not options.prune:
                reported.append(
                    replace(action, kind=ActionKind.SKIPPED, reason=f"{action.reason}; prune is disabled")
                )
            else:
                reported.append(action)
        guarded = guard_deletions(
            prunable, owned=owned, desired=len(state.resources) if state else 0, options=options
        )
        if any(a.kind is ActionKind.BLOCKED for a in guarded):
            decided = hold_growth(
                decided, [_adds_owned(a, p, context) for a, p in zip(decided, pairs, strict=True)]
            )
        context_actions = [*decided, *guarded, *reported]
        newest = _newest_write(listing, context, options)
        if newest is not None:
            context_actions = [_guard_rollback(a, newest, options) for a in context_actions]
        actions += sorted(context_actions, key=_order)
    return Plan(tuple(actions))


def _adds_owned(action: Action, pair: _Pair, context: ResourceId) -> bool:
    """Whether applying `action` would add an object to the context's owned set."""
    if action.kind not in (ActionKind.CREATE, ActionKind.UPDATE, ActionKind.DRIFTED) or not action.writes:
        return False
    return not ours_here(pair.parsed, context)


def _record_fits(
    parsed: ParsedRecord, resource: DesiredResource, summary: RemoteSummary, unbound_claims: int
) -> bool:
    """Whether our record on `summary` may stand for `resource`: the same HRID (a new `spec.hrid` is a
    new object). A record from before records were bound to their object (version 1) fits the object
    APIM derives from the HRID, or the only object of the listing whose record names the resource (an
    object adopted with ids of its own); two such objects are a copy, and neither fits."""
    record = parsed.record
    if record is None:
        return False
    if record.carrier_id is not None:
        return record.hrid is None or record.hrid == resource.hrid
    derived = summary.id == resource.remote_id or (
        summary.cross_id is not None and summary.cross_id == resource.cross_id
    )
    return derived or unbound_claims == 1


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
        if record.ours and record.record is not None:
            keys.append(("record", record.record.resource))
        for name, value in keys:
            if value is not None:
                index.setdefault((name, summary.kind, value), []).append(position)
    unbound = Counter(
        r.record.resource for r in parsed if r.ours and r.record is not None and r.record.carrier_id is None
    )
    used: set[int] = set()
    pairs: list[_Pair] = []
    for resource in sorted(state.resources if state else (), key=lambda r: r.id):
        kind = resource.remote_kind
        found = next(
            (
                p
                for p in index.get(("record", kind, resource.id), ())
                if p not in used and _record_fits(parsed[p], resource, listing[p], unbound[resource.id])
            ),
            None,
        )
        if found is None:
            # Only APIs are listed with a crossId: for other kinds that key finds nothing.
            lookups: list[tuple[str, object]] = [
                ("hrid", resource.hrid),
                ("cross", resource.cross_id),
                ("id", resource.remote_id),
            ]
            found = next(
                (p for name, value in lookups for p in index.get((name, kind, value), ()) if p not in used),
                None,
            )
        if found is None:
            pairs.append(_Pair(resource, None, ParsedRecord(Ownership.UNOWNED)))
        else:
            used.add(found)
            pairs.append(_Pair(resource, listing[found], parsed[found]))
    leftovers = [(s, parsed[i]) for i, s in enumerate(listing) if i not in used]
    return pairs, leftovers


def _touched(summary: RemoteSummary, parsed: ParsedRecord, options: PlanOptions) -> bool:
    record = parsed.record
    if parsed.altered or summary.updated_at is None or record is None or record.applied_at is None:
        return True  # cannot tell: be safe and look
    if options.now is not None and record.applied_at > options.now + options.drift_tolerance:
        return True  # a record that claims to be written in the future was written by hand
    return summary.updated_at > record.applied_at + options.drift_tolerance


def _listing_disagrees(summary: RemoteSummary, body: Mapping[str, JSON]) -> bool:
    """A console edit of a field the listing shows, seen at no cost; a false alarm costs one read."""
    for field, shown in summary.listed.items():
        wanted = body.get(field)
        if isinstance(wanted, list) and isinstance(shown, list):
            differs = sorted(map(str, wanted)) != sorted(map(str, shown))
        elif isinstance(wanted, str) and isinstance(shown, str):
            # APIM stores a description through its HTML sanitizer: compare what it would have stored,
            # or a description with HTML in it would disagree on every sync.
            wanted = apim_text(wanted) if field == "description" else wanted
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
    if not pair.parsed.ours or record is None:
        return f"exists in APIM ({pair.parsed.ownership})"
    if pair.parsed.altered:
        return "its ownership record was edited outside apim-reconciler"
    if record.spec_hash != pair.desired.spec_hash:
        return "desired spec changed since last apply"
    if _touched(summary, pair.parsed, options):
        return "modified in APIM after last apply"
    if _listing_disagrees(summary, pair.desired.body):
        return "the listing differs from the manifest (edited in APIM?)"
    if options.full_read:
        return "full read requested"
    return None


def _decide(pair: _Pair, full_states: FullStates, options: PlanOptions, placement: Placement) -> Action:
    action = _choose(pair, full_states, options, placement)
    summary = pair.summary
    refused = _lifecycle_refusal(summary, action.body) if action.writes and summary is not None else None
    if refused is not None:
        return replace(
            action, kind=ActionKind.CONFLICT, reason=f"{action.reason}; {refused}", body=None, record=None
        )
    update_body = kinds.kind(pair.desired.kind).update_body
    if action.body is not None and summary is not None and update_body is not None:
        # Updated under the ids APIM holds (a v2 API and its plans: kinds/api_v2.update_body).
        actual = full_states.get((pair.desired.context, summary.id))
        action = replace(action, body=update_body(action.body, actual, summary.id, summary.cross_id))
    return action


def _choose(pair: _Pair, full_states: FullStates, options: PlanOptions, placement: Placement) -> Action:
    d, summary, parsed = pair.desired, pair.summary, pair.parsed
    record = OwnershipRecord(
        options.owner_id,
        d.id,
        options.git_commit,
        d.spec_hash,
        context=d.context,
        hrid=d.hrid,
        carrier_id=summary.id if summary else d.remote_id,
        sensitive=d.secret_fields,
        commit_time=options.commit_time,
    )
    base = Action(
        kind=ActionKind.UNCHANGED,
        context=d.context,
        resource=d.id,
        hrid=d.hrid,
        remote_kind=d.remote_kind,
        remote_id=summary.id if summary else d.remote_id,
        position=d.position,
    )
    too_long = _record_too_long(record, options)
    if too_long:
        return _with(base, ActionKind.CONFLICT, too_long)
    if summary is None:
        # A creation shows the body as sent (GKO defaults in, server defaults not).
        return _with(base, ActionKind.CREATE, "not in APIM", CreationChanges(d), d, record)
    actual = full_states.get((d.context, summary.id))
    changes: Sequence[FieldChange] = (
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
    if parsed.ownership is Ownership.COPIED:
        return _with(base, ActionKind.CONFLICT, f"exists in APIM, but {parsed.problem}; not touched", changes)
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
    changes = _mask_applied_secrets(changes, ours)
    if summary.origin == DETACHED:
        # A console user detached it (break-glass): the next PUT would silently re-attach it.
        if options.adopt:
            return _with(
                base, ActionKind.UPDATE, f"re-attaching: {DETACHED_REASON}{unread}", changes, d, record
            )
        return _with(
            base, ActionKind.CONFLICT, f"{DETACHED_REASON}; not touched (use adopt to take it back)", changes
        )
    if ours.resource != d.id:
        if ours.resource in placement:
            return _with(
                base,
                ActionKind.CONFLICT,
                f"exists in APIM, managed as {ours.resource}, which is still in the repository; not touched",
                changes,
            )
        return _with(base, ActionKind.UPDATE, f"renamed from {ours.resource}{unread}", changes, d, record)
    if not ours.belongs_to(d.context):
        assert ours.context is not None  # belongs_to is true without a context (type narrowing)  # nosec B101
        return _with(
            base, ActionKind.UPDATE, f"moving from context {ours.context}{unread}", changes, d, record
        )
    since = _since(summary, ours)
    if parsed.altered:
        reason = f"{parsed.problem}; re-applying to restore it"
        if changes and options.revert_drift:
            return _with(base, ActionKind.DRIFTED, f"{reason} and revert drift", changes, d, record)
        return _with(base, ActionKind.UPDATE, reason + unread, changes, d, record)
    if ours.spec_hash != d.spec_hash:
        # The listing shows what was applied, which differs from a changed manifest by definition:
        # what APIM holds is compared with what we last wrote (the record's view), and only when that
        # cannot be done is APIM's clock mentioned, as what it is: a hint, not a finding.
        reason = "manifest changed since last apply"
        edited = _edited_since_apply(d.kind, actual, ours)
        if edited:
            reason += (
                f"; APIM was also modified{since or ' since last apply'}, and those edits are overwritten"
            )
        elif edited is None and _touched(summary, parsed, options) and since:
            reason += f"; {_clock_hint(summary, ours)}, so it may have been edited there too: whatever differs is overwritten"
        if actual is not None and not changes:
            reason += " (only fields that APIM does not echo)"
        return _with(base, ActionKind.UPDATE, reason + unread, changes, d, record)
    touched = _touched(summary, parsed, options) or _listing_disagrees(summary, d.body)
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
        return _with(
            base,
            ActionKind.UNCHANGED,
            "no managed field differs" + _why_read(summary, parsed, d.body, options),
        )
    if options.revert_drift:
        return _with(base, ActionKind.DRIFTED, f"modified in APIM{since}; reverting", changes, d, record)
    return _with(
        base, ActionKind.DRIFTED, f"modified in APIM{since}; not reverted (revert_drift off)", changes
    )


_LIFECYCLE_FINAL = {"ARCHIVED"}
_LIFECYCLE_NEXT = {"DEPRECATED": {"ARCHIVED"}}
_LIFECYCLE_NOT_BACK = {"UNPUBLISHED": {"CREATED"}}


def _lifecycle_refusal(summary: RemoteSummary, body: Mapping[str, JSON] | None) -> str | None:
    """Why APIM would refuse the lifecycle move the body asks for (ApiValidationServiceImpl
    `validateAndSanitizeLifecycleState`), said before anything is written; None when it would not.

    An update that APIM refuses comes back as an opaque 500 (ImportApiCRDUseCase wraps every update
    failure), so the rule is checked here, on the state the listing shows.
    """
    current, wanted = summary.listed.get("lifecycleState"), (body or {}).get("lifecycleState")
    if not isinstance(current, str) or not isinstance(wanted, str) or current == wanted:
        return None
    if current in _LIFECYCLE_FINAL:
        return f"APIM refuses to change the lifecycleState of an {current} API (to {wanted}): it is final"
    allowed = _LIFECYCLE_NEXT.get(current)
    if allowed is not None and wanted not in allowed:
        return f"APIM refuses to change the lifecycleState from {current} to {wanted} (only {', '.join(sorted(allowed))} may follow)"
    if wanted in _LIFECYCLE_NOT_BACK.get(current, set()):
        return f"APIM refuses to change the lifecycleState from {current} back to {wanted}"
    return None


def _record_too_long(record: OwnershipRecord, options: PlanOptions) -> str | None:
    """Why the record cannot be written (over the JDBC metadata limit), or None."""
    if options.now is None:
        return None
    length = len(replace(record, view="0" * 16).stamped(options.now).to_value())  # the view as written
    if length <= MAX_RECORD_LENGTH:
        return None
    return (
        f"its ownership record would be {length} characters, more than the {MAX_RECORD_LENGTH} that "
        "APIM's metadata can hold: shorten the resource's name, its context's, or --owner"
    )


def _mask_applied_secrets(changes: Sequence[FieldChange], applied: OwnershipRecord) -> Sequence[FieldChange]:
    """Changes whose old side (what APIM holds) was a secret when we applied it, masked.

    A secret removed from git, or replaced by a plain value, leaves APIM holding the old secret value:
    the record names the fields that held secrets, and whatever APIM holds there is shown as
    `(sensitive)`, the whole subtree when a removed field contains one.
    """
    if not applied.sensitive:
        return changes
    out: list[FieldChange] = []
    for change in changes:
        if (
            change.op is not ChangeOp.ADDED
            and not change.sensitive
            and _held_secret(applied, change.path, change.old)
        ):
            change = replace(
                change,
                old=_secret_copy(change.old),
                new=Secret(change.new) if isinstance(change.new, str) else change.new,
                sensitive=True,
            )
        out.append(change)
    return tuple(out)


def _held_secret(record: OwnershipRecord, path: FieldPath, value: JSON) -> bool:
    if record.held_secret_at(path):
        return True
    if isinstance(value, Mapping):
        return any(_held_secret(record, (*path, k), v) for k, v in value.items())
    if isinstance(value, list):
        return any(_held_secret(record, (*path, i), v) for i, v in enumerate(value))
    return False


def _secret_copy(value: JSON) -> JSON:
    """The value with every string leaf wrapped, so that no renderer (nor a repr) can show it."""
    if isinstance(value, str):
        return Secret(value)
    if isinstance(value, Mapping):
        return {k: _secret_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secret_copy(v) for v in value]
    return value


def _newest_write(
    listing: Sequence[RemoteSummary], context: ResourceId, options: PlanOptions
) -> OwnershipRecord | None:
    """The record of the context written from the latest commit, when that commit was committed after
    this sync's: then this sync is a rollback of what APIM holds (None otherwise, or when unknown)."""
    if options.commit_time is None:
        return None
    newest: OwnershipRecord | None = None
    for summary in listing:
        parsed = summary.ownership(options.owner_id)
        record = parsed.record
        if not ours_here(parsed, context) or record is None or record.commit_time is None:
            continue
        later = record.commit != options.git_commit and record.commit_time > options.commit_time
        if later and (newest is None or record.commit_time > (newest.commit_time or record.commit_time)):
            newest = record
    return newest


def _guard_rollback(action: Action, newest: OwnershipRecord, options: PlanOptions) -> Action:
    """A write in a context that APIM holds from a later commit is a rollback: refused unless allowed.

    "Later" is by commit time, which git sources record: the history of the branch is not at hand in
    a shallow clone, and two syncs of consecutive commits that run at once (the older one last) is
    the case to catch; a force-push back to an older commit is one too, and is said to be.
    """
    if not (action.writes or action.kind is ActionKind.DELETE):
        return action
    assert newest.commit_time is not None and options.commit_time is not None  # by _newest_write  # nosec B101
    what = (
        f"APIM holds this context as commit {newest.commit[:12]} wrote it (committed "
        f"{format_instant(newest.commit_time)}), after this sync's commit {options.git_commit[:12]} "
        f"({format_instant(options.commit_time)})"
    )
    if not options.allow_rollback:
        return block(action, f"{what}: not rolled back (use --allow-rollback)")
    return replace(action, reason=f"{action.reason}; rolls back: {what}")


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
        return tuple(
            replace(c, filled_in=_filled_in(d, c.path, c.new))
            for c in diff(hashable(d.kind, d.body), {}, locate=d.position_of)
        )

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


def _edited_since_apply(kind: str, actual: Mapping[str, JSON] | None, record: OwnershipRecord) -> bool | None:
    """Whether what APIM holds differs from what we last wrote; None when that cannot be told (the
    object was not read, or its record is from a version that kept no view)."""
    if actual is None or record.view is None:
        return None
    return view_digest(comparable(kind, actual)) != record.view


def _why_read(
    summary: RemoteSummary, parsed: ParsedRecord, body: Mapping[str, JSON], options: PlanOptions
) -> str:
    """Why an object that turned out unchanged was read, in facts (APIM's clock, the listing), never as
    an edit: nothing that we manage differs, whoever touched it."""
    record = parsed.record
    if _touched(summary, parsed, options) and record and summary.updated_at and record.applied_at:
        return f" (read because {_clock_hint(summary, record)})"
    if _listing_disagrees(summary, body):
        return " (read because the listing differed from the manifest)"
    return ""


def _filled_in(desired: DesiredResource, path: FieldPath, value: JSON) -> frozenset[FieldPath]:
    """The topmost paths under `path` (relative to it) that the manifest does not write."""
    if not desired.was_written(path):
        return frozenset({()})
    found: set[FieldPath] = set()

    def walk(node: JSON, relative: FieldPath) -> None:
        children = (
            node.items() if isinstance(node, Mapping) else enumerate(node) if isinstance(node, list) else ()
        )
        for key, child in children:
            sub = (*relative, key)
            if desired.was_written((*path, *sub)):
                walk(child, sub)
            else:
                found.add(sub)

    walk(value, ())
    return frozenset(found)


def _clock_hint(summary: RemoteSummary, record: OwnershipRecord) -> str:
    assert summary.updated_at and record.applied_at  # callers check both (type narrowing)  # nosec B101
    return (
        f"APIM's updatedAt {format_instant(summary.updated_at)} is later than the last apply at "
        f"{format_instant(record.applied_at)}"
    )


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
    if desired is None or record is None:
        return replace(base, kind=kind, reason=reason, changes=changes, body=None, record=None)
    # What APIM will hold once written, so that a later sync can tell whether anybody else changed it.
    view = view_digest(comparable(desired.kind, desired.body))
    return replace(
        base,
        kind=kind,
        reason=reason,
        changes=changes,
        body=desired.body,
        record=replace(record, view=view),
    )


def _order(action: Action) -> tuple[int, str, str, str]:
    r = action.resource  # its fields in ResourceId's order: plain tuples compare faster than dataclasses
    return (action.phase, r.kind, r.namespace, r.name)
