"""`ApiV4Definition`: a v4 API, written through the Automation API as GKO does."""

from reconciler.kinds.base import AutomationEndpoints, Kind, RemoteKind
from reconciler.manifests.model import API_V4_DEFINITION

KIND = Kind(
    name=API_V4_DEFINITION,
    remote=RemoteKind.API,
    level=0,
    endpoints=AutomationEndpoints("apis"),
    reads_full_state=True,
    listing="mAPI v2 GET /apis?expands=metadata, one request per page (shared with v2 APIs); a full "
    "read (Automation GET) only for what the listing shows changed, or every object with --full-read",
)
