"""Finding the ManagementContext an identity command works on, its secret, and an administrator's login.

`--context` takes a manifest file (holding one ManagementContext, or several and then a name is needed)
or a name (`NAME` or `NAMESPACE/NAME`) looked up in the repository given by `--source`.
Administrator credentials never come from the context itself: `create` must work before the context
does. They come from `APIM_ADMIN_TOKEN`, or `APIM_ADMIN_USERNAME` + `APIM_ADMIN_PASSWORD`, or a secret
named by `--admin-secret` and resolved exactly like a `secretRef` (files, then `APIM_SECRET_*`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.apim.endpoints import ApimTarget, EndpointError
from reconciler.contexts import CredentialOrigin, OriginKind, auth_origins, context_target
from reconciler.identity.model import IdentityError
from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.model import MANAGEMENT_CONTEXT, Resource
from reconciler.secrets.credentials import Credentials, check_credential_text, resolve_credentials
from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors
from reconciler.secrets.store import SecretStore
from reconciler.secrets.value import Secret

ADMIN_TOKEN_ENV = "APIM_ADMIN_TOKEN"  # the name of a variable, not its value  # nosec B105
ADMIN_USERNAME_ENV = "APIM_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "APIM_ADMIN_PASSWORD"  # the name of a variable, not its value  # nosec B105
ADMIN_ENV_PREFIX = "APIM_ADMIN"  # APIM_ADMIN_BASEURL, APIM_ADMIN_ALLOWEDURLS bind the variables above


@dataclass(frozen=True)
class SecretRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def load_context(reference: str, source: Path, options: LoadOptions) -> Resource:
    """The ManagementContext named by `reference`: a manifest file, or a name found under `source`."""
    path = Path(reference)
    name: str | None = None
    if not path.exists():
        name, path = reference, source
    manifests = load_manifests([str(path)], options)
    if manifests.errors:
        raise IdentityError(
            f"{path} has errors; fix them first (apim-reconciler validate {path}):\n"
            + "\n".join(f"  {p}" for p in manifests.errors[:10])
        )
    contexts = manifests.of_kind(MANAGEMENT_CONTEXT)
    if name is not None:
        contexts = tuple(c for c in contexts if name in (c.name, f"{c.namespace}/{c.name}"))
    known = ", ".join(f"{c.namespace}/{c.name}" for c in manifests.of_kind(MANAGEMENT_CONTEXT)) or "none"
    if not contexts:
        what = f"ManagementContext {name}" if name else "ManagementContext"
        raise IdentityError(f"no {what} in {path} (known: {known})")
    if len(contexts) > 1:
        raise IdentityError(
            f"{path} holds several ManagementContexts ({known}): "
            "name one with --context NAME and --source PATH"
        )
    return contexts[0]


def context_key(context: Resource) -> str:
    return f"{context.namespace}/{context.name}"


def target_of(context: Resource, store: SecretStore) -> ApimTarget:
    """The server, organization and environment, resolving templates everywhere but in `spec.auth`
    (whose secret may be the very one `create` is about to write)."""
    try:
        return context_target(context, store)
    except SecretResolutionErrors as exc:
        raise IdentityError(str(exc)) from None
    except EndpointError as exc:
        raise IdentityError(f"ManagementContext {context_key(context)}: {exc}") from None


def secret_ref(context: Resource) -> SecretRef | None:
    """The secret that `spec.auth.secretRef` names (its namespace defaults to the context's own)."""
    auth = context.spec.get("auth")
    ref = auth.get("secretRef") if isinstance(auth, Mapping) else None
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref["name"]:
        return None
    namespace = ref.get("namespace")
    return SecretRef(
        namespace if isinstance(namespace, str) and namespace else context.namespace, ref["name"]
    )


@dataclass(frozen=True)
class AdminCredentials:
    """An administrator's credentials, and where they were read (what must be bound to the URL)."""

    credentials: Credentials
    origin: CredentialOrigin


def admin_credentials(
    context: Resource,
    store: SecretStore,
    admin_secret: str | None,
    environ: Mapping[str, str] | None = None,
) -> AdminCredentials:
    """An administrator's credentials: `--admin-secret`, else `APIM_ADMIN_TOKEN`, else username/password.

    They come from outside the repository, so they go only where the operator bound them: keys
    `baseUrl`/`allowedUrls` of the admin secret, `APIM_ADMIN_BASEURL`/`APIM_ADMIN_ALLOWEDURLS` beside
    the variables, or `--allowed-apim-url` (reconciler/contexts/binding.py).
    """
    env = os.environ if environ is None else environ
    if admin_secret:
        namespace, _, name = admin_secret.rpartition("/")
        ref: dict[str, Any] = {"name": name, "namespace": namespace or context.namespace}
        fake = Resource(context.id, {"auth": {"secretRef": ref}}, context.metadata, context.positions)
        try:
            credentials = resolve_credentials(fake, store)
        except SecretResolutionError as exc:
            raise IdentityError(f"--admin-secret {admin_secret}: {exc}") from None
        return AdminCredentials(credentials, auth_origins(fake)[0])
    token = env.get(ADMIN_TOKEN_ENV)
    if token:
        store.register(token)
        check_credential_text("bearerToken", Secret(token), f"env {ADMIN_TOKEN_ENV}")
        origin = CredentialOrigin(OriginKind.ENV, ADMIN_TOKEN_ENV, env_prefix=ADMIN_ENV_PREFIX)
        return AdminCredentials(Credentials(bearer=Secret(token)), origin)
    username, password = env.get(ADMIN_USERNAME_ENV), env.get(ADMIN_PASSWORD_ENV)
    if username and password:
        store.register(password)
        check_credential_text("username", Secret(username), f"env {ADMIN_USERNAME_ENV}")
        check_credential_text("password", Secret(password), f"env {ADMIN_PASSWORD_ENV}")
        credentials = Credentials(basic=(Secret(username), Secret(password)))
        store.register(credentials.auth_header().reveal().removeprefix("Basic "), atomic=False)
        origin = CredentialOrigin(OriginKind.ENV, ADMIN_PASSWORD_ENV, env_prefix=ADMIN_ENV_PREFIX)
        return AdminCredentials(credentials, origin)
    raise IdentityError(
        f"no administrator credentials: set {ADMIN_TOKEN_ENV}, or {ADMIN_USERNAME_ENV} and "
        f"{ADMIN_PASSWORD_ENV}, or pass --admin-secret NAME"
    )
