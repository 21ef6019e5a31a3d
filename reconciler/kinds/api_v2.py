"""`ApiDefinition`: a v2 API, written through mAPI v1's import-crd as GKO does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.base import Fields, Kind, MapiV1ImportEndpoints, RemoteKind
from reconciler.kinds.bodies import MANIFEST_ONLY, BuiltBody
from reconciler.manifests.model import API_DEFINITION, Resource
from reconciler.plan import ids
from reconciler.plan.crd_defaults import CRD_DEFAULTS
from reconciler.plan.defaults import Rules, apply_rules
from reconciler.plan.ownership import hide_ownership

JSON = Any

# The spec fields `export` writes, in the order written; `crossId` and `id` come first when kept.
EXPORTED = (
    "name",
    "version",
    "description",
    "state",
    "lifecycle_state",
    "visibility",
    "labels",
    "tags",
    "categories",
    "groups",
    "proxy",
    "flow_mode",
    "execution_mode",
    "gravitee",
    "flows",
    "plans",
    "properties",
    "resources",
    "services",
    "response_templates",
    "path_mappings",
    "metadata",
    "members",
    "pages",
    "consoleNotificationConfiguration",
    "notifyMembers",
)

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


# The CRD's own defaults, and the definition context GKO always sets (EnsureDefinitionContext), except
# syncFrom: without a Kubernetes cluster the gateways can only read the definition from APIM, so
# "kubernetes" would leave the API undeployed.
GKO_DEFAULTS = Rules(
    (("definition_context",), {}),
    *(r for r in CRD_DEFAULTS[API_DEFINITION] if r[0] != ("definition_context", "syncFrom")),
    (("definition_context", "syncFrom"), "management"),
)
"""Applied to the manifest's spec before the body is built, as the Kubernetes API server applies GKO's
CRD defaults before GKO reads it (plan/crd_defaults.py, generated from GKO's CRDs)."""

SERVER_DEFAULTS = Rules(
    *GKO_DEFAULTS,
    (("flow_mode",), "DEFAULT"),
    (("execution_mode",), "v4-emulation-engine"),
    (("gravitee",), "2.0.0"),
    (("lifecycle_state",), "CREATED"),
    (("resources", "*", "enabled"), True),
    (("flows", "*", "enabled"), True),
    (("plans", "*", "flows", "*", "enabled"), True),
)
"""What APIM fills in and echoes: filled into both sides before comparing (plan/normalise.py)."""


def build_body(resource: Resource, hrid: str, environment_id: str) -> BuiltBody:
    """The CRD spec as GKO sends it to mAPI v1 `import-crd`, with the ids GKO gives when the spec has
    none (`PopulateIDs`, `generateEmptyPlanIDs`): crossId from `<namespace>/<name>`, and for each plan
    a crossId from the API's id and the plan's name, an id from those. APIM finds the API to update by
    its crossId and each plan by its id: a plan sent without one is deleted and re-created under a
    random id on every import. (GKO's API id is the Kubernetes UID, which we do not have: ours is
    derived from the crossId, as APIM derives ids from HRIDs.)"""
    spec = apply_rules(dict(resource.spec), GKO_DEFAULTS)
    body: dict[str, JSON] = {k: v for k, v in spec.items() if k not in MANIFEST_ONLY}
    cross_id = body.get("crossId") or ids.gko_uuid(f"{resource.namespace}/{resource.name}")
    body["crossId"] = cross_id
    api_id = body.setdefault("id", ids.name_uuid(cross_id + environment_id))
    if isinstance(body.get("plans"), list):
        body["plans"] = [_plan(plan, str(api_id)) for plan in body["plans"]]
    if "metadata" in body:
        body["metadata"] = hide_ownership(body["metadata"])
    return BuiltBody(body, cross_id=body["crossId"], remote_id=body["id"])


def _plan(plan: JSON, api_id: str) -> JSON:
    if not isinstance(plan, Mapping) or not isinstance(plan.get("name"), str):
        return plan
    cross = plan.get("crossId") or ids.gko_uuid(api_id, "/", plan["name"])
    return {**plan, "crossId": cross, "id": plan.get("id") or ids.gko_uuid(cross, "/", plan["name"])}


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
    build_body=build_body,
    gko_defaults=GKO_DEFAULTS,
    server_defaults=SERVER_DEFAULTS,
    exported=EXPORTED,
    written_as_lists=frozenset({"plans"}),
)
