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
  roles: [name]}``; replaces the user's roles on that organization or environment; 200, empty body. An
  unknown role name is a 404 (``RoleNotFoundException``).
* ``GET /users/{userId}/tokens`` — ``[TokenEntity]`` sorted by ``created_at``, without ``token``.
* ``POST /users/{userId}/tokens`` — body ``NewTokenEntity`` ``{name}`` (1..64 characters) → **201**
  ``TokenEntity`` ``{id, name, token, created_at, expires_at?, last_use_at?}``: the only answer that
  carries the value. Dates are epoch milliseconds (Jackson's default for ``java.util.Date``), nulls
  omitted. A name already used by the user's tokens is a 400 (assumption).
* ``DELETE /users/{userId}/tokens/{tokenId}`` — revoke: 204; unknown token 404.
* ``GET /user`` — the caller, as ``CurrentUserResource`` builds its ``UserDetails``: ``id``,
  ``username`` (= the id), ``firstname``, ``lastname``, ``email``, ``source``, ``sourceId``,
  ``organizationId``, ``primaryOwner``, ``firstLogin``, ``displayNewsletterSubscription`` and ``roles``:
  the *organization* roles as ``{scope, name, permissions}``.

Emulator choices where the sources are silent: the ``/users`` endpoints need ``ORGANIZATION_USERS``,
which only the organization ``ADMIN`` role has (403 otherwise); ``GET /user`` works for anyone
authenticated. ``UserEntity`` and ``GET /user`` carry ``serviceAccount`` (bool): APIM 4.x tracks this
status (``PATCH /users/{userId}/serviceAccount`` with ``UpdateServiceAccountEntity{serviceAccount}``), but
the ``UserEntity`` read has no such property, so clients must not rely on it alone (apim-reconciler also
treats a user without firstname and email as a service account, which the validator's rules imply).
A new user gets the organization role ``USER`` and no environment role.
"""

from __future__ import annotations

from typing import Any

from . import ids
from .accounts import ENVIRONMENT, KNOWN_ROLES, ORGANIZATION, Account, Token, may_manage_users
from .context import Call, Route
from .messages import HttpProblem, Response, parse_json_body

PREFIX = "/management/organizations/{orgId}"
_FORBIDDEN = "You do not have sufficient rights to access this resource"


def _role(scope: str, name: str, org_id: str) -> dict[str, Any]:
    return {"id": ids.name_uuid(f"{org_id}:{scope}:{name}"), "name": name, "scope": scope}


def user_entity(
    account: Account, org_id: str, *, with_roles: bool = False, env_ids: tuple[str, ...] = ()
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
        out["roles"] = [_role(ORGANIZATION, r, org_id) for r in account.roles_on(ORGANIZATION, org_id)]
        out["envRoles"] = {
            env_id: [_role(ENVIRONMENT, r, org_id) for r in account.roles_on(ENVIRONMENT, env_id)]
            for env_id in env_ids
            if account.roles_on(ENVIRONMENT, env_id)
        }
    return out


def _env_ids(call: Call) -> tuple[str, ...]:
    envs = call.ctx.directory.orgs.get(call.org_id, {})
    return tuple(sorted({e.id for e in envs.values()}))


def _manager(call: Call) -> None:
    if not may_manage_users(call.user, call.org_id):
        raise HttpProblem(403, _FORBIDDEN)


def _account(call: Call) -> Account:
    _manager(call)
    user_id = call.request.params["userId"]
    account = call.ctx.directory.accounts.by_id.get(user_id)
    if account is None or not account.can_access(call.org_id):
        raise HttpProblem(404, f"User [{user_id}] can not be found.", technical_code="user.notFound")
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
            {"scope": ORGANIZATION, "name": r, "permissions": {}}
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


def create_user(call: Call) -> Response:
    _manager(call)
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(400, "The body must be a JSON object")
    if body.get("service") is True:
        if _text(body, "firstname"):
            raise HttpProblem(400, "a service account must not have a firstname")
        if not (_text(body, "sourceId") or _text(body, "lastname") or _text(body, "email")):
            raise HttpProblem(
                400, "a service account requires a sourceId, lastname or email to derive a unique identifier"
            )
    elif not _text(body, "email"):
        raise HttpProblem(400, "email is required")
    accounts = call.ctx.directory.accounts
    source = _text(body, "source") or "gravitee"
    source_id = _text(body, "sourceId") or _text(body, "lastname") or _text(body, "email")
    if accounts.find_by_source(call.org_id, source, source_id) is not None:
        raise HttpProblem(
            400,
            f"A user [{source_id}] already exists for organization {call.org_id}.",
            technical_code="user.exists",
        )
    clean = {k: _text(body, k) for k in ("firstname", "lastname", "email")}
    account = accounts.create(
        call.org_id,
        {**clean, "source": source, "sourceId": source_id, "service": body.get("service") is True},
    )
    return Response.json(200, user_entity(account, call.org_id))


def search_users(call: Call) -> Response:
    _manager(call)
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
    account = _account(call)
    return Response.json(200, user_entity(account, call.org_id, with_roles=True, env_ids=_env_ids(call)))


def update_roles(call: Call) -> Response:
    account = _account(call)
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(400, "The body must be a JSON object")
    ref_type = _text(body, "referenceType").upper()
    ref_id = _text(body, "referenceId")
    roles = body.get("roles")
    if ref_type not in KNOWN_ROLES:
        raise HttpProblem(
            400, "referenceType must be ORGANIZATION or ENVIRONMENT (the emulator knows no other)"
        )
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise HttpProblem(400, "roles must be a list of role names")
    if ref_type == ORGANIZATION:
        if ref_id != call.org_id:
            raise HttpProblem(400, f"Organization [{ref_id}] is not the organization of this request")
    else:
        env = call.ctx.directory.environment(call.org_id, ref_id)
        if env is None:
            raise HttpProblem(
                404, f"Environment [{ref_id}] can not be found.", technical_code="environment.notFound"
            )
        ref_id = env.id
    for role in roles:
        if role.upper() not in KNOWN_ROLES[ref_type]:
            raise HttpProblem(404, f"Role [{role}] can not be found.", technical_code="role.notFound")
    account.roles[f"{ref_type}:{ref_id}"] = sorted({r.upper() for r in roles})
    account.updated_at = call.ctx.store.now_ms()
    return Response.empty(200)


def _token_list(account: Account) -> list[Token]:
    return sorted(account.tokens.values(), key=lambda t: (t.created_at, t.id))


def list_tokens(call: Call) -> Response:
    account = _account(call)
    return Response.json(200, [t.to_json() for t in _token_list(account)])


def create_token(call: Call) -> Response:
    account = _account(call)
    body = parse_json_body(call.request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise HttpProblem(400, "name: size must be between 1 and 64")
    if any(t.name == name for t in account.tokens.values()):
        raise HttpProblem(
            400, f"A token with name [{name}] already exists", technical_code="token.nameAlreadyExists"
        )
    token = call.ctx.directory.accounts.create_token(account, name)
    return Response.json(201, token.to_json(with_value=True))


def revoke_token(call: Call) -> Response:
    account = _account(call)
    token_id = call.request.params["tokenId"]
    if not call.ctx.directory.accounts.revoke_token(account, token_id):
        raise HttpProblem(404, f"Token [{token_id}] can not be found.", technical_code="token.notFound")
    return Response.empty(204)


ROUTES = [
    Route("GET", PREFIX + "/user", current_user),
    Route("GET", PREFIX + "/users", search_users),
    Route("POST", PREFIX + "/users", create_user),
    Route("GET", PREFIX + "/users/{userId}", get_user),
    Route("PUT", PREFIX + "/users/{userId}/roles", update_roles),
    Route("GET", PREFIX + "/users/{userId}/tokens", list_tokens),
    Route("POST", PREFIX + "/users/{userId}/tokens", create_token),
    Route("DELETE", PREFIX + "/users/{userId}/tokens/{tokenId}", revoke_token),
]
