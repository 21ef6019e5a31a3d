"""The report of `check-context`: text for the terminal, JSON for machines (docs/report-json.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.contexts.check import ContextCheckResult
from reconciler.textsafe import printable


def render_context_checks(results: Sequence[ContextCheckResult]) -> str:
    """Plain text for the terminal: one block per context, `file:line` first."""
    if not results:
        return "no ManagementContext found\n"
    lines: list[str] = []
    for r in results:
        mark = "ok" if r.ok else f"FAILED ({r.failure})"
        lines.append(f"{r.position}: {r.context.namespace}/{r.context.name}: {mark}")
        if r.server:
            lines.append(f"  server:       {r.server}")
            org_env = f"{r.organization_id} / {r.environment_id}"
            if r.environment_name:
                org_env += f" ({r.environment_name})"
            lines.append(f"  org / env:    {org_env}")
        if r.auth:
            lines.append(f"  auth:         {r.auth}")
        if r.binding:
            lines.append(f"  bound by:     {r.binding}")
        if r.capabilities is not None:
            lines.append(f"  apim:         {r.capabilities.describe()}")
            who = (
                "organization ADMIN (sees every object)"
                if r.capabilities.organization_admin
                else "not organization ADMIN"
            )
            lines.append(f"  account:      {who}")
        lines.append(f"  {'result' if r.ok else 'error'}:       {r.message}")
    ok = sum(r.ok for r in results)
    lines.append(f"{ok} of {len(results)} context(s) reachable")
    return "\n".join(map(printable, lines)) + "\n"  # file names, APIM's names and messages


def render_context_checks_json(results: Sequence[ContextCheckResult]) -> str:
    return json.dumps([_check_data(r) for r in results], indent=2) + "\n"


def _check_data(r: ContextCheckResult) -> dict[str, Any]:
    capabilities = r.capabilities
    return {
        "context": {"namespace": r.context.namespace, "name": r.context.name},
        "file": r.position.file,
        "line": r.position.line,
        "ok": r.ok,
        "message": r.message,
        "failure": str(r.failure) if r.failure else None,
        "server": r.server,
        "organizationId": r.organization_id,
        "environmentId": r.environment_id,
        "environmentName": r.environment_name,
        "auth": r.auth,
        "binding": r.binding,
        "capabilities": None
        if capabilities is None
        else {
            "automationApis": capabilities.automation_apis,
            "automationApplications": capabilities.automation_applications,
            "listingShowsMetadata": capabilities.listing_metadata,
            "organizationAdmin": capabilities.organization_admin,
            "missingPermissions": list(capabilities.missing_permissions),
            "problems": capabilities.problems(),
        },
    }
