"""`check_identity`: who a context's credentials belong to, whether they can do the job, and for how long.

Used by `service-account check` and by the daemon (`/status`, `/readyz`, and the metric
`apim_reconciler_token_expiry_seconds` from `IdentityStatus.token_expires_at`). Every problem becomes
part of the status, never an exception, so that a probe cannot crash on a bad context.

What it asks APIM (mAPI v1, see `reconciler/emulator/mapi_v1_users.py` for the shapes):

1. `GET /user`: the identity and its organization roles. A 401 means a revoked, expired or wrong token.
2. `GET` of the environment (mAPI v2): its real id (a context may name it by HRID).
3. `GET /users/{id}`: the environment roles (`envRoles`). That read needs ADMIN on the organization, so
   a 403 leaves the environment roles unknown, and ADMIN is reported missing anyway.
4. `GET /users/{id}/tokens`: expiry and last use of the token in use, picked by the `tokenId` key that
   `create`/`rotate` write next to `bearerToken`, else as the token used last (the call of step 1 just
   used it). A console JWT is not in that list: its `exp` claim is decoded instead, without verification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.apim.client import ApimClient
from reconciler.apim.config import ClientConfig
from reconciler.apim.endpoints import EndpointError
from reconciler.apim.errors import (
    ApimError,
    AuthenticationError,
    ContextNotFoundError,
    PermissionDeniedError,
)
from reconciler.contexts import open_client, prepare_context
from reconciler.defaults import DEFAULT_WARN_DAYS
from reconciler.identity.contexts import context_key, secret_ref
from reconciler.identity.jwt import jwt_expiry
from reconciler.identity.model import (
    IdentityStatus,
    TokenInfo,
    display_name,
    is_service_account,
    missing_roles,
)
from reconciler.manifests.model import Resource
from reconciler.secrets.credentials import AuthScheme, Credentials
from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors
from reconciler.secrets.store import SecretStore

TOKEN_ID_KEY = "tokenId"  # a key name in the secret folder, not a token  # nosec B105


async def check_identity(
    context: Resource,
    store: SecretStore,
    config: ClientConfig,
    *,
    warn_days: float = DEFAULT_WARN_DAYS,
    now: datetime | None = None,
) -> IdentityStatus:
    """The identity behind a ManagementContext; `ok` is False when a sync with it cannot work."""
    key = context_key(context)
    try:
        prepared = prepare_context(context, store, config)
    except SecretResolutionErrors as exc:
        return IdentityStatus(key, ok=False, error=str(exc))
    except (SecretResolutionError, EndpointError) as exc:  # EndpointError: BindingError too
        return IdentityStatus(key, ok=False, error=str(exc))
    async with open_client(prepared, store, config) as client:
        return await _check(client, context, store, prepared.credentials, warn_days, now or datetime.now(UTC))


async def _check(
    client: ApimClient,
    context: Resource,
    store: SecretStore,
    credentials: Credentials,
    warn_days: float,
    now: datetime,
) -> IdentityStatus:
    target = client.target
    base: dict[str, Any] = {
        "context": context_key(context),
        "auth": credentials.describe(),
        "organization_id": target.organization_id,
        "environment_id": target.environment_id,
    }
    bearer = credentials.bearer.reveal() if credentials.bearer else None
    jwt_exp = jwt_expiry(bearer) if bearer and "." in bearer else None
    jwt_token = TokenInfo("JWT exp claim", expires_at=jwt_exp) if bearer and "." in bearer else None
    try:
        me = await client.current_user()
    except AuthenticationError:
        reason = "APIM refused the credentials (401): the token was revoked or has expired, or they are wrong"
        if jwt_exp is not None and jwt_exp <= now:
            reason += f"; the JWT expired at {_iso(jwt_exp)}"
        return IdentityStatus(**base, ok=False, revoked=True, token=jwt_token, error=reason)
    except ApimError as exc:
        return IdentityStatus(**base, ok=False, token=jwt_token, error=str(exc))
    if not isinstance(me, Mapping) or not isinstance(me.get("id"), str):
        return IdentityStatus(**base, ok=False, error="GET /user did not answer a user")
    user_id = str(me["id"])
    service = is_service_account(dict(me))
    org_roles = tuple(
        str(r.get("name"))
        for r in me.get("roles") or []
        if isinstance(r, Mapping) and r.get("scope") == "ORGANIZATION"
    )
    warnings: list[str] = []
    env_roles: tuple[str, ...] | None = None
    try:
        env = await client.check_context()
        base["environment_id"] = env.id
        user = await client.get_user(user_id)
        if isinstance(user, Mapping):
            env_map = user.get("envRoles")
            raw = env_map.get(env.id, []) if isinstance(env_map, Mapping) else []
            env_roles = tuple(str(r.get("name")) for r in raw if isinstance(r, Mapping))
            org_roles = (
                tuple(str(r.get("name")) for r in user.get("roles") or [] if isinstance(r, Mapping))
                or org_roles
            )
    except ContextNotFoundError as exc:
        return IdentityStatus(**base, ok=False, user_id=user_id, who=display_name(dict(me)), error=exc.reason)
    except PermissionDeniedError:
        warnings.append("the environment roles cannot be read: that needs ADMIN on the organization")
    except ApimError as exc:
        warnings.append(f"the roles could not be read: {exc}")
    missing = missing_roles(target.organization_id, str(base["environment_id"]), org_roles, env_roles)

    token = jwt_token
    if bearer and "." not in bearer:
        token = await _token_in_use(client, context, store, user_id, warnings)
    if not service:
        kind = (
            "Basic credentials of a person" if credentials.scheme is AuthScheme.BASIC else "a personal user"
        )
        warnings.append(
            f"the credentials are {kind} ({display_name(dict(me))}), not a service account: "
            "create one with `apim-reconciler service-account create`"
        )
    if token is not None and token.expires_at is not None:
        left = token.expires_at - now
        if left <= timedelta(0):
            warnings.append(f"the token expired at {_iso(token.expires_at)}")
        elif left <= timedelta(days=warn_days):
            warnings.append(
                f"the token expires in {_human(left)} (at {_iso(token.expires_at)}): "
                "rotate it with `apim-reconciler service-account rotate`"
            )
    error = None
    if missing:
        error = "missing roles: " + "; ".join(missing)
    elif env_roles is None:
        error = "the roles on the environment could not be checked"
    return IdentityStatus(
        **base,
        ok=error is None,
        user_id=user_id,
        who=display_name(dict(me)),
        service_account=service,
        org_roles=org_roles,
        env_roles=env_roles,
        missing_roles=missing,
        token=token,
        warnings=tuple(warnings),
        error=error,
    )


async def _token_in_use(
    client: ApimClient, context: Resource, store: SecretStore, user_id: str, warnings: list[str]
) -> TokenInfo | None:
    try:
        tokens = await client.list_user_tokens(user_id)
    except PermissionDeniedError:
        warnings.append("the token's expiry cannot be read: listing tokens needs ADMIN on the organization")
        return None
    except ApimError as exc:
        warnings.append(f"the token's expiry could not be read: {exc}")
        return None
    hint = token_id_hint(context, store)
    found, how = pick_token(tokens, hint)
    if found is None:
        warnings.append("the token in use is not among the user's tokens")
        return None
    others = [t for t in tokens if isinstance(t, Mapping) and t.get("id") != found.get("id")]
    if others:  # e.g. left live by an interrupted rotation: each one is a credential to look after
        names = ", ".join(str(t.get("name")) for t in others)
        warnings.append(f"the user has {len(others)} other live token(s) ({names}): revoke those not in use")
    return TokenInfo(
        "token list",
        id=_str(found.get("id")),
        name=_str(found.get("name")),
        expires_at=_ms(found.get("expires_at")),
        last_used_at=_ms(found.get("last_use_at")),
        identified_by=how,
    )


def token_id_hint(context: Resource, store: SecretStore) -> str | None:
    """The `tokenId` key written next to `bearerToken` by `create`/`rotate`, if any (not a secret)."""
    ref = secret_ref(context)
    if ref is None:
        return None
    try:
        return store.secrets.lookup(ref.namespace, ref.name, TOKEN_ID_KEY).value
    except SecretResolutionError:
        return None


def pick_token(tokens: Sequence[Any], hint: str | None) -> tuple[Mapping[str, Any] | None, str]:
    """The token in use among a user's tokens: the hinted id, else the most recently used one."""
    entries = [t for t in tokens if isinstance(t, Mapping)]
    if hint:
        for entry in entries:
            if entry.get("id") == hint:
                return entry, "tokenId key of the secret"
    used = [t for t in entries if isinstance(t.get("last_use_at"), int)]
    if used:
        return max(used, key=lambda t: int(t["last_use_at"])), "most recent use"
    if len(entries) == 1:
        return entries[0], "only token of the user"
    return None, ""


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _ms(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} day(s)"
    if seconds >= 3600:
        return f"{seconds // 3600} hour(s)"
    if seconds >= 60:
        return f"{seconds // 60} minute(s)"
    return f"{max(seconds, 0)} second(s)"
