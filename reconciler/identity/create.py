"""`service-account create`: Gravitee's GKO guide for a service account, automated and idempotent.

With an administrator's credentials: find the service account by name (or create it, `service: true`),
give it its roles on the organization and on the context's environment (replacing what it had there),
create a token and put it where the context's `auth.secretRef` will find it. Run twice, it changes
nothing: the same user is found, the roles are set again, and a token already in the secret that still
authenticates as that user is kept (replace it with `rotate`). A token is never left behind: if it
cannot be written, it is revoked at once.

The administrator's credentials come from outside the repository, so they go only where the operator
bound them (reconciler/contexts/binding.py); the secret gets a `baseUrl` key beside the token, the
server they reached, so that the token too is sent only there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from reconciler.apim.client import ApimClient
from reconciler.apim.config import ClientConfig
from reconciler.apim.endpoints import ApimTarget, EndpointError
from reconciler.apim.errors import ApimError, AuthenticationError
from reconciler.contexts import (
    ALLOWED_URLS_KEY,
    BASE_URL_KEY,
    BindingError,
    CredentialOrigin,
    OriginKind,
    bound_urls,
    connect_context,
    url_allows,
)
from reconciler.identity.contexts import AdminCredentials, SecretRef, context_key, secret_ref, target_of
from reconciler.identity.model import IdentityError, display_name, is_service_account
from reconciler.identity.secret_files import SecretLocation, locate, write_keys
from reconciler.identity.status import TOKEN_ID_KEY
from reconciler.manifests.model import Resource
from reconciler.secrets.credentials import Credentials
from reconciler.secrets.store import SecretStore
from reconciler.secrets.value import Secret

_log = structlog.get_logger("reconciler.identity")


@dataclass(frozen=True)
class CreateRequest:
    name: str
    org_role: str
    env_role: str
    email: str | None = None
    token_name: str | None = None
    write_files: bool = True  # False: only return the token, for a Secret manifest


@dataclass(frozen=True)
class CreateResult:
    user_id: str
    who: str
    user_created: bool
    organization_id: str
    environment_id: str
    secret: SecretRef
    token_id: str | None
    token_name: str | None
    token: Secret | None  # None when a working token was kept
    written_to: Path | None
    bound_to: str  # the base URL the secret's token may be sent to (its `baseUrl` key)


def new_token_name(prefix: str = "apim-reconciler") -> str:
    """Token names are unique per user in APIM: a UTC timestamp keeps them so, and sortable."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


async def create_service_account(
    context: Resource,
    store: SecretStore,
    config: ClientConfig,
    admin: AdminCredentials,
    request: CreateRequest,
    secrets_dir: Path,
) -> CreateResult:
    """Converge APIM to `request` for this context; raises IdentityError or ApimError when it cannot."""
    ref = secret_ref(context)
    if ref is None:
        raise IdentityError(
            f"ManagementContext {context_key(context)} has no spec.auth.secretRef: add one "
            "(e.g. secretRef: {name: apim-reconciler-token}) so that the token has a place to go"
        )
    target = target_of(context, store)
    try:
        admin_client = connect_context(
            context, store, config, credentials=admin.credentials, origins=(admin.origin,)
        )
    except EndpointError as exc:
        raise IdentityError(f"the administrator's credentials: {exc}") from None
    binding = _secret_binding(context, target, ref, store)
    location = locate(secrets_dir, ref.namespace, ref.name) if request.write_files else None
    async with admin_client as client:
        try:
            env = await client.check_context()
        except AuthenticationError:
            raise IdentityError("the administrator credentials were refused (401)") from None
        # Both role ids first: APIM drops a user's current role before it looks the new one up.
        org_role = await _role_id(client, "ORGANIZATION", request.org_role)
        env_role = await _role_id(client, "ENVIRONMENT", request.env_role)
        user, created = await _find_or_create(client, request)
        user_id = str(user["id"])
        await client.update_user_roles(user_id, "ORGANIZATION", target.organization_id, [org_role])
        await client.update_user_roles(user_id, "ENVIRONMENT", env.id, [env_role])
        _log.info("identity.roles_set", user_id=user_id, environment=env.id)
        who = display_name(user) or request.name
        result = CreateResult(
            user_id=user_id,
            who=who,
            user_created=created,
            organization_id=target.organization_id,
            environment_id=env.id,
            secret=ref,
            token_id=None,
            token_name=None,
            token=None,
            written_to=location.directory if location else None,
            bound_to=target.base_url,
        )
        if location is not None and await _kept_token(context, admin, config, store, location, user_id):
            if binding:
                write_keys(location, binding)
            return result
        token_name = request.token_name or new_token_name()
        answer = await client.create_user_token(user_id, token_name)
        value = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(value, str) or not value:
            raise IdentityError("APIM created a token but did not return its value")
        token = Secret(value)
        store.register(token)
        token_id = str(answer.get("id"))
        _log.info("identity.token_created", user_id=user_id, token_id=token_id, token_name=token_name)
        if location is not None:
            try:
                write_keys(location, {"bearerToken": token, TOKEN_ID_KEY: token_id, **binding})
            except BaseException:
                await client.revoke_user_token(user_id, token_id)
                raise
    return replace(result, token_id=token_id, token_name=token_name, token=token)


async def _role_id(client: ApimClient, scope: str, name: str) -> str:
    """The id of the role called `name` in `scope` (APIM takes ids, and they are random)."""
    roles = [r for r in await client.list_roles(scope) if isinstance(r, dict)]
    for role in roles:
        if str(role.get("name", "")).upper() == name.upper() and isinstance(role.get("id"), str):
            return str(role["id"])
    known = ", ".join(sorted(str(r.get("name")) for r in roles)) or "none"
    raise IdentityError(f"APIM has no {scope.lower()} role named {name!r} (it has: {known})")


async def _find_or_create(client: ApimClient, request: CreateRequest) -> tuple[dict[str, Any], bool]:
    async for user in client.search_users(request.name):
        if not isinstance(user, dict) or request.name not in (user.get("lastname"), user.get("sourceId")):
            continue
        if not is_service_account(user):
            raise IdentityError(
                f"a personal user named {request.name!r} exists already: choose another --name"
            )
        _log.info("identity.service_account_found", user_id=user.get("id"))
        return user, False
    body: dict[str, Any] = {"service": True, "lastname": request.name}
    if request.email:
        body["email"] = request.email
    user = await client.create_user(body)
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise IdentityError("APIM did not return the created user")
    _log.info("identity.service_account_created", user_id=user["id"])
    return user, True


def _secret_binding(
    context: Resource, target: ApimTarget, ref: SecretRef, store: SecretStore
) -> dict[str, str]:
    """The binding key to write beside the new token: `baseUrl`, the server the administrator's own
    (bound) credentials are about to reach; nothing when the secret is already bound to it. A secret
    bound to another server is refused: it belongs to that server."""
    origin = CredentialOrigin(OriginKind.SECRET, ref.name, ref.namespace)
    try:
        bound = bound_urls(origin, store)
    except BindingError as exc:
        raise IdentityError(str(exc)) from None
    if not bound:
        return {BASE_URL_KEY: target.base_url}
    if any(url_allows(url, target) for url in bound):
        return {}
    raise IdentityError(
        f"secret {ref} is bound to {', '.join(bound)} (its keys {BASE_URL_KEY}/{ALLOWED_URLS_KEY}), not "
        f"to {target.base_url} where ManagementContext {context_key(context)} points: nothing was sent. "
        "Fix the context's baseUrl, or change the secret's binding if the server has moved"
    )


async def _kept_token(
    context: Resource,
    admin: AdminCredentials,
    config: ClientConfig,
    store: SecretStore,
    location: SecretLocation,
    user_id: str,
) -> bool:
    """Whether the secret already holds a token that authenticates as `user_id` (then keep it)."""
    path = location.key_path("bearerToken")
    try:
        current = path.read_text(encoding="utf-8").rstrip("\r\n")
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not current:
        return False
    secret = Secret(current)
    store.register(secret)
    # The administrator's binding is the evidence here: the operator allowed this server for those
    # credentials, and the secret is bound to it too, or is about to be (`_secret_binding`).
    probe_client = connect_context(
        context, store, config, credentials=Credentials(bearer=secret), origins=(admin.origin,)
    )
    async with probe_client as probe:
        try:
            me = await probe.current_user()
        except ApimError:
            return False
    return isinstance(me, dict) and me.get("id") == user_id
