"""`ApiV4Definition`: a v4 API, written through the Automation API as GKO does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.base import AutomationEndpoints, Fields, Kind, RemoteKind
from reconciler.kinds.bodies import MANIFEST_ONLY, BuiltBody, accepted, keyed_item, metadata_key, ordered
from reconciler.kinds.exports import (
    ExportedSpec,
    ExportTarget,
    exported_entries,
    keyed,
    note_unknown,
    spec_with_hrid,
)
from reconciler.manifests.hrid import key_hrid
from reconciler.manifests.model import API_V4_DEFINITION, Resource
from reconciler.plan.crd_defaults import CRD_DEFAULTS
from reconciler.plan.defaults import Rules, apply_rules
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


GKO_DEFAULTS = Rules(*CRD_DEFAULTS[API_V4_DEFINITION])
"""Applied to the manifest's spec before the body is built, as the Kubernetes API server applies GKO's
CRD defaults before GKO reads it (plan/crd_defaults.py, generated from GKO's CRDs)."""

_STEP_PHASES = ("request", "response", "subscribe", "publish", "entrypointConnect", "interact", "connect")


def _flow_rules(prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], JSON]]:
    rules: list[tuple[tuple[str, ...], JSON]] = [((*prefix, "*", "enabled"), True)]
    rules += [((*prefix, "*", phase, "*", "enabled"), True) for phase in _STEP_PHASES]
    return rules


SERVER_DEFAULTS = Rules(
    # What the Automation API's generated model fills in (open-api.yaml defaults) and the import
    # adds (the export of what was stored, ApiCRDExportDomainServiceImpl). Lists it defaults to []
    # need no rule: an empty list counts as missing. Type-dependent defaults (selectors) and
    # rewritten values (paths, description, metadata) are in normalise.py.
    (("state",), "STARTED"),
    (("lifecycleState",), "UNPUBLISHED"),
    (("visibility",), "PRIVATE"),
    (("plans", "*", "status"), "PUBLISHED"),
    (("plans", "*", "validation"), "AUTO"),
    (("plans", "*", "type"), "API"),
    (("plans", "*", "mode"), "STANDARD"),
    (("listeners", "*", "paths", "*", "overrideAccess"), False),
    (("listeners", "*", "entrypoints", "*", "qos"), "AUTO"),
    (("listeners", "*", "cors", "maxAge"), -1),
    (("endpointGroups", "*", "loadBalancer"), {"type": "ROUND_ROBIN"}),
    (("endpointGroups", "*", "loadBalancer", "type"), "ROUND_ROBIN"),
    (("endpointGroups", "*", "services", "discovery", "enabled"), True),
    (("endpointGroups", "*", "services", "discovery", "overrideConfiguration"), False),
    (("endpointGroups", "*", "services", "healthCheck", "enabled"), True),
    (("endpointGroups", "*", "services", "healthCheck", "overrideConfiguration"), False),
    (("endpointGroups", "*", "endpoints", "*", "services", "healthCheck", "enabled"), True),
    (
        ("endpointGroups", "*", "endpoints", "*", "services", "healthCheck", "overrideConfiguration"),
        False,
    ),
    (("services", "dynamicProperty", "enabled"), True),
    (("services", "dynamicProperty", "overrideConfiguration"), False),
    (("analytics",), {"enabled": True}),
    (("analytics", "enabled"), True),
    (("failover", "enabled"), False),
    (("failover", "maxRetries"), 2),
    (("failover", "slowCallDuration"), 2000),
    (("failover", "openStateDuration"), 10000),
    (("failover", "maxFailures"), 5),
    (("failover", "perSubscription"), True),
    (("failover", "forceNextEndpointOnFailure"), False),
    (("responseTemplates", "*", "*", "propagateErrorKeyToLogs"), False),
    (("allowedInApiProducts",), False),
    (("allowMultiJwtOauth2Subscriptions",), False),
    (("flowExecution",), {}),
    (("flowExecution", "mode"), "DEFAULT"),
    (("flowExecution", "matchRequired"), False),
    (("endpointGroups", "*", "endpoints", "*", "weight"), 1),
    (("endpointGroups", "*", "endpoints", "*", "inheritConfiguration"), False),
    (("endpointGroups", "*", "endpoints", "*", "secondary"), False),
    (("resources", "*", "enabled"), True),
    (("pages", "*", "published"), False),
    (("pages", "*", "homepage"), False),
    (("pages", "*", "visibility"), "PUBLIC"),
    *_flow_rules(("flows",)),
    *_flow_rules(("plans", "*", "flows")),
)
"""What APIM fills in and echoes: filled into both sides before comparing (plan/normalise.py)."""


def build_body(resource: Resource, hrid: str, environment_id: str) -> BuiltBody:
    """An `ApiV4Spec`: GKO's defaults, the accepted fields, plans and pages as lists keyed by HRID."""
    # Shared with the manifest, never changed: bodies are read-only (see `apply_rules`).
    source = apply_rules(dict(resource.spec), GKO_DEFAULTS)
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


# Fields the CRD requires but APIM may leave out, filled on export with the value APIM means by leaving
# them out (the planner fills the same default on both sides, so this is never a change).
_REQUIRED_DEFAULTS = Rules(*(r for r in SERVER_DEFAULTS if r[0][-1] == "inheritConfiguration"))


def export_spec(state: Mapping[str, JSON], target: ExportTarget) -> ExportedSpec:
    """An `ApiV4Definition` spec from an `ApiV4State`: plans and pages back to maps keyed by HRID."""
    notes: list[str] = []
    hrid, spec = spec_with_hrid(state, target)
    for key in EXPORTED:
        value = state.get(key)
        if value is None:
            continue
        if key in ("plans", "pages"):
            value = keyed(value, FIELDS.children_state_only[key], key[:-1], notes)
        elif key == "metadata":
            value = _exported_metadata(value)
        if value in ([], {}):
            continue
        spec[key] = value
    note_unknown(state, set(EXPORTED) | FIELDS.state_only, notes)
    return ExportedSpec(hrid, apply_rules(spec, _REQUIRED_DEFAULTS), tuple(notes))


def _exported_metadata(entries: JSON) -> JSON:
    if not isinstance(entries, list):
        return entries
    out = []
    for entry in exported_entries(entries):
        item = dict(entry)
        if not item.get("key") and isinstance(item.get("name"), str):
            item = {"key": metadata_key(item["name"]), **item}  # the key APIM derives; required by GKO
        out.append(item)
    return out


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
    gko_defaults=GKO_DEFAULTS,
    server_defaults=SERVER_DEFAULTS,
    exported=EXPORTED,
    export_spec=export_spec,
    noun="API",
    definition_version="V4",
)
