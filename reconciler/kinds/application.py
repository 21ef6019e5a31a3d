"""`Application`: written through the Automation API; it subscribes to APIs, so it comes after them."""

from reconciler.kinds.base import AutomationEndpoints, Fields, Kind, RemoteKind
from reconciler.manifests.model import APPLICATION

# The fields of ApplicationSpec that ApplicationState echoes (hrid is the identity).
ECHOED = frozenset(
    [
        "hrid",
        "name",
        "description",
        "domain",
        "groups",
        "pictureUrl",
        "background",
        "settings",
        "metadata",
        "members",
        "status",
    ]
)

KIND = Kind(
    name=APPLICATION,
    remote=RemoteKind.APPLICATION,
    level=1,
    endpoints=AutomationEndpoints("applications"),
    fields=Fields(
        echoed=ECHOED,
        write_only=frozenset({"notifyMembers"}),
        normalised_by_server=True,
        state_only=frozenset(
            [
                "id",
                "hrid",
                "organizationId",
                "environmentId",
                "errors",
                "primaryOwner",
                "owner",
                "notifyMembers",
                "status",
                "origin",
                "type",
                "createdAt",
                "updatedAt",
                "created_at",
                "updated_at",
                "api_key_mode",
                "apiKeyMode",
                "disable_membership_notifications",
                "disableMembershipNotifications",
            ]
        ),
    ),
    folder="applications",
    reads_full_state=True,
    archived_status="ARCHIVED",
    listing="mAPI v1 GET /applications, one request per page, which shows neither HRID nor metadata: "
    "each application is then read (Automation GET) to know whether it is ours",
)
