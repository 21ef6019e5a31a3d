"""Management API v1: the roles of an organization, and a caller's permissions on an environment.

* ``GET /management/organizations/{orgId}/configuration/rolescopes/{scope}/roles`` (mAPI v1
  ``OrganizationConfigurationResource`` -> ``RoleScopesResource`` -> ``RoleScopeResource.getRoles``): the
  ``RoleEntity`` list of a scope, sorted by name (``RoleServiceImpl.findByScope``), each ``{id, name,
  description, scope, default, system, permissions}`` with permissions as arrays of action letters (the
  mAPI v1 mapper enables ``WRITE_CHAR_ARRAYS_AS_JSON_ARRAYS``). Needs ``ORGANIZATION_ROLE[R]``, which the
  default organization ``USER`` role has. A scope that is not a ``RoleScope`` does not match the path
  parameter: 404. The emulator defines the roles of the ORGANIZATION, ENVIRONMENT, API and APPLICATION
  scopes (:mod:`.roles`); the other scopes list nothing.
* ``GET /management/organizations/{orgId}/environments/{envId}/permissions``
  (``EnvironmentResource.getEnvironmentPermissions``): the caller's permissions on the environment as
  ``{PERMISSION: ["C", "R", "U", "D"]}``; an organization ADMIN gets every ``EnvironmentPermission`` with
  ``CRUD``, anyone else the union of its environment roles. No permission needed.
"""

from __future__ import annotations

from . import roles
from .context import Call, Route
from .messages import MAPI_V1, HttpProblem, Response

ORG_PREFIX = "/management/organizations/{orgId}"
ENV_PREFIX = "/management/organizations/{orgId}/environments/{envId}"


def list_roles(call: Call) -> Response:
    call.require_org("ROLE", "R")
    scope = call.request.params["scope"]
    if scope not in roles.ROLE_SCOPES:
        raise HttpProblem(404, "HTTP 404 Not Found")
    registry = call.ctx.directory.roles[call.org_id]
    return Response.json(200, [registry.entity(i) for i in registry.in_scope(scope)])


def environment_permissions(call: Call) -> Response:
    if call.is_org_admin:
        permissions = {p: list(roles.CRUD) for p in roles.ENVIRONMENT_PERMISSIONS}
    else:
        permissions = {p: list(a) for p, a in call.env_permissions().items()}
    return Response.json(200, permissions)


ROUTES = [
    Route("GET", ORG_PREFIX + "/configuration/rolescopes/{scope}/roles", list_roles, MAPI_V1),
    Route("GET", ENV_PREFIX + "/permissions", environment_permissions, MAPI_V1),
]
