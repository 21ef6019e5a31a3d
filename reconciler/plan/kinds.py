"""Which APIM object and which API each manifest kind maps to."""

from __future__ import annotations

from enum import StrEnum

from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, APPLICATION


class RemoteKind(StrEnum):
    """What a resource is in APIM; v2 and v4 APIs share one listing, applications have theirs."""

    API = "API"
    APPLICATION = "APPLICATION"


MANAGED_KINDS = (API_V4_DEFINITION, API_DEFINITION, APPLICATION)

REMOTE_KIND = {
    API_V4_DEFINITION: RemoteKind.API,
    API_DEFINITION: RemoteKind.API,
    APPLICATION: RemoteKind.APPLICATION,
}


def remote_kind(kind: str) -> RemoteKind:
    return REMOTE_KIND[kind]
