"""The APIM client: one async httpx client per ManagementContext, typed errors, retries and checks."""

from reconciler.apim.client import ApimClient, EnvironmentInfo, RequestStats
from reconciler.apim.config import ClientConfig, RetryPolicy, Timeouts, TlsOptions
from reconciler.apim.context_check import (
    CheckFailure,
    ContextCheckResult,
    check_context,
    check_contexts,
    check_contexts_async,
    render_context_checks,
)
from reconciler.apim.endpoints import ApimTarget, EndpointError, normalise_base_url
from reconciler.apim.errors import (
    ApimError,
    AuthenticationError,
    ConflictError,
    ContextNotFoundError,
    HttpError,
    HttpErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    RetryBudgetExhaustedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from reconciler.apim.retry import RetryCoordinator

__all__ = [
    "ApimClient",
    "ApimError",
    "ApimTarget",
    "AuthenticationError",
    "CheckFailure",
    "ClientConfig",
    "ConflictError",
    "ContextCheckResult",
    "ContextNotFoundError",
    "EndpointError",
    "EnvironmentInfo",
    "HttpError",
    "HttpErrorDetail",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitedError",
    "RequestStats",
    "RetryBudgetExhaustedError",
    "RetryCoordinator",
    "RetryPolicy",
    "ServerError",
    "Timeouts",
    "TlsOptions",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
    "check_context",
    "check_contexts",
    "check_contexts_async",
    "normalise_base_url",
    "render_context_checks",
]
