"""Shared policy groups: the Automation API's ``/shared-policy-groups`` (4.8.0 and later), the mAPI v2
reads, and what an API's flow steps that call one become.

Read from the server (automation-rest ``resource/SharedPolicyGroupsResource``, ``SharedPolicyGroupResource``,
``mapper/SharedPolicyGroupMapper``, ``helpers/CrdIdHelper``, ``helpers/SharedPolicyGroupIdHelper``; service
``ImportSharedPolicyGroupCRDCRDUseCase``, ``ValidateSharedPolicyGroupCRDDomainService``,
``ValidateCreateSharedPolicyGroupDomainService``, ``ValidateUpdateSharedPolicyGroupDomainService``,
``model/SharedPolicyGroup``; at 4.8.0 and 4.11.25 for the older contract):

* ``PUT /shared-policy-groups`` needs ``ENVIRONMENT_SHARED_POLICY_GROUP[C|U]`` (4.8.x: ``[C]``). Ids:
  crossId = the body's ``crossId`` or u(org + hrid), id = u(crossId-of-hrid + env); with
  ``hridContainsUUID=true`` (4.12+) the id is the hrid, the group has no HRID and the crossId is only the
  body's (a new one gets a random crossId); with ``legacy=true`` (4.9-4.11) the id is the hrid and the HRID
  is kept.
* The group is found **by crossId**. Severe errors: ``Name is required.``, and on a create ``Invalid phase
  P for API type T`` (``hasValidPhase``: PROXY takes REQUEST and RESPONSE, MESSAGE also PUBLISH and
  SUBSCRIBE; any other phase or API type is refused). Before 4.12 the body's enums still list INTERACT,
  CONNECT (4.8-4.10) and ENTRYPOINT_CONNECT (4.11), so they reach this check; from 4.12 they are a 400
  ``Unexpected value``. A dry run answers the echo with the ids and ``errors`` only when there are any; a
  real PUT with severe errors is a 400 ``Unable to import because of errors [...]``.
* A create stores the group (UNDEPLOYED, version 0) and deploys it (DEPLOYED, version 1). An update takes
  the existing group's id, replaces hrid, crossId, name, description, prerequisite message and steps
  **when the body has them** (a missing description keeps the old one) and **never changes ``apiType`` or
  ``phase``** (``UpdateSharedPolicyGroup`` has neither); a DEPLOYED group becomes PENDING and is deployed
  again (version + 1). The answer is the request echo (so it shows the phase sent, not the one kept) plus
  ``id``, ``crossId``, ``organizationId``, ``environmentId``; no ``errors``.
* ``GET /shared-policy-groups/{hrid}`` (``[R]``) exports the stored group; ``DELETE`` (``[D]``) deletes it,
  or only checks it exists with ``dryRun=true``. Unknown: 404 ``HRID [x] cannot be found.``
* API flow steps with policy ``shared-policy-group-policy`` (4.9+): a non-empty ``configuration.hrid``
  gets ``sharedPolicyGroupId`` = u(org + hrid) before the import (``addSharedPolicyGroupIdFromHrid``); the
  answer of a real PUT and every GET of the API drop ``sharedPolicyGroupId`` (``removeSharedPolicyGroupId``),
  a dry run's answer keeps it.
* mAPI v2 ``GET /shared-policy-groups`` (``q`` on name or description, ``sortBy`` one of name, apiType,
  phase, updatedAt, deployedAt with an optional ``-``, default ``-updatedAt``; anything else a 500
  ``Invalid sort by field: x``) and ``GET /shared-policy-groups/{id}`` (404 ``SharedPolicyGroup [id] cannot
  be found.``).
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from . import ids
from .automation import PREFIX, _hrid_not_found, _unable, _uuid_flag
from .context import Call, Route
from .kind_schemas import shared_policy_group_spec
from .kinds_common import SEVERE, Problem, errors_of, severe_messages, spec_body, unmapped_500
from .mapi_v2 import PREFIX as V2_PREFIX
from .mapi_v2 import PREFIX_WITHOUT_ORG, _int_arg, _respond_page, iso
from .messages import AUTOMATION, MAPI_V2, HttpProblem, Response
from .normalise import project
from .records import SharedPolicyGroupRecord

SHARED_POLICY_GROUP_POLICY = "shared-policy-group-policy"
_STEP_PHASES = ("request", "response", "subscribe", "publish", "interact", "entrypointConnect")
_VALID_PHASES = {"PROXY": ("REQUEST", "RESPONSE"), "MESSAGE": ("REQUEST", "RESPONSE", "PUBLISH", "SUBSCRIBE")}
_SORTABLE = ("name", "apiType", "phase", "updatedAt", "deployedAt")


def _steps(steps: Any) -> list[dict[str, Any]]:
    """``StepV4`` as the generated model holds each step: ``enabled`` defaults to true."""
    out = []
    for step in steps or []:
        if isinstance(step, dict):
            item = project(copy.deepcopy(step), "step")
            item.setdefault("enabled", True)
            out.append(item)
    return out


def _echo(body: dict[str, Any]) -> dict[str, Any]:
    keys = ("hrid", "name", "description", "prerequisiteMessage", "apiType", "phase")
    echo = {k: body[k] for k in keys if body.get(k) is not None}
    echo["steps"] = _steps(body.get("steps"))
    return echo


def _ids(call: Call, body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(id, crossId, hrid) of ``CrdIdHelper.generateSharedPolicyGroupIds`` or the UUID/legacy branch."""
    hrid = str(body["hrid"])
    sent_cross_id = body.get("crossId")
    if _uuid_flag(call):
        if call.version.minor >= 12:
            return hrid, sent_cross_id, None
        return hrid, sent_cross_id or ids.top_level_cross_id(call.org_id, hrid), hrid
    cross_id = sent_cross_id or ids.top_level_cross_id(call.org_id, hrid)
    return ids.top_level_id(call.org_id, call.env_id, hrid), cross_id, hrid


def _problems(body: dict[str, Any], existing: SharedPolicyGroupRecord | None) -> list[Problem]:
    """``ValidateUpdate...`` / ``ValidateCreateSharedPolicyGroupDomainService.validate``: the first failure."""
    if not body.get("name"):
        return [Problem(SEVERE, "Name is required.")]
    if existing is None:
        api_type, phase = str(body["apiType"]), str(body["phase"])
        if phase not in _VALID_PHASES.get(api_type, ()):
            return [Problem(SEVERE, f"Invalid phase {phase} for API type {api_type}")]
    return []


def put_shared_policy_group(call: Call) -> Response:
    call.require_env("SHARED_POLICY_GROUP", "C" if call.version.automation_preview else "CU")
    body = spec_body(call, shared_policy_group_spec(call.version))
    echo = _echo(body)
    spg_id, cross_id, hrid = _ids(call, body)
    data = call.ctx.store.env(call.org_id, call.env_id)
    existing = data.kinds.spg_by_cross_id(cross_id)
    problems = _problems(body, existing)
    status = {"id": spg_id, "crossId": cross_id, "organizationId": call.org_id, "environmentId": call.env_id}
    if call.request.flag("dryRun"):
        state = {**echo, **{k: v for k, v in status.items() if v is not None}}
        if problems:
            state["errors"] = errors_of(problems)
        return Response.json(200, state)
    severe = severe_messages(problems)
    if severe:
        raise _unable(severe)
    now = call.ctx.store.now_ms()
    if existing is None:
        if spg_id in data.kinds.shared_policy_groups:
            raise unmapped_500()  # the repository refuses a second row with that id (another crossId)
        record = SharedPolicyGroupRecord(
            id=spg_id,
            cross_id=cross_id or str(uuid.uuid4()),  # SharedPolicyGroup.from: a random crossId
            hrid=hrid,
            org_id=call.org_id,
            env_id=call.env_id,
            name=str(body["name"]),
            api_type=str(body["apiType"]),
            phase=str(body["phase"]),
            description=body.get("description"),
            prerequisite_message=body.get("prerequisiteMessage"),
            steps=_stored_steps(echo["steps"]),
            created_at=now,
        )
    else:
        record = copy.deepcopy(existing)  # SharedPolicyGroup.update: null fields keep their value
        record.hrid = hrid if hrid is not None else record.hrid
        record.cross_id = cross_id or record.cross_id
        record.name = str(body["name"])
        if body.get("description") is not None:
            record.description = body["description"]
        if body.get("prerequisiteMessage") is not None:
            record.prerequisite_message = body["prerequisiteMessage"]
        record.steps = _stored_steps(echo["steps"])
        if record.lifecycle_state == "DEPLOYED":
            record.lifecycle_state = "PENDING"
    _deploy(record, now)
    data.kinds.put_spg(record)
    call.ctx.store.persist()
    return Response.json(200, {**echo, **status, "id": record.id, "crossId": record.cross_id})


def _stored_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``mapStep``: the configuration goes through its JSON form (``serializeConfiguration``)."""
    out = []
    for step in steps:
        item = dict(step)
        if "configuration" in item:
            item["configuration"] = json.loads(json.dumps(item["configuration"]))
        out.append(item)
    return out


def _deploy(record: SharedPolicyGroupRecord, now: int) -> None:
    """``SharedPolicyGroup.deploy`` (``DeploySharedPolicyGroupUseCase``)."""
    record.lifecycle_state = "DEPLOYED"
    record.version += 1
    record.deployed_at = record.updated_at = now


def _find(call: Call) -> SharedPolicyGroupRecord:
    ref = call.request.params["hrid"]
    spg_id = ref if _uuid_flag(call) else ids.top_level_id(call.org_id, call.env_id, ref)
    record = call.ctx.store.env(call.org_id, call.env_id).kinds.shared_policy_groups.get(spg_id)
    if record is None:
        raise _hrid_not_found(ref)
    return record


def spg_state(record: SharedPolicyGroupRecord) -> dict[str, Any]:
    """``SharedPolicyGroupMapper.toState(SharedPolicyGroup)``."""
    state: dict[str, Any] = {
        "id": record.id,
        "crossId": record.cross_id,
        "environmentId": record.env_id,
        "organizationId": record.org_id,
        "name": record.name,
        "apiType": record.api_type,
        "phase": record.phase,
        "steps": _steps(record.steps),
    }
    for key, value in (
        ("hrid", record.hrid),
        ("description", record.description),
        ("prerequisiteMessage", record.prerequisite_message),
    ):
        if value is not None:
            state[key] = value
    return state


def get_shared_policy_group(call: Call) -> Response:
    call.require_env("SHARED_POLICY_GROUP", "R")
    return Response.json(200, spg_state(_find(call)))


def delete_shared_policy_group(call: Call) -> Response:
    call.require_env("SHARED_POLICY_GROUP", "D")
    record = _find(call)
    if not call.request.flag("dryRun"):
        call.ctx.store.env(call.org_id, call.env_id).kinds.remove_spg(record.id)
        call.ctx.store.persist()
    return Response.empty(204)


# -- API flow steps that call a shared policy group ------------------------------------------------
def _spg_steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    flows = [f for f in spec.get("flows") or [] if isinstance(f, dict)]
    for plan in spec.get("plans") or []:
        if isinstance(plan, dict):
            flows.extend(f for f in plan.get("flows") or [] if isinstance(f, dict))
    return [
        step
        for flow in flows
        for phase in _STEP_PHASES
        for step in flow.get(phase) or []
        if isinstance(step, dict)
        and step.get("policy") == SHARED_POLICY_GROUP_POLICY
        and isinstance(step.get("configuration"), dict)
    ]


def add_ids_from_hrid(spec: dict[str, Any], org_id: str) -> None:
    """``SharedPolicyGroupIdHelper.addSharedPolicyGroupIdFromHrid`` (4.9+), in place."""
    for step in _spg_steps(spec):
        hrid = step["configuration"].get("hrid")
        if isinstance(hrid, str) and hrid:
            step["configuration"]["sharedPolicyGroupId"] = ids.top_level_cross_id(org_id, hrid)


def without_ids(spec: dict[str, Any]) -> dict[str, Any]:
    """``SharedPolicyGroupIdHelper.removeSharedPolicyGroupId`` (4.9+), on a copy of ``spec``."""
    out = copy.deepcopy(spec)
    for step in _spg_steps(out):
        step["configuration"].pop("sharedPolicyGroupId", None)
    return out


# -- mAPI v2 ----------------------------------------------------------------------------------------
def _spg_view(record: SharedPolicyGroupRecord) -> dict[str, Any]:
    """mAPI v2 ``SharedPolicyGroup``."""
    view: dict[str, Any] = {
        "id": record.id,
        "crossId": record.cross_id,
        "name": record.name,
        "version": record.version,
        "apiType": record.api_type,
        "originContext": {"origin": "KUBERNETES", "mode": "FULLY_MANAGED"},
        "steps": _steps(record.steps),
        "phase": record.phase,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "lifecycleState": record.lifecycle_state,
    }
    if record.description is not None:
        view["description"] = record.description
    if record.prerequisite_message is not None:
        view["prerequisiteMessage"] = record.prerequisite_message
    if record.deployed_at is not None:
        view["deployedAt"] = iso(record.deployed_at)
    return view


def _sort_key(field: str) -> Any:
    def key(record: SharedPolicyGroupRecord) -> Any:
        value = {
            "name": record.name.lower(),
            "apiType": record.api_type,
            "phase": record.phase,
            "updatedAt": record.updated_at,
            "deployedAt": record.deployed_at or 0,
        }[field]
        return (value, record.id)

    return key


def search_shared_policy_groups(call: Call) -> Response:
    """``SearchSharedPolicyGroupUseCase``: ``q`` matches ``lower(name)`` or ``lower(description)``
    (``JdbcSharedPolicyGroupRepository.search``)."""
    call.require_env("SHARED_POLICY_GROUP", "R")
    page = _int_arg(call, "page", 1)
    per_page = _int_arg(call, "perPage", 10)
    sort_by = call.request.arg("sortBy") or "-updatedAt"
    field = sort_by[1:] if sort_by.startswith("-") else sort_by
    if field not in _SORTABLE:
        raise HttpProblem(
            500, f"Invalid sort by field: {sort_by}"
        )  # IllegalArgumentException -> ThrowableMapper
    data = call.ctx.store.env(call.org_id, call.env_id)
    query = (call.request.arg("q") or "").lower()
    found = [
        r
        for r in data.kinds.shared_policy_groups.values()
        if not query or query in r.name.lower() or query in (r.description or "").lower()
    ]
    found.sort(key=_sort_key(field), reverse=sort_by.startswith("-"))
    chunk = found[(page - 1) * per_page : page * per_page]
    return _respond_page(call, [_spg_view(r) for r in chunk], len(found), page, per_page)


def get_shared_policy_group_v2(call: Call) -> Response:
    call.require_env("SHARED_POLICY_GROUP", "R")
    spg_id = call.request.params["sharedPolicyGroupId"]
    record = call.ctx.store.env(call.org_id, call.env_id).kinds.shared_policy_groups.get(spg_id)
    if record is None:
        raise HttpProblem(
            404,
            f"SharedPolicyGroup [{spg_id}] cannot be found.",
            technical_code="sharedPolicyGroup.notFound",
            parameters={"sharedPolicyGroupId": spg_id},
        )
    return Response.json(200, _spg_view(record))


ROUTES = [
    Route("PUT", PREFIX + "/shared-policy-groups", put_shared_policy_group, AUTOMATION),
    Route("GET", PREFIX + "/shared-policy-groups/{hrid}", get_shared_policy_group, AUTOMATION),
    Route("DELETE", PREFIX + "/shared-policy-groups/{hrid}", delete_shared_policy_group, AUTOMATION),
    *(
        Route(method, prefix + path, handler, MAPI_V2)
        for prefix in (V2_PREFIX, PREFIX_WITHOUT_ORG)
        for method, path, handler in (
            ("GET", "/shared-policy-groups", search_shared_policy_groups),
            ("GET", "/shared-policy-groups/{sharedPolicyGroupId}", get_shared_policy_group_v2),
        )
    ),
]
