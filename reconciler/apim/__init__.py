"""The APIM client: one async httpx client per ManagementContext, typed errors, retries.

`check-context` lives in `reconciler.contexts.check`, on top of `reconciler.contexts.connect_context`.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.apim.client import ApimClient
    from reconciler.apim.config import ClientConfig, RetryPolicy, Timeouts, TlsOptions
    from reconciler.apim.endpoints import ApimTarget, EndpointError, normalise_base_url
    from reconciler.apim.errors import (
        ApimError,
        AuthenticationError,
        ConflictError,
        ContextNotFoundError,
        PermissionDeniedError,
        RateLimitedError,
        RetryBudgetExhaustedError,
        ServerError,
        TransportError,
        ValidationError,
    )
    from reconciler.apim.retry import RetryCoordinator
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "ApimClient",
    "ApimError",
    "ApimTarget",
    "AuthenticationError",
    "ClientConfig",
    "ConflictError",
    "ContextNotFoundError",
    "EndpointError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetryBudgetExhaustedError",
    "RetryCoordinator",
    "RetryPolicy",
    "ServerError",
    "Timeouts",
    "TlsOptions",
    "TransportError",
    "ValidationError",
    "normalise_base_url",
]
