"""APIM's roles and the permission check every endpoint makes.

Role definitions are APIM's defaults: ``DefaultRoleEntityDefinition`` (USER, API_PUBLISHER, OWNER ... with
their permission maps) and the system roles ``RoleServiceImpl.createOrUpdateSystemRoles`` creates
(organization and environment ``ADMIN`` with every permission, API and application ``PRIMARY_OWNER``
with every permission; ``PRIMARY_OWNER`` of an API lacks ``REVIEWS``). Role ids are random UUIDs
(``RoleServiceImpl.create``/``createSystemRoleWithoutPermissions`` use ``UuidString.generateRandom()``),
so a client must look them up (``GET .../configuration/rolescopes/{scope}/roles``).

The check is ``PermissionServiceImpl.hasPermission``: a caller with the organization ``ADMIN`` role passes
every check; anyone else needs one of the asked actions (C, R, U, D) on the permission in the roles they
hold on the reference (organization, environment, or a membership on the API/application).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ORGANIZATION = "ORGANIZATION"
ENVIRONMENT = "ENVIRONMENT"
API = "API"
APPLICATION = "APPLICATION"
INTEGRATION = "INTEGRATION"
# io.gravitee.rest.api.model.permissions.RoleScope: the values the rolescopes path accepts.
ROLE_SCOPES = (
    "API",
    "APPLICATION",
    "GROUP",
    "ENVIRONMENT",
    "ORGANIZATION",
    "PLATFORM",
    "INTEGRATION",
    "CLUSTER",
    "API_PRODUCT",
    "AI_CATALOG",
    "EXPLORER",
    "AI_WORKSPACE",
)
CRUD = "CRUD"
PRIMARY_OWNER = "PRIMARY_OWNER"

# Permission names per scope (OrganizationPermission, EnvironmentPermission, ApiPermission,
# ApplicationPermission at 2b94b4c9); the system ADMIN / PRIMARY_OWNER roles hold all of them.
ORGANIZATION_PERMISSIONS = (
    "USER",
    "ENVIRONMENT",
    "ROLE",
    "CUSTOM_USER_FIELDS",
    "IDENTITY_PROVIDER",
    "IDENTITY_PROVIDER_ACTIVATION",
    "NOTIFICATION_TEMPLATES",
    "SETTINGS",
    "INSTALLATION",
    "TAG",
    "TENANT",
    "ENTRYPOINT",
    "POLICIES",
    "AUDIT",
    "LICENSE_MANAGEMENT",
    "USER_TOKEN",
)
ENVIRONMENT_PERMISSIONS = (
    "INSTANCE",
    "GROUP",
    "TAG",
    "TENANT",
    "API",
    "APPLICATION",
    "PLATFORM",
    "AUDIT",
    "NOTIFICATION",
    "MESSAGE",
    "DICTIONARY",
    "ALERT",
    "ENTRYPOINT",
    "SETTINGS",
    "DASHBOARD",
    "QUALITY_RULE",
    "METADATA",
    "DOCUMENTATION",
    "CATEGORY",
    "TOP_APIS",
    "API_HEADER",
    "CLIENT_REGISTRATION_PROVIDER",
    "THEME",
    "IDENTITY_PROVIDER_ACTIVATION",
    "INTEGRATION",
    "SHARED_POLICY_GROUP",
    "CLUSTER",
    "API_PRODUCT",
    "AUTHORIZATION",
    "PORTAL",
    "EDGE_CONFIGURATION",
    "AM_CONFIGURATION",
    "AGENT_IDENTITY",
    "AUTHZ_ENTITIES",
    "AUTHZ_POLICIES",
    "AUTHZ_PDP",
    "AUTHZ_SCHEMA",
    "AI_CATALOG",
    "EXPLORER",
    "AI_WORKSPACE",
)
API_PERMISSIONS = (
    "DEFINITION",
    "PLAN",
    "SUBSCRIPTION",
    "MEMBER",
    "METADATA",
    "ANALYTICS",
    "EVENT",
    "HEALTH",
    "LOG",
    "DOCUMENTATION",
    "GATEWAY_DEFINITION",
    "RATING",
    "RATING_ANSWER",
    "AUDIT",
    "DISCOVERY",
    "NOTIFICATION",
    "MESSAGE",
    "ALERT",
    "RESPONSE_TEMPLATES",
    "REVIEWS",
    "QUALITY_RULE",
    "NATIVE_LOG",
    "NATIVE_ANALYTICS",
)
APPLICATION_PERMISSIONS = (
    "DEFINITION",
    "MEMBER",
    "ANALYTICS",
    "LOG",
    "SUBSCRIPTION",
    "NOTIFICATION",
    "ALERT",
    "METADATA",
)
INTEGRATION_PERMISSIONS = ("DEFINITION", "MEMBER")


@dataclass(frozen=True)
class RoleDefinition:
    scope: str
    name: str
    description: str
    default: bool
    system: bool
    permissions: Mapping[str, str]


def _all(names: Iterable[str], skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {n: CRUD for n in names if n not in skip}


_DEFAULT = "Default {} Role. Created by Gravitee.io."
_SYSTEM = "System Role. Created by Gravitee.io"
DEFINITIONS: tuple[RoleDefinition, ...] = (
    RoleDefinition(ORGANIZATION, "ADMIN", _SYSTEM, False, True, _all(ORGANIZATION_PERMISSIONS)),
    RoleDefinition(
        ORGANIZATION,
        "USER",
        _DEFAULT.format("Organization"),
        True,
        False,
        {"ENVIRONMENT": "R", "ROLE": "R", "TAG": "R", "TENANT": "R", "ENTRYPOINT": "R"},
    ),
    RoleDefinition(ENVIRONMENT, "ADMIN", _SYSTEM, False, True, _all(ENVIRONMENT_PERMISSIONS)),
    RoleDefinition(
        ENVIRONMENT,
        "API_PUBLISHER",
        "Environment Role. Created by Gravitee.io.",
        False,
        False,
        {
            "API": CRUD,
            "APPLICATION": CRUD,
            "INTEGRATION": CRUD,
            "API_PRODUCT": "R",
            "SHARED_POLICY_GROUP": CRUD,
            "TAG": "R",
            "GROUP": "R",
            "TENANT": "R",
            "PLATFORM": "R",
            "CLUSTER": "R",
            "EXPLORER": "R",
        },
    ),
    RoleDefinition(
        ENVIRONMENT,
        "FEDERATION_AGENT",
        "Environment Role used by Federation agents. Created by Gravitee.io.",
        False,
        False,
        {"INTEGRATION": CRUD},
    ),
    RoleDefinition(
        ENVIRONMENT,
        "EDGE_MANAGER",
        "Environment Role. Created by Gravitee.io.",
        False,
        False,
        {"EDGE_CONFIGURATION": CRUD, "API": "CR", "APPLICATION": "R", "GROUP": "R", "PLATFORM": "R"},
    ),
    RoleDefinition(
        ENVIRONMENT,
        "USER",
        _DEFAULT.format("Environment"),
        True,
        False,
        {
            "API": "R",
            "APPLICATION": CRUD,
            "GROUP": "R",
            "DOCUMENTATION": "R",
            "INTEGRATION": "R",
            "API_PRODUCT": "R",
            "SHARED_POLICY_GROUP": "R",
        },
    ),
    RoleDefinition(API, PRIMARY_OWNER, _SYSTEM, False, True, _all(API_PERMISSIONS, skip=("REVIEWS",))),
    RoleDefinition(
        API,
        "USER",
        _DEFAULT.format("API"),
        True,
        False,
        {
            "DEFINITION": "R",
            "PLAN": "R",
            "SUBSCRIPTION": "R",
            "MEMBER": "R",
            "METADATA": "R",
            "EVENT": "R",
            "DOCUMENTATION": "R",
            "RATING": "CR",
        },
    ),
    RoleDefinition(
        API,
        "OWNER",
        "API Role. Created by Gravitee.io.",
        False,
        False,
        {
            "DEFINITION": "CRU",
            "GATEWAY_DEFINITION": "CR",
            **_all(
                (
                    "PLAN",
                    "SUBSCRIPTION",
                    "MEMBER",
                    "METADATA",
                    "ANALYTICS",
                    "EVENT",
                    "HEALTH",
                    "LOG",
                    "DOCUMENTATION",
                    "AUDIT",
                    "RATING",
                    "RATING_ANSWER",
                    "DISCOVERY",
                    "NOTIFICATION",
                    "ALERT",
                )
            ),
            "NATIVE_LOG": "R",
            "NATIVE_ANALYTICS": "R",
        },
    ),
    RoleDefinition(
        API,
        "REVIEWER",
        "API Role. Created by Gravitee.io.",
        False,
        False,
        {
            "DEFINITION": "R",
            "GATEWAY_DEFINITION": "R",
            "PLAN": "R",
            "METADATA": "R",
            "DOCUMENTATION": "R",
            "DISCOVERY": "R",
            "NOTIFICATION": "RU",
            "ALERT": "R",
            "QUALITY_RULE": "CRU",
            "REVIEWS": CRUD,
        },
    ),
    RoleDefinition(APPLICATION, PRIMARY_OWNER, _SYSTEM, False, True, _all(APPLICATION_PERMISSIONS)),
    RoleDefinition(
        APPLICATION,
        "USER",
        _DEFAULT.format("Application"),
        True,
        False,
        {
            "DEFINITION": "R",
            "MEMBER": "R",
            "ANALYTICS": "R",
            "LOG": "R",
            "SUBSCRIPTION": "CR",
            "METADATA": "R",
        },
    ),
    RoleDefinition(
        APPLICATION,
        "OWNER",
        "Application Role. Created by Gravitee.io.",
        False,
        False,
        _all(APPLICATION_PERMISSIONS),
    ),
    # ROLE_INTEGRATION_OWNER / ROLE_INTEGRATION_USER; the system PRIMARY_OWNER of createOrUpdateSystemRoles
    RoleDefinition(INTEGRATION, PRIMARY_OWNER, _SYSTEM, False, True, _all(INTEGRATION_PERMISSIONS)),
    RoleDefinition(
        INTEGRATION,
        "OWNER",
        "Integration Role. Created by Gravitee.io.",
        False,
        False,
        _all(INTEGRATION_PERMISSIONS),
    ),
    RoleDefinition(
        INTEGRATION, "USER", _DEFAULT.format("Integration"), True, False, {"DEFINITION": "R", "MEMBER": "R"}
    ),
)
_BY_KEY = {(d.scope, d.name): d for d in DEFINITIONS}


def definition(scope: str, name: str) -> RoleDefinition | None:
    return _BY_KEY.get((scope, name))


def default_role(scope: str) -> str | None:
    """The name of the scope's default role (``RoleService.findDefaultRoleByScopes``)."""
    return next((d.name for d in DEFINITIONS if d.scope == scope and d.default), None)


def permissions_of(scope: str, names: Iterable[str]) -> dict[str, str]:
    """The union of the permission maps of roles ``names`` of ``scope`` (unknown names grant nothing)."""
    out: dict[str, set[str]] = {}
    for name in names:
        role = _BY_KEY.get((scope, name))
        if role is None:
            continue
        for perm, acls in role.permissions.items():
            out.setdefault(perm, set()).update(acls)
    return {perm: "".join(a for a in CRUD if a in acls) for perm, acls in out.items()}


def allows(permissions: Mapping[str, str], permission: str, acls: str) -> bool:
    """``RoleServiceImpl.hasPermission``: any one of ``acls`` on ``permission`` is enough."""
    held = permissions.get(permission, "")
    return any(a in held for a in acls)


class RoleRegistry:
    """The roles of one organization, each with a random id as a real installation gives them."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.by_id: dict[str, RoleDefinition] = {}
        self.id_of: dict[tuple[str, str], str] = {}
        for role in DEFINITIONS:
            role_id = str(uuid.uuid4())
            self.by_id[role_id] = role
            self.id_of[(role.scope, role.name)] = role_id

    def to_state(self) -> dict[str, str]:
        """The role ids by ``SCOPE:NAME``, for the state file: a real installation keeps its ids."""
        return {f"{scope}:{name}": role_id for (scope, name), role_id in self.id_of.items()}

    def load_state(self, state: Mapping[str, str]) -> None:
        """Take back the ids :meth:`to_state` wrote, for the roles this emulator defines."""
        for key, role_id in state.items():
            scope, _, name = key.partition(":")
            if (old_id := self.id_of.get((scope, name))) is not None:
                self.by_id[role_id] = self.by_id.pop(old_id)
                self.id_of[(scope, name)] = role_id

    def entity(self, role_id: str) -> dict[str, object]:
        """mAPI v1 ``RoleEntity``: permissions as arrays of action letters (WRITE_CHAR_ARRAYS_AS_JSON_ARRAYS)."""
        role = self.by_id[role_id]
        return {
            "id": role_id,
            "name": role.name,
            "description": role.description,
            "scope": role.scope,
            "default": role.default,
            "system": role.system,
            "permissions": {perm: list(acls) for perm, acls in role.permissions.items()},
        }

    def in_scope(self, scope: str) -> list[str]:
        """Role ids of ``scope`` sorted by name (``RoleServiceImpl.findByScope``)."""
        ids = [i for i, r in self.by_id.items() if r.scope == scope]
        return sorted(ids, key=lambda i: self.by_id[i].name)
