"""Property: after applying a plan, planning again finds nothing to do (for generated manifests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds import RemoteKind
from reconciler.manifests.model import Resource, ResourceId
from reconciler.plan.desired import DesiredState
from reconciler.plan.model import ActionKind, Plan
from reconciler.plan.ownership import OWNERSHIP_KEY, metadata_map
from reconciler.plan.planner import make_plan, reads_needed
from reconciler.plan.state import RemoteSummary
from reconciler.secrets.value import Secret
from tests.plan.plan_helpers import CTX, OPTIONS, T0, api, app, desired, echo

words = st.text(alphabet="abcdefgh xyz.", min_size=1, max_size=8)
names = st.sampled_from(["orders", "billing", "users", "stock", "search"])
plan_keys = st.lists(st.sampled_from(["Key Less", "api.key", "JWT"]), unique=True, max_size=3)


@st.composite
def api_specs(draw: st.DrawFn) -> Resource:
    name = draw(names)
    spec: dict[str, Any] = {
        "description": draw(st.one_of(st.none(), words)),
        "tags": draw(st.lists(st.sampled_from(["eu", "us", "internal"]), unique=True)),
        "labels": draw(st.lists(words, unique=True, max_size=3)),
        "visibility": draw(st.sampled_from(["PUBLIC", "PRIVATE", None])),
        "plans": {k: {"name": k, "security": {"type": "KEY_LESS"}} for k in draw(plan_keys)},
        "metadata": [
            {"name": n, "format": "STRING", "value": v}
            for n, v in draw(st.dictionaries(st.sampled_from(["Team", "Tier", "cost centre"]), words)).items()
        ],
        "properties": [{"key": "k", "value": Secret(draw(words))}] if draw(st.booleans()) else [],
    }
    return api(name, **{k: v for k, v in spec.items() if v is not None})


@st.composite
def app_specs(draw: st.DrawFn) -> Resource:
    members = draw(st.lists(st.sampled_from(["alice", "bob", "carol"]), unique=True))
    return app(
        draw(st.sampled_from(["mobile", "web"])),
        domain=draw(words),
        groups=draw(st.lists(st.sampled_from(["devs", "ops"]), unique=True)),
        members=[{"source": "memory", "sourceId": m, "role": "USER"} for m in members],
    )


repos = st.tuples(st.lists(api_specs(), max_size=4), st.lists(app_specs(), max_size=2)).map(
    lambda t: list({r.id: r for r in [*t[0], *t[1]]}.values())
)


class FakeApim:
    """Stores what was sent, echoes it as the Automation API would, lists it as mAPI v2 would."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.kinds: dict[str, RemoteKind] = {}
        self.clock = T0

    def apply(self, plan: Plan, states: dict[ResourceId, DesiredState]) -> None:
        by_id = {r.id: r for s in states.values() for r in s.resources}
        for action in plan.writes():
            self.clock += timedelta(minutes=1)
            assert action.remote_id is not None
            if action.kind is ActionKind.DELETE:
                del self.objects[action.remote_id]
                continue
            state = echo(by_id[action.resource], action.request_body(self.clock))
            state["updatedAt"] = self.clock + timedelta(seconds=1)
            state["tags"] = sorted(state.get("tags", []), reverse=True)  # APIM's own order
            self.objects[action.remote_id] = state
            self.kinds[action.remote_id] = action.remote_kind

    def summaries(self) -> dict[ResourceId, list[RemoteSummary]]:
        return {
            CTX: [
                RemoteSummary(
                    self.kinds[i],
                    i,
                    o["name"],
                    cross_id=o.get("crossId"),
                    updated_at=o["updatedAt"],
                    metadata={OWNERSHIP_KEY: metadata_map(o["metadata"])[OWNERSHIP_KEY]},
                )
                for i, o in self.objects.items()
            ]
        }

    def plan(self, states: dict[ResourceId, DesiredState], *, full_read: bool = False) -> Plan:
        options = replace(OPTIONS, force_prune=True, full_read=full_read)
        summaries = self.summaries()
        reads = reads_needed(states, summaries, options)
        full = {r.key: self.objects[r.remote_id] for r in reads}
        return make_plan(states, summaries, full, options)


@settings(max_examples=60, deadline=None)
@given(first=repos, second=repos)
def test_plan_after_apply_is_empty(first: list[Resource], second: list[Resource]) -> None:
    apim = FakeApim()
    for repo in (first, second):
        states = desired(*repo)
        apim.apply(apim.plan(states), states)
        again = apim.plan(states)
        assert not again.has_changes, [(a.kind, a.resource, a.changes) for a in again.actions if a.writes]
        assert all(a.kind is ActionKind.UNCHANGED for a in again.actions)
        # Reading and comparing everything (no shortcut through the record) agrees.
        deep = apim.plan(states, full_read=True)
        assert all(a.kind is ActionKind.UNCHANGED for a in deep.actions), [
            (a.resource, a.changes) for a in deep.actions if a.kind is not ActionKind.UNCHANGED
        ]
