"""Management API v2 (``/management/v2/organizations/{orgId}/environments/{envId}``): the console's
view of the same store, plus the CRD import endpoints APIM <= 4.11 GKO used.

Server facts applied (reference notes): list bodies are ``{data, pagination, links}`` with ``page`` from 1
and null fields omitted; ``metadata`` appears only in list/search results with ``expands=metadata``;
``ETag`` is the quoted ``updatedAt`` in epoch millis and an ``If-Match`` mismatch is a 412 with an empty
body; a context path in use is a 400 ``Path [/foo/] already exists``; deleting an API that still has
PUBLISHED or DEPRECATED plans needs ``closePlans=true`` (which closes them first).

Choices where the sources are silent: a console edit (``PUT /apis/{apiId}`` with ``UpdateApiV4``) changes
the fields it carries and keeps those it omits; plans are not part of the mAPI v2 API view (they are a
separate resource there); the emulator does not refuse to delete a STARTED API.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from . import ids
from .context import Call, Route
from .messages import HttpProblem, Response, parse_json_body
from .store import ApiRecord, ApplicationRecord, EnvironmentData
from .validation import API_CRD_SPEC, APPLICATION_CRD_SPEC, UPDATE_API_V4, validate

PREFIX = "/management/v2/organizations/{orgId}/environments/{envId}"
# mAPI v2 ApiV4 field <- Automation ApiV4Spec field, for fields a console edit may change
_EDITABLE = {
    "name": "name",
    "apiVersion": "version",
    "description": "description",
    "listeners": "listeners",
    "endpointGroups": "endpointGroups",
    "analytics": "analytics",
    "failover": "failover",
    "flowExecution": "flowExecution",
    "flows": "flows",
    "services": "services",
    "allowedInApiProducts": "allowedInApiProducts",
    "allowMultiJwtOauth2Subscriptions": "allowMultiJwtOauth2Subscriptions",
    "visibility": "visibility",
    "labels": "labels",
    "tags": "tags",
    "lifecycleState": "lifecycleState",
    "categories": "categories",
    "groups": "groups",
    "properties": "properties",
    "resources": "resources",
    "responseTemplates": "responseTemplates",
}
_DEFAULT_OWNER = {"id": ids.name_uuid("emulator-user:admin"), "displayName": "admin", "type": "USER"}
_OPEN_PLAN = ("PUBLISHED", "DEPRECATED")


@functools.lru_cache(maxsize=65536)
def iso(ms: int) -> str:
    """Java ``OffsetDateTime`` as Jackson writes it: ``2026-11-23T11:20:00.123Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def etag(record: ApiRecord) -> str:
    return f'"{record.updated_at}"'


@functools.lru_cache(maxsize=4096)
def metadata_key(name: str) -> str:
    """APIM's key for a metadata entry without an explicit ``key``: lower case, hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def metadata_map(record: ApiRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in record.spec.get("metadata") or []:
        key = entry.get("key") or metadata_key(str(entry.get("name", "")))
        value = entry.get("value", entry.get("defaultValue"))
        if value is not None:
            out[key] = value
    return out


def api_view(record: ApiRecord, expands: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``ApiV4`` (or a minimal ``ApiV2``) as mAPI v2 shows the record.

    The view shares objects with the stored record (no copies, for speed): serialize it before the
    store lock is released and never mutate it.
    """
    spec = record.spec
    view: dict[str, Any] = {
        "id": record.id,
        "crossId": record.cross_id,
        "name": spec.get("name"),
        "apiVersion": spec.get("version"),
        "definitionVersion": record.definition_version,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "state": spec.get("state", "STOPPED"),
        "visibility": spec.get("visibility", "PRIVATE"),
        "lifecycleState": spec.get("lifecycleState", "CREATED"),
        "disableMembershipNotifications": False,
        "primaryOwner": spec.get("primaryOwner") or _DEFAULT_OWNER,
        "definitionContext": {"origin": record.origin, "mode": "FULLY_MANAGED", "syncFrom": record.sync_from},
        "originContext": {"origin": record.origin},
    }
    if record.origin == "KUBERNETES":
        view["originContext"].update(mode="FULLY_MANAGED", syncFrom=record.sync_from)
    if record.deployed_at:
        view["deployedAt"] = iso(record.deployed_at)
    if spec.get("description"):
        view["description"] = spec["description"]
    for field in ("labels", "tags", "categories", "groups", "properties", "resources"):
        view[field] = spec.get(field) or []
    if record.definition_version == "V4":
        view["type"] = spec.get("type")
        view["allowedInApiProducts"] = bool(spec.get("allowedInApiProducts", False))
        view["allowMultiJwtOauth2Subscriptions"] = bool(spec.get("allowMultiJwtOauth2Subscriptions", False))
        view["flows"] = spec.get("flows") or []
        for field in ("listeners", "endpointGroups", "analytics", "failover", "flowExecution", "services"):
            if spec.get(field) is not None:
                view[field] = spec[field]
        if spec.get("responseTemplates") is not None:
            view["responseTemplates"] = spec["responseTemplates"]
    else:
        paths = record.listener_paths()
        if paths:
            view["contextPath"] = paths[0][1].rstrip("/") or "/"
    if "metadata" in expands:
        view["metadata"] = metadata_map(record)
    if "deploymentState" in expands:
        deployed = record.deployed_at is not None and record.deployed_at >= record.updated_at
        view["deploymentState"] = "DEPLOYED" if deployed else "NEED_REDEPLOY"
    return view


def _int_arg(call: Call, name: str, default: int, minimum: int) -> int:
    raw = call.request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpProblem(400, f"{name} must be an integer", technical_code="pagination.invalid") from None
    if value < minimum:
        raise HttpProblem(
            400, f"{name} must be greater than or equal to {minimum}", technical_code="pagination.invalid"
        )
    return value


def _page(call: Call, ordered: list[str], data: EnvironmentData) -> Response:
    page = _int_arg(call, "page", 1, 1)
    per_page = _int_arg(call, "perPage", 10, 1)
    expands = frozenset(call.request.args("expands"))
    total = len(ordered)
    page_count = -(-total // per_page)
    if total and page > page_count:
        raise HttpProblem(400, "Pagination is not valid", technical_code="pagination.invalid")
    items = [api_view(data.apis[i], expands) for i in ordered[(page - 1) * per_page : page * per_page]]
    pagination: dict[str, Any] = {}
    if total:
        pagination = {
            "page": page,
            "perPage": per_page,
            "pageCount": page_count,
            "pageItemsCount": len(items),
            "totalCount": total,
        }
    req = call.request
    base = req.base_url + req.path
    keep = [(k, v) for k, vs in req.query.items() if k not in ("page", "perPage") for v in vs]

    def link(p: int) -> str:
        return base + "?" + urlencode([*keep, ("page", str(p)), ("perPage", str(per_page))])

    links: dict[str, str] = {"self": req.base_url + req.raw_target}
    if total:
        links["first"] = link(1)
        links["last"] = link(page_count)
        if page > 1:
            links["previous"] = link(page - 1)
        if page < page_count:
            links["next"] = link(page + 1)
    return Response.json(200, {"data": items, "pagination": pagination, "links": links})


# -- environment ------------------------------------------------------------------------------------
def get_environment(call: Call) -> Response:
    env = call.env
    body: dict[str, Any] = {"id": env.id, "name": env.name}
    if env.description:
        body["description"] = env.description
    return Response.json(200, body)


# -- APIs -------------------------------------------------------------------------------------------
def list_apis(call: Call) -> Response:
    data = call.ctx.store.env(call.org_id, call.env_id)
    return _page(call, data.sorted_api_ids(), data)


def search_apis(call: Call) -> Response:
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(400, "Request body must be an ApiSearchQuery object", technical_code="body.invalid")
    data = call.ctx.store.env(call.org_id, call.env_id)
    wanted_ids = body.get("ids")
    if wanted_ids:
        found = {i for i in wanted_ids if i in data.apis}
        ordered = sorted(found, key=lambda i: (data.apis[i].name.lower(), i))
    else:
        ordered = data.sorted_api_ids()
    query = (body.get("query") or "").strip().lower()
    if query:
        ordered = [i for i in ordered if _matches(data.apis[i], query)]
    versions = set(body.get("definitionVersions") or []) | (
        {body["definitionVersion"]} if body.get("definitionVersion") else set()
    )
    if versions:
        ordered = [i for i in ordered if data.apis[i].definition_version in versions]
    return _page(call, ordered, data)


def _matches(record: ApiRecord, query: str) -> bool:
    """Free-text search over name, description, id, HRID, labels and context paths."""
    spec = record.spec
    haystack = [record.name, str(spec.get("description", "")), record.id, record.hrid or ""]
    haystack += [str(label) for label in spec.get("labels") or []]
    haystack += [p for _, p in record.listener_paths()]
    return any(query in h.lower() for h in haystack)


def _get_record(call: Call) -> tuple[EnvironmentData, ApiRecord]:
    api_id = call.request.params["apiId"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.apis.get(api_id)
    if record is None:
        raise HttpProblem(
            404, f"Api [{api_id}] cannot be found.", technical_code="api.notFound", parameters={"api": api_id}
        )
    return data, record


def get_api(call: Call) -> Response:
    _, record = _get_record(call)
    return Response.json(200, api_view(record), {"ETag": etag(record)})


def update_api(call: Call) -> Response:
    data, record = _get_record(call)
    if_match = call.request.headers.get("if-match")
    if if_match is not None and if_match.strip().removeprefix("W/") not in (
        "*",
        etag(record),
        str(record.updated_at),
    ):
        raise HttpProblem(412, empty=True)
    body = parse_json_body(call.request)
    if (
        not isinstance(body, dict)
        or body.get("definitionVersion") != "V4"
        or record.definition_version != "V4"
    ):
        raise HttpProblem(
            400,
            "The emulator only updates V4 APIs with an UpdateApiV4 body",
            technical_code="api.invalid.definitionVersion",
        )
    details = validate(body, UPDATE_API_V4, "updateApi")
    if details:
        first = details[0]
        raise HttpProblem(400, f"Validation error: {first['location']}: {first['message']}", details=details)
    if body["type"] != record.spec.get("type"):
        raise HttpProblem(400, "API type cannot be changed", technical_code="api.type.invalid")
    spec = copy.deepcopy(record.spec)
    for view_field, spec_field in _EDITABLE.items():
        if body.get(view_field) is not None:  # absent fields keep their value
            spec[spec_field] = copy.deepcopy(body[view_field])
    updated = ApiRecord(**{**record.__dict__, "spec": spec})
    clashes = data.path_clashes(updated)
    if clashes:
        raise HttpProblem(400, f"Path [{clashes[0]}] already exists", technical_code="api.pathAlreadyExists")
    updated.updated_at = call.ctx.store.now_ms()
    data.put_api(updated)
    call.ctx.store.persist()
    return Response.json(200, api_view(updated), {"ETag": etag(updated)})


def delete_api(call: Call) -> Response:
    data, record = _get_record(call)
    plans = record.spec.get("plans") or [] if record.definition_version == "V4" else []
    open_plans = [p for p in plans if isinstance(p, dict) and p.get("status") in _OPEN_PLAN]
    if open_plans and not call.request.flag("closePlans"):
        raise HttpProblem(
            400,
            f"Api [{record.id}] cannot be deleted because it has published or deprecated plans; "
            "close them or use closePlans=true",
            technical_code="api.notDeletable",
            parameters={"api": record.id},
        )
    data.remove_api(record.id)
    call.ctx.store.persist()
    return Response.empty(204)


# -- CRD import (APIM <= 4.11 GKO path) -------------------------------------------------------------
def import_api_crd(call: Call) -> Response:
    body = parse_json_body(call.request)
    details = validate(body, API_CRD_SPEC, "apiCRDSpec")
    if details:
        first = details[0]
        raise HttpProblem(400, f"Validation error: {first['location']}: {first['message']}", details=details)
    dry_run = call.request.flag("dryRun")
    data = call.ctx.store.env(call.org_id, call.env_id)
    existing_id = data.api_by_cross_id.get(body["crossId"])
    existing = data.apis.get(existing_id) if existing_id else None
    spec: dict[str, Any] = {
        k: copy.deepcopy(v)
        for k, v in body.items()
        if k not in ("id", "crossId", "definitionContext", "plans", "notifyMembers", "members", "pages")
    }
    plans_out: dict[str, str] = {}
    plans: list[dict[str, Any]] = []
    for key, plan in (body.get("plans") or {}).items():
        item = {k: copy.deepcopy(v) for k, v in plan.items() if k not in ("crossId", "generalConditions")}
        item["hrid"] = str(plan.get("hrid") or key).replace(" ", "-").replace(".", "-")
        item.setdefault("name", key)
        item.setdefault("validation", "AUTO")
        plans.append(item)
        plans_out[key] = item["id"]
    spec["plans"] = plans
    ctx = body.get("definitionContext") or {}
    now = 0 if dry_run else call.ctx.store.now_ms()
    record = ApiRecord(
        id=existing.id if existing else str(body["id"]),
        cross_id=str(body["crossId"]),
        hrid=body.get("hrid") or (existing.hrid if existing else None),
        org_id=call.org_id,
        env_id=call.env_id,
        definition_version="V4",
        spec=spec,
        origin=str(ctx.get("origin", "kubernetes")).upper(),
        sync_from=str(ctx.get("syncFrom", "management")).upper(),
        created_at=existing.created_at if existing else now,
        updated_at=now,
        deployed_at=existing.deployed_at if existing else None,
    )
    if record.hrid:
        spec["hrid"] = record.hrid
    severe = [f"Path [{p}] already exists" for p in data.path_clashes(record)]
    if record.hrid and data.api_by_hrid.get(record.hrid, record.id) != record.id:
        severe.append(f"Hrid [{record.hrid}] is already used by another API")
    status: dict[str, Any] = {
        "organizationId": call.org_id,
        "environmentId": call.env_id,
        "id": record.id,
        "crossId": record.cross_id,
        "plans": plans_out,
        "state": spec.get("state", "STOPPED"),
    }
    if severe or dry_run:
        status["errors"] = {"severe": severe, "warning": []}
    if dry_run:
        return Response.json(200, status)
    if severe:
        raise HttpProblem(400, f"Unable to import because of errors [{', '.join(severe)}]")
    if any(p.get("status") in _OPEN_PLAN for p in plans) and spec.get("state", "STOPPED") == "STARTED":
        record.deployed_at = now
    data.put_api(record)
    call.ctx.store.persist()
    return Response.json(200, status)


def import_application_crd(call: Call) -> Response:
    body = parse_json_body(call.request)
    details = validate(body, APPLICATION_CRD_SPEC, "applicationCRDSpec")
    if details:
        first = details[0]
        raise HttpProblem(400, f"Validation error: {first['location']}: {first['message']}", details=details)
    data = call.ctx.store.env(call.org_id, call.env_id)
    hrid = body.get("hrid")
    app_id = body.get("id") or (ids.application_id(call.org_id, call.env_id, hrid) if hrid else None)
    if app_id is None:
        app_id = ids.name_uuid(f"{call.org_id}/{call.env_id}/application/{body['name']}")
    existing = data.apps.get(app_id)
    spec = {
        k: copy.deepcopy(v)
        for k, v in body.items()
        if k not in ("id", "primaryOwner", "notifyMembers", "origin")
    }
    spec.setdefault("status", "ACTIVE")
    if hrid is None and existing is not None:
        hrid = existing.hrid
    if hrid:
        spec["hrid"] = hrid
    status: dict[str, Any] = {"id": app_id, "organizationId": call.org_id, "environmentId": call.env_id}
    if call.request.flag("dryRun"):
        status["errors"] = {"severe": [], "warning": []}
        return Response.json(200, status)
    now = call.ctx.store.now_ms()
    data.put_app(
        ApplicationRecord(
            id=app_id,
            hrid=hrid,
            org_id=call.org_id,
            env_id=call.env_id,
            spec=spec,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
    )
    call.ctx.store.persist()
    return Response.json(200, status)


# The spec's two server URLs: with the organization, and without it (the environment alone decides).
PREFIX_WITHOUT_ORG = "/management/v2/environments/{envId}"
_ENDPOINTS = [
    ("GET", "", get_environment),
    ("GET", "/apis", list_apis),
    ("POST", "/apis/_search", search_apis),
    ("PUT", "/apis/_import/crd", import_api_crd),
    ("PUT", "/applications/_import/crd", import_application_crd),
    ("GET", "/apis/{apiId}", get_api),
    ("PUT", "/apis/{apiId}", update_api),
    ("DELETE", "/apis/{apiId}", delete_api),
]
ROUTES = [
    Route(method, prefix + path, handler)
    for prefix in (PREFIX, PREFIX_WITHOUT_ORG)
    for method, path, handler in _ENDPOINTS
]
