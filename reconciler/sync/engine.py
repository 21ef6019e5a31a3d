"""One sync: manifests of one commit → resolved specs → actual state → plan → (apply) → result.

The CLI (`diff`, `sync`) and the daemon call `reconcile` and render its `SyncResult`; nothing here
prints. Safety comes first: a repository with any error, or a secret that does not resolve, applies
nothing; a context whose state cannot be read is left out of the plan (planning it blind would
create what exists and could not prune safely) and reported as failed.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from reconciler.apim.client import ApimClient
from reconciler.apim.endpoints import EndpointError
from reconciler.apim.errors import ApimError
from reconciler.apim.retry import RetryCoordinator
from reconciler.apply.actual import Listing, read_full_states, read_listing
from reconciler.apply.executor import Progress, execute
from reconciler.apply.interrupt import Interrupted, Stop
from reconciler.apply.scope import Scope
from reconciler.contexts import auth_origins, open_client, prepare_context
from reconciler.kinds import MANAGED_KINDS
from reconciler.manifests.model import (
    MANAGEMENT_CONTEXT,
    ManifestSet,
    Problem,
    Resource,
    ResourceId,
    Severity,
)
from reconciler.manifests.schema import validate_resolved
from reconciler.plan.desired import application_hrids, build_desired
from reconciler.plan.model import Outcome, PlanOptions
from reconciler.plan.ownership import Ownership
from reconciler.plan.planner import make_plan, reads_needed
from reconciler.plan.state import RemoteSummary
from reconciler.secrets import (
    Credentials,
    SecretResolutionError,
    SecretResolutionErrors,
    SecretStore,
    resolution_problems,
    resolve_credentials,
    resolve_resource_templates,
)
from reconciler.secrets.value import reveal_all
from reconciler.sync.deletions import DeletionPolicy, never_delete
from reconciler.sync.result import ContextFailure, SyncResult
from reconciler.sync.settings import SyncMode, SyncSettings

_log = structlog.get_logger(__name__)


async def reconcile(
    manifests: ManifestSet,
    settings: SyncSettings,
    *,
    commit: str,
    mode: SyncMode,
    store: SecretStore | None = None,
    progress: Progress | None = None,
    committed_at: datetime | None = None,
    stop: Stop | None = None,
) -> SyncResult:
    """Plan (and, in APPLY mode, apply) the manifests of one commit against their APIMs.

    `committed_at` is when `commit` was committed (git sources): it goes into the ownership records,
    and tells a rollback (an object last written from a later commit). Once `stop` is set (by the
    caller's signal handler, or by the sync's deadline), nothing new is started: a sync stopped before
    its plan exists applies nothing; one stopped while applying lets the writes in flight finish for
    `stop.grace_period`, and reports every action's fate.
    """
    result = SyncResult(commit=commit, mode=mode, manifests=manifests)
    if not manifests.ok:
        return result  # nothing is read, applied or deleted on the strength of a broken repository
    stop = stop or Stop()
    deadline = None
    if settings.sync_timeout is not None and settings.sync_timeout > 0:
        reason = f"the sync took longer than its deadline of {settings.sync_timeout:g} s (--sync-timeout)"
        deadline = asyncio.get_running_loop().call_later(settings.sync_timeout, stop.set, reason)
    try:
        with _frozen_heap():
            return await _reconcile(result, settings, store, progress, committed_at, stop)
    finally:
        if deadline is not None:
            deadline.cancel()


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep what exists before the sync (the manifests above all) out of the cyclic collector's walks.

    A sync allocates enough to run the oldest generation's collection, which walks every tracked
    object: with the manifests of 1,000 APIs alive, that was a tenth of a sync's CPU. They outlive
    the sync and hold no cycles, so they are frozen for its duration and handed back after.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _reconcile(
    result: SyncResult,
    settings: SyncSettings,
    store: SecretStore | None,
    progress: Progress | None,
    committed_at: datetime | None,
    stop: Stop,
) -> SyncResult:
    manifests, commit, mode = result.manifests, result.commit, result.mode
    store = store or SecretStore(settings.secrets_dir, settings.config_dir, env_policy=settings.env_policy)
    # Resources without a contextRef are GKO's local mode: the loader warned, and we leave them alone.
    in_scope = [
        r
        for r in manifests.resources
        if settings.scope.selects(r) and (r.kind == MANAGEMENT_CONTEXT or r.context_ref is not None)
    ]
    resolved, problems = _resolve(in_scope, store)
    as_written = {r.id: r for r in in_scope if r.kind == MANAGEMENT_CONTEXT}
    contexts = {
        r.id: r for r in resolved if r.kind == MANAGEMENT_CONTEXT and settings.scope.context_selected(r.id)
    }
    credentials, credential_problems = _credentials(contexts.values(), store)
    problems += credential_problems
    if any(p.severity is Severity.ERROR for p in problems):
        return replace(result, problems=tuple(problems))

    prune = settings.plan.prune and settings.scope.allows_prune
    policy = (
        DeletionPolicy.NEVER
        if settings.never_delete
        else DeletionPolicy.PRUNE
        if prune
        else DeletionPolicy.PRUNE_DISABLED
    )
    result = replace(result, deletions=policy)
    options = replace(
        settings.plan,
        git_commit=commit,
        # --mode apply plans without pruning (no guard holds creations back), then keeps every deletion
        prune=prune and not settings.never_delete,
        now=datetime.now(UTC),
        commit_time=committed_at,
    )
    application_ids = application_hrids(resolved)

    requests: Counter[str] = Counter()
    failures: list[ContextFailure] = []
    # A pool smaller than the concurrency would queue requests inside httpx, out of our sight.
    client_config = settings.client
    if client_config.max_connections < settings.concurrency:
        client_config = replace(
            client_config,
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
        )
    retry = RetryCoordinator(settings.client.retry)
    async with AsyncExitStack() as stack:
        clients: dict[ResourceId, ApimClient] = {}
        for cid in sorted(contexts):
            try:
                prepared = prepare_context(
                    as_written[cid],
                    store,
                    client_config,
                    credentials=credentials[cid],
                    origins=auth_origins(as_written[cid]),
                )
            except EndpointError as exc:  # a bad baseUrl, or one its credential is not bound to
                failures.append(ContextFailure(cid, "connect", str(exc)))
                continue
            except Exception as exc:  # one context's bug must not stop the others
                failures.append(ContextFailure(cid, "connect", _unexpected(exc)))
                continue
            client = open_client(prepared, store, client_config, retry=retry)
            clients[cid] = await stack.enter_async_context(client)
        # The listings wait on the network and building the bodies on the CPU: the bodies are built
        # in a thread while the listings run, which hides most of one or the other. The default
        # executor is fine for it (unlike git, see sync/threads.py): pure CPU, about a second at
        # 10,000 APIs, so an exit that joins the thread waits no longer than that.
        reading = asyncio.gather(
            *(
                _read_context(cid, clients[cid], application_ids.get(cid, {}), settings, options)
                for cid in clients
            )
        )
        try:
            build = await stop.run(asyncio.to_thread(build_desired, resolved))
            listings = await stop.run(reading)
        except Interrupted as interrupted:
            reading.cancel()
            return _stopped(result, problems, list(contexts), interrupted.reason, clients)
        except BaseException:
            reading.cancel()
            raise
        problems += build.problems
        desired = {cid: state for cid, state in build.states.items() if cid in contexts}
        summaries: dict[ResourceId, list[RemoteSummary]] = {}
        states: dict[tuple[ResourceId, str], Mapping[str, Any]] = {}
        for cid, listing in zip(clients, listings, strict=True):
            if isinstance(listing, ContextFailure):
                failures.append(listing)
                continue
            summaries[cid] = listing.summaries
            states.update(listing.states)
        readable = {cid: desired[cid] for cid in summaries}
        to_read = [r for r in reads_needed(readable, summaries, options) if r.key not in states]
        try:
            full = await stop.run(read_full_states(to_read, clients, settings.concurrency))
        except Interrupted as interrupted:
            return _stopped(result, problems, list(contexts), interrupted.reason, clients)
        states.update(full.states)
        failures += [ContextFailure(cid, "read", message) for cid, message in full.failures.items()]
        plannable = {cid: s for cid, s in readable.items() if cid not in full.failures}
        listed = {cid: summaries[cid] for cid in plannable}
        plan = make_plan(plannable, listed, states, options, placement=_placement(manifests.resources))
        if settings.never_delete:
            plan = never_delete(plan)
        outcomes: tuple[Outcome, ...] = ()
        if mode is not SyncMode.DIFF and plan.has_changes:
            outcomes = await stop.finish(
                execute(
                    plan,
                    clients,
                    settings.concurrency,
                    dry_run=mode is SyncMode.SERVER_DRY_RUN,
                    progress=progress,
                    owner_id=options.owner_id,
                    stopped=stop.is_set,
                )
            )
        for client in clients.values():
            requests.update(client.stats.by_method)
    return replace(
        result,
        problems=tuple(problems),
        plan=plan,
        outcomes=outcomes,
        failures=tuple(failures),
        requests=dict(requests),
        interrupted=stop.reason,
    )


def _placement(resources: Sequence[Resource]) -> dict[ResourceId, ResourceId]:
    """Where every managed resource of the repository lives, whatever the scope of this run: a
    resource that moved to a context this run does not sync is not a deletion."""
    return {
        r.id: r.context_ref.id for r in resources if r.kind in MANAGED_KINDS and r.context_ref is not None
    }


def _stopped(
    result: SyncResult,
    problems: Sequence[Problem],
    contexts: Sequence[ResourceId],
    reason: str,
    clients: Mapping[ResourceId, ApimClient],
) -> SyncResult:
    """The result of a sync stopped before its plan: every context failed, nothing applied."""
    requests: Counter[str] = Counter()
    for client in clients.values():
        requests.update(client.stats.by_method)
    failures = tuple(
        ContextFailure(cid, "interrupted", f"{reason}: stopped before it was planned; nothing was applied")
        for cid in contexts
    )
    return replace(
        result, problems=tuple(problems), failures=failures, requests=dict(requests), interrupted=reason
    )


def _unexpected(exc: Exception) -> str:
    """An exception nobody expected, as a message: its type (its text may hold anything; it is logged)."""
    _log.error("sync.unexpected_error", error=f"{type(exc).__name__}: {exc}")
    return f"unexpected error ({type(exc).__name__}); see the log"


def _resolve(resources: Sequence[Resource], store: SecretStore) -> tuple[list[Resource], list[Problem]]:
    """Templates resolved (secret values as `Secret`), and the resolved spec validated again."""
    resolved: list[Resource] = []
    problems: list[Problem] = []
    for resource in resources:
        if not resource.has_templates:
            resolved.append(resource)
            continue
        try:
            spec = resolve_resource_templates(resource, store)
        except SecretResolutionErrors as errors:
            problems += resolution_problems(resource, errors)
            continue
        if spec != resource.spec:
            body = {
                "apiVersion": "gravitee.io/v1alpha1",
                "kind": resource.kind,
                "metadata": dict(resource.metadata),
                "spec": reveal_all(spec),
            }
            problems += validate_resolved(resource.kind, body, resource.spec, resource.positions, resource.id)
        resolved.append(replace(resource, spec=spec))
    return resolved, problems


def _credentials(contexts: Any, store: SecretStore) -> tuple[dict[ResourceId, Credentials], list[Problem]]:
    credentials: dict[ResourceId, Credentials] = {}
    problems: list[Problem] = []
    for context in contexts:
        try:
            credentials[context.id] = resolve_credentials(context, store)
        except SecretResolutionError as exc:
            problems.append(
                Problem(Severity.ERROR, str(exc), context.at("auth"), context.id, ("spec", "auth"))
            )
    return credentials, problems


async def _read_context(
    context: ResourceId,
    client: ApimClient,
    application_ids: Mapping[str, str],
    settings: SyncSettings,
    options: PlanOptions,
) -> Listing | ContextFailure:
    # APIM derives an application's id from its HRID: the listing's ids tell which manifest is which.
    try:
        listing = await read_listing(
            context, client, settings.per_page, settings.concurrency, application_ids
        )
    except ApimError as exc:
        _log.warning("sync.context_unreadable", context=str(context), error=str(exc))
        return ContextFailure(context, "read", str(exc), exc.status)
    except Exception as exc:  # one context's bug (or its server's oddity) must not stop the others
        return ContextFailure(context, "read", _unexpected(exc))
    in_scope = [s for s in listing.summaries if _summary_in_scope(s, settings.scope, options.owner_id)]
    return Listing(in_scope, listing.states)


def _summary_in_scope(summary: RemoteSummary, scope: Scope, owner: str) -> bool:
    if scope.everything:
        return True
    parsed = summary.ownership(owner)
    if parsed.ownership is not Ownership.OURS or parsed.record is None:
        return True  # not ours: never pruned, and a desired resource may still collide with it
    return scope.identity_selected(parsed.record.resource)
