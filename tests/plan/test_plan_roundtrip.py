"""Every GKO example of our kinds survives a round trip: desired body -> what APIM echoes -> no diff.

The echo is simulated here, independently of the planner, from the Automation API spec: APIM keeps
the fields of ApiV4Spec / ApplicationSpec (write-only ones excepted), adds ids, crossId, primary
owner and its schema defaults, computes metadata keys, and returns unordered lists in its own order.
"""

from __future__ import annotations

import copy
import glob
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.kinds import RemoteKind
from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, APPLICATION, MANAGEMENT_CONTEXT
from reconciler.plan.desired import build_desired
from reconciler.plan.ids import name_uuid
from reconciler.plan.model import ActionKind, PlanOptions
from reconciler.plan.ownership import OwnershipRecord, with_record
from reconciler.plan.planner import make_plan, reads_needed
from reconciler.plan.state import RemoteSummary
from reconciler.secrets.value import Secret
from tests.plan.plan_helpers import resource

EXAMPLES = "/work/shared/reference/gko-examples"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

V4_SPEC_FIELDS = set(
    [
        "hrid",
        "name",
        "version",
        "type",
        "description",
        "tags",
        "listeners",
        "endpointGroups",
        "analytics",
        "failover",
        "properties",
        "resources",
        "plans",
        "flowExecution",
        "flows",
        "responseTemplates",
        "services",
        "groups",
        "visibility",
        "state",
        "primaryOwner",
        "labels",
        "metadata",
        "lifecycleState",
        "categories",
        "members",
        "pages",
        "allowedInApiProducts",
        "allowMultiJwtOauth2Subscriptions",
        "portalNavigation",
        "consoleNotification",
    ]
)  # ApiV4Spec minus notifyMembers (writeOnly)
APP_SPEC_FIELDS = set(
    [
        "hrid",
        "name",
        "description",
        "domain",
        "groups",
        "pictureUrl",
        "background",
        "settings",
        "metadata",
        "members",
        "status",
    ]
)


def _resolve(value: Any) -> Any:
    """Templates replaced by plain strings; a whole `secret` template by a Secret, as the resolver does."""
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    if isinstance(value, str) and "[[" in value:
        if re.fullmatch(r"\s*\[\[\s*secret[^\]]*\]\]\s*", value):
            return Secret("resolved-secret")
        return re.sub(r"\[\[[^\]]*\]\]", "resolved", value)
    return value


def _load() -> list[Any]:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True  # one upstream example repeats a key
    resources = []
    for path in sorted(glob.glob(f"{EXAMPLES}/**/*.yml", recursive=True)):
        with open(path, encoding="utf-8") as handle:
            for doc in yaml.load_all(handle):
                if not isinstance(doc, dict) or doc.get("kind") not in (
                    MANAGEMENT_CONTEXT,
                    API_V4_DEFINITION,
                    API_DEFINITION,
                    APPLICATION,
                ):
                    continue
                spec = _resolve(doc.get("spec") or {})
                if doc["kind"] != MANAGEMENT_CONTEXT:
                    spec.setdefault("contextRef", {"name": "dev-ctx"})  # a few examples omit it
                meta = doc["metadata"]
                resources.append(resource(doc["kind"], meta["name"], spec, meta.get("namespace", "default")))
    return resources


def _fill(items: Any, field: str, value: Any) -> None:
    for item in items or []:
        if isinstance(item, dict):
            item.setdefault(field, value)


def _echo_v4(body: dict[str, Any], org: str, env: str) -> dict[str, Any]:
    state: dict[str, Any] = {k: copy.deepcopy(v) for k, v in body.items() if k in V4_SPEC_FIELDS}
    cross = name_uuid(org + body["hrid"])
    state.update(id=name_uuid(cross + env), crossId=cross, organizationId=org, environmentId=env)
    state["primaryOwner"] = {"id": "u-1", "displayName": "admin", "type": "USER"}
    state.setdefault("allowedInApiProducts", False)
    state.setdefault("flowExecution", {"mode": "DEFAULT", "matchRequired": False})
    for group in state.get("endpointGroups", []):
        _fill(group.get("endpoints"), "weight", 1)
        _fill(group.get("endpoints"), "secondary", False)
    for plan in state.get("plans", []):
        plan["id"] = name_uuid(name_uuid(org + body["hrid"]) + env + plan["hrid"])
        plan.setdefault("characteristics", [])
        plan.setdefault("excludedGroups", [])
        _fill(plan.get("flows"), "enabled", True)
    state["plans"] = list(reversed(state.get("plans", [])))
    for page in state.get("pages", []):
        page["id"] = f"page-{page['hrid']}"
        page.setdefault("published", False)
        page.setdefault("visibility", "PUBLIC")
    _fill(state.get("flows"), "enabled", True)
    _fill(state.get("resources"), "enabled", True)
    for entry in state.get("metadata", []):
        entry.setdefault("key", re.sub(r"[^a-z0-9]+", "-", entry["name"].lower()).strip("-"))
    state["metadata"] = list(reversed(state.get("metadata", [])))
    if state.get("tags"):
        state["tags"] = sorted(state["tags"], reverse=True)
    state.setdefault("groups", [])
    return state


def _echo_app(body: dict[str, Any], org: str, env: str) -> dict[str, Any]:
    state = {k: v for k, v in copy.deepcopy(_plain(body)).items() if k in APP_SPEC_FIELDS}
    state.update(id=name_uuid(name_uuid(org + body["hrid"]) + env), organizationId=org, environmentId=env)
    state.setdefault("status", "ACTIVE")
    state.setdefault("settings", {"app": {}})
    state["primaryOwner"] = {"id": "u-1", "displayName": "admin", "type": "USER"}
    for entry in state.get("metadata", []):
        entry.setdefault("key", re.sub(r"[^a-z0-9]+", "-", entry["name"].lower()).strip("-"))
    return state


def _echo_v2(body: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = copy.deepcopy(_plain(body))
    state["deployedAt"] = 1763892000000
    for plan in state.get("plans", []):
        plan.setdefault("id", f"plan-{plan.get('name')}")
    return state


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_every_example_round_trips_without_diff() -> None:
    build = build_desired(_load())
    assert [p for p in build.problems if p.severity == "error"] == []
    (state,) = build.states.values()
    assert len(state.resources) > 80
    options = PlanOptions(git_commit="abc123")
    summaries, echoes = [], {}
    for desired in state.resources:
        record = OwnershipRecord(options.owner_id, desired.id, "abc123", desired.spec_hash, T0)
        sent = with_record(desired.body, record)
        if desired.kind == API_V4_DEFINITION:
            echo = _echo_v4(_plain(sent), state.organization_id, state.environment_id)
        elif desired.kind == APPLICATION:
            echo = _echo_app(sent, state.organization_id, state.environment_id)
        else:
            echo = _echo_v2(sent)
        kind = RemoteKind.APPLICATION if desired.kind == APPLICATION else RemoteKind.API
        summaries.append(
            RemoteSummary(
                kind,
                echo["id"],
                desired.body.get("name", ""),
                cross_id=echo.get("crossId"),
                # Long after the apply, so that the planner has to read and compare every object it
                # can read: v2 APIs are planned from their listing (no read returns their CRD shape).
                updated_at=T0
                + (timedelta(seconds=1) if desired.kind == API_DEFINITION else timedelta(hours=1)),
                metadata={"apim-reconciler": record.to_value()},
            )
        )
        echoes[(state.context, echo["id"])] = echo
    reads = reads_needed(build.states, {state.context: summaries}, options)
    readable = {
        (state.context, s.id)
        for s, d in zip(summaries, state.resources, strict=True)
        if d.kind != API_DEFINITION
    }
    assert {r.key for r in reads} == readable and len(reads) == len(readable)
    plan = make_plan(build.states, {state.context: summaries}, echoes, options)
    changed = [
        (a.resource, a.kind, [c.path_text for c in a.changes])
        for a in plan.actions
        if a.kind != ActionKind.UNCHANGED
    ]
    assert changed == []
    assert not plan.has_changes


@pytest.mark.parametrize("kind", [API_V4_DEFINITION, APPLICATION, API_DEFINITION])
def test_examples_cover_each_kind(kind: str) -> None:
    assert any(r.kind == kind for r in _load())
