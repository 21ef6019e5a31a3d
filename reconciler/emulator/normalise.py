"""What the server makes of an Automation API body: the echo of a PUT, and what a GET exports.

**Echo.** ``ApisResource.createOrUpdate`` answers ``apiV4SpecAndStatusToApiV4State(spec, status)``: the
request body *as deserialized into the generated model*, plus the status ids. The generated classes
(openapi-generator 7.12, ``java``/``jersey3``, from ``open-api.yaml``) initialise every property that has a
``default`` in the schema, so properties the client left out come back with those defaults
(:func:`with_defaults`). Plan ids are not in the echo unless sent: ``CrdIdHelper.generatePlanIds`` writes
them into the CRD copy, not into the spec.

**Export.** ``ApiResource.getApiByHRID`` runs ``ExportApiCRDUseCase`` (``ApiCRDExportDomainServiceImpl``),
an export of what the import stored. On top of the generated defaults (the export goes back through the
same generated model) the stored API differs from the body in these ways, each done by the server:

* listener paths sanitized with a trailing ``/`` (``Path.sanitizePath``, ``VerifyApiPathDomainService``);
* every endpoint group has a load balancer, ``ROUND_ROBIN`` (``AbstractEndpointGroup``: ``new LoadBalancer()``);
  an endpoint weight below 1 becomes 1 (``EndpointGroupsValidationServiceImpl.validateEndpointWeight``);
* ``analytics`` defaults to ``{enabled: true}`` (``AnalyticsValidationServiceImpl.validateAndSanitize``;
  the message-sampling default of MESSAGE APIs is not modelled);
* ``flowExecution`` is always there (``v4.Api``: ``flowExecution = new FlowExecution()``), and every flow
  has ``request`` and ``response`` lists (``v4.flow.Flow``: ``@Builder.Default new ArrayList<>()``);
* the description goes through ``HtmlSanitizer`` (an OWASP policy that allows no element: tags are removed,
  the text of ``script``/``style`` too, the entities it escaped are put back) on create
  (``ApiValidationServiceImpl.validateAndSanitizeNewApi``) and update;
* plugin configurations are validated against the plugin's JSON schema with defaults applied and
  forbidden properties removed (``JsonSchemaValidatorImpl``). Modelled: the ``http-proxy`` entrypoint
  (schema ``{properties: {}, additionalProperties: false}``: its configuration is always ``{}``). The
  ``http-proxy`` endpoint schema has no defaults and allows extra properties: kept as sent. Every other
  plugin (policies, other connectors, shared configurations whose schema pulls ``gioExternalDefinitions``
  at runtime) is stored as sent: their schemas are not in the server's repository;
* metadata: the ``email-support`` entry every v4 API gets (``ApiMetadataDomainService.createDefaultApiMetadata``,
  never removed by an import) and the environment's metadata (``AbstractReferenceMetadataService``) are
  added;
* categories and groups the environment does not know are dropped, with a warning
  (``ValidateCategoryIdsDomainService``, ``ValidateGroupsDomainService``);
* properties the generated model does not have are dropped at deserialization (``FAIL_ON_UNKNOWN_PROPERTIES``
  disabled): ``definitionContext`` (not an ``ApiV4Spec`` property, the import always uses the mAPI v2
  ``ApiCRDSpec`` default: kubernetes / fully_managed / management), plan ``generalConditions`` (only
  ``generalConditionsHrid`` is a ``PlanV4`` property), page ``parent``, and anything new;
* ``primaryOwner`` is an ``ApiV4Spec`` property the import never reads: the caller becomes the primary
  owner, and the export shows that owner (``ApiCRDAdapter.toCRDSpec`` maps ``apiEntity.primaryOwner``; the
  implicit MapStruct mapping is inferred, not read in generated code);
* ``notifyMembers`` round-trips (``ApiModelFactory.fromCrd``: ``disableMembershipNotifications =
  !notifyMembers``; ``ApiCRDAdapter``: ``notifyMembers = !disableMembershipNotifications``). The spec marks
  it ``writeOnly``, but openapi-generator's Java models serialize every property [inferred].

Why one long module: each function is one of the transformations listed above, each short; they
are applied in one order to one stored API, and that order is the server's, so it is read as one.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Callable, Mapping
from typing import Any

JSON = Any

EMAIL_SUPPORT = {
    "key": "email-support",
    "name": "email-support",
    "format": "MAIL",
    "value": "${(api.primaryOwner.email)!''}",
}


# -- the generated model's properties: deserialization drops every other one ---------------------------
# name -> (properties, {property: (is_list, child schema name)}), from open-api.yaml at 2b94b4c9
_LISTENERS = {
    "HTTP": ("cors", "entrypoints", "paths", "servers", "type"),
    "SUBSCRIPTION": ("entrypoints", "servers", "type"),
    "TCP": ("entrypoints", "hosts", "servers", "type"),
    "KAFKA": ("entrypoints", "host", "port", "servers", "type"),
}
_SELECTORS = {
    "HTTP": ("methods", "path", "pathOperator", "type"),
    "CHANNEL": ("channel", "channelOperator", "entrypoints", "operations", "type"),
    "CONDITION": ("condition", "type"),
    "MCP": ("methods", "type"),
}
_STEP = ("condition", "configuration", "description", "enabled", "messageCondition", "name", "policy")
_SCHEMAS: dict[str, tuple[tuple[str, ...], dict[str, tuple[bool, str]]]] = {
    "api": (
        (
            "allowMultiJwtOauth2Subscriptions",
            "allowedInApiProducts",
            "analytics",
            "categories",
            "consoleNotification",
            "description",
            "endpointGroups",
            "failover",
            "flowExecution",
            "flows",
            "groups",
            "hrid",
            "labels",
            "lifecycleState",
            "listeners",
            "members",
            "metadata",
            "name",
            "notifyMembers",
            "pages",
            "plans",
            "portalNavigation",
            "primaryOwner",
            "properties",
            "resources",
            "responseTemplates",
            "services",
            "state",
            "tags",
            "type",
            "version",
            "visibility",
        ),
        {
            "listeners": (True, "listener"),
            "endpointGroups": (True, "group"),
            "plans": (True, "plan"),
            "pages": (True, "page"),
            "metadata": (True, "metadata"),
            "members": (True, "member"),
            "flows": (True, "flow"),
            "resources": (True, "resource"),
            "properties": (True, "property"),
            "analytics": (False, "analytics"),
            "failover": (False, "failover"),
            "flowExecution": (False, "flowExecution"),
        },
    ),
    "path": (("host", "overrideAccess", "path"), {}),
    "entrypoint": (("configuration", "dlq", "qos", "type"), {}),
    "cors": (
        (
            "allowCredentials",
            "allowHeaders",
            "allowMethods",
            "allowOrigin",
            "enabled",
            "exposeHeaders",
            "maxAge",
            "runPolicies",
        ),
        {},
    ),
    "group": (
        ("endpoints", "loadBalancer", "name", "services", "sharedConfiguration", "type"),
        {"endpoints": (True, "endpoint")},
    ),
    "endpoint": (
        (
            "configuration",
            "inheritConfiguration",
            "name",
            "secondary",
            "services",
            "sharedConfigurationOverride",
            "tenants",
            "type",
            "weight",
        ),
        {},
    ),
    "plan": (
        (
            "bootstrapPort",
            "brokerRangeEnd",
            "brokerRangeStart",
            "characteristics",
            "description",
            "excludedGroups",
            "flows",
            "generalConditionsHrid",
            "hrid",
            "id",
            "mode",
            "name",
            "security",
            "selectionRule",
            "status",
            "tags",
            "type",
            "validation",
        ),
        {"flows": (True, "flow")},
    ),
    "page": (
        (
            "configuration",
            "content",
            "crossId",
            "homepage",
            "hrid",
            "id",
            "name",
            "parentHrid",
            "published",
            "source",
            "type",
            "visibility",
        ),
        {},
    ),
    "metadata": (("defaultValue", "format", "key", "name", "value"), {}),
    "member": (("role", "source", "sourceId"), {}),
    "flow": (
        (
            "enabled",
            "entrypointConnect",
            "interact",
            "name",
            "publish",
            "request",
            "response",
            "selectors",
            "subscribe",
            "tags",
        ),
        {
            phase: (True, "step")
            for phase in ("request", "response", "subscribe", "publish", "entrypointConnect", "interact")
        },
    ),
    "step": (_STEP, {}),
    "resource": (("configuration", "enabled", "name", "type"), {}),
    "property": (("dynamic", "encryptable", "encrypted", "key", "value"), {}),
    "analytics": (("enabled", "logging", "otelLogs", "reporterMetricsEnabled", "sampling", "tracing"), {}),
    "failover": (
        (
            "enabled",
            "failureCondition",
            "forceNextEndpointOnFailure",
            "maxFailures",
            "maxRetries",
            "openStateDuration",
            "perSubscription",
            "slowCallDuration",
        ),
        {},
    ),
    "flowExecution": (("matchRequired", "mode"), {}),
    "application": (
        (
            "background",
            "description",
            "domain",
            "groups",
            "hrid",
            "members",
            "metadata",
            "name",
            "notifyMembers",
            "pictureUrl",
            "primaryOwner",
            "settings",
            "status",
        ),
        {"metadata": (True, "metadata"), "members": (True, "member")},
    ),
}


def project(obj: dict[str, Any], schema: str) -> dict[str, Any]:
    """``obj`` with only the properties of the generated model ``schema`` (Jackson ignores the others)."""
    props, children = _SCHEMAS[schema]
    out = {k: v for k, v in obj.items() if k in props}
    for key, (is_list, child) in children.items():
        value = out.get(key)
        if is_list and isinstance(value, list):
            out[key] = [_project_item(item, child) for item in value]
        elif not is_list and isinstance(value, dict):
            out[key] = project(value, child)
    return out


def _project_item(item: Any, schema: str) -> Any:
    if not isinstance(item, dict):
        return item
    if schema == "listener":
        props = _LISTENERS.get(str(item.get("type")), _LISTENERS["HTTP"])
        out = {k: v for k, v in item.items() if k in props}
        if isinstance(out.get("paths"), list):
            out["paths"] = [project(p, "path") if isinstance(p, dict) else p for p in out["paths"]]
        if isinstance(out.get("entrypoints"), list):
            out["entrypoints"] = [
                project(e, "entrypoint") if isinstance(e, dict) else e for e in out["entrypoints"]
            ]
        if isinstance(out.get("cors"), dict):
            out["cors"] = project(out["cors"], "cors")
        return out
    if schema == "flow":
        out = project(item, "flow")
        if isinstance(out.get("selectors"), list):
            out["selectors"] = [
                {k: v for k, v in sel.items() if k in _SELECTORS.get(str(sel.get("type")), ("type",))}
                if isinstance(sel, dict)
                else sel
                for sel in out["selectors"]
            ]
        return out
    return project(item, schema)


# -- generated-model defaults -----------------------------------------------------------------------
def _fill(obj: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    for key, value in defaults.items():
        if key not in obj:
            obj[key] = copy.deepcopy(value)


def _each(obj: dict[str, Any], key: str, fn: Callable[[dict[str, Any]], None]) -> None:
    items = obj.get(key)
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                fn(item)


_CORS = {"allowHeaders": [], "allowMethods": [], "allowOrigin": [], "exposeHeaders": [], "maxAge": -1}
_FAILOVER = {
    "enabled": False,
    "maxRetries": 2,
    "slowCallDuration": 2000,
    "openStateDuration": 10000,
    "maxFailures": 5,
    "perSubscription": True,
    "forceNextEndpointOnFailure": False,
}
_SERVICE = {"overrideConfiguration": False, "enabled": True}
_STEP_PHASES = ("request", "response", "subscribe", "publish", "entrypointConnect", "interact")


def _flow(flow: dict[str, Any]) -> None:
    _fill(flow, {"enabled": True, "tags": []})
    for selector in flow.get("selectors") or []:
        if not isinstance(selector, dict):
            continue
        if selector.get("type") == "HTTP":
            _fill(selector, {"path": "/", "pathOperator": "STARTS_WITH"})
        elif selector.get("type") == "CHANNEL":
            _fill(selector, {"channel": "/", "channelOperator": "STARTS_WITH"})
    for phase in _STEP_PHASES:
        _each(flow, phase, lambda step: _fill(step, {"enabled": True}))


def _services(holder: dict[str, Any], names: tuple[str, ...]) -> None:
    services = holder.get("services")
    if isinstance(services, dict):
        for name in names:
            if isinstance(services.get(name), dict):
                _fill(services[name], _SERVICE)


def _listener(listener: dict[str, Any]) -> None:
    _each(listener, "paths", lambda p: _fill(p, {"path": "/", "overrideAccess": False}))
    _each(listener, "entrypoints", lambda e: _fill(e, {"qos": "AUTO"}))
    if isinstance(listener.get("cors"), dict):
        _fill(listener["cors"], _CORS)


def _endpoint_group(group: dict[str, Any]) -> None:
    if isinstance(group.get("loadBalancer"), dict):
        _fill(group["loadBalancer"], {"type": "ROUND_ROBIN"})
    _services(group, ("discovery", "healthCheck"))

    def endpoint(e: dict[str, Any]) -> None:
        _fill(e, {"weight": 1, "inheritConfiguration": False, "secondary": False, "tenants": []})
        _services(e, ("healthCheck",))

    _each(group, "endpoints", endpoint)


def _plan(plan: dict[str, Any]) -> None:
    _fill(
        plan, {"characteristics": [], "excludedGroups": [], "tags": [], "type": "API", "validation": "AUTO"}
    )
    _each(plan, "flows", _flow)


_API_LISTS = ("tags", "properties", "resources", "plans", "flows", "groups", "labels", "metadata")
_API_LISTS_2 = ("categories", "members", "pages")


def with_defaults(body: Mapping[str, Any], modern: bool = True) -> dict[str, Any]:
    """``ApiV4Spec`` as the generated model holds ``body``: schema defaults where absent.

    ``modern`` (4.12.0 and later) adds the properties 4.12 introduced (``allowedInApiProducts``,
    ``allowMultiJwtOauth2Subscriptions``, ``portalNavigation``).
    """
    spec = project(copy.deepcopy(dict(body)), "api")
    _fill(spec, {k: [] for k in (*_API_LISTS, *_API_LISTS_2)})
    _fill(spec, {"notifyMembers": True, "visibility": "PUBLIC"})
    if modern:
        _fill(
            spec,
            {
                "allowedInApiProducts": False,
                "allowMultiJwtOauth2Subscriptions": False,
                "portalNavigation": [],
            },
        )
    _each(spec, "listeners", _listener)
    _each(spec, "endpointGroups", _endpoint_group)
    if isinstance(spec.get("analytics"), dict):
        _fill(spec["analytics"], {"enabled": True})
    if isinstance(spec.get("failover"), dict):
        _fill(spec["failover"], _FAILOVER)
    if isinstance(spec.get("flowExecution"), dict):
        _fill(spec["flowExecution"], {"mode": "DEFAULT", "matchRequired": False})
    _each(spec, "flows", _flow)
    _each(spec, "plans", _plan)
    _each(spec, "resources", lambda r: _fill(r, {"enabled": True}))
    _each(spec, "pages", lambda p: _fill(p, {"published": False, "visibility": "PUBLIC"}))
    _services(spec, ("dynamicProperty",))
    templates = spec.get("responseTemplates")
    if isinstance(templates, dict):
        for per_type in templates.values():
            if isinstance(per_type, dict):
                for template in per_type.values():
                    if isinstance(template, dict):
                        _fill(template, {"propagateErrorKeyToLogs": False})
    return spec


def application_with_defaults(body: Mapping[str, Any]) -> dict[str, Any]:
    """``ApplicationSpec`` as the generated model holds ``body``."""
    spec = project(copy.deepcopy(dict(body)), "application")
    _fill(spec, {"groups": [], "metadata": [], "members": [], "notifyMembers": False, "status": "ACTIVE"})
    oauth = (spec.get("settings") or {}).get("oauth") if isinstance(spec.get("settings"), dict) else None
    if isinstance(oauth, dict):
        _fill(oauth, {"redirectUris": []})
    return spec


# -- what the import stores -------------------------------------------------------------------------
_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*[A-Za-z][^>]*>", re.DOTALL)
_DROPPED = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.DOTALL | re.IGNORECASE)


def strip_html(text: str | None) -> str | None:
    """``HtmlSanitizer.sanitize``: OWASP's sanitizer with a policy allowing no element."""
    if text is None:
        return None
    out = _DROPPED.sub("", text)
    out = _TAG.sub("", out)
    return html.unescape(out)


def _entrypoint_configuration(entrypoint: dict[str, Any]) -> None:
    if entrypoint.get("type") == "http-proxy":
        entrypoint["configuration"] = {}


def stored(
    spec: dict[str, Any],
    *,
    env_metadata: tuple[Mapping[str, Any], ...] = (),
    known_categories: frozenset[str] = frozenset(),
    known_groups: frozenset[str] = frozenset(),
    env_id: str = "",
    warnings: list[str] | None = None,
    sanitize_path: Callable[[str | None], str] = lambda p: p or "/",
    metadata_key: Callable[[str], str] = lambda n: n,
    primary_owner: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The export of what the import stores for ``spec`` (already :func:`with_defaults`)."""
    out = copy.deepcopy(spec)
    out.pop("primaryOwner", None)  # never read by the import; the export sets the real one (below)
    if primary_owner is not None:
        out["primaryOwner"] = dict(primary_owner)
    out["description"] = strip_html(out.get("description"))
    if out["description"] is None:
        del out["description"]
    for listener in out.get("listeners") or []:
        if not isinstance(listener, dict):
            continue
        for path in listener.get("paths") or []:
            if isinstance(path, dict):
                path["path"] = sanitize_path(path.get("path"))
        _each(listener, "entrypoints", _entrypoint_configuration)
    for group in out.get("endpointGroups") or []:
        if isinstance(group, dict):
            group.setdefault("loadBalancer", {"type": "ROUND_ROBIN"})
            for endpoint in group.get("endpoints") or []:
                if (
                    isinstance(endpoint, dict)
                    and isinstance(endpoint.get("weight"), int)
                    and endpoint["weight"] <= 0
                ):
                    endpoint["weight"] = 1
    if not isinstance(out.get("analytics"), dict):
        out["analytics"] = {"enabled": True}
    out.setdefault("flowExecution", {"mode": "DEFAULT", "matchRequired": False})

    def flow_lists(flow: dict[str, Any]) -> None:
        flow.setdefault("request", [])
        flow.setdefault("response", [])

    _each(out, "flows", flow_lists)
    for plan in out.get("plans") or []:
        if isinstance(plan, dict):
            plan.pop("generalConditions", None)
            _each(plan, "flows", flow_lists)
    warn = warnings if warnings is not None else []
    categories = []
    for category in out.get("categories") or []:
        if category in known_categories:
            categories.append(category)
        else:
            warn.append(f"category [{category}] is not defined in environment [{env_id}]")
    out["categories"] = categories
    groups = []
    for group_name in out.get("groups") or []:
        if group_name in known_groups:
            groups.append(group_name)
        else:
            warn.append(f"Group [{group_name}] could not be found in environment [{env_id}]")
    out["groups"] = groups
    out["metadata"] = merged_metadata(out.get("metadata") or [], env_metadata, metadata_key)
    return out


def merged_metadata(
    entries: list[dict[str, Any]],
    env_metadata: tuple[Mapping[str, Any], ...],
    metadata_key: Callable[[str], str],
) -> list[dict[str, Any]]:
    """An API's metadata as ``ApiImportExportServiceImpl.exportApiMetadata`` sees it: ``email-support``
    (kept by every import), the API's entries (key derived from the name when absent, a null value
    read as ``""``), and the environment's entries (as ``defaultValue``) for keys the API lacks."""
    by_key: dict[str, dict[str, Any]] = {"email-support": dict(EMAIL_SUPPORT)}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        item = {k: v for k, v in entry.items() if k in ("key", "name", "format", "value")}
        item["key"] = str(entry.get("key") or metadata_key(str(entry.get("name", ""))))
        item.setdefault("value", "")
        by_key[item["key"]] = item
    for env_entry in env_metadata:
        key = str(env_entry.get("key") or metadata_key(str(env_entry.get("name", ""))))
        if key in by_key:
            by_key[key]["defaultValue"] = env_entry.get("value")
        else:
            by_key[key] = {
                "key": key,
                "name": env_entry.get("name", key),
                "format": env_entry.get("format", "STRING"),
                "defaultValue": env_entry.get("value"),
            }
    return list(by_key.values())
