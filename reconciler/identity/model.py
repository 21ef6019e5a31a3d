"""Values of the identity commands: what apim-reconciler needs from its APIM user, and what it found.

Frozen and free of I/O, so that the CLI, the daemon's `/status` and its metrics render the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.identity.steps import RotationStep as RotationStep

# What GKO's guide gives its service account. Organization ADMIN is what apim-reconciler needs: APIM
# lets it through every permission check (PermissionServiceImpl), and shows an account without it only
# the objects it is a member of (`manageOnly`), so conflicts and prunes would be decided on a partial
# view. An environment role is then not needed; without organization ADMIN, writes also need
# API_PUBLISHER (or ADMIN) on the environment.
REQUIRED_ORG_ROLES = ("ADMIN",)
ENV_ROLES_THAT_WRITE = ("API_PUBLISHER", "ADMIN")


class IdentityError(Exception):
    """A problem that stops an identity command, with a message fit for the user (never a secret)."""


@dataclass(frozen=True)
class TokenInfo:
    """What is known of the token in use: from APIM's token list, or from a JWT's `exp` claim."""

    source: str  # "token list" or "JWT exp claim"
    id: str | None = None
    name: str | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    identified_by: str | None = None  # how the token was picked out of the user's list

    def expires_in(self, now: datetime) -> timedelta | None:
        return None if self.expires_at is None else self.expires_at - now


@dataclass(frozen=True)
class IdentityStatus:
    """Who a ManagementContext's credentials belong to, and whether apim-reconciler can work with them.

    `revoked` is True when APIM refused the credentials (401: a revoked, expired or wrong token).
    `env_roles` is None when the roles could not be read (that needs ADMIN on the organization).
    `ok` is False exactly when a sync with this context cannot work; warnings do not change it.
    """

    context: str
    ok: bool
    user_id: str | None = None
    who: str | None = None
    service_account: bool | None = None
    auth: str | None = None
    organization_id: str | None = None
    environment_id: str | None = None
    org_roles: tuple[str, ...] = ()
    env_roles: tuple[str, ...] | None = None
    missing_roles: tuple[str, ...] = ()
    token: TokenInfo | None = None
    revoked: bool = False
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def roles_ok(self) -> bool:
        return self.env_roles is not None and not self.missing_roles and self.user_id is not None

    @property
    def token_expires_at(self) -> datetime | None:
        return self.token.expires_at if self.token else None


def missing_roles(
    organization_id: str, environment_id: str, org_roles: tuple[str, ...], env_roles: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The roles to grant, each named with where: `ADMIN on organization DEFAULT`."""
    missing = [f"{r} on organization {organization_id}" for r in REQUIRED_ORG_ROLES if r not in org_roles]
    writes = env_roles is not None and any(r in env_roles for r in ENV_ROLES_THAT_WRITE)
    if missing and env_roles is not None and not writes:
        missing.append(f"API_PUBLISHER (or ADMIN) on environment {environment_id}")
    return tuple(missing)


def display_name(user: object) -> str | None:
    """A user's display name as APIM composes it: names, else email, else sourceId."""
    if not isinstance(user, dict):
        return None
    names = " ".join(str(user[k]) for k in ("firstname", "lastname") if user.get(k))
    for value in (user.get("displayName"), names, user.get("email"), user.get("sourceId"), user.get("id")):
        if isinstance(value, str) and value:
            return value
    return None


def is_service_account(user: object) -> bool:
    """APIM's `serviceAccount` flag when the server sends one; else the rule of APIM's validator (a
    service account has no firstname, and is identified by sourceId/lastname rather than an email)."""
    if not isinstance(user, dict):
        return False
    flag = user.get("serviceAccount")
    if isinstance(flag, bool):
        return flag
    return not user.get("firstname") and not user.get("email")
