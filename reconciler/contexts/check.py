"""`check-context`: for every ManagementContext, can we reach it, and as whom, or exactly why not.

Each context is checked on its own (resolving its credentials and checking where they may go, as
every command does, see `reconciler.contexts.connect`; then one GET of its environment through mAPI v2
and the probes of what a sync needs: the Automation API's routes, a listing that shows ownership
records, organization ADMIN, the environment's permissions), concurrently, and every failure becomes a result rather than an
exception, so that one bad context does not hide the state of the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from reconciler.apim.client import ApimClient
from reconciler.apim.config import ClientConfig
from reconciler.apim.endpoints import EndpointError
from reconciler.apim.errors import (
    ApimError,
    AuthenticationError,
    ContextNotFoundError,
    PermissionDeniedError,
    TransportError,
)
from reconciler.apim.retry import RetryCoordinator
from reconciler.contexts.binding import BindingError
from reconciler.contexts.connect import prepare_context
from reconciler.manifests.model import MANAGEMENT_CONTEXT, Position, Resource, ResourceId
from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors
from reconciler.secrets.store import SecretStore


class CheckFailure(StrEnum):
    """Why a context could not be used; the CLI may map these to hints or exit codes."""

    CONFIGURATION = "configuration"  # bad baseUrl, no auth
    NOT_BOUND = "not-bound"  # the credential may not go to this baseUrl: nothing was sent
    SECRET = "secret"  # a failure kind, not a password (a secretRef or template that resolves nowhere)  # nosec B105
    AUTHENTICATION = "authentication"  # 401
    PERMISSION = "permission"  # 403
    NOT_FOUND = "not-found"  # unknown organization or environment
    UNREACHABLE = "unreachable"  # connection, TLS, timeout
    SERVER = "server"  # anything else the server answered
    UNSUPPORTED = "unsupported"  # reached, but the server or the account cannot do what a sync needs


@dataclass(frozen=True)
class ContextCheckResult:
    context: ResourceId
    position: Position
    ok: bool
    message: str
    server: str | None = None
    organization_id: str | None = None
    environment_id: str | None = None
    environment_name: str | None = None
    auth: str | None = None
    binding: str | None = None
    """What allowed the credential to go to this server (a secret's key, or the flag); never the credential."""
    capabilities: Capabilities | None = None
    failure: CheckFailure | None = None


NEEDED_PERMISSIONS = {"API": "CRUD", "APPLICATION": "CRUD"}
"""What a sync does on an environment: list, read, create, update and delete APIs and applications."""
SUPPORTED = "APIM 4.9.18, 4.10.13, 4.11.5, 4.12.0 or a later patch of these"


@dataclass(frozen=True)
class Capabilities:
    """What the server and the account can do, as probed (never taken from a version number)."""

    automation_apis: bool
    automation_applications: bool
    listing_metadata: bool | None
    """None: the environment has no v4 API yet, so the listing cannot tell."""
    organization_admin: bool
    permissions: dict[str, str]

    @property
    def missing_permissions(self) -> tuple[str, ...]:
        missing = []
        for name, actions in NEEDED_PERMISSIONS.items():
            lacking = "".join(a for a in actions if a not in self.permissions.get(name, ""))
            if lacking:
                missing.append(f"{name}[{','.join(lacking)}]")
        return tuple(missing)

    def problems(self) -> list[str]:
        """Why a sync cannot work with this server and account, if it cannot."""
        found = []
        if not self.automation_apis:
            found.append(f"APIM has no Automation API: {SUPPORTED} is needed")
        elif not self.automation_applications:
            found.append(
                "APIM's Automation API has no applications (APIM 4.8 had a preview of it, with another "
                f"contract): {SUPPORTED} is needed"
            )
        if self.listing_metadata is False:
            found.append(
                "APIM's API listing carries no metadata, so the ownership records that make prunes "
                f"and updates safe are invisible: {SUPPORTED} is needed"
            )
        if not self.organization_admin:
            found.append(
                "the account is not ADMIN of the organization: APIM shows it only the objects it is a "
                "member of, so it cannot tell an unowned object from a missing one (service-account "
                "create gives the role)"
            )
        if self.missing_permissions:
            found.append("missing permissions on the environment: " + ", ".join(self.missing_permissions))
        return found

    def describe(self) -> str:
        apim = "Automation API with applications"
        if self.listing_metadata:
            apim += "; the listing shows ownership records"
        elif self.listing_metadata is None:
            apim += "; no v4 API yet to tell whether the listing shows ownership records"
        return apim


async def check_context(
    context: Resource,
    store: SecretStore,
    config: ClientConfig | None = None,
    *,
    retry: RetryCoordinator | None = None,
    client_factory: Callable[..., ApimClient] = ApimClient,
) -> ContextCheckResult:
    """Check one ManagementContext; never raises for a problem of the context or the server."""

    def failed(kind: CheckFailure, message: str, **extra: str | None) -> ContextCheckResult:
        return ContextCheckResult(context.id, context.position, False, message, failure=kind, **extra)  # type: ignore[arg-type]

    config = config or ClientConfig()
    try:
        prepared = prepare_context(context, store, config)
    except SecretResolutionErrors as exc:
        return failed(CheckFailure.SECRET, str(exc))
    except SecretResolutionError as exc:
        kind = CheckFailure.SECRET if exc.looked else CheckFailure.CONFIGURATION
        return failed(kind, str(exc))
    except BindingError as exc:
        return failed(CheckFailure.NOT_BOUND, str(exc))
    except EndpointError as exc:
        return failed(CheckFailure.CONFIGURATION, str(exc))

    target, credentials = prepared.target, prepared.credentials
    where = {
        "server": target.base_url,
        "organization_id": target.organization_id,
        "environment_id": target.environment_id,
        "auth": credentials.describe(),
        "binding": str(prepared.binding),
    }
    client = client_factory(target, credentials, config, retry=retry, context_key=prepared.key)
    try:
        env = await client.check_context()
        capabilities = await _capabilities(client)
    except AuthenticationError as exc:
        return failed(CheckFailure.AUTHENTICATION, exc.reason, **where)
    except PermissionDeniedError as exc:
        return failed(CheckFailure.PERMISSION, exc.reason, **where)
    except ContextNotFoundError as exc:
        return failed(CheckFailure.NOT_FOUND, exc.reason, **where)
    except TransportError as exc:
        return failed(CheckFailure.UNREACHABLE, exc.reason, **where)
    except ApimError as exc:
        return failed(CheckFailure.SERVER, str(exc), **where)
    finally:
        await client.aclose()
    problems = capabilities.problems()
    reached = f"reached environment {env.name or env.id} of organization {target.organization_id}"
    return ContextCheckResult(
        context.id,
        context.position,
        not problems,
        f"{reached}, but " + "; ".join(problems) if problems else reached,
        server=target.base_url,
        organization_id=target.organization_id,
        environment_id=env.id,
        environment_name=env.name,
        auth=credentials.describe(),
        binding=str(prepared.binding),
        capabilities=capabilities,
        failure=CheckFailure.UNSUPPORTED if problems else None,
    )


async def _capabilities(client: ApimClient) -> Capabilities:
    """Probe what a sync needs (see `Capabilities`); a 403 on a probe is a missing permission."""
    permissions = await client.environment_permissions()
    me = await client.current_user()
    roles = me.get("roles") if isinstance(me, dict) else None
    admin = any(
        isinstance(r, dict) and r.get("scope") == "ORGANIZATION" and r.get("name") == "ADMIN"
        for r in roles or []
    )

    async def route(kind: str) -> bool:
        try:
            return await client.has_automation_route(kind)
        except PermissionDeniedError:
            return True  # the handler exists (it checked the permission); the permissions say the rest

    apis = await route("apis")
    applications = await route("applications") if apis else False
    metadata = await client.listing_shows_metadata() if apis else None
    return Capabilities(apis, applications, metadata, admin, permissions)


async def check_contexts_async(
    resources: Iterable[Resource],
    store: SecretStore,
    config: ClientConfig | None = None,
    *,
    client_factory: Callable[..., ApimClient] = ApimClient,
) -> list[ContextCheckResult]:
    config = config or ClientConfig()
    retry = RetryCoordinator(config.retry)
    contexts = sorted((r for r in resources if r.kind == MANAGEMENT_CONTEXT), key=lambda r: r.id)
    return list(
        await asyncio.gather(
            *(check_context(c, store, config, retry=retry, client_factory=client_factory) for c in contexts)
        )
    )


def check_contexts(
    resources: Iterable[Resource],
    secret_store: SecretStore,
    config: ClientConfig | None = None,
    *,
    client_factory: Callable[..., ApimClient] = ApimClient,
) -> list[ContextCheckResult]:
    """Check every ManagementContext among `resources` (others are ignored), in name order."""
    return asyncio.run(check_contexts_async(resources, secret_store, config, client_factory=client_factory))
