"""Golden files for the three report formats. Regenerate with `UPDATE_GOLDEN=1 pytest tests/report`."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifests.model import Position, Positions, Resource
from reconciler.plan.model import ActionKind, Outcome, Plan
from reconciler.plan.planner import make_plan
from reconciler.report import render_json, render_markdown, render_text
from reconciler.secrets.value import Secret
from tests.plan.plan_helpers import OPTIONS, api, app, applied, context, desired, one

GOLDEN = Path(__file__).parent / "golden"
SECRET_OLD, SECRET_NEW = "old-redis-password", "new-redis-password"


def _redis(password: str) -> list[dict[str, Any]]:
    return [{"name": "cache", "type": "cache-redis", "configuration": {"password": Secret(password)}}]


def as_written(resource: Resource) -> Resource:
    """The resource with a position for every field of its spec, as the loader gives: a creation's
    report can then tell the fields the manifest writes from those the reconciler fills in."""
    paths: dict[tuple[str | int, ...], Position] = {}

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        paths[path] = Position(resource.position.file, 4 + len(paths), 1 + 2 * len(path))
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        for key, child in items:
            walk(child, (*path, key))

    walk(dict(resource.spec), ("spec",))
    return replace(resource, positions=Positions(paths, resource.position))


def sample_plan() -> Plan:
    """One context with every kind of action, one with a refused prune."""
    prod, staging = context("prod"), context("staging", env="STAGING")
    page = {"doc": {"name": "Doc", "type": "MARKDOWN", "content": "# Orders\nGET /orders\nPOST /orders\n"}}
    page_v2 = {
        "doc": {"name": "Doc", "type": "MARKDOWN", "content": "# Orders\nGET /orders\nDELETE /orders\n"}
    }
    before = desired(
        api("orders", ctx="prod", description="Orders", pages=page, resources=_redis(SECRET_OLD)),
        api("billing", ctx="prod"),
        api("legacy", ctx="prod"),
        api("inventory", ctx="prod"),
        api("search", ctx="prod"),
        app("mobile", ctx="prod", domain="m.example"),
        api("s1", ctx="staging"),
        api("s2", ctx="staging"),
        contexts=(prod, staging),
    )
    after = desired(
        api(
            "orders",
            ctx="prod",
            description="Orders API",
            pages=page_v2,
            resources=_redis(SECRET_NEW),
            tags=["eu"],
        ),
        api("billing", ctx="prod"),
        api("inventory", ctx="prod"),
        api("search", ctx="prod"),
        as_written(api("payments", ctx="prod")),
        app("mobile", ctx="prod", domain="m.example"),
        as_written(api("s3", ctx="staging")),
        contexts=(prod, staging),
    )
    pairs = {
        "orders": applied(one(before, "orders")),
        "billing": applied(
            one(before, "billing"), updated=timedelta(hours=3), change=lambda s: s.update(visibility="PUBLIC")
        ),
        "legacy": applied(one(before, "legacy")),
        "inventory": applied(one(before, "inventory")),
        "search": applied(one(before, "search"), metadata={}),
        "mobile": applied(one(before, "mobile")),
        "s1": applied(one(before, "s1")),
        "s2": applied(one(before, "s2")),
    }
    prod_id, staging_id = (s.context for s in sorted(after.values(), key=lambda s: s.context.name))
    summaries = {
        prod_id: [pairs[n][0] for n in ("orders", "billing", "legacy", "inventory", "search", "mobile")],
        staging_id: [pairs[n][0] for n in ("s1", "s2")],
    }
    full = {
        (prod_id if n not in ("s1", "s2") else staging_id, s.id): state for n, (s, state) in pairs.items()
    }
    main = make_plan(after, summaries, full, replace(OPTIONS, git_commit="0123abc"))
    # A third environment synced with prune turned off: its removed API is skipped, not deleted.
    sandbox = context("sandbox", env="SANDBOX")
    old = desired(api("toy", ctx="sandbox"), api("demo", ctx="sandbox"), contexts=(sandbox,))
    new = desired(api("demo", ctx="sandbox"), contexts=(sandbox,))
    (sandbox_id,) = new
    listing = {sandbox_id: [applied(one(old, "toy"))[0], applied(one(old, "demo"))[0]]}
    side = make_plan(new, listing, {}, replace(OPTIONS, git_commit="0123abc", prune=False))
    return Plan(main.actions + side.actions)


def sample_outcomes(plan: Plan) -> list[Outcome]:
    outcomes = []
    for action in plan.writes():
        failed = action.kind is ActionKind.CREATE and action.resource.name == "payments"
        outcomes.append(
            Outcome(action, not failed, "400 Path [/payments/] already exists" if failed else None)
        )
    return outcomes


CASES = {
    "plan.txt": lambda p: render_text(p),
    "plan-verbose-colour.txt": lambda p: render_text(p, colour=True, verbose=True),
    "plan.json": lambda p: render_json(p),
    "plan.md": lambda p: render_markdown(p),
    "applied.txt": lambda p: render_text(p, sample_outcomes(p)),
    "applied.json": lambda p: render_json(p, sample_outcomes(p)),
    "applied.md": lambda p: render_markdown(p, sample_outcomes(p)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    rendered = CASES[name](sample_plan())
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), (
        f"{name} changed; rerun with UPDATE_GOLDEN=1 to accept"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_secrets_never_rendered(name: str) -> None:
    rendered = CASES[name](sample_plan())
    assert SECRET_OLD not in rendered and SECRET_NEW not in rendered
    assert "(sensitive)" in rendered


def test_sample_covers_every_action_kind() -> None:
    assert {a.kind for a in sample_plan().actions} == set(ActionKind)


def test_json_is_valid_and_versioned() -> None:
    data = json.loads(render_json(sample_plan()))
    assert data["version"] == 1
    assert data["summary"]["text"].startswith("Plan: ")
    assert {a["action"] for a in data["actions"]} == {str(k) for k in ActionKind}


def test_no_colour_unless_asked() -> None:
    assert "\x1b[" not in render_text(sample_plan())
    assert "\x1b[" in render_text(sample_plan(), colour=True)


def test_empty_plan() -> None:
    plan = Plan(())
    assert (
        render_text(plan)
        == "No changes. APIM matches the repository.\n\nPlan: 0 to create, 0 to update, 0 to delete\n"
    )
    assert "No changes" in render_markdown(plan)
    assert json.loads(render_json(plan))["actions"] == []
