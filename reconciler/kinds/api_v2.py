"""`ApiDefinition`: a v2 API, written through mAPI v1's import-crd as GKO does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.base import Fields, Kind, MapiV1ImportEndpoints, RemoteKind
from reconciler.kinds.bodies import MANIFEST_ONLY, BuiltBody
from reconciler.kinds.exports import ExportedSpec, ExportTarget, context_ref, note_unknown
from reconciler.manifests.model import API_DEFINITION, Resource
from reconciler.plan import ids
from reconciler.plan.crd_defaults import CRD_DEFAULTS
from reconciler.plan.defaults import Rules, apply_rules
from reconciler.plan.ownership import OWNERSHIP_KEY, hide_ownership

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


def update_body(
    body: Mapping[str, JSON], actual: Mapping[str, JSON] | None, summary_id: str, cross_id: str | None
) -> dict[str, JSON]:
    """The body to update an object APIM already holds: its own id and crossId (APIM matches the API
    by crossId), and the ids of the plans it holds, matched by crossId, then by name (plans written by
    earlier versions, or in the console, have ids of their own; new ids would delete them)."""
    out = {**body, "id": summary_id, "crossId": cross_id or body.get("crossId")}
    held = [p for p in (actual or {}).get("plans") or [] if isinstance(p, Mapping)]
    by_cross = {p.get("crossId"): p for p in held if p.get("crossId")}
    by_name = {p.get("name"): p for p in held if p.get("name")}
    plans = out.get("plans")
    if isinstance(plans, list):
        merged = []
        for plan in plans:
            if isinstance(plan, Mapping):
                found = by_cross.get(plan.get("crossId")) or by_name.get(plan.get("name"))
                if found is not None and found.get("id"):
                    plan = {**plan, "id": found["id"], "crossId": found.get("crossId") or plan.get("crossId")}
            merged.append(plan)
        out["plans"] = merged
    return out


# What a v2 plan of the CRD carries (of what APIM's export gives).
_PLAN_FIELDS = frozenset(
    [
        "id",
        "crossId",
        "name",
        "description",
        "security",
        "securityDefinition",
        "status",
        "type",
        "validation",
        "order",
        "characteristics",
        "tags",
        "paths",
        "flows",
        "excluded_groups",
        "comment_required",
        "selection_rule",
    ]
)
# APIM gives every v2 API this entry when it creates it (ApiServiceImpl), and again on every import.
_EMAIL_SUPPORT = ("email-support", "${(api.primaryOwner.email)!''}")


def export_spec(state: Mapping[str, JSON], target: ExportTarget) -> ExportedSpec:
    """An `ApiDefinition` spec from APIM's v2 export (`lifecycle_state` added from the listing).

    Ids are kept only where the manifest would not give them back: `build_body` gives an API without
    a `crossId` GKO's `<namespace>/<name>` one and the id APIM derives from it, and each plan GKO's
    ids from the API id and the plan name. So an API that apim-reconciler or GKO created from a
    manifest of this name exports without ids, and any other keeps the ids APIM matches it by.
    """
    notes: list[str] = []
    derived_cross = ids.gko_uuid(f"{target.namespace}/{target.name}")
    cross = state.get("crossId") if isinstance(state.get("crossId"), str) else None
    cross = cross or derived_cross
    api_id = state.get("id") if isinstance(state.get("id"), str) else None
    api_id = api_id or ids.name_uuid(cross + target.environment_id)
    spec: dict[str, JSON] = {"contextRef": context_ref(target)}
    if cross != derived_cross:
        spec["crossId"] = cross
    if api_id != ids.name_uuid(cross + target.environment_id):
        spec["id"] = api_id
    for key in EXPORTED:
        value = state.get(key)
        if key == "plans":
            value = _exported_plans(value, api_id, notes)
        elif key == "metadata":
            value = _exported_metadata(value)
        elif key == "notifyMembers" and value is True:
            continue  # GKO's default: written only when APIM was told not to notify
        if value is None or value in ([], {}):
            continue
        spec[key] = value
    note_unknown(state, set(EXPORTED) | KIND.fields.state_only, notes)
    return ExportedSpec(None, spec, tuple(notes))


def _exported_plans(plans: JSON, api_id: str, notes: list[str]) -> JSON:
    """APIM's plans, without what it assigns; their ids kept only where GKO's would differ."""
    if not isinstance(plans, list):
        return plans
    out = []
    unknown: set[str] = set()
    state_only = KIND.fields.children_state_only["plans"]
    for plan in plans:
        if not isinstance(plan, Mapping):
            continue
        body = {k: v for k, v in plan.items() if k not in state_only and v is not None}
        unknown |= set(body) - _PLAN_FIELDS
        body = {k: v for k, v in body.items() if k in _PLAN_FIELDS}
        name = str(body["name"]) if isinstance(body.get("name"), str) else ""
        body.setdefault("description", "")  # required by the CRD; APIM may hold none
        cross = body.get("crossId") or ids.gko_uuid(api_id, "/", name)
        if cross == ids.gko_uuid(api_id, "/", name):
            body.pop("crossId", None)
        if body.get("id") == ids.gko_uuid(str(cross), "/", name):
            body.pop("id", None)
        out.append(body)
    if unknown:
        notes.append(f"plans: {', '.join(sorted(unknown))} not exported (not in the manifest schema)")
    return out


def _exported_metadata(entries: JSON) -> JSON:
    """The API's own entries: not ours, not the environment's defaults (entries without a value of
    their own), not the `email-support` entry that APIM adds to every v2 API itself."""
    if not isinstance(entries, list):
        return entries
    out = []
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("key") == OWNERSHIP_KEY or "value" not in entry:
            continue
        if (entry.get("key"), entry.get("value")) == _EMAIL_SUPPORT:
            continue
        out.append({k: v for k, v in entry.items() if k != "apiId"})
    return out


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
    update_body=update_body,
    listing="mAPI v2 GET /apis?expands=metadata, one request per page (shared with v4 APIs); never "
    "read in full (the Automation API has no v2): planned from the listing",
    build_body=build_body,
    gko_defaults=GKO_DEFAULTS,
    server_defaults=SERVER_DEFAULTS,
    exported=EXPORTED,
    export_spec=export_spec,
    noun="API",
    definition_version="V2",
    has_hrid=False,
    written_as_lists=frozenset({"plans"}),
)
