"""Management API v1, environment scope: the v2 ``ApiDefinition`` import GKO uses, the v1 API delete, and
the paged application listing.

``PUT /management/organizations/{orgId}/environments/{envId}/apis/import-crd?dryRun=`` (mAPI v1
``ApisResource.importApiDefinitionCrd`` -> ``ApiCRDServiceImpl.importApiDefinitionCRD`` ->
``ApiDuplicatorServiceImpl`` and ``ApiIdsCalculatorServiceImpl``):

* Needs ``ENVIRONMENT_API[C]`` or ``[U]``. The body is an ``ApiCRDEntity``: ``id``, ``crossId``, ``name``,
  ``version`` and ``description`` are ``@NotNull @NotEmpty`` (a 400 of mAPI v1's
  ``ConstraintValidationError`` shape), ``name`` and ``description`` go through ``HtmlSanitizer``, the paths
  are ``proxy.virtual_hosts`` (``proxy.context_path`` is read as one virtual host).
* ``validateAndSanitizeApiDefinitionCRD``: path errors are severe, unknown categories warnings. A dry run
  is always 200 with ``ApiCRDStatusEntity`` ``{organizationId, environmentId, id, crossId, state, errors:
  {severe, warning}, plans: {}}``; otherwise severe errors are a 400 whose body is the bare
  ``{severe, warning}`` (``Response.status(400).entity(validationResult)``).
* The API is found by crossId. Ids: an existing API keeps its id; each plan *with a crossId* takes the id of
  the existing plan with that crossId, or a **random** id; a plan without crossId keeps the id it was sent
  with; a plan without id gets a random one (``generateEmptyIds``). A new API from the ``kubernetes`` origin
  keeps the ids it was sent (``canRegenerateId``), from another origin they are re-derived
  (``UuidString.generateForEnvironment``).
* Updating an existing API needs environment ADMIN or ``API_DEFINITION[U]`` on it (403 otherwise,
  ``updateWithImportedDefinition``). Existing plans whose id is not in the import are deleted; deleting a
  PUBLISHED or DEPRECATED plan that is not keyless and has active subscriptions fails with 400 ``You can't
  delete a plan with existing subscriptions. Please close it instead.`` (``PlanServiceImpl.delete``) after the
  API itself was updated and earlier plans deleted: the import is not transactional.
* Then the definition context is set, the API deployed when ``syncFrom`` is management, and its primary
  ownership moves to the caller (``transferOwnerShip``). The answer is ``ApiCRDStatusEntity`` with ``plans``
  mapping each plan's crossId to its id and ``errors`` the validation result. A plan stored without crossId
  breaks that map (``Collectors.toMap`` on a null key, then Jackson's null map key): a 500 after the import
  is done (see docs/emulator-fidelity.md, not settled beyond "an error after the import").

``DELETE .../apis/{api}?closePlans=`` (v1 ``ApiResource.deleteApi``, ``API_DEFINITION[D]``) is
``ApiServiceImpl.delete`` of the v2 service: see :func:`.automation.delete_api_record`.

``GET .../applications/_paged`` (v1 ``ApplicationsResource.getApplicationsPaged``,
``ENVIRONMENT_APPLICATION[R]``): ``status`` defaults to ``ACTIVE``; a caller that is not organization ADMIN
asking for ``ARCHIVED`` gets a 403 and otherwise sees only the applications it is a member of. Items are
``ApplicationListItem`` subsets (snake_case, epoch millis): no ``hrid``, no ``metadata``.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import ids, roles
from .automation import delete_api_record
from .context import Call, Route
from .mapi_v2 import primary_owner
from .messages import MAPI_V1, HttpProblem, Response, forbidden, parse_json_body
from .normalise import strip_html
from .store import ApiRecord, EnvironmentData, normalize_path
from .subscription_rules import count_plan_subscriptions
from .validation import API_V2_DEFINITION, v1_body_problem, validate

PREFIX = "/management/organizations/{orgId}/environments/{envId}"
_OPEN = ("PUBLISHED", "DEPRECATED")


def _virtual_hosts(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("proxy")
    proxy: dict[str, Any] = raw if isinstance(raw, dict) else {}
    hosts = proxy.get("virtual_hosts") if isinstance(proxy.get("virtual_hosts"), list) else None
    if hosts is None and proxy.get("context_path"):
        hosts = [{"path": proxy["context_path"]}]
    return [h for h in hosts or [] if isinstance(h, dict)]


def _plans_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [copy.deepcopy(p) for p in body.get("plans") or [] if isinstance(p, dict)]


def import_crd(call: Call) -> Response:
    if not (call.has_env("API", "C") or call.has_env("API", "U")):
        raise forbidden()
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(400, "must not be null")
    errors = validate(body, API_V2_DEFINITION)
    if errors:
        raise v1_body_problem(errors, "importApiDefinitionCrd", "api")
    if not isinstance(body.get("proxy"), dict):  # extractPaths: api.getProxy().getVirtualHosts()
        raise HttpProblem(500, "java.lang.NullPointerException")
    data = call.ctx.store.env(call.org_id, call.env_id)
    cross_id = str(body["crossId"])
    existing_id = data.api_by_cross_id.get(cross_id)
    existing = data.apis.get(existing_id) if existing_id else None
    raw_context = body.get("definition_context")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    origin = str(context.get("origin") or "management").lower()
    sync_from = str(context.get("syncFrom") or "management").lower()

    spec: dict[str, Any] = {
        k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "crossId", "plans")
    }
    spec["name"] = strip_html(str(body["name"]))
    spec["description"] = strip_html(str(body["description"]))
    spec.setdefault("visibility", "PRIVATE")
    hosts = _virtual_hosts(body)
    spec["proxy"] = {
        **{k: v for k, v in (body.get("proxy") or {}).items() if k != "context_path"},
        "virtual_hosts": [{**h, "path": normalize_path(h.get("path"))} for h in hosts],
    }
    plans = _plans_of(body)
    if existing is not None:
        api_id = existing.id
        by_cross = {
            str(p.get("crossId")): str(p.get("id"))
            for p in existing.spec.get("plans") or []
            if p.get("crossId")
        }
        for plan in plans:
            if plan.get("crossId"):
                plan["id"] = by_cross.get(str(plan["crossId"])) or str(uuid.uuid4())
    elif origin == "kubernetes":
        api_id = str(body["id"])
    else:
        api_id = ids.name_uuid(call.env_id + str(body["id"]))
        for plan in plans:
            if plan.get("id"):
                plan["id"] = ids.name_uuid(call.env_id + api_id + str(plan["id"]))
    for plan in plans:
        plan.setdefault("id", str(uuid.uuid4()))
        plan["id"] = str(plan["id"]) if plan["id"] else str(uuid.uuid4())
    spec["plans"] = plans

    record = ApiRecord(
        id=api_id,
        cross_id=cross_id,
        hrid=None,
        org_id=call.org_id,
        env_id=call.env_id,
        definition_version="V2",
        spec=spec,
        origin=origin.upper(),
        sync_from=sync_from.upper(),
    )
    severe = [f"Path [{p}] already exists" for p in data.path_clashes(record)]
    warnings = [
        f"category [{c}] is not defined in environment [{call.env_id}]" for c in body.get("categories") or []
    ]
    spec["categories"] = []
    status: dict[str, Any] = {
        "organizationId": call.org_id,
        "environmentId": call.env_id,
        "id": str(body["id"]),
        "crossId": cross_id,
        "errors": {"severe": severe, "warning": warnings},
        "plans": {},
    }
    if body.get("state") is not None:
        status["state"] = body["state"]
    if call.request.flag("dryRun"):
        return Response.json(200, status)
    if severe:
        raise HttpProblem(400, "validation", body={"severe": severe, "warning": warnings})
    if existing is not None and not (
        call.is_org_admin
        or "ADMIN" in call.user.roles_on(roles.ENVIRONMENT, call.env_id)
        or call.has_member(roles.API, existing.members, "DEFINITION", "U")
    ):
        raise forbidden()
    now = call.ctx.store.now_ms()
    record.created_at = existing.created_at if existing else now
    record.updated_at = now
    record.deployed_at = existing.deployed_at if existing else None
    record.members = dict(existing.members) if existing else {call.user.id: roles.PRIMARY_OWNER}
    if existing is not None:
        _delete_removed_plans(call, data, existing, record)
    record.subscriptions = {
        k: v for k, v in (existing.subscriptions if existing else {}).items() if k in {p["id"] for p in plans}
    }
    if sync_from == "management":
        record.deployed_at = now
    # transferOwnerShip: the caller becomes the primary owner, the former one drops to OWNER
    members = {u: ("OWNER" if r == roles.PRIMARY_OWNER else r) for u, r in record.members.items()}
    members[call.user.id] = roles.PRIMARY_OWNER
    record.members = members
    data.put_api(record)
    call.ctx.store.persist()
    if any(not p.get("crossId") for p in plans):
        raise HttpProblem(500, "Duplicate key null")
    status["id"] = record.id
    status["plans"] = {str(p["crossId"]): str(p["id"]) for p in plans}
    status["errors"] = {"severe": [], "warning": warnings}
    return Response.json(200, status)


def _delete_removed_plans(call: Call, data: EnvironmentData, existing: ApiRecord, record: ApiRecord) -> None:
    """``createOrUpdatePlans``: delete the existing plans the import does not name; stop at the first that
    ``PlanServiceImpl.delete`` refuses, with the API already updated and earlier deletions done."""
    kept_ids = {str(p.get("id")) for p in record.spec.get("plans") or []}
    remaining = [p for p in existing.spec.get("plans") or [] if isinstance(p, dict)]
    for plan in list(remaining):
        plan_id = str(plan.get("id"))
        if plan_id in kept_ids:
            continue
        security = plan.get("security")
        security_type = security.get("type") if isinstance(security, dict) else security
        if (
            security_type != "KEY_LESS"
            and plan.get("status") in _OPEN
            and existing.subscriptions.get(plan_id, 0) + count_plan_subscriptions(data, plan_id) > 0
        ):
            half = ApiRecord(**{**record.__dict__, "spec": {**record.spec, "plans": remaining}})
            half.subscriptions = dict(existing.subscriptions)
            data.put_api(half)
            call.ctx.store.persist()
            raise HttpProblem(
                400,
                "You can't delete a plan with existing subscriptions. Please close it instead.",
                technical_code="plan.notDeletable",
                parameters={"plan": plan_id},
            )
        remaining.remove(plan)


def delete_api(call: Call) -> Response:
    api_id = call.request.params["apiId"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.apis.get(api_id)
    call.require_member(roles.API, record.members if record else None, "DEFINITION", "D")
    if record is None:
        raise HttpProblem(
            404, f"Api [{api_id}] cannot be found.", technical_code="api.notFound", parameters={"api": api_id}
        )
    delete_api_record(data, record, close_plans=call.request.flag("closePlans"))
    call.ctx.store.persist()
    return Response.empty(204)


def paged_applications(call: Call) -> Response:
    call.require_env("APPLICATION", "R")
    req = call.request
    try:
        page = max(1, int(req.arg("page") or 1))
        size = max(1, int(req.arg("size") or 10))
    except ValueError:
        raise HttpProblem(404, "HTTP 404 Not Found") from None
    status = (req.arg("status") or "ACTIVE").upper()
    if not call.is_org_admin and status == "ARCHIVED":
        raise forbidden()
    query = (req.arg("query") or "").lower()
    data = call.ctx.store.env(call.org_id, call.env_id)
    apps = [data.apps[i] for i in data.sorted_app_ids()]
    apps = [a for a in apps if a.status == status]
    if not call.is_org_admin:
        apps = [a for a in apps if call.user.id in a.members]
    if query:
        apps = [a for a in apps if query in str(a.spec.get("name", "")).lower()]
    total = len(apps)
    chunk = apps[(page - 1) * size : page * size]
    items = []
    for app in chunk:
        owner = primary_owner(app, call.ctx)
        item: dict[str, Any] = {
            "id": app.id,
            "name": app.spec.get("name"),
            "description": app.spec.get("description"),
            "status": app.status,
            "type": "SIMPLE" if not (app.spec.get("settings") or {}).get("oauth") else "BACKEND_TO_BACKEND",
            "origin": app.origin,
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "owner": {"id": owner["id"], "displayName": owner["displayName"]},
            "settings": copy.deepcopy(app.spec.get("settings") or {}),
        }
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
    Route("PUT", PREFIX + "/apis/import-crd", import_crd, MAPI_V1),
    Route("DELETE", PREFIX + "/apis/{apiId}", delete_api, MAPI_V1),
    Route("GET", PREFIX + "/applications/_paged", paged_applications, MAPI_V1),
]
