"""The daemon's status page at ``/``: the ``/status`` document drawn for people, per context.

Argo CD's users look at a page; ours had JSON. The page is built from `StatusBoard.to_json()` and
nothing else, so it shows what ``/status`` serves, never more (no secret value is in that
document, and the HTTP layer scrubs every body once more). Per context: the last syncs (commit,
outcome, counts, duration), what is drifted, in conflict, blocked or failed and why, the last plan,
who its token belongs to and when it expires; and whether the daemon is suspended.

It works without JavaScript: a `<meta http-equiv="refresh">` (inside `<noscript>`) reloads it, and
every other view is a plain link (``/status``, ``/metrics``, ``/readyz``, ``/healthz``). With
JavaScript, one small inline script, allowed by its hash, reloads it instead, with a countdown and
a pause button. Markup, escaping and the Content-Security-Policy are `report.htmldoc`'s; one
context's part of the page is `page_context`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.daemon.page_context import (
    cell_counts,
    cell_revision,
    cell_time,
    context_names,
    context_section,
    plan_table,
)
from reconciler.report.htmldoc import badge, document, esc, policy, table

REFRESH_SECONDS = 10
LINKS = (
    ("/status", "status (JSON)"),
    ("/metrics", "metrics (Prometheus)"),
    ("/readyz", "readiness"),
    ("/healthz", "liveness"),
)

SCRIPT = """(function () {
  var box = document.getElementById("refresh");
  if (!box) { return; }
  var left = Number(box.getAttribute("data-seconds")) || 10;
  var paused = false;
  var text = document.createElement("span");
  var button = document.createElement("button");
  button.type = "button";
  button.id = "pause";
  function show() {
    text.textContent = paused ? "auto-refresh paused " : "next refresh in " + left + " s ";
    button.textContent = paused ? "resume" : "pause";
  }
  button.addEventListener("click", function () { paused = !paused; show(); });
  box.textContent = "";
  box.appendChild(text);
  box.appendChild(button);
  show();
  setInterval(function () {
    if (paused) { return; }
    left -= 1;
    if (left <= 0) { window.location.reload(); return; }
    show();
  }, 1000);
})();"""

HEADERS = (
    ("Content-Security-Policy", policy(script=SCRIPT)),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
"""The headers the page is served with (`endpoints`)."""


def render_page(status: Mapping[str, Any], *, refresh: int = REFRESH_SECONDS) -> str:
    """The page of one `/status` document."""
    ready = _condition(status, "Ready")
    suspension = status.get("suspension") or {}
    header = (
        "<h1>apim-reconciler</h1>"
        f'<span class="meta">source <code id="source">{esc(status.get("source"))}</code>'
        + (f" ref <code>{esc(status.get('ref'))}</code>" if status.get("ref") else "")
        + "</span>"
        f'<span id="ready">{_ready_badge(ready)}</span>'
        + (
            f'<span id="suspended">{badge("suspended", "suspended")}</span>'
            if suspension.get("suspended")
            else ""
        )
        + '<nav id="links">'
        + "".join(f'<a href="{path}">{esc(text)}</a>' for path, text in LINKS)
        + "</nav>"
    )
    body = [
        _suspension(suspension),
        _source_error(status.get("sourceError")),
        _problems(status.get("problems") or []),
        *(context_section(name, status) for name in context_names(status)),
        _suspended_plan(suspension.get("plan")),
        _history(status.get("history") or []),
        _conditions(status),
        f'<footer><span id="refresh" data-seconds="{int(refresh)}">refreshes every {int(refresh)} s</span>'
        f" · {esc(status.get('syncs', 0))} sync(s) since the process started"
        f" · last applied revision <code>{esc(status.get('lastAppliedRevision') or 'none')}</code></footer>",
    ]
    noscript = f'<noscript><meta http-equiv="refresh" content="{int(refresh)}"></noscript>'
    page = document("apim-reconciler status", header, "".join(body), script=SCRIPT, meta_policy=False)
    return page.replace("<title>", noscript + "<title>", 1)


# ----------------------------------------------------------------------------- the whole daemon


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return {"type": kind, "status": "Unknown", "reason": "", "message": ""}


def _ready_badge(ready: Mapping[str, Any]) -> str:
    word = {"True": "ready", "False": "not ready"}.get(str(ready.get("status")), "waiting")
    return badge(f"{word}: {ready.get('reason') or ''}", _state(ready.get("status")))


def _state(value: object, *, good: str = "True") -> str:
    if value == "Unknown" or value is None:
        return "unknown"
    return "ok" if value == good else "fail"


def _suspension(suspension: Mapping[str, Any]) -> str:
    if not suspension.get("suspended"):
        return ""
    return (
        '<p class="banner suspended" id="suspension">Suspended'
        f" by {esc(suspension.get('by'))} since {cell_time(suspension.get('since'))}:"
        " nothing is written to APIM until resumed (POST /resume, SIGUSR2, or the suspend file removed).</p>"
    )


def _source_error(error: Mapping[str, Any] | None) -> str:
    if not error:
        return ""
    retry = "retried at the next tick" if error.get("retryable") else "needs a human"
    return (
        f'<p class="banner fail" id="source-error">The source could not be read ({esc(error.get("type"))},'
        f" {esc(retry)}): {esc(error.get('message'))}</p>"
    )


def _conditions(status: Mapping[str, Any]) -> str:
    rows = []
    for condition in status.get("conditions") or []:
        kind = condition.get("type")
        value = condition.get("status")
        state = {
            "Stalled": _state(value, good="False"),
            "Reconciling": "warn" if value == "True" else "muted",
        }
        rows.append(
            [
                esc(kind),
                badge(value, state.get(str(kind), _state(value))),
                esc(condition.get("reason")),
                esc(condition.get("message")),
                cell_time(condition.get("lastTransitionTime")),
            ]
        )
    return '<h2 id="conditions">Conditions</h2>' + table(
        ["condition", "status", "reason", "message", "since"], rows
    )


def _history(history: Sequence[Mapping[str, Any]]) -> str:
    if not history:
        return '<h2 id="syncs">Last syncs</h2><p class="muted">No sync has ended yet.</p>'
    rows = [
        [
            cell_time(entry.get("startedAt")),
            cell_revision(entry.get("revision")),
            esc(entry.get("reason") or ""),
            badge(entry.get("outcome"), entry.get("outcome")),
            esc(f"{entry.get('durationSeconds', 0)} s"),
            cell_counts(entry.get("counts")),
            esc(_errors_text(entry)),
        ]
        for entry in history
    ]
    headers = ["started", "revision", "cause", "outcome", "duration", "counts", "errors"]
    return '<h2 id="syncs">Last syncs (all contexts)</h2>' + table(headers, rows, numeric=(4,))


def _errors_text(entry: Mapping[str, Any]) -> str:
    parts = []
    if entry.get("manifestErrors"):
        parts.append(f"{entry['manifestErrors']} manifest error(s)")
    if entry.get("failedContexts"):
        parts.append(f"{entry['failedContexts']} context(s) failed")
    return ", ".join(parts)


def _problems(problems: Sequence[Mapping[str, Any]]) -> str:
    if not problems:
        return ""
    rows = [
        [
            badge(p.get("severity"), "fail" if p.get("severity") == "error" else "warn"),
            f"<code>{esc(_where(p))}</code>",
            esc(p.get("message")),
        ]
        for p in problems
    ]
    return '<h2 id="problems">Manifest problems</h2>' + table(["severity", "where", "message"], rows)


def _where(problem: Mapping[str, Any]) -> str:
    if not problem.get("file"):
        return ""
    return f"{problem['file']}:{problem.get('line') or 1}:{problem.get('column') or 1}"


def _suspended_plan(plan: Mapping[str, Any] | None) -> str:
    if not plan:
        return ""
    changes = "changes pending" if plan.get("hasChanges") else "no changes"
    return (
        '<h2 id="suspended-plan">Planned while suspended (nothing written)</h2>'
        f"<p>revision {cell_revision(plan.get('revision'))} at {cell_time(plan.get('time'))}: "
        f"<strong>{esc(plan.get('summary') or 'nothing planned')}</strong> ({esc(changes)})</p>"
        + plan_table(plan.get("resources") or [])
    )
