"""Renderer details that the golden files do not isolate."""

from __future__ import annotations

import json

from reconciler.kinds import RemoteKind
from reconciler.manifests.model import ResourceId
from reconciler.plan.diff import ChangeOp, FieldChange
from reconciler.plan.model import Action, ActionKind, Outcome, Plan
from reconciler.report import render_json, render_markdown, render_text
from reconciler.secrets.value import Secret

CTX = ResourceId("ManagementContext", "default", "dev-ctx")
RID = ResourceId("ApiV4Definition", "default", "orders")


def _action(*changes: FieldChange, kind: ActionKind = ActionKind.UPDATE, reason: str = "r") -> Action:
    return Action(
        kind, CTX, RID, "default-orders", RemoteKind.API, reason=reason, changes=changes, body={"a": 1}
    )


def test_long_single_line_strings_get_a_unified_diff() -> None:
    old, new = "x" * 90, "x" * 89 + "y"
    text = render_text(Plan((_action(FieldChange(ChangeOp.CHANGED, ("description",), old, new)),)))
    assert "--- apim" in text and "+++ git" in text


def test_secrets_inside_added_objects_are_redacted() -> None:
    change = FieldChange(
        ChangeOp.ADDED, ("resources",), None, [{"configuration": {"password": Secret("pw")}}]
    )
    plan = Plan((_action(change),))
    for rendered in (render_text(plan), render_json(plan), render_markdown(plan)):
        assert 'pw"' not in rendered and "(sensitive)" in rendered


def test_markdown_escapes_table_cells() -> None:
    md = render_markdown(Plan((_action(reason="a | b\nc"),)))
    assert "a \\| b c" in md


def test_unchanged_hidden_unless_verbose() -> None:
    plan = Plan((_action(kind=ActionKind.UNCHANGED, reason="same"),))
    assert "orders" not in render_text(plan)
    assert "= unchanged ApiV4Definition/default/orders" in render_text(plan, verbose=True)
    assert "orders" not in render_markdown(plan)
    assert "unchanged" in render_markdown(plan, verbose=True)


def test_failed_outcome_is_shown_everywhere() -> None:
    action = _action()
    plan = Plan((action,))
    outcomes = [Outcome(action, False, "412 Precondition Failed")]
    assert "FAILED: 412 Precondition Failed" in render_text(plan, outcomes)
    assert "❌ 412 Precondition Failed" in render_markdown(plan, outcomes)
    data = json.loads(render_json(plan, outcomes))
    assert data["actions"][0]["outcome"] == {"ok": False, "error": "412 Precondition Failed", "detail": None}
    assert data["applied"]["failed"] == 1
