"""Prune guards: threshold, all, empty repository, prune off, force, and refusals that last."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.plan.guards import refusal
from reconciler.plan.model import ActionKind, Plan
from reconciler.plan.planner import make_plan
from tests.plan.plan_helpers import OPTIONS, api, applied, desired, one, remote

NAMES = ("a", "b", "c", "d", "e", "f", "g", "h")


def _owned(*names: str) -> tuple[Any, Any]:
    old = desired(*(api(n) for n in names))
    return remote(*(applied(one(old, n)) for n in names))


def _kinds(plan: Plan) -> list[str]:
    return sorted(str(a.kind) for a in plan.actions if a.kind is not ActionKind.UNCHANGED)


def test_within_threshold_deletes() -> None:
    summaries, full = _owned(*NAMES)
    plan = make_plan(desired(*(api(n) for n in NAMES[:6])), summaries, full, OPTIONS)  # 2 of 8 = 25 %
    assert _kinds(plan) == ["delete", "delete"]


def test_over_threshold_is_blocked_and_visible() -> None:
    summaries, full = _owned(*NAMES)
    plan = make_plan(desired(*(api(n) for n in NAMES[:5])), summaries, full, OPTIONS)  # 3 of 8
    assert _kinds(plan) == ["blocked"] * 3
    blocked = [a for a in plan.actions if a.kind is ActionKind.BLOCKED]
    assert all("more than 25%" in a.reason for a in blocked)
    assert not any(a.writes for a in blocked)
    assert plan.has_errors
    assert plan.summary() == "Plan: 0 to create, 0 to update, 0 to delete (3 blocked)"


def test_threshold_is_configurable() -> None:
    summaries, full = _owned(*NAMES)
    plan = make_plan(
        desired(*(api(n) for n in NAMES[:5])), summaries, full, replace(OPTIONS, prune_threshold=0.5)
    )
    assert _kinds(plan) == ["delete"] * 3


def test_deleting_all_is_blocked() -> None:
    summaries, full = _owned("a")
    plan = make_plan(desired(api("other")), summaries, full, OPTIONS)
    assert "blocked" in _kinds(plan)
    refused = [a for a in plan.actions if a.kind is ActionKind.BLOCKED and a.refused is ActionKind.DELETE]
    assert "all 1 owned" in refused[0].reason


def test_empty_repository_never_deletes() -> None:
    summaries, full = _owned("a", "b")
    plan = make_plan(desired(), summaries, full, OPTIONS)
    assert _kinds(plan) == ["blocked", "blocked"]
    assert "no resource for this context" in plan.actions[0].reason


def test_force_prune_overrides_threshold_and_empty_repository() -> None:
    summaries, full = _owned("a", "b")
    plan = make_plan(desired(), summaries, full, replace(OPTIONS, force_prune=True))
    assert _kinds(plan) == ["delete", "delete"]


def test_prune_off() -> None:
    summaries, full = _owned(*NAMES)
    plan = make_plan(
        desired(*(api(n) for n in NAMES[:7])),
        summaries,
        full,
        replace(OPTIONS, prune=False, force_prune=True),
    )
    assert _kinds(plan) == ["skipped"]
    assert "prune is disabled" in next(a.reason for a in plan.actions if a.kind is ActionKind.SKIPPED)
    assert not plan.has_errors and not plan.has_changes
    assert plan.summary() == "Plan: 0 to create, 0 to update, 0 to delete (1 not pruned)"


def test_refusal_rules_directly() -> None:
    assert refusal(1, owned=4, desired=3, options=OPTIONS) is None
    assert refusal(2, owned=4, desired=2, options=OPTIONS) is not None
    assert refusal(4, owned=4, desired=0, options=OPTIONS) is not None
