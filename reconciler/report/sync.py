"""The report of a whole `diff` or `sync` run: the plan's renderers, plus what stopped or failed.

A run can end before a plan exists (a broken repository, a secret that does not resolve) or with
contexts that could not be read: those are part of the report too, in every format, so that a
summary never under-reports (LESSONS: partial failure hidden).
"""

from __future__ import annotations

from typing import Any

from reconciler.report.common import NotRead
from reconciler.report.json_report import VERSION, report_data
from reconciler.report.markdown import fenced
from reconciler.report.markdown import render_markdown as render_plan_markdown
from reconciler.report.problems import problem_json
from reconciler.report.text import render_text as render_plan_text
from reconciler.secrets.redaction import default_redactor
from reconciler.sync.deletions import DeletionPolicy, kept_count
from reconciler.sync.result import ContextFailure, SyncResult
from reconciler.textsafe import json_text, printable

NOT_PLANNED = "Nothing planned: fix the errors above first. APIM was not changed."


def render_problems(result: SyncResult) -> str:
    """Manifest problems and failed contexts, one per line (text output puts them on stderr)."""
    lines = [str(p) for p in result.all_problems]
    lines += [_failure_line(f) for f in result.failures]
    return default_redactor().scrub("\n".join(lines) + "\n") if lines else ""


def _failure_line(failure: ContextFailure) -> str:
    return printable(f"{failure.context}: {failure.stage} failed: {failure.message}")


def not_planned(result: SyncResult) -> str:
    if result.interrupted:
        return f"Nothing planned: {result.interrupted}. APIM was not changed."
    return NOT_PLANNED


def interruption_line(result: SyncResult) -> str | None:
    """The line that says a sync was stopped part-way, and what that means for the next one."""
    if not result.interrupted or result.plan is None:
        return None
    return (
        f"Interrupted: {result.interrupted}. Nothing new was started after it; the actions above say "
        "what was applied. The next sync converges the rest."
    )


def deletions_line(result: SyncResult) -> str | None:
    """What this run did about objects that left the repository, when it did not prune them:
    ``--mode apply`` keeps them by design, ``--no-prune`` (or a label scope) only this time."""
    if result.plan is None or result.deletions is DeletionPolicy.PRUNE:
        return None
    kept = kept_count(result.plan)
    if result.deletions is DeletionPolicy.NEVER:
        return (
            f"Apply mode (--mode apply): creates and updates only, never deletes; {kept} object(s) no "
            "longer in the repository kept in APIM, moved resources' old copies included."
        )
    return (
        f"Prune disabled (--no-prune or a --label scope): {kept} deletion(s) skipped this time; "
        "moved resources are still removed from their old place."
    )


def not_read(result: SyncResult) -> tuple[NotRead, ...]:
    """The contexts left out of the plan (not connected, not read), each with its manifest's file."""
    files = {r.id: r.position.file for r in result.manifests.resources}
    seen: dict[object, NotRead] = {}
    for failure in result.failures:
        seen.setdefault(failure.context, NotRead(failure.context, files.get(failure.context)))
    return tuple(seen.values())


def render_text(result: SyncResult, *, colour: bool = False, verbose: bool = False) -> str:
    if result.plan is None:
        return not_planned(result) + "\n"
    outcomes = result.outcomes if result.outcomes else None
    text = render_plan_text(result.plan, outcomes, colour=colour, verbose=verbose, not_read=not_read(result))
    if result.failures:
        text += f"{len(result.failures)} context(s) could not be planned: see the errors above.\n"
    deletions = deletions_line(result)
    if deletions:
        text += deletions + "\n"
    interruption = interruption_line(result)
    if interruption:
        text += interruption + "\n"
    return text


def render_markdown(result: SyncResult, *, verbose: bool = False) -> str:
    lines = []
    if result.plan is None:
        lines += ["### apim-reconciler plan", "", f"**{not_planned(result)}**"]
    else:
        rendered = render_plan_markdown(
            result.plan, result.outcomes or None, verbose=verbose, not_read=not_read(result)
        )
        lines.append(rendered.rstrip("\n"))
    deletions = deletions_line(result)
    if deletions:
        lines += ["", f"_{deletions}_"]
    interruption = interruption_line(result)
    if interruption:
        lines += ["", f"**{interruption}**"]
    errors = [*(str(p) for p in result.errors), *(_failure_line(f) for f in result.failures)]
    if errors:
        lines += ["", "#### Errors", "", *map(default_redactor().scrub, fenced(errors))]
    return "\n".join(lines) + "\n"


def result_data(result: SyncResult) -> dict[str, Any]:
    """The JSON report (docs/report-json.md) with the run's own fields added at the top level."""
    data: dict[str, Any] = (
        report_data(result.plan, result.outcomes or None, not_read=not_read(result))
        if result.plan is not None
        else {"version": VERSION, "summary": None, "actions": []}
    )
    data.update(
        ok=result.ok,
        mode=str(result.mode),
        commit=result.commit,
        problems=[problem_json(p) for p in result.all_problems],
        failures=[
            {"context": str(f.context), "stage": f.stage, "message": f.message} for f in result.failures
        ],
        requests=dict(sorted(result.requests.items())),
        interrupted=result.interrupted,
        deletions={
            "policy": str(result.deletions),
            "kept": kept_count(result.plan),
            "text": deletions_line(result),
        },
    )
    return data


def render_json(result: SyncResult) -> str:
    return default_redactor().scrub(json_text(result_data(result)) + "\n")
