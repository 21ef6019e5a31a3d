"""The credentials of a ManagementContext, resolved the way GKO resolves them.

`spec.auth` holds a `bearerToken`, or `credentials.username`/`password` (HTTP Basic), inline or
through `auth.secretRef: {name, namespace?}` (the namespace defaults to the context's own). Keys
found in the referenced secret overwrite inline values; a non-empty bearer token wins over Basic
credentials. Gravitee Cloud contexts (`spec.cloud`) are not supported: they are refused with a clear
message rather than half-handled.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.manifests.model import Resource
from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors
from reconciler.secrets.store import SecretStore
from reconciler.secrets.template_resolution import resolve_resource_templates, resolve_templates
from reconciler.secrets.value import Secret, unusable_character

AUTH_KEYS = ("bearerToken", "username", "password")


class AuthScheme(StrEnum):
    BEARER = "bearer"
    BASIC = "basic"


@dataclass(frozen=True)
class Credentials:
    """What to authenticate with; only the HTTP client calls `auth_header`."""

    bearer: Secret | None = None
    basic: tuple[Secret, Secret] | None = None

    def __post_init__(self) -> None:
        if not self.bearer and self.basic is None:
            raise ValueError("credentials need a bearer token or a username and password")

    @property
    def scheme(self) -> AuthScheme:
        return AuthScheme.BEARER if self.bearer else AuthScheme.BASIC

    def auth_header(self) -> Secret:
        """The `Authorization` header value, itself a Secret so that it cannot be logged by accident."""
        if self.bearer:
            return Secret(f"Bearer {self.bearer.reveal()}")
        assert self.basic is not None  # __post_init__ guarantees one scheme (type narrowing)  # nosec B101
        user, password = self.basic
        token = base64.b64encode(f"{user.reveal()}:{password.reveal()}".encode()).decode("ascii")
        return Secret(f"Basic {token}")

    def describe(self) -> str:
        """Which kind of credential this is, without any part of it: for check-context and errors."""
        if self.bearer:
            kind = "console JWT" if "." in self.bearer.reveal() else "personal access token"
            return f"bearer token ({kind})"
        return "basic credentials"

    def __repr__(self) -> str:
        return f"Credentials({self.describe()})"


def resolve_credentials(context: Resource, store: SecretStore) -> Credentials:
    """Credentials of a ManagementContext; raises SecretResolutionError naming what is missing.

    Inline values may already be `Secret`s (a templated spec that went through template resolution)
    or plain strings.
    """
    ref_name = f"ManagementContext {context.namespace}/{context.name}"
    spec = context.spec
    if isinstance(spec.get("cloud"), Mapping) and not isinstance(spec.get("auth"), Mapping):
        raise SecretResolutionError(
            ref_name,
            "Gravitee Cloud contexts (spec.cloud) are not supported; use spec.baseUrl with spec.auth",
            field=("spec", "cloud"),
        )
    auth = spec.get("auth")
    if not isinstance(auth, Mapping):
        raise SecretResolutionError(
            ref_name, "has no spec.auth: set a bearerToken or credentials", field=("spec",)
        )
    try:  # inline values may be templates; a no-op when the caller resolved them already
        auth = resolve_templates(auth, context.namespace, store, field_prefix=("spec", "auth"))
    except SecretResolutionErrors as exc:
        raise exc.errors[0] from None

    # Each value with where it came from, to name it (never show it) when it is unusable.
    values: dict[str, tuple[Secret, str]] = {}
    inline_basic = auth.get("credentials")
    inline = {
        "bearerToken": (auth.get("bearerToken"), "spec.auth.bearerToken"),
        "username": (
            inline_basic.get("username") if isinstance(inline_basic, Mapping) else None,
            "spec.auth.credentials.username",
        ),
        "password": (
            inline_basic.get("password") if isinstance(inline_basic, Mapping) else None,
            "spec.auth.credentials.password",
        ),
    }
    for key, (raw, field) in inline.items():
        value = _inline(raw)
        if value:
            store.register(value)
            values[key] = (value, f"{ref_name} {field}")

    secret_ref = auth.get("secretRef")
    if isinstance(secret_ref, Mapping) and secret_ref.get("name"):
        values.update(_from_secret_ref(secret_ref, context, store))

    used = ("bearerToken",) if "bearerToken" in values else ("username", "password")
    for key in used:
        if key in values:
            check_credential_text(key, *values[key])
    bearer = values.get("bearerToken", (None, ""))[0]
    username, password = values.get("username", (None, ""))[0], values.get("password", (None, ""))[0]
    if bearer:
        return Credentials(bearer=bearer)
    if username and password:
        credentials = Credentials(basic=(username, password))
        store.register(credentials.auth_header().reveal().removeprefix("Basic "), atomic=False)
        return credentials
    if username or password:
        missing = "password" if username else "username"
        raise SecretResolutionError(
            ref_name, f"has Basic credentials without a {missing}", field=("spec", "auth")
        )
    raise SecretResolutionError(
        ref_name,
        "has no credentials: set auth.bearerToken, auth.credentials or auth.secretRef",
        field=("spec", "auth"),
    )


def check_credential_text(key: str, value: Secret, where: str) -> None:
    """Refuse a credential that cannot travel in an HTTP header, naming where it is, never its value.

    A line break in a token would end the header (httpx refuses it with a message that quotes the
    header, token included); a non-ASCII character cannot be encoded in it. A bearer token is
    visible ASCII (0x21-0x7e, RFC 6750's token68 and more); a Basic user name and password are
    printable ASCII (spaces allowed), and a user name may not hold the `:` that ends it.
    """
    text = value.reveal()
    if key == "bearerToken":
        bad = unusable_character(text, allow_space=False)
        rule = "a bearer token must be visible ASCII characters only (no space, line break or control)"
    else:
        bad = unusable_character(text, allow_space=True)
        rule = f"a Basic {key} must be printable ASCII characters only (no line break or control)"
        if bad is None and key == "username" and ":" in text:
            bad = "a ':'"
            rule = "a Basic username may not contain ':' (it separates the username from the password)"
    if bad is not None:
        raise SecretResolutionError(where, f"{key} holds {bad}: {rule}", field=("spec", "auth"))


def credentials_provider(context: Resource, store: SecretStore) -> Callable[[], Credentials]:
    """A function that resolves the context's credentials afresh (templates included) on each call.

    The client calls it before every request: a secret file rotated by kubelet, or a changed
    environment, takes effect at the next request. Resolution is a handful of `stat`/`read` calls.
    Raises SecretResolutionError (from inside the request) if the secret disappears mid-run.
    """

    def provide() -> Credentials:
        spec = resolve_resource_templates(context, store)
        return resolve_credentials(Resource(context.id, spec, context.metadata, context.positions), store)

    return provide


def _inline(value: Any) -> Secret | None:
    if isinstance(value, Secret):
        return value if value else None
    if isinstance(value, str) and value:
        return Secret(value)
    return None


def _from_secret_ref(
    ref: Mapping[str, Any], context: Resource, store: SecretStore
) -> dict[str, tuple[Secret, str]]:
    name = str(ref["name"])
    namespace = ref.get("namespace")
    namespace = namespace if isinstance(namespace, str) and namespace else context.namespace
    found: dict[str, tuple[Secret, str]] = {}
    looked: list[str] = []
    for key in AUTH_KEYS:
        try:
            value, lookup = store.lookup_secret(namespace, name, key)
        except SecretResolutionError as exc:
            raise exc.at_field(("spec", "auth", "secretRef")) from None
        looked.extend(lookup.looked)
        if value:
            place = lookup.found_in or ""
            place = place if place.startswith("env ") else f"file {place}"
            found[key] = (value, f"secret {namespace}/{name} key {key} ({place})")
    if not found:
        raise SecretResolutionError(
            f"secret {namespace}/{name}",
            "not found, or has none of the keys " + ", ".join(AUTH_KEYS),
            field=("spec", "auth", "secretRef"),
            looked=looked,
        )
    return found
