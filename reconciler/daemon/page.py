"""The daemon's status page at ``/``: the ``/status`` document drawn for people, per context.

Argo CD's users look at a page; ours had JSON. The page is built from `StatusBoard.to_json()` and
nothing else, so it shows what ``/status`` serves, never more (no secret value is in that
document, and the HTTP layer scrubs every body once more). Per context: the last syncs (commit,
outcome, counts, duration), what is drifted, in conflict, blocked or failed and why, the last plan,
who its token belongs to and when it expires; and whether the daemon is suspended.

It works without JavaScript: a `<meta http-equiv="refresh">` (inside `<noscript>`) reloads it, and
every other view is a plain link (``/status``, ``/metrics``, ``/readyz``, ``/healthz``). With
JavaScript, one small inline script, allowed by its hash, reloads it instead, with a countdown and
a pause button. Markup, escaping and the Content-Security-Policy are `report.htmldoc`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.report.htmldoc import badge, document, esc, policy, table

REFRESH_SECONDS = 10
LINKS = (
    ("/status", "status (JSON)"),
    ("/metrics", "metrics (Prometheus)"),
    ("/readyz", "readiness"),
    ("/healthz", "liveness"),
)
ATTENTION = ("drifted", "conflict", "blocked")
"""Actions that somebody should look at even when they were applied (a drift was reverted)."""
_COUNT_ORDER = (
    "create",
    "update",
    "delete",
    "drifted",
    "conflict",
    "blocked",
    "skipped",
    "unchanged",
    "failed",
)
_SHORT_REVISION = 12

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
        *(_context(name, status) for name in _context_names(status)),
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
        f" by {esc(suspension.get('by'))} since {_time(suspension.get('since'))}:"
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
                _time(condition.get("lastTransitionTime")),
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
            _time(entry.get("startedAt")),
            _revision(entry.get("revision")),
            esc(entry.get("reason") or ""),
            badge(entry.get("outcome"), entry.get("outcome")),
            esc(f"{entry.get('durationSeconds', 0)} s"),
            _counts(entry.get("counts")),
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
        f"<p>revision {_revision(plan.get('revision'))} at {_time(plan.get('time'))}: "
        f"<strong>{esc(plan.get('summary') or 'nothing planned')}</strong> ({esc(changes)})</p>"
        + _plan_table(plan.get("resources") or [])
    )


# ----------------------------------------------------------------------------- per context


def _key(context: object) -> str:
    """`ManagementContext/default/prod` (resources, failures) and `default/prod` (identities) alike."""
    text = str(context)
    return text.removeprefix("ManagementContext/")


def _context_names(status: Mapping[str, Any]) -> list[str]:
    names: set[str] = set()
    for entry in status.get("history") or []:
        names |= set(entry.get("contexts") or {})
    names |= {_key(r.get("context")) for r in status.get("resources") or []}
    names |= {_key(f.get("context")) for f in status.get("failures") or []}
    names |= {_key(i.get("context")) for i in status.get("identities") or []}
    return sorted(names)


def _context(name: str, status: Mapping[str, Any]) -> str:
    resources = [r for r in status.get("resources") or [] if _key(r.get("context")) == name]
    failures = [f for f in status.get("failures") or [] if _key(f.get("context")) == name]
    identity = next((i for i in status.get("identities") or [] if _key(i.get("context")) == name), None)
    last = _context_entry((status.get("history") or [{}])[0], name)
    state = (
        badge("ok", "ok")
        if last.get("ok")
        else badge("failed", "fail")
        if last
        else badge("no sync yet", "unknown")
    )
    parts = [f'<section class="context" data-context="{esc(name)}"><h2>context {esc(name)} {state}</h2>']
    parts += [
        f'<p class="banner fail">Not synced: {esc(f.get("stage"))}: {esc(f.get("message"))}</p>'
        for f in failures
    ]
    parts.append(_identity(identity))
    parts.append(_attention(resources))
    parts.append(_context_history(name, status.get("history") or []))
    if resources:
        parts.append(
            f"<details><summary>The last plan: {len(resources)} resource(s)</summary>{_plan_table(resources)}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _context_entry(entry: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return dict((entry.get("contexts") or {}).get(name) or {})


def _identity(identity: Mapping[str, Any] | None) -> str:
    if identity is None:
        return ""
    who = esc(identity.get("who") or "unknown")
    kind = "service account" if identity.get("serviceAccount") else "user"
    expiry = _expiry(identity)
    parts = [f'<p class="identity">token of <strong>{who}</strong> ({esc(kind)}); {expiry}']
    if identity.get("revoked"):
        parts.append(" " + badge("revoked or expired", "fail"))
    if identity.get("missingRoles"):
        parts.append(" · missing roles: " + esc(", ".join(map(str, identity["missingRoles"]))))
    if identity.get("error"):
        parts.append(" · " + f'<span class="fail">{esc(identity["error"])}</span>')
    parts.append("</p>")
    parts += [f'<p class="warn">{esc(w)}</p>' for w in identity.get("warnings") or []]
    return "".join(parts)


def _expiry(identity: Mapping[str, Any]) -> str:
    seconds = identity.get("tokenExpiresInSeconds")
    if seconds is None:
        return '<span class="token-expiry muted">no expiry known</span>'
    days = int(seconds) // 86400
    if seconds <= 0:
        text, state = "token expired", "fail"
    else:
        text, state = (
            (f"expires in {days} day(s)" if days else f"expires in {int(seconds) // 3600} hour(s)"),
            ("warn" if days < 7 else "ok"),
        )
    return f'<span class="token-expiry {state}">{esc(text)}</span> ({_time(identity.get("tokenExpiresAt"))})'


def _context_history(name: str, history: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for entry in history:
        mine = _context_entry(entry, name)
        if not mine:
            continue
        outcome = ("success", "success") if mine.get("ok") else ("failed", "failure")
        rows.append(
            [
                _time(entry.get("startedAt")),
                _revision(entry.get("revision")),
                badge(*outcome),
                esc(f"{entry.get('durationSeconds', 0)} s"),
                _counts(mine.get("counts")) + (f" {esc(mine['error'])}" if mine.get("error") else ""),
            ]
        )
    if not rows:
        return ""
    return "<h3>Last syncs</h3>" + table(
        ["started", "revision", "outcome", "duration", "counts"], rows, numeric=(3,)
    )


def _attention(resources: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [
            badge(r.get("action"), r.get("action")) + ("" if r.get("ok") else " " + badge("failed", "fail")),
            f"<code>{esc(_resource(r))}</code>",
            esc(r.get("error") or r.get("reason") or ""),
            f"<code>{esc(r.get('position') or '')}</code>",
        ]
        for r in resources
        if r.get("action") in ATTENTION or not r.get("ok")
    ]
    if not rows:
        return '<p class="ok attention">Nothing drifted, in conflict, blocked or failed.</p>'
    return (
        '<h3>Needs attention</h3><div class="attention">'
        + table(["action", "resource", "why", "at"], rows)
        + "</div>"
    )


def _plan_table(resources: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [
            badge(r.get("action"), r.get("action")),
            f"<code>{esc(_resource(r))}</code>",
            f"<code>{esc(r.get('hrid'))}</code>",
            (badge("applied", "ok") if r.get("ok") else badge("failed", "fail")) if r.get("applied") else "",
            f"<code>{esc(r.get('position') or '')}</code>",
        ]
        for r in resources
    ]
    return table(["action", "resource", "HRID", "result", "at"], rows)


# ----------------------------------------------------------------------------- values


def _resource(row: Mapping[str, Any]) -> str:
    return f"{row.get('kind')}/{row.get('namespace')}/{row.get('name')}"


def _counts(counts: Mapping[str, Any] | None) -> str:
    if counts is None:
        return '<span class="muted">not planned</span>'
    shown = [
        f'<span class="{kind}">{esc(counts[kind])} {esc(kind)}</span>'
        for kind in _COUNT_ORDER
        if counts.get(kind)
    ]
    return ", ".join(shown) or '<span class="muted">nothing</span>'


def _revision(revision: object) -> str:
    text = str(revision or "")
    short = text if len(text) <= _SHORT_REVISION + 8 else text[: _SHORT_REVISION + 7]
    return f'<code class="revision" title="{esc(text)}">{esc(short)}</code>'


def _time(moment: object) -> str:
    if not moment:
        return ""
    text = str(moment)
    shown = text.replace("T", " ").split(".")[0].removesuffix("Z") + " UTC"
    return f'<time datetime="{esc(text)}">{esc(shown)}</time>'
