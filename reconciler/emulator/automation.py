"""Automation API (``/automation/organizations/{orgId}/environments/{envId}``): APIs and applications
written by HRID, the way GKO >= 4.12 and the reconciler write them.

Behaviour taken from the reference notes: ids, crossIds and plan ids derive from HRIDs
(:mod:`.ids`), stay stable across updates, and plans missing from an update are deleted; a listener path
used by another API is a 400 ``Path [/foo/] already exists``; ``dryRun=true`` stores nothing and reports
severe problems in ``errors.severe`` with a 200; ``hridContainsUUID=true`` (or ``legacy=true``) addresses
a resource created before the Automation API by its UUID.

Choices where the sources are silent: a plan's id is echoed in ``plans[].id`` (the spec's legacy field) so
clients can map plan HRIDs to ids; an update whose spec equals the stored one does not bump ``updatedAt``.
"""

from __future__ import annotations

import copy
from typing import Any

from . import ids
from .context import Call, Route
from .messages import HttpProblem, Response, parse_json_body
from .store import ApiRecord, ApplicationRecord, EnvironmentData
from .validation import API_V4_SPEC, APPLICATION_SPEC, validate

PREFIX = "/automation/organizations/{orgId}/environments/{envId}"
# writeOnly in the spec: accepted, never sent back
_WRITE_ONLY = ("notifyMembers",)


def _legacy(call: Call) -> bool:
    return call.request.flag("hridContainsUUID") or call.request.flag("legacy")


def _body_errors(details: list[dict[str, Any]]) -> HttpProblem:
    # The Automation spec types ``details[].invalidValue`` as an object: scalar values are left out.
    details = [{k: v for k, v in d.items() if k != "invalidValue" or isinstance(v, dict)} for d in details]
    first = details[0]
    return HttpProblem(
        400,
        f"Validation error: {first['location']}: {first['message']}",
        technical_code="validation.failed",
        details=details,
    )


def _with_errors(state: dict[str, Any], severe: list[str]) -> dict[str, Any]:
    if severe:
        state["errors"] = {"severe": severe, "warning": []}
    return state


# -- APIs -------------------------------------------------------------------------------------------
def api_state(record: ApiRecord) -> dict[str, Any]:
    """``ApiV4State`` of a V4 record: the stored spec plus ids."""
    state = dict(record.spec)  # shallow: serialized at once under the store lock
    state.update(
        id=record.id,
        crossId=record.cross_id,
        organizationId=record.org_id,
        environmentId=record.env_id,
    )
    if record.hrid:
        state["hrid"] = record.hrid
    return state


def _find_api(data: EnvironmentData, ref: str, legacy: bool) -> ApiRecord | None:
    api_id = ref if legacy else data.api_by_hrid.get(ref)
    record = data.apis.get(api_id) if api_id else None
    return record if record is not None and record.definition_version == "V4" else None


def _not_found(kind: str, ref: str) -> HttpProblem:
    return HttpProblem(
        404,
        f"{kind} [{ref}] cannot be found.",
        technical_code=f"{kind.lower()}.notFound",
        parameters={kind.lower(): ref},
    )


def put_api(call: Call) -> Response:
    body = parse_json_body(call.request)
    details = validate(body, API_V4_SPEC, "apiV4Spec")
    if details:
        raise _body_errors(details)
    dry_run = call.request.flag("dryRun")
    data = call.ctx.store.env(call.org_id, call.env_id)
    spec = {k: copy.deepcopy(v) for k, v in body.items() if k not in _WRITE_ONLY}
    hrid = str(spec["hrid"])
    legacy = _legacy(call)
    existing = _find_api(data, hrid, legacy)
    if existing is not None:
        api_id, cross_id = existing.id, existing.cross_id
    elif legacy:
        api_id, cross_id = hrid, ids.api_cross_id(call.org_id, hrid)
    else:
        api_id, cross_id = ids.api_id(call.org_id, call.env_id, hrid), ids.api_cross_id(call.org_id, hrid)

    old_plan_ids = (
        {p.get("hrid"): p.get("id") for p in (existing.spec.get("plans") or [])} if existing else {}
    )
    plan_cross_ids: dict[str, str] = {}
    severe: list[str] = []
    seen: set[str] = set()
    for plan in spec.get("plans") or []:
        plan_hrid = str(plan["hrid"])
        if plan_hrid in seen:
            severe.append(f"Plan hrid [{plan_hrid}] is used more than once")
        seen.add(plan_hrid)
        plan["id"] = (
            plan.get("id")
            or old_plan_ids.get(plan_hrid)
            or ids.plan_id(call.org_id, call.env_id, hrid, plan_hrid)
        )
        plan_cross_ids[plan_hrid] = ids.plan_cross_id(call.org_id, hrid, plan_hrid)

    now = call.ctx.store.now_ms() if not dry_run else 0
    record = ApiRecord(
        id=api_id,
        cross_id=cross_id,
        hrid=hrid,
        org_id=call.org_id,
        env_id=call.env_id,
        definition_version="V4",
        spec=spec,
        origin="KUBERNETES",
        sync_from="MANAGEMENT",
        created_at=existing.created_at if existing else now,
        updated_at=now,
        deployed_at=existing.deployed_at if existing else None,
        plan_cross_ids=plan_cross_ids,
    )
    if legacy:
        record.hrid = existing.hrid if existing is not None else None
    severe.extend(f"Path [{p}] already exists" for p in data.path_clashes(record))

    if dry_run:
        return Response.json(200, _with_errors(api_state(record), severe))
    if severe:
        raise HttpProblem(
            400, severe[0] if len(severe) == 1 else f"Unable to import because of errors {severe}"
        )
    if existing is not None and existing.spec == spec:
        return Response.json(200, api_state(existing))
    if _deployable(spec):
        record.deployed_at = now
    data.put_api(record)
    call.ctx.store.persist()
    return Response.json(200, api_state(record))


def _deployable(spec: dict[str, Any]) -> bool:
    """APIM deploys a STARTED API with at least one PUBLISHED or DEPRECATED plan."""
    plans = spec.get("plans") or []
    return spec.get("state", "STARTED") == "STARTED" and any(
        p.get("status") in ("PUBLISHED", "DEPRECATED") for p in plans
    )


def get_api(call: Call) -> Response:
    ref = call.request.params["hrid"]
    record = _find_api(call.ctx.store.env(call.org_id, call.env_id), ref, _legacy(call))
    if record is None:
        raise _not_found("Api", ref)
    return Response.json(200, api_state(record))


def delete_api(call: Call) -> Response:
    ref = call.request.params["hrid"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _find_api(data, ref, _legacy(call))
    if record is None:
        raise _not_found("Api", ref)
    data.remove_api(record.id)
    call.ctx.store.persist()
    return Response.empty(204)


# -- applications -----------------------------------------------------------------------------------
def application_state(record: ApplicationRecord) -> dict[str, Any]:
    """``ApplicationState``: the stored spec plus ids."""
    state = dict(record.spec)  # shallow: serialized at once under the store lock
    state.update(id=record.id, organizationId=record.org_id, environmentId=record.env_id)
    if record.hrid:
        state["hrid"] = record.hrid
    return state


def _find_app(data: EnvironmentData, ref: str, legacy: bool) -> ApplicationRecord | None:
    app_id = ref if legacy else data.app_by_hrid.get(ref)
    return data.apps.get(app_id) if app_id else None


def put_application(call: Call) -> Response:
    body = parse_json_body(call.request)
    details = validate(body, APPLICATION_SPEC, "applicationSpec")
    if details:
        raise _body_errors(details)
    spec = {k: copy.deepcopy(v) for k, v in body.items() if k != "primaryOwner"}  # readOnly
    spec.setdefault("status", "ACTIVE")
    data = call.ctx.store.env(call.org_id, call.env_id)
    hrid = str(spec["hrid"])
    legacy = _legacy(call)
    existing = _find_app(data, hrid, legacy)
    if existing is not None:
        app_id = existing.id
    elif legacy:
        app_id = hrid
    else:
        app_id = ids.application_id(call.org_id, call.env_id, hrid)
    record = ApplicationRecord(
        id=app_id,
        hrid=(existing.hrid if existing is not None else None) if legacy else hrid,
        org_id=call.org_id,
        env_id=call.env_id,
        spec=spec,
        created_at=existing.created_at if existing else 0,
    )
    if call.request.flag("dryRun"):
        return Response.json(200, application_state(record))
    if existing is not None and existing.spec == spec:
        return Response.json(200, application_state(existing))
    record.updated_at = call.ctx.store.now_ms()
    record.created_at = record.created_at or record.updated_at
    data.put_app(record)
    call.ctx.store.persist()
    return Response.json(200, application_state(record))


def get_application(call: Call) -> Response:
    ref = call.request.params["hrid"]
    record = _find_app(call.ctx.store.env(call.org_id, call.env_id), ref, _legacy(call))
    if record is None:
        raise _not_found("Application", ref)
    return Response.json(200, application_state(record))


def delete_application(call: Call) -> Response:
    ref = call.request.params["hrid"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _find_app(data, ref, _legacy(call))
    if record is None:
        raise _not_found("Application", ref)
    data.remove_app(record.id)
    call.ctx.store.persist()
    return Response.empty(204)


ROUTES = [
    Route("PUT", PREFIX + "/apis", put_api),
    Route("GET", PREFIX + "/apis/{hrid}", get_api),
    Route("DELETE", PREFIX + "/apis/{hrid}", delete_api),
    Route("PUT", PREFIX + "/applications", put_application),
    Route("GET", PREFIX + "/applications/{hrid}", get_application),
    Route("DELETE", PREFIX + "/applications/{hrid}", delete_application),
]
