"""`ApiDefinition`: a v2 API, written through mAPI v1's import-crd as GKO does."""

from reconciler.kinds.base import Fields, Kind, MapiV1ImportEndpoints, RemoteKind
from reconciler.manifests.model import API_DEFINITION

# A v2 body is the CRD spec: no schema to project on, so what the server assigns is dropped.
ASSIGNED = frozenset(
    [
        "id",
        "crossId",
        "createdAt",
        "updatedAt",
        "deployedAt",
        "created_at",
        "updated_at",
        "deployed_at",
        "primaryOwner",
        "environmentId",
        "organizationId",
        "errors",
        "notifyMembers",
    ]
)
CHILD_ASSIGNED = frozenset(
    [
        "id",
        "crossId",
        "api",
        "apiId",
        "createdAt",
        "updatedAt",
        "parentId",
        "order",
        "created_at",
        "updated_at",
    ]
)

KIND = Kind(
    name=API_DEFINITION,
    remote=RemoteKind.API,
    level=0,
    endpoints=MapiV1ImportEndpoints(),
    fields=Fields(
        echoed=None,
        assigned=ASSIGNED,
        children_assigned={"plans": CHILD_ASSIGNED, "pages": CHILD_ASSIGNED},
        keyed_by={"plans": ("name", "id")},
        state_only=frozenset(
            [
                "crossId",
                "id",
                "definition_context",
                "primaryOwner",
                "createdAt",
                "updatedAt",
                "deployedAt",
                "contextRef",
            ]
        ),
        children_state_only={
            "plans": frozenset(
                [
                    "api",
                    "created_at",
                    "updated_at",
                    "published_at",
                    "definitionVersion",
                    "environmentId",
                    "comment_message",
                ]
            )
        },
    ),
    reads_full_state=False,
    folder="apis",
    updated_under_server_ids=True,
    listing="mAPI v2 GET /apis?expands=metadata, one request per page (shared with v4 APIs); never "
    "read in full (the Automation API has no v2): planned from the listing",
)
