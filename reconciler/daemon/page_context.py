"""One context's part of the status page, and the cells every part uses (times, revisions, counts).

Apart from `page` to keep both short: `page` lays out what concerns the whole daemon (suspension,
the source, the conditions, the history of every sync), this module what concerns one
ManagementContext: its token, what needs attention and why, its last syncs, its last plan. Every
value goes through `esc`; the classes are our own words (`css_class`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.report.htmldoc import badge, esc, table

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
_WARN_DAYS = 7


def _key(context: object) -> str:
    """`ManagementContext/default/prod` (resources, failures) and `default/prod` (identities) alike."""
    text = str(context)
    return text.removeprefix("ManagementContext/")


def context_names(status: Mapping[str, Any]) -> list[str]:
    names: set[str] = set()
    for entry in status.get("history") or []:
        names |= set(entry.get("contexts") or {})
    names |= {_key(r.get("context")) for r in status.get("resources") or []}
    names |= {_key(f.get("context")) for f in status.get("failures") or []}
    names |= {_key(i.get("context")) for i in status.get("identities") or []}
    return sorted(names)


def context_section(name: str, status: Mapping[str, Any]) -> str:
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
            f"<details><summary>The last plan: {len(resources)} resource(s)</summary>{plan_table(resources)}</details>"
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
            ("warn" if days < _WARN_DAYS else "ok"),
        )
    return (
        f'<span class="token-expiry {state}">{esc(text)}</span> ({cell_time(identity.get("tokenExpiresAt"))})'
    )


def _context_history(name: str, history: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for entry in history:
        mine = _context_entry(entry, name)
        if not mine:
            continue
        outcome = ("success", "success") if mine.get("ok") else ("failed", "failure")
        rows.append(
            [
                cell_time(entry.get("startedAt")),
                cell_revision(entry.get("revision")),
                badge(*outcome),
                esc(f"{entry.get('durationSeconds', 0)} s"),
                cell_counts(mine.get("counts")) + (f" {esc(mine['error'])}" if mine.get("error") else ""),
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
            f"<code>{esc(resource_name(r))}</code>",
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


def plan_table(resources: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [
            badge(r.get("action"), r.get("action")),
            f"<code>{esc(resource_name(r))}</code>",
            f"<code>{esc(r.get('hrid'))}</code>",
            (badge("applied", "ok") if r.get("ok") else badge("failed", "fail")) if r.get("applied") else "",
            f"<code>{esc(r.get('position') or '')}</code>",
        ]
        for r in resources
    ]
    return table(["action", "resource", "HRID", "result", "at"], rows)


# ----------------------------------------------------------------------------- values


def resource_name(row: Mapping[str, Any]) -> str:
    return f"{row.get('kind')}/{row.get('namespace')}/{row.get('name')}"


def cell_counts(counts: Mapping[str, Any] | None) -> str:
    if counts is None:
        return '<span class="muted">not planned</span>'
    shown = [
        f'<span class="{kind}">{esc(counts[kind])} {esc(kind)}</span>'
        for kind in _COUNT_ORDER
        if counts.get(kind)
    ]
    return ", ".join(shown) or '<span class="muted">nothing</span>'


def cell_revision(revision: object) -> str:
    text = str(revision or "")
    short = text if len(text) <= _SHORT_REVISION + 8 else text[: _SHORT_REVISION + 7]
    return f'<code class="revision" title="{esc(text)}">{esc(short)}</code>'


def cell_time(moment: object) -> str:
    if not moment:
        return ""
    text = str(moment)
    shown = text.replace("T", " ").split(".")[0].removesuffix("Z") + " UTC"
    return f'<time datetime="{esc(text)}">{esc(shown)}</time>'
