"""Secrets, config maps and credentials: where they come from, and keeping them out of every output.

The public API: `SecretStore` (files in the Kubernetes secret-volume layout, then env variables),
`resolve_templates` / `resolve_resource_templates` for GKO templates in specs, `resolve_credentials`
for a ManagementContext, and the `Redactor` with its structlog processor and renderer.
"""

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
