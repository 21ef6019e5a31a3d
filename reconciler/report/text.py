"""`terraform plan`-like text: one block per action, indented field changes, a final summary line.

Names, reasons, values and APIM's messages are untrusted: each is made `printable` before the
colour codes are added around it, so only our own escape sequences reach the terminal. Colour is
asked for by the caller (reconciler/terminal.py: a terminal, without ``NO_COLOR``); the codes are
ours, not rich's, for start-up time: why, with numbers, at the top of reconciler/report/progress.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.model import ActionKind, Outcome, Plan
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

_COLOUR = {
    ActionKind.CREATE: "\x1b[32m",
    ActionKind.UPDATE: "\x1b[33m",
    ActionKind.DELETE: "\x1b[31m",
    ActionKind.DRIFTED: "\x1b[35m",
    ActionKind.CONFLICT: "\x1b[1;31m",
    ActionKind.BLOCKED: "\x1b[1;31m",
    ActionKind.UNCHANGED: "\x1b[2m",
    ActionKind.SKIPPED: "\x1b[2m",
}
_LINE_COLOUR = {"+": "\x1b[32m", "-": "\x1b[31m", "~": "\x1b[33m", "@": "\x1b[36m", "#": "\x1b[2m"}
_RESET = "\x1b[0m"


def render_text(
    plan: Plan,
    outcomes: Sequence[Outcome] | None = None,
    *,
    colour: bool = False,
    verbose: bool = False,
    not_read: Sequence[NotRead] = (),
) -> str:
    """The plan as text. Unchanged resources are listed only when `verbose`; colour only when asked.

    `not_read` names the contexts the run could not read: the report then opens by saying so, and
    neither claims that APIM matches nor shows its counts as if they covered everything.
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    done = outcomes_by_action(plan.actions, outcomes)
    lines: list[str] = []
    context = None
    for index, action in enumerate(plan.actions):
        if action.kind is ActionKind.UNCHANGED and not verbose:
            continue
        if action.context != context:
            context = action.context
            heading = printable(f"{context}:")
            lines += ["", heading] if lines else [heading]
        lines.append("  " + paint(printable(title(action)), _COLOUR[action.kind]))
        if action.reason:
            lines.append(f"      # {printable(action.reason)}")
        if action.position is not None:
            lines.append(f"      # at {printable(str(action.position))}")
        for line in map(printable, action_lines(action, verbose=verbose)):
            code = _LINE_COLOUR.get(line.strip()[:1], "")
            lines.append("      " + (paint(line, code) if code else line))
        outcome = done.get(index)
        if outcome is not None:
            if outcome.interrupted:
                lines.append("      => " + paint(printable(str(outcome.error)), "\x1b[33m"))
            else:
                status = (
                    printable(outcome.detail or "applied")
                    if outcome.ok
                    else f"FAILED{' (dry run)' if outcome.dry_run else ''}: {printable(outcome.error or 'unknown error')}"
                )
                lines.append("      => " + paint(status, "\x1b[32m" if outcome.ok else "\x1b[1;31m"))
    if not lines:
        lines.append(no_changes(not_read))
    incomplete = incomplete_line(not_read)
    if incomplete:
        lines = [paint(incomplete, "\x1b[1;31m"), "", *lines]
    lines += ["", summary_text(plan, not_read)]
    applied = outcome_summary(outcomes)
    if applied:
        lines.append(applied)
    return default_redactor().scrub("\n".join(lines) + "\n")
