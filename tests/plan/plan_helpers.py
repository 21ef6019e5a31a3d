"""Plain-data helpers for the planner tests: manifests, and an APIM that echoes what it was sent."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.kinds import RemoteKind
from reconciler.manifests.model import Position, Positions, Resource, ResourceId
from reconciler.plan.desired import DesiredResource, DesiredState, build_desired
from reconciler.plan.model import PlanOptions
from reconciler.plan.ownership import OwnershipRecord, with_record
from reconciler.plan.state import RemoteSummary
from reconciler.secrets.value import reveal_all

CTX = ResourceId("ManagementContext", "default", "dev-ctx")
ORG, ENV = "DEFAULT", "DEFAULT"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
JSON = Any


def resource(kind: str, name: str, spec: Mapping[str, Any], namespace: str = "default") -> Resource:
    return Resource(
        ResourceId(kind, namespace, name),
        dict(spec),
        {"name": name, "namespace": namespace},
        Positions({}, Position(f"{name}.yaml", 3)),
    )


def context(name: str = "dev-ctx", org: str = ORG, env: str = ENV) -> Resource:
    return resource(
        "ManagementContext",
        name,
        {"baseUrl": "http://127.0.0.1:1", "organizationId": org, "environmentId": env},
    )


def api(name: str, ctx: str = "dev-ctx", **spec: Any) -> Resource:
    body: dict[str, Any] = {
        "contextRef": {"name": ctx},
        "name": name,
        "version": "1.0",
        "type": "PROXY",
        "listeners": [
            {"type": "HTTP", "paths": [{"path": f"/{name}"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": [
            {"name": "default", "type": "http-proxy", "endpoints": [{"name": "e", "type": "http-proxy"}]}
        ],
        "plans": {"KeyLess": {"name": "Free", "security": {"type": "KEY_LESS"}}},
    }
    body.update(spec)
    return resource("ApiV4Definition", name, body)


def app(name: str, ctx: str = "dev-ctx", **spec: Any) -> Resource:
    body: dict[str, Any] = {"contextRef": {"name": ctx}, "name": name, "description": f"{name} app"}
    body.update(spec)
    return resource("Application", name, body)


def desired(
    *resources: Resource, contexts: tuple[Resource, ...] | None = None
) -> dict[ResourceId, DesiredState]:
    build = build_desired([*(contexts or (context(),)), *resources])
    assert not [p for p in build.problems if p.severity == "error"], build.problems
    return dict(build.states)


def one(states: Mapping[ResourceId, DesiredState], name: str) -> DesiredResource:
    return next(r for s in states.values() for r in s.resources if r.id.name == name)


def echo(d: DesiredResource, sent: Mapping[str, JSON]) -> dict[str, JSON]:
    """What the Automation API GET returns after `sent` was PUT: ids added, write-only fields gone."""
    state = reveal_all(sent)
    state.pop("notifyMembers", None)
    state.pop("definitionContext", None)
    state.update(id=d.remote_id, organizationId=ORG, environmentId=ENV)
    if d.kind != "Application":
        state["crossId"] = d.cross_id
    return dict(state)


def applied(
    d: DesiredResource,
    *,
    owner: str = "apim-reconciler",
    at: datetime = T0,
    updated: timedelta = timedelta(seconds=2),
    spec_hash: str | None = None,
    change: Callable[[dict[str, JSON]], None] | None = None,
    metadata: Mapping[str, JSON] | None = None,
    remote_id: str | None = None,
    cross_id: str | None = None,
    commit: str = "c0ffee",
    committed: datetime | None = None,
) -> tuple[RemoteSummary, dict[str, JSON]]:
    """APIM after an apply of `d` by `owner` at `at`, optionally changed in the console afterwards.

    `remote_id`/`cross_id` give the object ids of its own (adopted from GKO or the console)."""
    carrier = remote_id or d.remote_id
    record = OwnershipRecord(
        owner,
        d.id,
        commit,
        spec_hash or d.spec_hash,
        at,
        hrid=d.hrid,
        carrier_id=carrier,
        commit_time=committed,
    )
    state = echo(d, with_record(d.body, record))
    if change is not None:
        change(state)
    summary = RemoteSummary(
        RemoteKind.APPLICATION if d.kind == "Application" else RemoteKind.API,
        carrier,
        d.body["name"],
        cross_id=(cross_id or d.cross_id) if d.kind != "Application" else None,
        updated_at=at + updated,
        metadata={"apim-reconciler": record.to_value()} if metadata is None else metadata,
    )
    return summary, state


def remote(
    *pairs: tuple[RemoteSummary, dict[str, JSON]], ctx: ResourceId = CTX
) -> tuple[dict[ResourceId, list[RemoteSummary]], dict[tuple[ResourceId, str], dict[str, JSON]]]:
    return {ctx: [s for s, _ in pairs]}, {(ctx, s.id): state for s, state in pairs}


OPTIONS = PlanOptions(git_commit="abc123")
