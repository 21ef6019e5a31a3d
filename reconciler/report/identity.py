"""The reports of `service-account create|check`: text, and the JSON of `check --output json`.

No token value is ever part of them; the commands print one only with `--show-token`, on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reconciler.identity.create import CreateRequest, CreateResult
from reconciler.identity.model import ENV_ROLES_THAT_WRITE, REQUIRED_ORG_ROLES, IdentityStatus
from reconciler.textsafe import printable


def render_create(result: CreateResult, request: CreateRequest) -> str:
    lines = [
        f"service account {result.who} (id {result.user_id}): {'created' if result.user_created else 'found'}",
        f"  roles:        {request.org_role} on organization {result.organization_id}, "
        f"{request.env_role} on environment {result.environment_id}",
    ]
    if result.token is None:
        lines.append(
            f"  token:        kept: {result.written_to}/bearerToken already works for this user "
            "(replace it with `service-account rotate`)"
        )
    elif result.written_to is not None:
        lines.append(
            f"  token:        {result.token_name} (id {result.token_id}) written to "
            f"{result.written_to}/bearerToken (mode 0600)"
        )
    else:
        lines.append(
            f"  token:        {result.token_name} (id {result.token_id}) in the Secret "
            f"{result.secret} printed on stdout"
        )
    return "\n".join(map(printable, lines)) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_json(status: IdentityStatus) -> dict[str, Any]:
    """The JSON of `check --output json` (and what the daemon may serve): no secret in it."""
    token = status.token
    return {
        "context": status.context,
        "ok": status.ok,
        "userId": status.user_id,
        "who": status.who,
        "serviceAccount": status.service_account,
        "auth": status.auth,
        "organizationId": status.organization_id,
        "environmentId": status.environment_id,
        "organizationRoles": list(status.org_roles),
        "environmentRoles": None if status.env_roles is None else list(status.env_roles),
        "missingRoles": list(status.missing_roles),
        "revoked": status.revoked,
        "token": None
        if token is None
        else {
            "source": token.source,
            "id": token.id,
            "name": token.name,
            "expiresAt": _iso(token.expires_at),
            "lastUsedAt": _iso(token.last_used_at),
            "identifiedBy": token.identified_by,
        },
        "warnings": list(status.warnings),
        "error": status.error,
    }


def render_status(status: IdentityStatus) -> str:
    lines = [f"ManagementContext {status.context}: {'ok' if status.ok else 'FAILED'}"]
    if status.who is not None:
        kind = "service account" if status.service_account else "personal user"
        lines.append(f"  who:          {status.who} ({kind}, id {status.user_id})")
    if status.auth:
        lines.append(f"  auth:         {status.auth}")
    if status.user_id is not None:
        lines.append(
            f"  organization: {status.organization_id}: {', '.join(status.org_roles) or 'no role'}"
            f" (needs {' and '.join(REQUIRED_ORG_ROLES)})"
        )
        env_roles = "unknown" if status.env_roles is None else (", ".join(status.env_roles) or "no role")
        lines.append(
            f"  environment:  {status.environment_id}: {env_roles} (needs {' or '.join(ENV_ROLES_THAT_WRITE)})"
        )
    token = status.token
    if token is not None:
        name = f"{token.name} (id {token.id})" if token.id else token.source
        expiry = f"expires {_iso(token.expires_at)}" if token.expires_at else "never expires"
        used = f"; last used {_iso(token.last_used_at)}" if token.last_used_at else ""
        lines.append(f"  token:        {name}: {expiry}{used}")
    lines.extend(f"  warning:      {w}" for w in status.warnings)
    if status.error:
        lines.append(f"  error:        {status.error}")
    return "\n".join(map(printable, lines)) + "\n"  # names and messages are APIM's
