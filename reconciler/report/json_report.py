"""The machine-readable report; its schema is documented in docs/report-json.md (bump VERSION on any
incompatible change)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.plan.model import Action, Outcome, Plan
from reconciler.report.common import outcome_summary, outcomes_by_action, show
from reconciler.secrets.redaction import default_redactor
from reconciler.secrets.value import REDACTED
from reconciler.textsafe import json_text

VERSION = 1


def report_data(plan: Plan, outcomes: Sequence[Outcome] | None = None) -> dict[str, Any]:
    """The report as plain data (what `render_json` serialises)."""
    done = outcomes_by_action(plan.actions, outcomes)
    counts = plan.counts()
    data: dict[str, Any] = {
        "version": VERSION,
        "summary": {
            **counts,
            "text": plan.summary(),
            "hasChanges": plan.has_changes,
            "hasErrors": plan.has_errors,
        },
        "actions": [_action(a, done.get(i)) for i, a in enumerate(plan.actions)],
    }
    if outcomes is not None:
        interrupted = sum(1 for o in outcomes if o.interrupted)
        failed = sum(1 for o in outcomes if not o.ok) - interrupted
        data["applied"] = {
            "succeeded": len(outcomes) - failed - interrupted,
            "failed": failed,
            "text": outcome_summary(outcomes),
        }
        if interrupted:  # a stopped sync (docs/report-json.md); absent otherwise
            data["applied"]["interrupted"] = interrupted
    return data


def render_json(plan: Plan, outcomes: Sequence[Outcome] | None = None) -> str:
    return default_redactor().scrub(json_text(report_data(plan, outcomes)) + "\n")


def _action(action: Action, outcome: Outcome | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": str(action.kind),
        "writes": action.writes,
        "context": str(action.context),
        "resource": {
            "kind": action.resource.kind,
            "namespace": action.resource.namespace,
            "name": action.resource.name,
        },
        "hrid": action.hrid,
        "remoteKind": str(action.remote_kind),
        "remoteId": action.remote_id,
        "reason": action.reason,
        "position": str(action.position) if action.position else None,
        "changes": [
            {
                "op": str(c.op),
                "path": c.path_text,
                "old": _value(c.shown_old()),
                "new": _value(c.shown_new()),
                "sensitive": c.sensitive,
                "diff": c.text_diff(),
                "position": str(c.position) if c.position else None,
            }
            for c in action.changes
        ],
    }
    if action.refused is not None:
        out["refused"] = str(action.refused)
    if outcome is not None:
        out["outcome"] = {"ok": outcome.ok, "error": outcome.error, "detail": outcome.detail}
        if outcome.interrupted:
            out["outcome"]["interrupted"] = True
    return out


def _value(value: Any) -> Any:
    if value == REDACTED:
        return REDACTED
    return json.loads(show(value, limit=None))
