"""What every endpoint handler receives, and the permission check they make.

A handler checks permissions itself, first thing (``require_*``), as the server's ``@Permissions``
annotations do before the resource method runs (Automation API: ``PermissionsFilter``; mAPI v1/v2: the
``@Permissions`` filter of ``gravitee-apim-rest-api-rest``). The check is ``PermissionServiceImpl.hasPermission``
(see :mod:`.roles`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import roles
from .accounts import Account
from .auth import Directory, Environment
from .messages import MAPI_V2, Request, Response, forbidden
from .store import Store
from .versions import ApimVersion

if TYPE_CHECKING:
    from .config import EmulatorConfig
    from .search import SearchCluster


@dataclass(frozen=True)
class Context:
    store: Store
    directory: Directory
    version: ApimVersion
    config: EmulatorConfig
    search: SearchCluster


@dataclass(frozen=True)
class Call:
    """One authenticated request on one resolved environment."""

    ctx: Context
    request: Request
    user: Account
    env: Environment
    family: str = MAPI_V2
    node: int = field(default=0)

    @property
    def org_id(self) -> str:
        return self.env.org_id

    @property
    def env_id(self) -> str:
        return self.env.id

    @property
    def version(self) -> ApimVersion:
        return self.ctx.version

    # -- permissions ------------------------------------------------------------------------------
    @property
    def is_org_admin(self) -> bool:
        """``PermissionServiceImpl.isOrganizationAdmin``: the ``ORGANIZATION:ADMIN`` authority."""
        return "ADMIN" in self.user.roles_on(roles.ORGANIZATION, self.org_id)

    def env_permissions(self, env_id: str | None = None) -> dict[str, str]:
        return roles.permissions_of(
            roles.ENVIRONMENT, self.user.roles_on(roles.ENVIRONMENT, env_id or self.env_id)
        )

    def org_permissions(self) -> dict[str, str]:
        return roles.permissions_of(roles.ORGANIZATION, self.user.roles_on(roles.ORGANIZATION, self.org_id))

    def has_env(self, permission: str, acls: str) -> bool:
        return self.is_org_admin or roles.allows(self.env_permissions(), permission, acls)

    def has_org(self, permission: str, acls: str) -> bool:
        return self.is_org_admin or roles.allows(self.org_permissions(), permission, acls)

    def has_member(self, scope: str, members: dict[str, str] | None, permission: str, acls: str) -> bool:
        """API/APPLICATION scope: the permissions of the caller's membership role on the object."""
        if self.is_org_admin:
            return True
        role = (members or {}).get(self.user.id)
        return role is not None and roles.allows(roles.permissions_of(scope, [role]), permission, acls)

    def require_env(self, permission: str, acls: str) -> None:
        if not self.has_env(permission, acls):
            raise forbidden()

    def require_org(self, permission: str, acls: str) -> None:
        if not self.has_org(permission, acls):
            raise forbidden()

    def require_member(self, scope: str, members: dict[str, str] | None, permission: str, acls: str) -> None:
        if not self.has_member(scope, members, permission, acls):
            raise forbidden()


def owner_view(ctx: Context, members: dict[str, str]) -> dict[str, object] | None:
    """``PrimaryOwner`` ``{id, email?, displayName, type}`` of the member holding ``PRIMARY_OWNER``."""
    owner_id = next((u for u, r in members.items() if r == roles.PRIMARY_OWNER), None)
    account = ctx.directory.accounts.by_id.get(owner_id) if owner_id else None
    if account is None:
        return None
    owner: dict[str, object] = {"id": account.id, "displayName": account.display_name, "type": "USER"}
    if account.email:
        owner["email"] = account.email
    return owner


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    family: str = MAPI_V2
    # versions that have this route (None = all the emulator plays)
    available: Callable[[ApimVersion], bool] | None = None
