"""ManagementContexts as connections: where their credentials come from, where they may go, the client.

`connect_context` (or `prepare_context` then `open_client`) is the only way the commands turn a
context into an `ApimClient`; the binding rule lives in `binding`, credential origins in `origins`.
"""

from reconciler.contexts.binding import (
    ALLOW_ENV,
    ALLOW_FLAG,
    ALLOWED_URLS_KEY,
    BASE_URL_KEY,
    BindingError,
    bound_urls,
    check_allowed_urls,
    url_allows,
)
from reconciler.contexts.connect import (
    connect_context,
    context_target,
    open_client,
    prepare_context,
)
from reconciler.contexts.origins import CredentialOrigin, OriginKind, auth_origins

__all__ = [
    "ALLOWED_URLS_KEY",
    "ALLOW_ENV",
    "ALLOW_FLAG",
    "BASE_URL_KEY",
    "BindingError",
    "CredentialOrigin",
    "OriginKind",
    "auth_origins",
    "bound_urls",
    "check_allowed_urls",
    "connect_context",
    "context_target",
    "open_client",
    "prepare_context",
    "url_allows",
]
