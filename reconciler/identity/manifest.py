"""The Kubernetes `Secret` that `create --output secret-manifest` prints, for `kubectl apply -f -`.

Values go under `data` (base64), as `kubectl create secret` writes them: the manifest is meant to be
piped, not read, and a raw token should not sit in a terminal's scrollback. Keys: `bearerToken` (what
the ManagementContext's `auth.secretRef` reads), `tokenId` (not secret: lets `check` and `rotate`
find the token among the user's tokens) and `baseUrl` (the server the token may be sent to, see
reconciler/contexts/binding.py).
"""

from __future__ import annotations

import base64
import json

from reconciler.contexts import BASE_URL_KEY
from reconciler.identity.contexts import SecretRef
from reconciler.identity.status import TOKEN_ID_KEY
from reconciler.secrets.value import Secret

MANAGED_BY = "apim-reconciler"
USER_ANNOTATION = "apim-reconciler.gravitee.io/service-account-id"


def secret_manifest(ref: SecretRef, token: Secret, token_id: str, user_id: str, base_url: str) -> str:
    """YAML of an Opaque Secret named like the context's secretRef (names are Kubernetes-validated)."""

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    return "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            f"  name: {ref.name}",
            f"  namespace: {ref.namespace}",
            "  labels:",
            f"    app.kubernetes.io/managed-by: {MANAGED_BY}",
            "  annotations:",
            f"    {USER_ANNOTATION}: {json.dumps(user_id)}",
            "type: Opaque",
            "data:",
            f"  bearerToken: {b64(token.reveal())}",
            f"  {TOKEN_ID_KEY}: {b64(token_id)}",
            f"  {BASE_URL_KEY}: {b64(base_url)}",
            "",
        ]
    )
