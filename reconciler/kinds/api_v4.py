"""`ApiV4Definition`: a v4 API, written through the Automation API as GKO does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.base import AutomationEndpoints, Fields, Kind, RemoteKind
from reconciler.kinds.bodies import MANIFEST_ONLY, BuiltBody, accepted, keyed_item, ordered
from reconciler.manifests.hrid import key_hrid
from reconciler.manifests.model import API_V4_DEFINITION, Resource
from reconciler.plan.defaults import GKO_DEFAULTS, apply_rules
from reconciler.plan.ownership import hide_ownership

JSON = Any

# The spec fields `export` writes, in the order written (what people look for first, first).
EXPORTED = (
    "name",
    "version",
    "type",
    "description",
    "state",
    "lifecycleState",
    "visibility",
    "labels",
    "tags",
    "categories",
    "groups",
    "listeners",
    "endpointGroups",
    "flowExecution",
    "flows",
    "plans",
    "analytics",
    "failover",
    "services",
    "properties",
    "resources",
    "responseTemplates",
    "metadata",
    "members",
    "pages",
    "portalNavigation",
    "consoleNotification",
    "allowedInApiProducts",
    "allowMultiJwtOauth2Subscriptions",
)

# The fields of ApiV4Spec that ApiV4State echoes: what export writes, and the HRID (the identity).
ECHOED = frozenset(("hrid", *EXPORTED))
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

FIELDS = Fields(
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
        "plans": frozenset(("id", "crossId", "hrid", "definitionVersion", "apiId", "createdAt", "updatedAt")),
        "pages": frozenset(("id", "crossId", "hrid", "api", "parentId", "order", "createdAt", "updatedAt")),
    },
)

# What the Automation API takes. Not `definitionContext` nor `primaryOwner`: `ApiV4Spec` has no
# definition context (the server always applies its own: origin kubernetes, mode fully managed, sync
# from management) and never maps the primary owner (the caller owns what it creates); both would be
# silently dropped by APIM, so they are reported as not sent instead (plan/desired.py says why).
_ACCEPTED = accepted(FIELDS)
_DERIVED = frozenset(("id", "crossId", "definitionVersion", "hrid"))
"""Ids APIM derives: never sent, never reported as dropped."""
_PLAN_DERIVED = frozenset(("id", "crossId", "hrid", "definitionVersion", "order"))
_PAGE_DERIVED = frozenset(("id", "crossId", "hrid", "api", "parentId", "order", "parent"))


def build_body(resource: Resource, hrid: str, environment_id: str) -> BuiltBody:
    """An `ApiV4Spec`: GKO's defaults, the accepted fields, plans and pages as lists keyed by HRID."""
    # Shared with the manifest, never changed: bodies are read-only (see `apply_rules`).
    source = apply_rules(dict(resource.spec), GKO_DEFAULTS[API_V4_DEFINITION])
    dropped = sorted(k for k in source if k not in _ACCEPTED and k not in MANIFEST_ONLY | _DERIVED)
    body: dict[str, JSON] = {"hrid": hrid}
    body.update({k: v for k, v in source.items() if k in _ACCEPTED})
    if isinstance(body.get("plans"), Mapping):
        body["plans"] = [_plan(k, p) for k, p in ordered(body["plans"])]
    if isinstance(body.get("pages"), Mapping):
        body["pages"] = [_page(k, p) for k, p in ordered(body["pages"])]
    if "metadata" in body:
        body["metadata"] = hide_ownership(body["metadata"])
    return BuiltBody(body, dropped, keys=_manifest_keys(resource.spec))


def _manifest_keys(spec: Mapping[str, JSON]) -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {}
    for field_name in ("plans", "pages"):
        items = spec.get(field_name)
        if isinstance(items, Mapping):
            keys[field_name] = {}
            for key, item in items.items():
                explicit = item.get("hrid") if isinstance(item, Mapping) else None
                keys[field_name][explicit if isinstance(explicit, str) and explicit else key_hrid(key)] = key
    return keys


def _plan(key: str, item: JSON) -> dict[str, JSON]:
    """A v4 plan as `PlanV4` takes it. The CRD names the general conditions page by its map key
    (`generalConditions`); `PlanV4` knows only `generalConditionsHrid`, and would drop the other, so
    GKO converts it (`pickPlanHRIDs`) and so do we."""
    plan = keyed_item(key, item, _PLAN_DERIVED)
    conditions = plan.pop("generalConditions", None)
    if isinstance(conditions, str) and conditions and "generalConditionsHrid" not in plan:
        plan["generalConditionsHrid"] = key_hrid(conditions)
    return plan


def _page(key: str, item: JSON) -> dict[str, JSON]:
    page = keyed_item(key, item, _PAGE_DERIVED)
    parent = item.get("parent") if isinstance(item, Mapping) else None
    if isinstance(parent, str) and parent and "parentHrid" not in page:
        page["parentHrid"] = key_hrid(parent)
    return page


KIND = Kind(
    name=API_V4_DEFINITION,
    remote=RemoteKind.API,
    level=0,
    endpoints=AutomationEndpoints("apis"),
    fields=FIELDS,
    reads_full_state=True,
    folder="apis",
    listing="mAPI v2 GET /apis?expands=metadata, one request per page (shared with v2 APIs); a full "
    "read (Automation GET) only for what the listing shows changed, or every object with --full-read",
    build_body=build_body,
    exported=EXPORTED,
)
