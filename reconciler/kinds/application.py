"""`Application`: written through the Automation API; it subscribes to APIs, so it comes after them."""

from reconciler.kinds.base import AutomationEndpoints, Kind, RemoteKind
from reconciler.manifests.model import APPLICATION

KIND = Kind(
    name=APPLICATION,
    remote=RemoteKind.APPLICATION,
    level=1,
    endpoints=AutomationEndpoints("applications"),
    reads_full_state=True,
    archived_status="ARCHIVED",
    listing="mAPI v1 GET /applications, one request per page, which shows neither HRID nor metadata: "
    "each application is then read (Automation GET) to know whether it is ours",
)
