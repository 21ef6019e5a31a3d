"""Management API v1: only the two endpoints a GKO-compatible client still needs.

No specification of mAPI v1 is available here, so these follow the v1 conventions visible in GKO's
client and APIM's v1 entities, kept minimal. Assumptions:

* ``PUT /management/organizations/{orgId}/environments/{envId}/apis/import-crd?dryRun=`` takes a v2
  ``ApiDefinition`` spec as GKO sends it (``name``, ``version``, ``crossId``, ``proxy.virtual_hosts`` or
  ``proxy.context_path``, ``plans`` as a list, optional ``id``). The API is keyed by ``crossId`` in the
  environment (derived from the name when absent); its id is the body's ``id`` or u(crossId + envId). The
  answer is a v1 ``ApiEntity`` subset: ``id``, ``crossId``, ``name``, ``version``, ``description``,
  ``state``, ``visibility``, ``context_path``, ``definition_context``, ``plans`` (``id``, ``crossId``,
  ``name``, ``status``), ``created_at``/``updated_at`` in epoch millis. A path clash is a 400 with the same
  ``Path [/foo/] already exists`` message; ``dryRun=true`` validates and stores nothing.
* ``GET /management/organizations/{orgId}/environments/{envId}/applications/_paged`` answers a v1
  ``Page``: ``{data, page: {current, size, per_page, total_pages, total_elements}, metadata}`` with
  ``page`` (from 1), ``size`` (default 10), ``query`` (substring of name) and ``status`` (default
  ``ACTIVE``) parameters. Items are v1 ``ApplicationListItem`` subsets (snake_case, epoch millis).
"""

from __future__ import annotations

import copy
from typing import Any

from . import ids
from .context import Call, Route
from .messages import HttpProblem, Response, parse_json_body
from .store import ApiRecord
from .validation import API_V2_DEFINITION, validate

PREFIX = "/management/organizations/{orgId}/environments/{envId}"


def _v1_api_entity(record: ApiRecord) -> dict[str, Any]:
    spec = record.spec
    paths = record.listener_paths()
    out: dict[str, Any] = {
        "id": record.id,
        "crossId": record.cross_id,
        "name": spec.get("name"),
        "version": spec.get("version"),
        "description": spec.get("description", ""),
        "state": spec.get("state", "STOPPED"),
        "visibility": spec.get("visibility", "PRIVATE"),
        "lifecycle_state": spec.get("lifecycle_state", "CREATED"),
        "definition_context": {
            "origin": record.origin.lower(),
            "mode": "fully_managed",
            "syncFrom": record.sync_from.lower(),
        },
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "plans": [
            {
                "id": p.get("id"),
                "crossId": p.get("crossId"),
                "name": p.get("name"),
                "status": p.get("status", "PUBLISHED"),
            }
            for p in spec.get("plans") or []
            if isinstance(p, dict)
        ],
    }
    if paths:
        out["context_path"] = paths[0][1].rstrip("/") or "/"
    return out


def import_crd(call: Call) -> Response:
    body = parse_json_body(call.request)
    details = validate(body, API_V2_DEFINITION, "apiDefinition")
    if details:
        first = details[0]
        raise HttpProblem(400, f"Validation error: {first['location']}: {first['message']}", details=details)
    data = call.ctx.store.env(call.org_id, call.env_id)
    cross_id = str(body.get("crossId") or ids.name_uuid(f"{call.org_id}/api-v2/{body['name']}"))
    existing_id = data.api_by_cross_id.get(cross_id)
    existing = data.apis.get(existing_id) if existing_id else None
    api_id = existing.id if existing else str(body.get("id") or ids.name_uuid(cross_id + call.env_id))
    spec = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "crossId")}
    for plan in spec.get("plans") or []:
        if isinstance(plan, dict):
            plan_key = str(plan.get("crossId") or plan.get("name") or "")
            plan.setdefault("crossId", ids.name_uuid(cross_id + plan_key))
            plan.setdefault("id", ids.name_uuid(api_id + plan_key))
    ctx = spec.get("definition_context") or {}
    dry_run = call.request.flag("dryRun")
    now = 0 if dry_run else call.ctx.store.now_ms()
    record = ApiRecord(
        id=api_id,
        cross_id=cross_id,
        hrid=None,
        org_id=call.org_id,
        env_id=call.env_id,
        definition_version="V2",
        spec=spec,
        origin=str(ctx.get("origin", "kubernetes")).upper(),
        sync_from=str(ctx.get("syncFrom", "management")).upper(),
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    clashes = data.path_clashes(record)
    if clashes:
        raise HttpProblem(400, f"Path [{clashes[0]}] already exists", technical_code="api.pathAlreadyExists")
    if dry_run:
        return Response.json(200, _v1_api_entity(record))
    data.put_api(record)
    call.ctx.store.persist()
    return Response.json(200, _v1_api_entity(record))


def paged_applications(call: Call) -> Response:
    req = call.request
    try:
        page = max(1, int(req.arg("page") or 1))
        size = max(1, int(req.arg("size") or 10))
    except ValueError:
        raise HttpProblem(400, "page and size must be integers") from None
    status = (req.arg("status") or "ACTIVE").upper()
    query = (req.arg("query") or "").lower()
    data = call.ctx.store.env(call.org_id, call.env_id)
    apps = [data.apps[i] for i in data.sorted_app_ids()]
    apps = [a for a in apps if str(a.spec.get("status", "ACTIVE")).upper() == status]
    if query:
        apps = [a for a in apps if query in str(a.spec.get("name", "")).lower()]
    total = len(apps)
    chunk = apps[(page - 1) * size : page * size]
    items = []
    for app in chunk:
        item: dict[str, Any] = {
            "id": app.id,
            "name": app.spec.get("name"),
            "description": app.spec.get("description"),
            "status": app.spec.get("status", "ACTIVE"),
            "type": "SIMPLE" if not (app.spec.get("settings") or {}).get("oauth") else "BACKEND_TO_BACKEND",
            "origin": app.origin,
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "owner": {"id": ids.name_uuid("emulator-user:admin"), "displayName": "admin"},
            "settings": copy.deepcopy(app.spec.get("settings") or {}),
        }
        # APIM's ApplicationListItem has no hrid (and no metadata): a client reads each one to know.
        items.append(item)
    return Response.json(
        200,
        {
            "data": items,
            "page": {
                "current": page,
                "size": len(items),
                "per_page": size,
                "total_pages": -(-total // size),
                "total_elements": total,
            },
            "metadata": {},
        },
    )


ROUTES = [
    Route("PUT", PREFIX + "/apis/import-crd", import_crd),
    Route("GET", PREFIX + "/applications/_paged", paged_applications),
]
