"""APIs before applications, deletions last (applications before APIs), contexts independent."""

from __future__ import annotations

from dataclasses import replace

from reconciler.manifests.model import ResourceId
from reconciler.plan.model import ActionKind
from reconciler.plan.planner import make_plan
from tests.plan.plan_helpers import OPTIONS, api, app, applied, context, desired, one, remote


def test_apis_before_applications_and_deletions_last() -> None:
    old = desired(api("gone-api"), app("gone-app"), api("kept"))
    summaries, full = remote(
        applied(one(old, "gone-api")), applied(one(old, "gone-app")), applied(one(old, "kept"))
    )
    now = desired(app("new-app"), api("new-api"), api("kept"))
    plan = make_plan(now, summaries, full, replace(OPTIONS, force_prune=True))
    order = [(str(a.kind), a.resource.name) for a in plan.actions]
    assert order == [
        ("unchanged", "kept"),
        ("create", "new-api"),
        ("create", "new-app"),
        ("delete", "gone-app"),
        ("delete", "gone-api"),
    ]
    assert [a.resource.name for a in plan.writes()] == ["new-api", "new-app", "gone-app", "gone-api"]


def test_contexts_are_planned_independently() -> None:
    contexts = (context("ctx-a", env="A"), context("ctx-b", env="B"))
    states = desired(api("x", ctx="ctx-a"), api("x2", ctx="ctx-b"), contexts=contexts)
    assert set(states) == {ResourceId("ManagementContext", "default", n) for n in ("ctx-a", "ctx-b")}
    plan = make_plan(states, {}, {}, OPTIONS)
    assert [(a.context.name, a.kind) for a in plan.actions] == [
        ("ctx-a", ActionKind.CREATE),
        ("ctx-b", ActionKind.CREATE),
    ]
    ids = {a.remote_id for a in plan.actions}
    assert len(ids) == 2  # environment is part of the id
