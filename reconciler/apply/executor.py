"""Executing a plan: every write once, bounded concurrency, failures isolated, order kept.

The plan's order is a dependency order (APIs before the applications that subscribe to them,
deletions last), so actions run in phases: each phase concurrently, in every context at once,
phases one after another. Phases span contexts so that every write of a sync is done before any
deletion: a resource that moves to another context or environment is written in its new place
before its old copy goes, and its old copy stays when that write failed. One failed action never
stops the others; the caller fails the run at the end when any outcome failed.

Two checks guard against acting on a listing that was wrong:

* A creation first reads the HRID it would write. APIM's search index lags behind writes, and an
  account without organization ADMIN is shown only the objects it is a member of, so "absent from
  the listing" is not "absent": the PUT is an upsert and would silently take over what is there.
  What the read finds decides: nothing (404) -> create; our own record, bound to it -> write, as the
  update it is; anything else, or a 403 -> not written, reported.
* A deletion that finds nothing (404) is reported as "already gone", not as applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from reconciler import kinds
from reconciler.apim.client import ApimClient
from reconciler.apim.errors import ApimError, ConflictError, PermissionDeniedError
from reconciler.kinds import PHASES, AutomationEndpoints, kind
from reconciler.manifests.model import ResourceId
from reconciler.plan.model import Action, ActionKind, Outcome, Plan
from reconciler.plan.ownership import metadata_map, record_from_metadata

_log = structlog.get_logger(__name__)

NOT_RUN = "not run: the sync was stopped before it"

Clock = Callable[[], datetime]
Progress = Callable[[int, int], None]
"""Called with (actions done, actions in all) after each action: the CLI draws a bar with it."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _NotWritten(ApimError):
    """A write the executor decided not to send (what APIM holds is not what the plan expected)."""


async def execute(
    plan: Plan,
    clients: Mapping[ResourceId, ApimClient],
    concurrency: int,
    *,
    dry_run: bool = False,
    clock: Clock = _utc_now,
    progress: Progress | None = None,
    owner_id: str | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> tuple[Outcome, ...]:
    """Apply every write of the plan; with `dry_run`, send each with `dryRun=true` instead.

    `owner_id` is the owner whose record a creation may find on its target and still write. Once
    `stopped()` is true, no write starts (each is reported as not run). Cancelled, it returns what
    completed, and the rest as interrupted (in flight: APIM may or may not have applied it).
    """
    actions = [a for a in plan.writes() if a.context in clients]
    total = len(actions)
    done = 0
    gates = {cid: asyncio.Semaphore(max(1, concurrency)) for cid in clients}
    outcomes: dict[int, Outcome] = {}

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    ledger = _Ledger(stopped)

    async def run(index: int) -> Outcome:
        action = actions[index]
        held = _held(action, plan, actions, outcomes)
        if held is not None:
            tick()
            return Outcome(action, ok=False, error=held)
        async with gates[action.context]:
            if ledger.stopped():
                return ledger.outcome(action)
            ledger.started.add(id(action))
            outcome = await _attempt(action, clients[action.context], dry_run, clock, owner_id)
            ledger.finished[id(action)] = outcome
            tick()
            return outcome

    try:
        for phase in PHASES:
            batch = [i for i, a in enumerate(actions) if a.phase == phase]
            for index, outcome in zip(batch, await asyncio.gather(*(run(i) for i in batch)), strict=True):
                outcomes[index] = outcome
        # A listener path can move from a deleted API to a new one (a rename): the creation fails until
        # the deletion has run, so writes refused for a path conflict get one more try, after deletions.
        retry = [i for i, o in outcomes.items() if o.conflict and o.action.kind is not ActionKind.DELETE]
        if retry and any(o.ok and o.action.kind is ActionKind.DELETE for o in outcomes.values()):
            for index, outcome in zip(retry, await asyncio.gather(*(run(i) for i in retry)), strict=True):
                outcomes[index] = outcome
    except asyncio.CancelledError:
        # Stopped, and the grace period is over: the report must still say what was done.
        return tuple(outcomes.get(i) or ledger.outcome(a) for i, a in enumerate(actions))
    return tuple(outcomes[i] for i in range(len(actions)))


class _Ledger:
    """What has started and what has finished (by `id` of the action, alive for the whole run)."""

    def __init__(self, stopped: Callable[[], bool]) -> None:
        self.stopped = stopped
        self.started: set[int] = set()
        self.finished: dict[int, Outcome] = {}

    def outcome(self, action: Action) -> Outcome:
        done = self.finished.get(id(action))
        if done is not None:
            return done
        if id(action) in self.started:
            message = "interrupted in flight: APIM may or may not have applied it (the next sync will show)"
            return Outcome(action, ok=False, error=message, interrupted=True)
        return Outcome(action, ok=False, error=NOT_RUN, interrupted=True)


async def _attempt(
    action: Action, client: ApimClient, dry_run: bool, clock: Clock, owner_id: str | None
) -> Outcome:
    try:
        detail = await _apply(action, client, dry_run, clock, owner_id)
    except ApimError as exc:
        _log.warning(
            "apply.action_failed", resource=str(action.resource), action=str(action.kind), error=str(exc)
        )
        conflict = isinstance(exc, ConflictError)
        return Outcome(action, ok=False, error=str(exc), conflict=conflict, dry_run=dry_run)
    except Exception as exc:  # a bug must fail this action, not the whole sync
        _log.error(
            "apply.action_crashed", resource=str(action.resource), error=f"{type(exc).__name__}: {exc}"
        )
        error = f"unexpected error ({type(exc).__name__}); see the log"
        return Outcome(action, ok=False, error=error, dry_run=dry_run)
    return Outcome(action, ok=True, detail=detail, dry_run=dry_run)


def _held(
    action: Action, plan: Plan, actions: Sequence[Action], outcomes: Mapping[int, Outcome]
) -> str | None:
    """Why a deletion of a moved resource must not run: its new copy is not known to be in place."""
    if action.after is None:
        return None
    new_place = next(
        (a for a in plan.actions if a.context == action.after and a.resource == action.resource), None
    )
    if new_place is None:
        return (
            f"not deleted: {action.resource} now lives in context {action.after}, which this run did not "
            "plan (run it without narrowing the scope to move the resource)"
        )
    if new_place.kind is ActionKind.UNCHANGED:
        return None
    written = next(
        (o for i, o in outcomes.items() if actions[i] is new_place or actions[i] == new_place), None
    )
    if written is not None and written.ok:
        return None
    return f"not deleted: its new copy in context {action.after} was not written ({new_place.kind})"


async def _apply(
    action: Action, client: ApimClient, dry_run: bool, clock: Clock, owner_id: str | None
) -> str | None:
    """Send the action; returns what to say instead of "applied", if anything."""
    if action.kind is ActionKind.DELETE:
        if dry_run:
            return "not sent (APIM has no dry run for deletions)"
        if not await _delete(action, client):
            return "already gone (APIM found nothing to delete)"
        # A deletion is the one write that cannot be undone by the next sync: each leaves a line
        # (with the sync's commit, bound by the daemon) that an audit can hold against git.
        _log.info("apply.resource_deleted", resource=str(action.resource), reason=action.reason)
        return None
    if action.kind is ActionKind.CREATE:
        await _check_absent(action, client, owner_id)
    body = action.request_body(clock())
    endpoints = kind(action.resource.kind).endpoints
    if isinstance(endpoints, AutomationEndpoints):
        response = await client.put_automation(endpoints.collection, body, dry_run=dry_run)
    else:
        response = await client.import_api_definition(body, dry_run=dry_run)
    if dry_run:
        _raise_severe(response, action)
        return "validated by APIM (dry run): nothing stored"
    _confirm(response, action, body)
    return None


class UnconfirmedWrite(ApimError):
    """APIM answered a write with a success that does not show the object written (an empty body,
    `{}`, or another object): nothing says that it was stored, so it is not reported as applied."""


def _confirm(response: Any, action: Action, body: Mapping[str, Any]) -> None:
    """Raise UnconfirmedWrite unless APIM's answer names the object we wrote: our HRID, or, in an
    answer without one (mAPI v1 import-crd), the id or crossId we expect."""
    expected = {"hrid": action.hrid, "id": action.remote_id, "crossId": body.get("crossId")}
    answer = response if isinstance(response, Mapping) else {}
    named = {k: answer[k] for k in expected if isinstance(answer.get(k), str) and answer[k]}
    if "hrid" in named:
        confirmed = named["hrid"] == action.hrid
    else:
        confirmed = any(named.get(k) == expected[k] for k in ("id", "crossId") if expected[k])
    if confirmed:
        return
    if named:
        what = f"with another object ({', '.join(f'{k} {v}' for k, v in named.items())})"
    elif response is None:
        what = "without a body"
    else:
        what = "with {}" if response == {} else "with an object that names no hrid, id or crossId"
    raise UnconfirmedWrite(
        f"APIM answered the write {what}: it is not confirmed (the next sync reads what APIM holds "
        "and writes again if needed)",
        method="PUT",
        path=action.hrid,
    )


async def _check_absent(action: Action, client: ApimClient, owner_id: str | None) -> None:
    """Refuse a creation whose HRID APIM already holds, unless what it holds is ours (see module doc)."""
    endpoints = kind(action.resource.kind).endpoints
    try:
        if isinstance(endpoints, AutomationEndpoints):
            found = await client.get_automation(endpoints.collection, action.hrid)
        else:
            found = await client.find_api_by_id(action.remote_id) if action.remote_id else None
    except PermissionDeniedError:
        # APIM answers 403 to an account that is not organization ADMIN for an HRID it is not a
        # member of, whether that HRID exists or not: it cannot tell us that nothing is there.
        raise _NotWritten(
            "not created: APIM refuses to say whether this HRID exists (403: this account is not "
            "organization ADMIN, so it sees only the objects it is a member of), and a creation could take "
            "over an API someone else made; not written (give the account ADMIN on the organization, as "
            "service-account create does)",
            method="GET",
            path=action.hrid,
        ) from None
    if found is None:
        return
    state = found if isinstance(found, Mapping) else {}
    archived = kind(action.resource.kind).archived_status
    if archived is not None and state.get("status") == archived:
        # APIM's DELETE archived it (its members and metadata gone); a PUT brings it back.
        return
    parsed = record_from_metadata(metadata_map(state.get("metadata")), owner_id or "").on_carrier(
        str(state.get("id") or "")
    )
    if parsed.ours and parsed.record is not None and parsed.record.resource == action.resource:
        return  # ours: the listing lagged behind our own last write
    raise _NotWritten(
        "not created: APIM already holds this HRID, although its listing did not show it (the search "
        f"index lags, or this account sees only part of the environment); it is {parsed.ownership}: "
        "not touched (adopt it with --adopt once the listing shows it)",
        method="GET",
        path=action.hrid,
    )


async def _delete(action: Action, client: ApimClient) -> bool:
    """True when APIM deleted something, False when it found nothing."""
    endpoints = kinds.named_or_remote(action.resource.kind, action.remote_kind).endpoints
    if isinstance(endpoints, AutomationEndpoints):
        return await client.delete_automation(endpoints.collection, action.hrid)
    if action.remote_id:
        return await client.delete_api_definition(action.remote_id)
    # A v2 API without a known id: the Automation API finds it by HRID, as GKO's DeleteV2 falls back.
    return await client.delete_automation("apis", action.hrid)


class DryRunRejected(ApimError):
    """The server's dry run reported severe errors: the real write would be refused."""


def _raise_severe(response: Any, action: Action) -> None:
    errors = response.get("errors") if isinstance(response, Mapping) else None
    severe = errors.get("severe") if isinstance(errors, Mapping) else None
    if severe:
        raise DryRunRejected("; ".join(str(s) for s in severe), method="PUT", path=action.hrid)
