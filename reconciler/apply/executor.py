"""Executing a plan: every write once, bounded concurrency, failures isolated, order kept.

Within a context the plan's order is a dependency order (APIs before the applications that
subscribe to them, deletions last), so actions run in phases: each phase concurrently, phases one
after another. Contexts are independent and run side by side. One failed action never stops the
others; the caller fails the run at the end when any outcome failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import structlog

from reconciler.apim.client import ApimClient
from reconciler.apim.errors import ApimError, ConflictError
from reconciler.manifests.model import API_DEFINITION, ResourceId
from reconciler.plan.kinds import RemoteKind
from reconciler.plan.model import Action, ActionKind, Outcome, Plan

_log = structlog.get_logger(__name__)

NOT_RUN = "not run: the sync was stopped before it"

Clock = Callable[[], datetime]
Progress = Callable[[int, int], None]
"""Called with (actions done, actions in all) after each action: the CLI draws a bar with it."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _phase(action: Action) -> int:
    """Writes of APIs, then of applications; then deletions of applications, then of APIs."""
    api = action.remote_kind is RemoteKind.API
    if action.kind is ActionKind.DELETE:
        return 3 if api else 2
    return 0 if api else 1


async def execute(
    plan: Plan,
    clients: Mapping[ResourceId, ApimClient],
    concurrency: int,
    *,
    dry_run: bool = False,
    clock: Clock = _utc_now,
    progress: Progress | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> tuple[Outcome, ...]:
    """Apply every write of the plan; with `dry_run`, send each with `dryRun=true` instead.

    Once `stopped()` is true, no write starts (each is reported as not run). Cancelled, it returns
    what completed, and the rest as interrupted (in flight: APIM may or may not have applied it).
    """
    by_context: dict[ResourceId, list[Action]] = {}
    for action in plan.writes():
        by_context.setdefault(action.context, []).append(action)
    total = sum(len(actions) for actions in by_context.values())
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    ledger = _Ledger(stopped)
    try:
        results = await asyncio.gather(
            *(
                _execute_context(actions, clients[cid], concurrency, dry_run, clock, tick, ledger)
                for cid, actions in by_context.items()
                if cid in clients
            )
        )
    except asyncio.CancelledError:
        # Stopped, and the grace period is over: the report must still say what was done.
        return tuple(
            ledger.outcome(a) for cid, actions in by_context.items() if cid in clients for a in actions
        )
    return tuple(outcome for outcomes in results for outcome in outcomes)


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


async def _execute_context(
    actions: Sequence[Action],
    client: ApimClient,
    concurrency: int,
    dry_run: bool,
    clock: Clock,
    tick: Callable[[], None],
    ledger: _Ledger,
) -> list[Outcome]:
    gate = asyncio.Semaphore(max(1, concurrency))
    outcomes: list[Outcome] = []

    async def run(action: Action) -> Outcome:
        async with gate:
            if ledger.stopped():
                return ledger.outcome(action)
            ledger.started.add(id(action))
            outcome = await attempt(action)
            ledger.finished[id(action)] = outcome
            tick()
            return outcome

    async def attempt(action: Action) -> Outcome:
        try:
            await _apply(action, client, dry_run, clock)
        except ApimError as exc:
            _log.warning(
                "apply failed", resource=str(action.resource), action=str(action.kind), error=str(exc)
            )
            return Outcome(action, ok=False, error=str(exc), conflict=isinstance(exc, ConflictError))
        except Exception as exc:  # a bug must fail this action, not the whole sync
            _log.error("apply crashed", resource=str(action.resource), error=f"{type(exc).__name__}: {exc}")
            return Outcome(action, ok=False, error=f"unexpected error ({type(exc).__name__}); see the log")
        return Outcome(action, ok=True)

    for _, phase in groupby(sorted(actions, key=_phase), key=_phase):
        outcomes += await asyncio.gather(*(run(a) for a in phase))
    # A listener path can move from a deleted API to a new one (a rename): the creation fails until
    # the deletion has run, so writes refused for a path conflict get one more try, after deletions.
    retry = [i for i, o in enumerate(outcomes) if o.conflict and o.action.kind is not ActionKind.DELETE]
    if retry and any(o.ok and o.action.kind is ActionKind.DELETE for o in outcomes):
        again = await asyncio.gather(*(run(outcomes[i].action) for i in retry))
        for index, outcome in zip(retry, again, strict=True):
            outcomes[index] = outcome
    return outcomes


async def _apply(action: Action, client: ApimClient, dry_run: bool, clock: Clock) -> None:
    if action.kind is ActionKind.DELETE:
        if dry_run:
            return  # the Automation API has no dry-run delete; the plan already shows it
        await _delete(action, client)
        return
    body = action.request_body(clock())
    if action.remote_kind is RemoteKind.APPLICATION:
        response = await client.put_application(body, dry_run=dry_run)
    elif action.resource.kind == API_DEFINITION:
        response = await client.import_api_definition(body, dry_run=dry_run)
    else:
        response = await client.put_api(body, dry_run=dry_run)
    if dry_run:
        _raise_severe(response, action)


async def _delete(action: Action, client: ApimClient) -> None:
    if action.remote_kind is RemoteKind.APPLICATION:
        await client.delete_application(action.hrid)
    elif action.record is not None and action.record.resource.kind == API_DEFINITION and action.remote_id:
        await client.delete_api_by_id(action.remote_id)
    else:
        await client.delete_api(action.hrid)


class DryRunRejected(ApimError):
    """The server's dry run reported severe errors: the real write would be refused."""


def _raise_severe(response: Any, action: Action) -> None:
    errors = response.get("errors") if isinstance(response, Mapping) else None
    severe = errors.get("severe") if isinstance(errors, Mapping) else None
    if severe:
        raise DryRunRejected("; ".join(str(s) for s in severe), method="PUT", path=action.hrid)
