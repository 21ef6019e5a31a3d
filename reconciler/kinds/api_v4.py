"""`ApiV4Definition`: a v4 API, written through the Automation API as GKO does."""

from reconciler.kinds.base import AutomationEndpoints, Fields, Kind, RemoteKind
from reconciler.manifests.model import API_V4_DEFINITION

# The fields of ApiV4Spec that ApiV4State echoes (hrid is the identity).
ECHOED = frozenset(
    [
        "hrid",
        "name",
        "version",
        "type",
        "description",
        "tags",
        "listeners",
        "endpointGroups",
        "analytics",
        "failover",
        "properties",
        "resources",
        "plans",
        "flowExecution",
        "flows",
        "responseTemplates",
        "services",
        "groups",
        "visibility",
        "state",
        "labels",
        "metadata",
        "lifecycleState",
        "categories",
        "members",
        "pages",
        "allowedInApiProducts",
        "allowMultiJwtOauth2Subscriptions",
        "portalNavigation",
        "consoleNotification",
    ]
)
PLAN_ECHOED = frozenset(
    [
        "hrid",
        "name",
        "description",
        "security",
        "characteristics",
        "excludedGroups",
        "selectionRule",
        "status",
        "tags",
        "type",
        "validation",
        "flows",
        "mode",
        "generalConditionsHrid",
        "bootstrapPort",
        "brokerRangeStart",
        "brokerRangeEnd",
    ]
)
PAGE_ECHOED = frozenset(
    [
        "hrid",
        "name",
        "type",
        "content",
        "published",
        "visibility",
        "source",
        "configuration",
        "homepage",
        "parentHrid",
    ]
)

KIND = Kind(
    name=API_V4_DEFINITION,
    remote=RemoteKind.API,
    level=0,
    endpoints=AutomationEndpoints("apis"),
    fields=Fields(
        echoed=ECHOED,
        write_only=frozenset({"notifyMembers"}),
        children_echoed={"plans": PLAN_ECHOED, "pages": PAGE_ECHOED},
        keyed_by={"plans": ("hrid",), "pages": ("hrid",)},
        normalised_by_server=True,
        state_only=frozenset(
            [
                "id",
                "crossId",
                "hrid",
                "organizationId",
                "environmentId",
                "errors",
                "primaryOwner",
                "definitionContext",
                "notifyMembers",
                "definitionVersion",
                "createdAt",
                "updatedAt",
                "deployedAt",
            ]
        ),
        children_state_only={
            "plans": frozenset(
                ("id", "crossId", "hrid", "definitionVersion", "apiId", "createdAt", "updatedAt")
            ),
            "pages": frozenset(
                ("id", "crossId", "hrid", "api", "parentId", "order", "createdAt", "updatedAt")
            ),
        },
    ),
    reads_full_state=True,
    folder="apis",
    listing="mAPI v2 GET /apis?expands=metadata, one request per page (shared with v2 APIs); a full "
    "read (Automation GET) only for what the listing shows changed, or every object with --full-read",
)
