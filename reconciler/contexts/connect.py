"""The one place where a ManagementContext becomes a connected `ApimClient`.

Every command that talks to APIM (diff, sync, run, check-context, export, service-account) comes
through here, so that the rule of `reconciler.contexts.binding` (a credential from outside the
repository goes only where the operator bound it) cannot be forgotten by one of them:

1. `prepare_context`: the target (templates resolved everywhere but in `spec.auth`), the credentials
   (the context's own, or ones the caller brings, with where they come from), and the binding that
   allows them to go there. Reads secrets and files; sends nothing.
2. `open_client`: the client of a prepared context.

`connect_context` does both. Failures come as `SecretResolutionError(s)` (a credential or template
that does not resolve), `EndpointError` (an unusable baseUrl) or its subclass `BindingError`, always
before any request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from reconciler.apim.client import ApimClient
from reconciler.apim.config import ClientConfig
from reconciler.apim.endpoints import ApimTarget
from reconciler.apim.retry import RetryCoordinator
from reconciler.contexts.binding import Binding, bind
from reconciler.contexts.origins import CredentialOrigin, auth_origins
from reconciler.manifests.model import Resource
from reconciler.secrets.credentials import Credentials, credentials_provider, resolve_credentials
from reconciler.secrets.store import SecretStore
from reconciler.secrets.template_resolution import resolve_resource_templates
from reconciler.secrets.value import reveal_all


@dataclass(frozen=True)
class PreparedContext:
    """A ManagementContext checked and ready: where it goes, with what, and what allowed that."""

    context: Resource
    target: ApimTarget
    credentials: Credentials
    origins: tuple[CredentialOrigin, ...]
    binding: Binding

    @property
    def key(self) -> str:
        """`namespace/name`, the key of per-context client settings (TLS overrides)."""
        return f"{self.context.namespace}/{self.context.name}"


def context_target(context: Resource, store: SecretStore) -> ApimTarget:
    """The server, organization and environment of a context as written in git (`spec.auth` aside:
    its secret may not exist yet, e.g. before `service-account create` writes it)."""
    spec = {k: v for k, v in context.spec.items() if k != "auth"}
    bare = Resource(context.id, spec, context.metadata, context.positions, context.has_templates)
    resolved = resolve_resource_templates(bare, store) if context.has_templates else spec
    # A templated field may hold a Secret (an [[ env ]] value is sensitive unless declared public):
    # where a context points is not secret, and the target needs plain text.
    return ApimTarget.from_context_spec(reveal_all(resolved))


def prepare_context(
    context: Resource,
    store: SecretStore,
    config: ClientConfig,
    *,
    credentials: Credentials | None = None,
    origins: Sequence[CredentialOrigin] = (),
) -> PreparedContext:
    """Check that `context` may be connected to, with its own credentials or `credentials` (read from
    `origins`, () meaning written in the repository). `context` is the resource as loaded, templates
    unresolved: they tell where its credentials come from."""
    target = context_target(context, store)
    if credentials is None:
        credentials = resolve_credentials(context, store)
        origins = auth_origins(context)
    binding = bind(context, target, origins, store, config.allowed_urls)
    return PreparedContext(context, target, credentials, tuple(origins), binding)


def open_client(
    prepared: PreparedContext,
    store: SecretStore,
    config: ClientConfig,
    *,
    live: bool = False,
    retry: RetryCoordinator | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ApimClient:
    """The client of a prepared context. `live`: the context's credentials are read again before each
    request (a long export, a rotation), from the same places that were bound; else the prepared ones."""
    creds = credentials_provider(prepared.context, store) if live else prepared.credentials
    return ApimClient(
        prepared.target, creds, config, retry=retry, context_key=prepared.key, transport=transport
    )


def connect_context(
    context: Resource,
    store: SecretStore,
    config: ClientConfig,
    *,
    credentials: Credentials | None = None,
    origins: Sequence[CredentialOrigin] = (),
    live: bool = False,
    retry: RetryCoordinator | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ApimClient:
    """`prepare_context`, then `open_client`: use as `async with connect_context(...) as client`."""
    prepared = prepare_context(context, store, config, credentials=credentials, origins=origins)
    return open_client(
        prepared, store, config, live=live and credentials is None, retry=retry, transport=transport
    )
