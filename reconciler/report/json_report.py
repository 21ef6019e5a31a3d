"""The machine-readable report; its schema is documented in docs/report-json.md (bump VERSION on any
incompatible change)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.manifests.model import format_field_path
from reconciler.plan.diff import FieldChange
from reconciler.plan.model import Action, Outcome, Plan
from reconciler.report.changes import show
from reconciler.report.common import NotRead, OutcomeCounts, outcome_summary, outcomes_by_action, summary_text
from reconciler.secrets.redaction import default_redactor
from reconciler.secrets.value import REDACTED
from reconciler.textsafe import json_text

VERSION = 1


def report_data(
    plan: Plan, outcomes: Sequence[Outcome] | None = None, *, not_read: Sequence[NotRead] = ()
) -> dict[str, Any]:
    """The report as plain data (what `render_json` serialises). `not_read`: the contexts the run
    could not read, whose absence makes the plan incomplete (and an error)."""
    done = outcomes_by_action(plan.actions, outcomes)
    counts = plan.counts()
    data: dict[str, Any] = {
        "version": VERSION,
        "summary": {
            **counts,
            "text": summary_text(plan, not_read),
            "hasChanges": plan.has_changes,
            "hasErrors": plan.has_errors or bool(not_read),
            "complete": not not_read,
            "notRead": [{"context": str(n.context), "file": n.file} for n in not_read],
        },
        "actions": [_action(a, done.get(i)) for i, a in enumerate(plan.actions)],
    }
    if outcomes is not None:
        applied = OutcomeCounts.of(outcomes)
        data["applied"] = {
            "succeeded": applied.succeeded,
            "failed": applied.failed,
            "text": outcome_summary(outcomes),
        }
        if applied.interrupted:  # a stopped sync (docs/report-json.md); absent otherwise
            data["applied"]["interrupted"] = applied.interrupted
        if applied.dry_run:  # diff --server-side: validated, nothing stored
            data["applied"].update(dryRun=True, notSent=applied.not_sent)
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
        "changes": [_change(c) for c in action.changes],
    }
    if action.refused is not None:
        out["refused"] = str(action.refused)
    if outcome is not None:
        out["outcome"] = {"ok": outcome.ok, "error": outcome.error, "detail": outcome.detail}
        if outcome.interrupted:
            out["outcome"]["interrupted"] = True
        if outcome.dry_run:
            out["outcome"]["dryRun"] = True
    return out


def _change(change: FieldChange) -> dict[str, Any]:
    old, new = _value(change.shown_old()), _value(change.shown_new())
    # A value can be hidden without being a Secret: the scrubber finds a known secret value in it (a
    # config map that holds the same string, say). Whatever the output hides is flagged sensitive.
    shown = json.dumps([old, new], ensure_ascii=False)
    sensitive = change.sensitive or default_redactor().scrub(shown) != shown
    out = {
        "op": str(change.op),
        "path": change.path_text,
        "old": old,
        "new": new,
        "sensitive": sensitive,
        "diff": None if sensitive else change.text_diff(),
        "position": str(change.position) if change.position else None,
    }
    if change.filled_in is not None:  # a creation: what the manifest writes, and what we fill in
        out["written"] = change.written
        out["filledIn"] = sorted(format_field_path((*change.path, *hole)) for hole in change.filled_in)
    return out


def _value(value: Any) -> Any:
    if value == REDACTED:
        return REDACTED
    return json.loads(show(value))
