"""Management API v1, organization scope: users, their roles and their personal access tokens.

These are the endpoints of Gravitee's service-account guide for GKO (create a service account, give it
ADMIN on the organization and API_PUBLISHER on the environment, create a token). No OpenAPI spec of
mAPI v1 is in the reference folder; shapes were read from APIM's source (gravitee-io/
gravitee-api-management, ``gravitee-apim-rest-api``): the JAX-RS resources ``UsersResource``,
``UserResource``, ``UserTokensResource`` and ``CurrentUserResource`` (package
``io.gravitee.rest.api.management.rest.resource.organization``), the models ``NewPreRegisterUserEntity``
(+ ``NewPreRegisterUserEntityValidator``), ``UserEntity``, ``UserRoleEntity``,
``UserReferenceRoleEntity``, ``NewTokenEntity``, ``TokenEntity`` (package ``io.gravitee.rest.api.model``)
and ``Pageable``/``PagedResult`` of the management REST module. Under
``/management/organizations/{orgId}``:

* ``POST /users`` — body ``NewPreRegisterUserEntity``: ``firstname``, ``lastname``, ``email``,
  ``source``, ``sourceId``, ``service`` (bool). A service account must have no ``firstname`` and one of
  ``sourceId``/``lastname``/``email`` (its ``sourceId`` is derived in that order); any other user needs
  an ``email`` (400 otherwise, with the validator's messages). Answer: **200** (``Response.ok``, not 201)
  with a ``UserEntity``. A second user with the same ``source`` + ``sourceId`` is a 400 (assumption:
  APIM's ``UserAlreadyExistsException``).
* ``GET /users?q=&page=&size=`` — a ``PagedResult``: ``{data, page: {current, size, per_page,
  total_pages, total_elements}, metadata}``; ``page`` from 1, ``size`` 1..200, default 20. ``q`` is a
  search-engine query in APIM; here a case-insensitive substring of display name, ``sourceId``,
  ``lastname`` or ``email`` (``*`` or empty: everyone).
* ``GET /users/{userId}`` — ``UserEntity`` *with roles*: ``roles`` (organization roles) and ``envRoles``
  (``{envId: [role]}``); a role is a ``UserRoleEntity`` ``{id, name, scope}``. 404 for an unknown user.
* ``PUT /users/{userId}/roles`` — body ``UserReferenceRoleEntity`` ``{user, referenceId, referenceType,
  roles: [role id]}`` (``UserServiceImpl.updateUserRoles``): first every current role of the user on that
  reference that is not in the list is *removed*, then each remaining id is looked up
  (``RoleService.findById``): an unknown id, such as a role *name*, is a 404 ``Role [X] cannot be found.``
  (``role.notFound``) with the removal already done; ids of another scope are ignored. 200, empty body.
  Role ids are random (:mod:`.roles`); ``GET .../configuration/rolescopes/{scope}/roles`` lists them.
* ``GET /users/{userId}/tokens`` — ``[TokenEntity]`` sorted by ``created_at``, without ``token``.
* ``POST /users/{userId}/tokens`` — body ``NewTokenEntity`` ``{name}`` (1..64 characters) → **201**
  ``TokenEntity`` ``{id, name, token, created_at, expires_at?, last_use_at?}``: the only answer that
  carries the value. Dates are epoch milliseconds (Jackson's default for ``java.util.Date``), nulls
  omitted. A name already used by one of the user's tokens, without regard to case, is a 400
  ``A token with the name [x] already exists.`` (``TokenServiceImpl.create``, ``token.alreadyExists``).
* ``DELETE /users/{userId}/tokens/{tokenId}`` — revoke: 204; unknown token 404 ``Token [x] cannot be
  found.`` (``tokenId.notFound``).
* ``GET /user`` — the caller, as ``CurrentUserResource`` builds its ``UserDetails``: ``id``,
  ``username`` (= the id), ``firstname``, ``lastname``, ``email``, ``source``, ``sourceId``,
  ``organizationId``, ``primaryOwner``, ``firstLogin``, ``displayNewsletterSubscription`` and ``roles``:
  the *organization* roles as ``{scope, name, permissions}``.

Permissions (``@Permissions`` of ``UsersResource``, ``UserResource``, ``UserTokensResource``): the user
endpoints need ``ORGANIZATION_USERS`` (R, C or U), the token endpoints ``ORGANIZATION_USERS_TOKEN``; only
the organization ``ADMIN`` role has them by default. ``GET /user`` works for anyone authenticated.
``UserEntity`` and ``GET /user`` carry ``serviceAccount`` (bool): APIM 4.x tracks this status (``PATCH
/users/{userId}/serviceAccount``), but a client must not rely on it alone. A new user gets the default
roles: organization ``USER`` and environment ``USER`` on the ``DEFAULT`` environment
(``AssignUserDefaultRolesDomainServiceImpl``).
"""

from __future__ import annotations

from typing import Any

from . import roles
from .accounts import ENVIRONMENT, ORGANIZATION, Account, Token
from .context import Call, Route
from .messages import MAPI_V1, HttpProblem, Response, parse_json_body
from .roles import RoleRegistry

PREFIX = "/management/organizations/{orgId}"
_REFERENCE_TYPES = ("ORGANIZATION", "ENVIRONMENT", "API", "APPLICATION", "GROUP", "INTEGRATION")


def _role(registry: RoleRegistry | None, scope: str, name: str) -> dict[str, Any]:
    """``UserRoleEntity`` ``{id, name, scope, permissions}``."""
    out: dict[str, Any] = {"name": name, "scope": scope}
    role_id = registry.id_of.get((scope, name)) if registry else None
    if role_id is not None:
        out["id"] = role_id
        out["permissions"] = (
            {p: list(a) for p, a in registry.by_id[role_id].permissions.items()} if registry else {}
        )
    return out


def user_entity(
    account: Account,
    org_id: str,
    *,
    with_roles: bool = False,
    env_ids: tuple[str, ...] = (),
    registry: RoleRegistry | None = None,
) -> dict[str, Any]:
    """``UserEntity`` (nulls omitted); with ``with_roles``, its organization and environment roles."""
    out: dict[str, Any] = {
        "id": account.id,
        "organizationId": account.org_id,
        "source": account.source,
        "sourceId": account.source_id,
        "displayName": account.display_name,
        "status": "ACTIVE",
        "loginCount": 0,
        "primary_owner": False,
        "number_of_active_tokens": len(account.tokens),
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "serviceAccount": account.service,
    }
    for key, value in (
        ("firstname", account.firstname),
        ("lastname", account.lastname),
        ("email", account.email),
    ):
        if value:
            out[key] = value
    if with_roles:
        out["roles"] = [_role(registry, ORGANIZATION, r) for r in account.roles_on(ORGANIZATION, org_id)]
        out["envRoles"] = {
            env_id: [_role(registry, ENVIRONMENT, r) for r in account.roles_on(ENVIRONMENT, env_id)]
            for env_id in env_ids
            if account.roles_on(ENVIRONMENT, env_id)
        }
    return out


def _env_ids(call: Call) -> tuple[str, ...]:
    envs = call.ctx.directory.orgs.get(call.org_id, {})
    return tuple(sorted({e.id for e in envs.values()}))


def _account(call: Call, permission: str, acls: str) -> Account:
    call.require_org(permission, acls)
    user_id = call.request.params["userId"]
    account = call.ctx.directory.accounts.by_id.get(user_id)
    if account is None or not account.can_access(call.org_id):
        raise HttpProblem(
            404,
            f"User [{user_id}] cannot be found.",
            technical_code="user.notFound",
            parameters={"user": user_id},
        )
    return account


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def current_user(call: Call) -> Response:
    account = call.user
    details: dict[str, Any] = {
        "id": account.id,
        "username": account.id,
        "source": account.source,
        "sourceId": account.source_id,
        "organizationId": call.org_id,
        "primaryOwner": False,
        "firstLogin": False,
        "displayNewsletterSubscription": False,
        "serviceAccount": account.service,
        "roles": [
            {
                "scope": ORGANIZATION,
                "name": r,
                "permissions": {p: list(a) for p, a in roles.permissions_of(ORGANIZATION, [r]).items()},
            }
            for r in account.roles_on(ORGANIZATION, call.org_id)
        ],
    }
    for key, value in (
        ("firstname", account.firstname),
        ("lastname", account.lastname),
        ("email", account.email),
    ):
        if value:
            details[key] = value
    return Response.json(200, details)


def _invalid_user(body: dict[str, Any], message: str) -> HttpProblem:
    """``NewPreRegisterUserEntityValidator`` is a class-level constraint: mAPI v1's
    ``ConstraintValidationError`` with the whole entity as the invalid value."""
    path = "createUser.newPreRegisterUserEntity"
    return HttpProblem(
        400,
        message,
        body={
            "message": message,
            "path": path,
            "invalid_value": body,
            "details": [{"message": message, "location": path, "invalidValue": body}],
        },
    )


def create_user(call: Call) -> Response:
    call.require_org("USER", "C")
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(400, "The body must be a JSON object")
    if body.get("service") is True:
        if _text(body, "firstname"):
            raise _invalid_user(body, "a service account must not have a firstname")
        if not (_text(body, "sourceId") or _text(body, "lastname") or _text(body, "email")):
            raise _invalid_user(
                body, "a service account requires a sourceId, lastname or email to derive a unique identifier"
            )
    elif not _text(body, "email"):
        raise _invalid_user(body, "email is required")
    accounts = call.ctx.directory.accounts
    source = _text(body, "source") or "gravitee"
    source_id = _text(body, "sourceId") or _text(body, "lastname") or _text(body, "email")
    if accounts.find_by_source(call.org_id, source, source_id) is not None:
        raise HttpProblem(
            400,
            f"A user [{source_id}] already exists for organization {call.org_id}.",
            technical_code="user.exists",
            parameters={"user": source_id, "organizationId": call.org_id, "source": source},
        )
    clean = {k: _text(body, k) for k in ("firstname", "lastname", "email")}
    envs = call.ctx.directory.orgs.get(call.org_id, {})
    default_env = "DEFAULT" if "DEFAULT" in envs else None
    account = accounts.create(
        call.org_id,
        {**clean, "source": source, "sourceId": source_id, "service": body.get("service") is True},
        default_env,
    )
    call.ctx.store.persist()
    return Response.json(200, user_entity(account, call.org_id))


def search_users(call: Call) -> Response:
    call.require_org("USER", "R")
    req = call.request
    try:
        page = int(req.arg("page") or 1)
        size = int(req.arg("size") or 20)
    except ValueError:
        raise HttpProblem(400, "page and size must be integers") from None
    if page < 1 or not 1 <= size <= 200:
        raise HttpProblem(400, "Page number should not be less than 1, page size between 1 and 200")
    query = (req.arg("q") or "").strip().lower()
    found = call.ctx.directory.accounts.in_organization(call.org_id)
    if query and query != "*":
        found = [
            a
            for a in found
            if any(query in (v or "").lower() for v in (a.display_name, a.source_id, a.lastname, a.email))
        ]
    chunk = found[(page - 1) * size : page * size]
    return Response.json(
        200,
        {
            "data": [user_entity(a, call.org_id) for a in chunk],
            "page": {
                "current": page,
                "size": len(chunk),
                "per_page": size,
                "total_pages": -(-len(found) // size),
                "total_elements": len(found),
            },
            "metadata": {},
        },
    )


def get_user(call: Call) -> Response:
    account = _account(call, "USER", "R")
    registry = call.ctx.directory.roles.get(call.org_id)
    return Response.json(
        200, user_entity(account, call.org_id, with_roles=True, env_ids=_env_ids(call), registry=registry)
    )


def update_roles(call: Call) -> Response:
    account = _account(call, "USER", "U")
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(400, "The body must be a JSON object")
    ref_type = _text(body, "referenceType").upper()
    ref_id = _text(body, "referenceId")
    role_ids = body.get("roles")
    if ref_type not in _REFERENCE_TYPES:
        raise HttpProblem(
            400, f'Cannot deserialize value of type `MembershipReferenceType` from String "{ref_type}"'
        )
    if not isinstance(role_ids, list) or not all(isinstance(r, str) for r in role_ids):
        raise HttpProblem(400, "Cannot deserialize value of type `java.util.ArrayList<java.lang.String>`")
    if ref_type == ENVIRONMENT:
        env = call.ctx.directory.environment(call.org_id, ref_id)
        ref_id = env.id if env is not None else ref_id
    registry = call.ctx.directory.roles.get(call.org_id)
    key = f"{ref_type}:{ref_id}"
    wanted = list(role_ids)
    kept: list[str] = []
    for name in account.roles.get(key, []):  # removal comes first, role by role
        role_id = registry.id_of.get((ref_type, name)) if registry else None
        if role_id in wanted:
            kept.append(name)
            wanted.remove(role_id)
    account.roles[key] = kept
    account.updated_at = call.ctx.store.now_ms()
    added: list[str] = []
    for role_id in wanted:
        role = registry.by_id.get(role_id) if registry else None
        if role is None:  # RoleService.findById: RoleNotFoundException, the removal is not undone
            raise HttpProblem(
                404,
                f"Role [{role_id}] cannot be found.",
                technical_code="role.notFound",
                parameters={"id": role_id},
            )
        if role.scope == ref_type and role.name not in kept + added:
            added.append(role.name)
    account.roles[key] = sorted(kept + added)
    call.ctx.store.persist()
    return Response.empty(200)


def _token_list(account: Account) -> list[Token]:
    return sorted(account.tokens.values(), key=lambda t: (t.created_at, t.id))


def list_tokens(call: Call) -> Response:
    account = _account(call, "USER_TOKEN", "R")
    return Response.json(200, [t.to_json() for t in _token_list(account)])


def create_token(call: Call) -> Response:
    account = _account(call, "USER_TOKEN", "C")
    body = parse_json_body(call.request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        message = "must not be null" if not isinstance(name, str) else "size must be between 1 and 64"
        raise HttpProblem(
            400,
            message,
            body={
                "message": message,
                "path": "createToken.token.name",
                "details": [{"message": message, "location": "name"}],
            },
        )
    if any(t.name.lower() == name.lower() for t in account.tokens.values()):
        raise HttpProblem(
            400, f"A token with the name [{name}] already exists.", technical_code="token.alreadyExists"
        )
    token = call.ctx.directory.accounts.create_token(account, name)
    call.ctx.store.persist()
    return Response.json(201, token.to_json(with_value=True))


def revoke_token(call: Call) -> Response:
    account = _account(call, "USER_TOKEN", "D")
    token_id = call.request.params["tokenId"]
    if not call.ctx.directory.accounts.revoke_token(account, token_id):
        raise HttpProblem(
            404,
            f"Token [{token_id}] cannot be found.",
            technical_code="tokenId.notFound",
            parameters={"tokenId": token_id},
        )
    call.ctx.store.persist()
    return Response.empty(204)


ROUTES = [
    Route("GET", PREFIX + "/user", current_user, MAPI_V1),
    Route("GET", PREFIX + "/users", search_users, MAPI_V1),
    Route("POST", PREFIX + "/users", create_user, MAPI_V1),
    Route("GET", PREFIX + "/users/{userId}", get_user, MAPI_V1),
    Route("PUT", PREFIX + "/users/{userId}/roles", update_roles, MAPI_V1),
    Route("GET", PREFIX + "/users/{userId}/tokens", list_tokens, MAPI_V1),
    Route("POST", PREFIX + "/users/{userId}/tokens", create_token, MAPI_V1),
    Route("DELETE", PREFIX + "/users/{userId}/tokens/{tokenId}", revoke_token, MAPI_V1),
]
