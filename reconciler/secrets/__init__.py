"""Secrets, config maps and credentials: where they come from, and keeping them out of every output.

The public API: `SecretStore` (files in the Kubernetes secret-volume layout, then env variables),
`resolve_templates` / `resolve_resource_templates` for GKO templates in specs, `resolve_credentials`
for a ManagementContext, and the `Redactor` with its structlog processor and renderer.
"""

from reconciler.secrets.credentials import AuthScheme, Credentials, credentials_provider, resolve_credentials
from reconciler.secrets.errors import SecretPathError, SecretResolutionError, SecretResolutionErrors
from reconciler.secrets.redaction import (
    MIN_SCRUB_LENGTH,
    RedactingProcessor,
    RedactingRenderer,
    Redactor,
    default_redactor,
    redact_event_dict,
)
from reconciler.secrets.store import DEFAULT_SECRETS_DIR, SecretStore, SourceKind, env_var_name
from reconciler.secrets.template_resolution import (
    resolution_problems,
    resolve_resource_templates,
    resolve_templates,
)
from reconciler.secrets.value import REDACTED, Secret

__all__ = [
    "DEFAULT_SECRETS_DIR",
    "MIN_SCRUB_LENGTH",
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
    "credentials_provider",
    "default_redactor",
    "env_var_name",
    "redact_event_dict",
    "resolution_problems",
    "resolve_credentials",
    "resolve_resource_templates",
    "resolve_templates",
]
