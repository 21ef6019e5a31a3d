"""Secrets, config maps and credentials: where they come from, and keeping them out of every output.

The public API: `SecretStore` (files in the Kubernetes secret-volume layout, then env variables),
`resolve_templates` / `resolve_resource_templates` for GKO templates in specs, `resolve_credentials`
for a ManagementContext, and the `Redactor` with its structlog processor and renderer.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.secrets.credentials import AuthScheme, Credentials, resolve_credentials
    from reconciler.secrets.errors import SecretPathError, SecretResolutionError, SecretResolutionErrors
    from reconciler.secrets.redaction import (
        RedactingProcessor,
        RedactingRenderer,
        Redactor,
        default_redactor,
    )
    from reconciler.secrets.store import SecretStore, SourceKind
    from reconciler.secrets.template_resolution import (
        resolution_problems,
        resolve_resource_templates,
        resolve_templates,
    )
    from reconciler.secrets.value import REDACTED, Secret
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "REDACTED",
    "AuthScheme",
    "Credentials",
    "RedactingProcessor",
    "RedactingRenderer",
    "Redactor",
    "Secret",
    "SecretPathError",
    "SecretResolutionError",
    "SecretResolutionErrors",
    "SecretStore",
    "SourceKind",
    "default_redactor",
    "resolution_problems",
    "resolve_credentials",
    "resolve_resource_templates",
    "resolve_templates",
]
