"""Management API v2 (``/management/v2/organizations/{orgId}/environments/{envId}``): the console's
view of the same store, plus the CRD import endpoints APIM <= 4.11 GKO used.

Read from the server (mapi-v2 ``resource/api/ApisResource``, ``ApiResource``, ``pagination/*``;
service ``ApiSearchServiceImpl``, v4 ``ApiServiceImpl``):

* ``GET /apis`` is a repository listing sorted by name then id (``ApiServiceImpl.findAll``,
  ``JdbcApiRepository.applySortable``); ``POST /apis/_search`` is served by the node's search index
  (:mod:`.search`) and accepts ``sortBy`` (``ApiSortByParam``: anything else is a 400
  ``Invalid sortBy parameter: x``) and ``manageOnly`` (default ``true``). Both need
  ``ENVIRONMENT_API[R]`` and show a caller that is not organization ADMIN only its APIs.
* List bodies are ``{data, pagination, links}``; ``pagination`` always has its five fields (zeros when
  empty, ``PaginationInfo``); ``links`` follows ``PaginationLinks`` (only ``self`` for one page, absent for
  a page past the end). ``_search`` past the last page is a 400 ``Pagination is not valid``; ``GET /apis``
  answers an empty page. ``metadata`` appears only with ``expands=metadata`` where the version has it.
* ``GET/PUT/DELETE /apis/{apiId}`` and ``POST /apis/{apiId}/_detach`` need ``API_DEFINITION`` on the API.
  ``ETag`` is the quoted ``updatedAt`` in epoch millis; an ``If-Match`` mismatch is a 412 with an empty
  body. DELETE follows ``ApiServiceImpl.delete`` for V2 and V4 APIs (see
  :func:`.automation.delete_api_record`).

Choice where the source is not followed in full: a console edit (``PUT /apis/{apiId}`` with
``UpdateApiV4``) changes the fields it carries and keeps those it omits.

Why one long module: every handler here reads the same store through the same listing, pagination
and permission rules, which are the bulk of it; each handler is short.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import UTC, datetime
from typing import Any

from . import ids, roles
from .automation import _REFUSED_MOVES, delete_api_record
from .context import Call, Context, Route, owner_view
from .messages import MAPI_V2, HttpProblem, Response, parse_json_body
from .normalise import strip_html
from .search import IndexedApi
from .store import ApiRecord, ApplicationRecord, EnvironmentData, normalize_path
from .validation import API_CRD_SPEC, APPLICATION_CRD_SPEC, UPDATE_API_V4, body_problem, validate

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


def primary_owner(record: ApiRecord | ApplicationRecord, ctx: Context | None) -> dict[str, Any]:
    owner = owner_view(ctx, record.members) if ctx is not None else None
    return dict(owner) if owner is not None else dict(_DEFAULT_OWNER)


def api_view(
    record: ApiRecord, expands: frozenset[str] = frozenset(), ctx: Context | None = None
) -> dict[str, Any]:
    """``ApiV4`` (or ``ApiV2``) as mAPI v2 shows the record.

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
        # a v2 definition spells it lifecycle_state (io.gravitee.definition.model.Api, the v2 model)
        "lifecycleState": spec.get("lifecycleState") or spec.get("lifecycle_state") or "CREATED",
        "disableMembershipNotifications": False,
        "primaryOwner": primary_owner(record, ctx),
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
            view["contextPath"] = paths[0][1]
        view["proxy"] = {
            "virtualHosts": [
                {
                    k: v
                    for k, v in (("host", host or None), ("path", path), ("overrideEntrypoint", False))
                    if v is not None
                }
                for host, path in paths
            ]
        }
    if "metadata" in expands:
        view["metadata"] = metadata_map(record)
    if "deploymentState" in expands:
        deployed = record.deployed_at is not None and record.deployed_at >= record.updated_at
        view["deploymentState"] = "DEPLOYED" if deployed else "NEED_REDEPLOY"
    return view


def index_doc(record: ApiRecord, ctx: Context) -> IndexedApi:
    """The Lucene document ``ApiDocumentTransformer`` would build for ``record``."""
    spec = record.spec
    owner_id = next((u for u, r in record.members.items() if r == roles.PRIMARY_OWNER), None)
    owner = ctx.directory.accounts.by_id.get(owner_id) if owner_id else None
    return IndexedApi(
        id=record.id,
        name=record.name,
        description=str(spec.get("description") or ""),
        hrid=record.hrid or "",
        labels=tuple(str(label) for label in spec.get("labels") or []),
        paths=tuple(p for _, p in record.listener_paths()),
        definition_version=record.definition_version,
        api_type=str(spec.get("type") or ""),
        state=str(spec.get("state") or "STOPPED"),
        visibility=str(spec.get("visibility") or "PRIVATE"),
        lifecycle=str(spec.get("lifecycleState") or spec.get("lifecycle_state") or "CREATED"),
        tags=tuple(str(t) for t in spec.get("tags") or []),
        categories=tuple(str(c) for c in spec.get("categories") or []),
        owner=owner.display_name if owner else "",
    )


def _int_arg(call: Call, name: str, default: int) -> int:
    raw = call.request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        # a @QueryParam Integer that does not parse: JAX-RS answers 404 (ParamException.QueryParamException)
        raise HttpProblem(404, "HTTP 404 Not Found") from None
    if value < 1:
        raise HttpProblem(
            400,
            "Validation error",
            details=[
                {
                    "message": f"Pagination {name} param must be >= 1",
                    "location": "paginationParam." + name,
                    "invalidValue": value,
                }
            ],
        )
    return value


def _links(call: Call, total: int, page: int, per_page: int) -> dict[str, str] | None:
    """``PaginationLinks.computePaginationLinks``: only ``self`` for zero or one page, nothing for a page
    past the end, else first/last/next/previous built from the request URI (``page=`` replaced or added,
    ``perPage=`` replaced only when the request had it)."""
    req = call.request
    self_link = req.base_url + req.raw_target
    pages = -(-total // per_page)
    if total == 0 or pages == 1:
        return {"self": self_link}
    if page > pages:
        return None
    if not req.query:
        template = self_link + "?page={page}"
    else:
        template = self_link
        if req.arg("page") is not None:
            template = re.sub(r"page=(\w*)", "page={page}", template, count=1)
        else:
            template += "&page={page}"
        if req.arg("perPage") is not None:
            template = re.sub(r"perPage=(\w*)", "perPage={perPage}", template, count=1)

    def link(p: int) -> str:
        return template.replace("{page}", str(p)).replace("{perPage}", str(per_page))

    links = {
        "first": link(1),
        "last": link(pages),
        "next": link(min(page + 1, pages)),
        "previous": link(max(1, page - 1)),
        "self": self_link,
    }
    if page == 1:
        del links["previous"]
    elif page == pages:
        del links["next"]
    return links


def _respond_page(call: Call, items: list[dict[str, Any]], total: int, page: int, per_page: int) -> Response:
    """``ApisResponse``: ``PaginationInfo.computePaginationInfo`` (zeros when empty) and the links."""
    body: dict[str, Any] = {
        "data": items,
        "pagination": {
            "page": page,
            "perPage": per_page,
            "pageItemsCount": len(items),
            "pageCount": -(-total // per_page) if total > 0 else 0,
            "totalCount": total,
        },
    }
    links = _links(call, total, page, per_page)
    if links is not None:
        body["links"] = links
    return Response.json(200, body)


def _expands(call: Call) -> frozenset[str]:
    expands = set(call.request.args("expands"))
    if not call.version.metadata_expand:
        expands.discard("metadata")
    return frozenset(expands)


def _can_manage(role: str | None) -> bool:
    """``ApiAuthorizationServiceImpl.canManageApi``: an API role with C, U or D on a permission other than
    RATING and RATING_ANSWER."""
    if role is None:
        return False
    perms = roles.permissions_of(roles.API, [role])
    return any(
        any(a in acls for a in "CUD")
        for perm, acls in perms.items()
        if perm not in ("RATING", "RATING_ANSWER")
    )


def _visible(call: Call, record: ApiRecord | None, manage_only: bool) -> bool:
    """``findApiIdsByUserId``: the APIs the caller is a member of (with a managing role if
    ``manage_only``); group memberships are not modelled."""
    if record is None:
        return False
    role = record.members.get(call.user.id)
    return _can_manage(role) if manage_only else role is not None


# -- environment ------------------------------------------------------------------------------------
def get_environment(call: Call) -> Response:
    """``EnvironmentResource.getEnvironment``: no permission needed."""
    env = call.env
    body: dict[str, Any] = {"id": env.id, "name": env.name}
    if env.description:
        body["description"] = env.description
    return Response.json(200, body)


# -- APIs -------------------------------------------------------------------------------------------
def list_apis(call: Call) -> Response:
    """``GET /apis``: ``ApiServiceImpl.findAll``, a repository query sorted by name (not the search index);
    a non-admin sees only the APIs it manages; a page past the end is an empty page, not an error."""
    call.require_env("API", "R")
    page = _int_arg(call, "page", 1)
    per_page = _int_arg(call, "perPage", 10)
    data = call.ctx.store.env(call.org_id, call.env_id)
    ordered = [i for i in data.sorted_api_ids() if data.apis[i].spec.get("type") != "EDGE"]
    if not call.is_org_admin:
        ordered = [i for i in ordered if _visible(call, data.apis[i], True)]
        if not ordered:
            return _respond_page(call, [], 0, page, per_page)
    expands = _expands(call)
    chunk = ordered[(page - 1) * per_page : page * per_page]
    items = [api_view(data.apis[i], expands, call.ctx) for i in chunk]
    return _respond_page(call, items, len(ordered), page, per_page)


def search_apis(call: Call) -> Response:
    """``POST /apis/_search``: see :mod:`.search` for where the ids and their order come from."""
    call.require_env("API", "R")
    page = _int_arg(call, "page", 1)
    per_page = _int_arg(call, "perPage", 10)
    sort_by = call.request.arg("sortBy")
    if sort_by is not None and sort_by not in call.version.sort_by_values:
        raise HttpProblem(400, f"Invalid sortBy parameter: {sort_by}")
    manage_only = (call.request.arg("manageOnly") or "true").lower() != "false"
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(
            400,
            "Cannot deserialize value of type `ApiSearchQuery` from Array value",
            technical_code="invalidValue",
        )
    data = call.ctx.store.env(call.org_id, call.env_id)
    docs = [d for d in call.ctx.search.view(call.node, (call.org_id, call.env_id)) if d.api_type != "EDGE"]
    wanted_ids = body.get("ids")
    if wanted_ids:
        wanted = set(wanted_ids)
        docs = [d for d in docs if d.id in wanted]
    query = (body.get("query") or "").strip().lower()
    if query:
        docs = [d for d in docs if _matches(d, query)]
    versions = {_DEFINITION_LABELS.get(v, v) for v in body.get("definitionVersions") or []}
    if body.get("definitionVersion"):
        versions.add(_DEFINITION_LABELS.get(body["definitionVersion"], body["definitionVersion"]))
    if versions:
        docs = [d for d in docs if d.definition_version in versions]
    if sort_by is not None:
        docs = _sorted(docs, sort_by)
    if not docs:
        return _respond_page(call, [], 0, page, per_page)
    ids = [d.id for d in docs]
    if not call.is_org_admin:
        ids = [i for i in ids if _visible(call, data.apis.get(i), manage_only)]
        if not ids:
            return _respond_page(call, [], 0, page, per_page)
    if (page - 1) * per_page >= len(ids):
        raise HttpProblem(400, "Pagination is not valid", technical_code="pagination.invalid")
    expands = _expands(call)
    subset = ids[(page - 1) * per_page : page * per_page]
    # the page's content is read from the database: ids no longer there leave a hole
    items = [
        api_view(data.apis[i], expands, call.ctx)
        for i in subset
        if i in data.apis and _db_match(data.apis[i], versions)
    ]
    return _respond_page(call, items, len(ids), page, per_page)


_DEFINITION_LABELS = {
    "V1": "V1",
    "V2": "V2",
    "V4": "V4",
    "FEDERATED": "FEDERATED",
    "FEDERATED_AGENT": "FEDERATED_AGENT",
}


def _db_match(record: ApiRecord, versions: set[str]) -> bool:
    """The repository query of step 4 filters the definition versions again, on current data."""
    return not versions or record.definition_version in versions


def _sorted(docs: list[IndexedApi], sort_by: str) -> list[IndexedApi]:
    """Lucene's ``SortField`` on ``<field>_sorted``: documents without a value go last ascending, first
    descending (``STRING_LAST``/``STRING_FIRST``), ties keep document order."""
    descending = sort_by.startswith("-")
    field_name = sort_by.replace("-", "")
    with_value = [d for d in docs if d.has_sort_value(field_name)]
    without = [d for d in docs if not d.has_sort_value(field_name)]
    with_value.sort(key=lambda d: d.sort_key(field_name), reverse=descending)
    if descending:  # reverse=True keeps ties in order too (sort stability), as Lucene does
        return without + with_value
    return with_value + without


def _matches(doc: IndexedApi, query: str) -> bool:
    """Free-text search over name, description, id, HRID, labels and paths (Lucene's analyzers and
    scoring are approximated by a case-insensitive substring; order stays document order)."""
    haystack = [doc.name, doc.description, doc.id, doc.hrid, *doc.labels, *doc.paths]
    return any(query in h.lower() for h in haystack)


def _get_record(call: Call, permission: str) -> tuple[EnvironmentData, ApiRecord]:
    api_id = call.request.params["apiId"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.apis.get(api_id)
    call.require_member(roles.API, record.members if record else None, "DEFINITION", permission)
    if record is None:
        raise HttpProblem(
            404, f"Api [{api_id}] cannot be found.", technical_code="api.notFound", parameters={"api": api_id}
        )
    return data, record


def get_api(call: Call) -> Response:
    _, record = _get_record(call, "R")
    return Response.json(200, api_view(record, frozenset(), call.ctx), {"ETag": etag(record)})


def update_api(call: Call) -> Response:
    data, record = _get_record(call, "U")
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
    errors = validate(body, UPDATE_API_V4)
    if errors:
        raise body_problem(errors)
    if body["type"] != record.spec.get("type"):
        raise HttpProblem(
            400, "You are not allowed to change the API type", technical_code="apiType.notAllowed"
        )
    old_life = str(record.spec.get("lifecycleState") or "CREATED")
    new_life = str(body.get("lifecycleState") or old_life)
    if new_life != old_life and new_life in _REFUSED_MOVES.get(old_life, set()):
        raise HttpProblem(
            400,
            f"The API lifecycle state cannot be changed to {new_life}.",
            technical_code="api.lifecycleState.invalid",
            parameters={"lifecycleState": new_life},
        )
    spec = copy.deepcopy(record.spec)
    for view_field, spec_field in _EDITABLE.items():
        if body.get(view_field) is not None:  # absent fields keep their value
            spec[spec_field] = copy.deepcopy(body[view_field])
    if "description" in spec:
        spec["description"] = strip_html(spec["description"])
    for listener in spec.get("listeners") or []:
        for path in listener.get("paths") or [] if isinstance(listener, dict) else []:
            if isinstance(path, dict):
                path["path"] = normalize_path(path.get("path"))
    updated = ApiRecord(**{**record.__dict__, "spec": spec})
    clashes = data.path_clashes(updated)
    if clashes:  # ListenerValidationServiceImpl: InvalidPathsException(first severe message)
        raise HttpProblem(400, f"Path [{clashes[0]}] already exists", parameters={})
    updated.updated_at = call.ctx.store.now_ms()
    data.put_api(updated)
    call.ctx.store.persist()
    return Response.json(200, api_view(updated, frozenset(), call.ctx), {"ETag": etag(updated)})


def delete_api(call: Call) -> Response:
    """``ApiResource.deleteApi`` -> v4 ``ApiServiceImpl.delete(closePlans)``, for V2 and V4 APIs alike."""
    data, record = _get_record(call, "D")
    delete_api_record(data, record, close_plans=call.request.flag("closePlans"))
    call.ctx.store.persist()
    return Response.empty(204)


def detach_api(call: Call) -> Response:
    """``POST /apis/{apiId}/_detach`` (``AutomatedApiDomainService.detach``): origin becomes MANAGEMENT,
    ``updatedAt`` unchanged; an API not managed by automation is a 400."""
    data, record = _get_record(call, "U")
    if record.origin != "KUBERNETES":
        raise HttpProblem(
            400, "The API must be managed by an automation tool in order to be detached.", parameters={}
        )
    data.put_api(ApiRecord(**{**record.__dict__, "origin": "MANAGEMENT", "sync_from": "MANAGEMENT"}))
    call.ctx.store.persist()
    return Response.empty(200)


# -- CRD import (APIM <= 4.11 GKO path) -------------------------------------------------------------
def import_api_crd(call: Call) -> Response:
    """``PUT /apis/_import/crd`` (the GKO <= 4.11 path; apim-reconciler's sync does not use it): a simpler
    model than the Automation PUT, kept for GKO-compatibility tests. Needs ``ENVIRONMENT_API[C]``."""
    call.require_env("API", "C")
    body = parse_json_body(call.request)
    errors = validate(body, API_CRD_SPEC)
    if errors:
        raise body_problem(errors)
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
    record.members = dict(existing.members) if existing else {call.user.id: roles.PRIMARY_OWNER}
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
        raise HttpProblem(400, f"Unable to import because of errors [{','.join(severe)}]")
    if any(p.get("status") in _OPEN_PLAN for p in plans) and spec.get("state", "STOPPED") == "STARTED":
        record.deployed_at = now
    data.put_api(record)
    call.ctx.store.persist()
    return Response.json(200, status)


def import_application_crd(call: Call) -> Response:
    """``PUT /applications/_import/crd`` (GKO <= 4.11; unused by the sync): needs
    ``ENVIRONMENT_APPLICATION[C]``."""
    call.require_env("APPLICATION", "C")
    body = parse_json_body(call.request)
    errors = validate(body, APPLICATION_CRD_SPEC)
    if errors:
        raise body_problem(errors)
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
            members=dict(existing.members) if existing else {call.user.id: roles.PRIMARY_OWNER},
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
    *(
        Route(method, prefix + path, handler, MAPI_V2)
        for prefix in (PREFIX, PREFIX_WITHOUT_ORG)
        for method, path, handler in _ENDPOINTS
    ),
    *(
        Route("POST", prefix + "/apis/{apiId}/_detach", detach_api, MAPI_V2, lambda v: v.detach)
        for prefix in (PREFIX, PREFIX_WITHOUT_ORG)
    ),
]
