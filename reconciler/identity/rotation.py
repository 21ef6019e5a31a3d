"""`service-account rotate`: a new token in, the old one out, and the context working at every instant.

Order, and why each step keeps the context working if the process dies right after it:

1. **created**: a new token exists in APIM; the secret still holds the old token, which still works.
2. **written**: the secret holds the new token (atomic: kubelet's `..data` swap, or temp file + rename,
   see `secret_files`); the old token still works too, so a reader holding either is fine.
3. **verified**: a fresh client reading the secret exactly as a sync does authenticates as the same user
   and reaches the environment. If not, the old token is written back and the new one revoked.
4. **revoked**: only now is the old token revoked, with the new one. Whatever was revoked, the context
   already uses the new token, so this step cannot break it.

A death between steps leaves at worst an extra live token (the old one, or an unused new one), never a
secret without a working token; `check` shows the token in use, and the next `rotate` moves on from there.

Which token is "old": the `tokenId` key that `create`/`rotate` write next to `bearerToken` (written after
it, so after a crash it can only name an older token), else the user's most recently used token, right
after a call with the old token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from reconciler.apim.client import ApimClient
from reconciler.apim.config import ClientConfig
from reconciler.apim.errors import ApimError, AuthenticationError
from reconciler.contexts import CredentialOrigin, OriginKind, connect_context
from reconciler.identity.contexts import context_key, secret_ref
from reconciler.identity.create import new_token_name
from reconciler.identity.model import IdentityError, RotationStep
from reconciler.identity.secret_files import location_of, write_keys
from reconciler.identity.status import TOKEN_ID_KEY, pick_token
from reconciler.manifests.model import Resource
from reconciler.secrets.credentials import Credentials
from reconciler.secrets.store import SecretStore
from reconciler.secrets.value import Secret

_log = structlog.get_logger("reconciler.identity")

StepHook = Callable[[RotationStep], None]


@dataclass(frozen=True)
class RotationResult:
    user_id: str
    secret_file: Path
    new_token_id: str
    new_token_name: str
    old_token_id: str | None  # None: the old token could not be identified, and is still live
    old_revoked: bool
    new_token: Secret  # for --show-token only


async def rotate_token(
    context: Resource,
    store: SecretStore,
    config: ClientConfig,
    *,
    on_step: StepHook | None = None,
) -> RotationResult:
    """Rotate the bearer token of the context's secretRef, in place; raises IdentityError or ApimError."""
    step = on_step or (lambda _: None)
    key = context_key(context)
    ref = secret_ref(context)
    if ref is None:
        raise IdentityError(f"ManagementContext {key} has no spec.auth.secretRef: nothing to rotate")
    found = store.secrets.lookup(ref.namespace, ref.name, "bearerToken")
    directory = store.secrets.directory
    from_file = found.found_in is not None and not found.found_in.startswith("env ")
    if found.value is None or directory is None or not from_file:
        where = found.found_in or "nowhere (looked in " + ", ".join(found.looked) + ")"
        raise IdentityError(
            f"the bearerToken of secret {ref} comes from {where}: rotate replaces a file under "
            "--secrets-dir; run `service-account create` to put one there"
        )
    token_file = Path(str(found.found_in))  # the key's path (through kubelet's links, if any)
    location = location_of(directory, token_file.parent)
    old = Secret(found.value)
    store.register(old)
    hint = store.secrets.lookup(ref.namespace, ref.name, TOKEN_ID_KEY).value
    origin = CredentialOrigin(OriginKind.SECRET, ref.name, ref.namespace)

    def client_with(token: Secret) -> ApimClient:
        """A client of the context with `token`, sent only where the secret is bound (like a sync)."""
        return connect_context(
            context, store, config, credentials=Credentials(bearer=token), origins=(origin,)
        )

    async with client_with(old) as client:
        try:
            me = await client.current_user()
        except AuthenticationError:
            raise IdentityError(
                "the current token is refused (401): it cannot create its successor; "
                "run `service-account create` with an administrator's credentials"
            ) from None
        user_id = str(me["id"]) if isinstance(me, dict) and me.get("id") else ""
        if not user_id:
            raise IdentityError("GET /user did not answer a user")
        tokens = await client.list_user_tokens(user_id)
        old_entry, how = pick_token(tokens, hint)
        old_id = str(old_entry["id"]) if old_entry and old_entry.get("id") else None
        _log.info("identity.token_rotating", user_id=user_id, old_token_id=old_id, identified_by=how)

        name = new_token_name()
        answer = await client.create_user_token(user_id, name)
        value = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(value, str) or not value:
            raise IdentityError("APIM created a token but did not return its value")
        new = Secret(value)
        store.register(new)
        new_id = str(answer["id"])
        step(RotationStep.CREATED)

        try:
            write_keys(location, {"bearerToken": new, TOKEN_ID_KEY: new_id})
        except BaseException:
            await client.revoke_user_token(user_id, new_id)
            raise
        step(RotationStep.WRITTEN)

        try:
            await _verify(context, store, config, user_id)
        except (ApimError, IdentityError) as exc:
            restore: dict[str, Secret | str] = {"bearerToken": old}
            if old_id:
                restore[TOKEN_ID_KEY] = old_id
            write_keys(location, restore)
            await client.revoke_user_token(user_id, new_id)
            raise IdentityError(f"the new token did not work, the old one is back in place: {exc}") from None
        step(RotationStep.VERIFIED)

    revoked = False
    if old_id and old_id != new_id:
        async with client_with(new) as client:
            revoked = await client.revoke_user_token(user_id, old_id)
    step(RotationStep.REVOKED)
    _log.info("identity.token_rotated", user_id=user_id, new_token_id=new_id, old_revoked=revoked)
    return RotationResult(user_id, location.key_path("bearerToken"), new_id, name, old_id, revoked, new)


async def _verify(context: Resource, store: SecretStore, config: ClientConfig, user_id: str) -> None:
    """Use the context as a sync would (credentials read from the secret now) and check who it is."""
    async with connect_context(context, store, config, live=True) as client:
        me = await client.current_user()
        if not isinstance(me, dict) or me.get("id") != user_id:
            raise IdentityError("the secret's token authenticates as another user")
        await client.check_context()
