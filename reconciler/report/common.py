"""What the three renderers share: symbols, value display (secrets always `(sensitive)`), outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.plan.diff import ChangeOp, FieldChange, redact
from reconciler.plan.model import Action, ActionKind, Outcome
from reconciler.secrets.value import REDACTED, Secret

SYMBOL = {
    ActionKind.CREATE: "+",
    ActionKind.UPDATE: "~",
    ActionKind.DELETE: "-",
    ActionKind.DRIFTED: "!",
    ActionKind.CONFLICT: "x",
    ActionKind.BLOCKED: "x",
    ActionKind.UNCHANGED: "=",
    ActionKind.SKIPPED: "o",
}
OP_SYMBOL = {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-", ChangeOp.CHANGED: "~"}
MAX_VALUE = 200


def show(value: Any, *, limit: int | None = MAX_VALUE) -> str:
    """A value as one line: JSON, secrets as `(sensitive)`, cut at `limit` characters."""
    if isinstance(value, Secret) or value == REDACTED:
        return REDACTED
    text = json.dumps(redact(value), ensure_ascii=False, separators=(", ", ": "))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def change_lines(change: FieldChange) -> list[str]:
    """A field change as lines: `~ path: old -> new`, or a header and a unified diff for long text."""
    path = change.path_text or "(whole object)"
    text = change.text_diff()
    if text is not None:
        return [f"~ {path}:", *("    " + line for line in text.splitlines())]
    if change.op is ChangeOp.ADDED:
        return [f"+ {path}: {show(change.shown_new())}"]
    if change.op is ChangeOp.REMOVED:
        return [f"- {path}: {show(change.shown_old())}"]
    return [f"~ {path}: {show(change.shown_old())} -> {show(change.shown_new())}"]


def title(action: Action) -> str:
    label = {
        ActionKind.BLOCKED: f"{action.refused or ActionKind.DELETE} (refused)",
        ActionKind.SKIPPED: "delete (skipped)",
    }.get(action.kind, str(action.kind))
    if action.kind is ActionKind.DRIFTED and not action.writes:
        label = "drifted (not reverted)"
    elif action.kind is ActionKind.DRIFTED:
        label = "drifted (reverting)"
    return f"{SYMBOL[action.kind]} {label} {action.resource} ({action.hrid})"


def outcomes_by_action(actions: Sequence[Action], outcomes: Sequence[Outcome] | None) -> dict[int, Outcome]:
    """Outcomes by position of their action in the plan (actions compare by value, so match by key)."""
    if not outcomes:
        return {}
    index = {(a.context, a.resource, a.kind): i for i, a in enumerate(actions)}
    found: dict[int, Outcome] = {}
    for outcome in outcomes:
        a = outcome.action
        position = index.get((a.context, a.resource, a.kind))
        if position is not None:
            found[position] = outcome
    return found


def outcome_summary(outcomes: Sequence[Outcome] | None) -> str | None:
    if outcomes is None:
        return None
    stopped = sum(1 for o in outcomes if o.interrupted)
    failed = sum(1 for o in outcomes if not o.ok) - stopped
    text = f"Applied: {len(outcomes) - failed - stopped} succeeded, {failed} failed"
    return text + (f", {stopped} not done (interrupted)" if stopped else "")
