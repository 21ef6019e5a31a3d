"""Each target's body for an event (pure): the generic JSON document, Slack, Microsoft Teams, and
the commit-status bodies of GitHub and GitLab.

- Generic: ``{"version": 1, "event", "title", "message", "commit", "source", "time", "summary",
  "resources", "delivery"}``, signed by the sender (``X-Reconciler-Signature-256``).
- Slack incoming webhook: ``text`` (the fallback every client shows) plus ``blocks`` (a section
  in mrkdwn, and a context line with the commit and source).
- Microsoft Teams (a Workflows "post to a channel when a webhook request is received" URL, which
  replaced the Office 365 connectors): a ``message`` with one Adaptive Card attachment.
- GitHub ``POST /repos/{owner}/{repo}/statuses/{sha}``: ``state`` success|failure, ``description``
  (GitHub keeps 140 characters), ``context``; GitLab ``POST /projects/{id}/statuses/{sha}``:
  ``state`` success|failed, ``name``, ``description``.
"""

from __future__ import annotations

from typing import Any

from reconciler.notify.events import Event

VERSION = 1
DESCRIPTION_LIMIT = 140  # GitHub refuses longer descriptions; GitLab is given the same


def _iso(event: Event) -> str:
    return event.time.isoformat().replace("+00:00", "Z")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def generic(event: Event, delivery: str) -> dict[str, Any]:
    return {
        "version": VERSION,
        "event": event.kind,
        "ok": event.ok,
        "title": event.title,
        "message": event.message,
        "commit": event.commit,
        "source": event.source,
        "time": _iso(event),
        "summary": event.summary,
        "resources": list(event.resources),
        "delivery": delivery,
    }


def _context_line(event: Event) -> str:
    commit = f"commit {event.commit[:12]}" if event.commit else "commit unknown"
    return f"{commit} · {event.source} · {_iso(event)}"


def slack(event: Event) -> dict[str, Any]:
    mark = ":white_check_mark:" if event.ok else ":warning:"
    lines = [f"{mark} *{_escape_slack(event.title)}*", _escape_slack(event.message)]
    if event.resources:
        lines.append("\n".join(f"• {_escape_slack(r)}" for r in event.resources))
    return {
        "text": f"{event.title}: {event.message}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _short("\n".join(lines), 3000)}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _escape_slack(_context_line(event))}],
            },
        ],
    }


def _escape_slack(text: str) -> str:
    """Slack's three control characters in mrkdwn (its docs: escape &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams(event: Event) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": event.title,
            "weight": "Bolder",
            "size": "Medium",
            "color": "Good" if event.ok else "Attention",
            "wrap": True,
        },
        {"type": "TextBlock", "text": event.message or " ", "wrap": True},
    ]
    facts = [{"title": "Event", "value": event.kind}, {"title": "Commit", "value": event.commit or "unknown"}]
    facts.append({"title": "Source", "value": event.source})
    if event.summary:
        facts.append({"title": "Plan", "value": event.summary})
    body.append({"type": "FactSet", "facts": facts})
    if event.resources:
        body.append({"type": "TextBlock", "text": "\n".join(f"- {r}" for r in event.resources), "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


def github_status(event: Event, context: str, target_url: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "state": "success" if event.ok else "failure",
        "description": _short(f"{event.title}: {event.message}", DESCRIPTION_LIMIT),
        "context": context,
    }
    if target_url:
        data["target_url"] = target_url
    return data


def gitlab_status(event: Event, context: str, target_url: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "state": "success" if event.ok else "failed",
        "description": _short(f"{event.title}: {event.message}", DESCRIPTION_LIMIT),
        "name": context,
    }
    if target_url:
        data["target_url"] = target_url
    return data
