"""The report of a `diff` or `sync` as one HTML file, for CI to keep as an artifact.

It is the plan the text, JSON and Markdown reports show, read from the same values: the counts and
summary lines of `report.common`, the field changes of `report.changes`, the run's own lines
(not read, not planned, deletions kept, interrupted) of `report.sync`. Nothing is derived again
here, so the HTML cannot say something the other formats do not. One file, no asset and no
script: it opens offline, from an artifact download, under its own Content-Security-Policy
(`report.htmldoc`, which also escapes every value and scrubs the page).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.model import Action, ActionKind, Outcome, Plan
from reconciler.report.changes import action_lines
from reconciler.report.common import (
    NotRead,
    incomplete_line,
    label,
    no_changes,
    outcome_summary,
    outcomes_by_action,
    summary_text,
    title,
)
from reconciler.report.htmldoc import badge, document, esc, table
from reconciler.report.sync import deletions_line, interruption_line, not_planned, not_read
from reconciler.sync.result import SyncResult

COUNTED = ("create", "update", "delete", "drifted", "conflict", "blocked", "skipped", "unchanged")
"""The plan's counts shown as cards, in the order of the summary line."""

_LINE_CLASS = {"+": "add", "-": "del", "~": "chg", "@": "note", "#": "note"}


def render_html(result: SyncResult, *, verbose: bool = False) -> str:
    """The whole run as a page: what the plan says, what was applied, and what stopped it."""
    verb = "sync" if str(result.mode) == "apply" else "diff"
    state = ("ok", "ok") if result.ok else ("failed", "fail")
    header = (
        f"<h1>apim-reconciler {esc(verb)}</h1>"
        f'<span class="meta">commit <code id="commit">{esc(result.commit)}</code></span>'
        f'<span id="outcome">{badge(state[0], state[1])}</span>'
    )
    parts: list[str] = []
    if result.plan is None:
        parts.append(f'<p class="banner fail" id="not-planned">{esc(not_planned(result))}</p>')
    else:
        parts.append(
            plan_html(result.plan, result.outcomes or None, verbose=verbose, not_read=not_read(result))
        )
    for line_id, line in (("deletions", deletions_line(result)), ("interrupted", interruption_line(result))):
        if line:
            parts.append(f'<p class="banner warn" id="{line_id}">{esc(line)}</p>')
    parts.append(_errors(result))
    return document(f"apim-reconciler {verb} {result.commit}", header, "".join(parts))


def plan_html(
    plan: Plan,
    outcomes: Sequence[Outcome] | None = None,
    *,
    verbose: bool = False,
    not_read: Sequence[NotRead] = (),
) -> str:
    """The plan as HTML: the summary, one table per context, then each action's field changes."""
    done = outcomes_by_action(plan.actions, outcomes)
    parts: list[str] = []
    incomplete = incomplete_line(not_read)
    if incomplete:
        parts.append(f'<p class="banner fail" id="incomplete">{esc(incomplete)}</p>')
    counts = plan.counts()
    cards = "".join(
        f'<div class="card {kind if counts[kind] else "muted"}" id="count-{kind}"><b>{counts[kind]}</b>{esc(kind)}</div>'
        for kind in COUNTED
    )
    parts.append(f'<p id="summary"><strong>{esc(summary_text(plan, not_read))}</strong></p>')
    applied = outcome_summary(outcomes)
    if applied:
        parts.append(f'<p id="applied"><strong>{esc(applied)}</strong></p>')
    parts.append(f'<div class="cards">{cards}</div>')
    shown = [(i, a) for i, a in enumerate(plan.actions) if verbose or a.kind is not ActionKind.UNCHANGED]
    if not shown:
        parts.append(f'<p id="no-changes">{esc(no_changes(not_read))}</p>')
        return "".join(parts)
    by_context: dict[str, list[tuple[int, Action]]] = {}
    for index, action in shown:
        by_context.setdefault(str(action.context), []).append((index, action))
    for context, actions in by_context.items():
        parts.append(f"<h2>{esc(context)}</h2>")
        headers = ["action", "resource", "HRID", "reason", "at"] + (["result"] if done else [])
        rows = []
        for index, action in actions:
            row = [
                badge(label(action), action.kind),
                f"<code>{esc(action.resource)}</code>",
                f"<code>{esc(action.hrid)}</code>",
                esc(action.reason),
                f"<code>{esc(action.position or '')}</code>",
            ]
            if done:
                row.append(_result(done.get(index)))
            rows.append(row)
        parts.append(table(headers, rows))
        parts += [_changes(action, verbose) for _, action in actions if action.changes]
    return "".join(parts)


def _result(outcome: Outcome | None) -> str:
    if outcome is None:
        return ""
    if outcome.ok:
        return badge(outcome.detail or ("validated (dry run)" if outcome.dry_run else "applied"), "ok")
    word = "not done" if outcome.interrupted else "failed"
    return f"{badge(word, 'warn' if outcome.interrupted else 'fail')} {esc(outcome.error or '')}"


def _changes(action: Action, verbose: bool) -> str:
    lines = []
    for line in action_lines(action, verbose=verbose):
        kind = _LINE_CLASS.get(line.strip()[:1])
        lines.append(f'<span class="{kind}">{esc(line)}</span>' if kind else esc(line))
    count = len(action.changes)
    noun = "field" if action.kind is ActionKind.CREATE else "change"
    return (
        f'<details class="changes"><summary><code>{esc(title(action))}</code> '
        f"({count} {noun}{'s' if count != 1 else ''})</summary>"
        f'<pre class="diff">{chr(10).join(lines)}</pre></details>'
    )


def _errors(result: SyncResult) -> str:
    rows = [
        [
            badge(str(p.severity), "fail" if str(p.severity) == "error" else "warn"),
            f"<code>{esc(p.position or '')}</code>",
            esc(p.message),
        ]
        for p in result.all_problems
    ]
    rows += [
        [
            badge("context failed", "fail"),
            f"<code>{esc(f.context)}</code>",
            esc(f"{f.stage} failed: {f.message}"),
        ]
        for f in result.failures
    ]
    if not rows:
        return ""
    return f'<h2 id="errors">Errors and warnings</h2>{table(["severity", "where", "message"], rows)}'
