"""A pull-request comment: a summary table, then one collapsible `<details>` diff per resource.

Everything in it may come from a pull request or from APIM (names, reasons, values, error
messages), so nothing may break out of its place: code spans are delimited by more backticks than
they hold, table cells escape `|`, prose escapes Markdown and HTML, fences are longer than any run
of backticks inside them, and control characters are written as escapes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reconciler.plan.model import Action, ActionKind, Outcome, Plan
from reconciler.report.changes import action_lines
from reconciler.report.common import (
    NotRead,
    incomplete_line,
    no_changes,
    outcome_summary,
    outcomes_by_action,
    summary_text,
    title,
)
from reconciler.secrets.redaction import default_redactor
from reconciler.textsafe import printable

_BADGE = {
    ActionKind.CREATE: "🟢 create",
    ActionKind.UPDATE: "🟡 update",
    ActionKind.DELETE: "🔴 delete",
    ActionKind.DRIFTED: "🟣 drifted",
    ActionKind.CONFLICT: "⛔ conflict",
    ActionKind.BLOCKED: "⛔ delete refused",
    ActionKind.UNCHANGED: "⚪ unchanged",
    ActionKind.SKIPPED: "⚪ delete skipped",
}


def _result(outcome: Outcome) -> str:
    if outcome.ok:
        return f"✅ {cell(outcome.detail or '')}".rstrip()
    return f"{'⏹' if outcome.interrupted else '❌'} {cell(outcome.error or '')}"


def render_markdown(
    plan: Plan,
    outcomes: Sequence[Outcome] | None = None,
    *,
    verbose: bool = False,
    not_read: Sequence[NotRead] = (),
) -> str:
    """The plan as a pull-request comment; with `not_read`, it opens by saying the plan is incomplete."""
    done = outcomes_by_action(plan.actions, outcomes)
    shown = [(i, a) for i, a in enumerate(plan.actions) if verbose or a.kind is not ActionKind.UNCHANGED]
    incomplete = incomplete_line(not_read)
    lines = [f"### ⚠️ {cell(incomplete)}", ""] if incomplete else ["### apim-reconciler plan", ""]
    lines.append(f"**{cell(summary_text(plan, not_read))}**")
    applied = outcome_summary(outcomes)
    if applied:
        lines += ["", f"**{applied}**"]
    if not shown:
        lines += ["", no_changes(not_read)]
        return default_redactor().scrub("\n".join(lines) + "\n")
    header = "| Action | Resource | HRID | Context | Reason |"
    rule = "| --- | --- | --- | --- | --- |"
    if done:
        header, rule = header + " Result |", rule + " --- |"
    lines += ["", header, rule]
    for index, action in shown:
        row = (
            f"| {_badge(action)} | {code_span(str(action.resource))} | {code_span(action.hrid)} | "
            f"{code_span(action.context.name)} | {cell(action.reason)} |"
        )
        if done:
            outcome = done.get(index)
            result = "" if outcome is None else _result(outcome)
            row += f" {result} |"
        lines.append(row)
    for _, action in shown:
        if not action.changes:
            continue
        count = len(action.changes)
        diff = [_diff_line(line) for line in action_lines(action, verbose=verbose)]
        lines += [
            "",
            "<details>",
            f"<summary><code>{_html(printable(title(action)))}</code> "
            f"({count} {'field' if action.kind is ActionKind.CREATE else 'change'}{'s' if count != 1 else ''})"
            "</summary>",
            "",
            *fenced(diff, "diff"),
            "",
            "</details>",
        ]
    return default_redactor().scrub("\n".join(lines) + "\n")


def _badge(action: Action) -> str:
    if action.kind is ActionKind.BLOCKED and action.refused not in (None, ActionKind.DELETE):
        return f"⛔ {action.refused} refused"
    return _BADGE[action.kind]


def _diff_line(line: str) -> str:
    """`diff` fences colour lines by their first character: `+` green, `-` red, `!` for changes."""
    return "! " + line[2:] if line.startswith("~ ") else line


def fenced(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block that no line can close: the fence is longer than any run of backticks."""
    safe = [printable(line) for line in lines]
    longest = max((len(run) for line in safe for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(4, longest + 1)
    return [fence + info, *safe, fence]


def code_span(text: str) -> str:
    """Inline code, safe in a table cell: no backtick run inside can end it, no `|` split the cell."""
    text = printable(text).replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def cell(text: str) -> str:
    """Prose in a table cell: Markdown and HTML characters escaped, on one line."""
    one_line = " ".join(text.splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", printable(one_line))


_BACKTICKS = re.compile("`+")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]|<>~&]")
"""What could start emphasis, a link, code, HTML or a new cell inside a cell; `(`, `#`, `+` and `!`
only mean something at the start of a line or after an (escaped) `]`."""


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
