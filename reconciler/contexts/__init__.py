"""ManagementContexts as connections: where their credentials come from, where they may go, the client.

`connect_context` (or `prepare_context` then `open_client`) is the only way the commands turn a
context into an `ApimClient`; the binding rule lives in `binding`, credential origins in `origins`.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.contexts.binding import (
        ALLOWED_URLS_KEY,
        BASE_URL_KEY,
        BindingError,
        bound_urls,
        url_allows,
    )
    from reconciler.contexts.connect import (
        connect_context,
        context_target,
        open_client,
        prepare_context,
    )
    from reconciler.contexts.origins import CredentialOrigin, OriginKind, auth_origins
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "ALLOWED_URLS_KEY",
    "BASE_URL_KEY",
    "BindingError",
    "CredentialOrigin",
    "OriginKind",
    "auth_origins",
    "bound_urls",
    "connect_context",
    "context_target",
    "open_client",
    "prepare_context",
    "url_allows",
]
