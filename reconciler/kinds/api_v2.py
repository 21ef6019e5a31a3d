"""`ApiDefinition`: a v2 API, written through mAPI v1's import-crd as GKO does."""

from reconciler.kinds.base import Kind, MapiV1ImportEndpoints, RemoteKind
from reconciler.manifests.model import API_DEFINITION

KIND = Kind(
    name=API_DEFINITION,
    remote=RemoteKind.API,
    level=0,
    endpoints=MapiV1ImportEndpoints(),
    reads_full_state=False,
    updated_under_server_ids=True,
    listing="mAPI v2 GET /apis?expands=metadata, one request per page (shared with v4 APIs); never "
    "read in full (the Automation API has no v2): planned from the listing",
)
