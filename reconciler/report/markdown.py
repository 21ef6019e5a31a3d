"""A pull-request comment: a summary table, then one collapsible `<details>` diff per resource."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.model import ActionKind, Outcome, Plan
from reconciler.report.common import change_lines, outcome_summary, outcomes_by_action, title

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
        return "✅"
    return f"{'⏹' if outcome.interrupted else '❌'} {_cell(outcome.error or '')}"


def render_markdown(plan: Plan, outcomes: Sequence[Outcome] | None = None, *, verbose: bool = False) -> str:
    done = outcomes_by_action(plan.actions, outcomes)
    shown = [(i, a) for i, a in enumerate(plan.actions) if verbose or a.kind is not ActionKind.UNCHANGED]
    lines = ["### apim-reconciler plan", "", f"**{plan.summary()}**"]
    applied = outcome_summary(outcomes)
    if applied:
        lines += ["", f"**{applied}**"]
    if not shown:
        lines += ["", "No changes. APIM matches the repository."]
        return "\n".join(lines) + "\n"
    header = "| Action | Resource | HRID | Context | Reason |"
    rule = "| --- | --- | --- | --- | --- |"
    if done:
        header, rule = header + " Result |", rule + " --- |"
    lines += ["", header, rule]
    for index, action in shown:
        row = (
            f"| {_BADGE[action.kind]} | `{action.resource}` | `{action.hrid}` | "
            f"`{action.context.name}` | {_cell(action.reason)} |"
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
        lines += [
            "",
            "<details>",
            f"<summary><code>{_html(title(action))}</code> ({count} change{'s' if count != 1 else ''})</summary>",
            "",
            "````diff",
        ]
        for change in action.changes:
            for line in change_lines(change):
                lines.append(_diff_line(line))
        lines += ["````", "", "</details>"]
    return "\n".join(lines) + "\n"


def _diff_line(line: str) -> str:
    """`diff` fences colour lines by their first character: `+` green, `-` red, `!` for changes.

    The fence is four backticks, so a value holding three cannot close it.
    """
    return "! " + line[2:] if line.startswith("~ ") else line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
