"""Dictionaries: the Automation API's ``/dictionaries`` (4.12.0 and later) and the mAPI v1 listing.

Read from the server (automation-rest ``resource/DictionariesResource``, ``DictionaryResource``,
``mapper/DictionaryMapper``; service ``ValidateDictionaryDomainService``, ``CreateOrUpdateDictionaryUseCase``,
``DictionaryAutomationDomainServiceLegacyWrapper``, ``DictionaryServiceImpl``; mAPI v1
``configuration/dictionary/DictionariesResource``):

* ``PUT /dictionaries`` needs ``ENVIRONMENT_DICTIONARY[C|U]``; ``hrid``, ``name``, ``type`` and ``deployed``
  are required. ``ValidateDictionaryDomainService`` runs before the dry run: a 400 ``{message,
  technicalCode: "invalid"}`` for a MANUAL dictionary without properties or with ``dynamic``, a DYNAMIC one
  without provider and trigger or with manual properties. A dry run answers the request echo alone (no
  ids, no ``errors``).
* Otherwise the dictionary (id u(u(org + hrid) + env), ``key`` = the hrid) is created (state STOPPED) or
  updated (name, description, type, properties, provider and trigger replaced; key and state kept; the
  deployment date cleared), then ``deployed`` applied (``handleDeployment``): MANUAL deploys (sets
  ``deployedAt``) or undeploys every time; DYNAMIC starts when asked and not STARTED, and stops and
  undeploys when not asked and STARTED. The answer is the stored dictionary as a GET shows it.
* ``GET /dictionaries/{hrid}`` (``[R]``): ``hrid`` (the key, else the id), ``name``, ``description``,
  ``type``, ``deployed`` (MANUAL: a deployment date; DYNAMIC: STARTED), ``manual.properties`` or
  ``dynamic {provider, trigger}``. (The server hides ``dynamic`` from callers with ``[R]`` but not
  ``[C|U|D]``: no default role is such, and the emulator has no custom roles.) ``DELETE``
  (``[D]``) stops a DYNAMIC dictionary and deletes it. Unknown: 404 ``HRID [x] cannot be found.``
* The provider is stored as the JSON of the generated ``HttpDictionaryProvider`` (``valueToTree``): its
  ``headers`` default to ``[]``.
* mAPI v1 ``GET /configuration/dictionaries`` (``[R]``): ``DictionaryListItem`` (snake_case dates in epoch
  millis, ``properties`` a count, ``provider`` the provider type). ``findAll`` is a set: the emulator sorts
  by name.
"""

from __future__ import annotations

import copy
from typing import Any

from . import ids
from .automation import PREFIX, _hrid_not_found
from .context import Call, Route
from .kind_schemas import dictionary_spec
from .kinds_common import spec_body, unmapped_500
from .mapi_v1 import PREFIX as V1_PREFIX
from .messages import AUTOMATION, MAPI_V1, HttpProblem, Response
from .records import DictionaryRecord
from .versions import ApimVersion

_PROVIDER_FIELDS = ("type", "url", "specification", "headers", "useSystemProxy", "method", "body")


def _invalid(message: str) -> HttpProblem:
    return HttpProblem(400, message, technical_code="invalid")


def _provider_json(provider: dict[str, Any]) -> dict[str, Any]:
    """``GRAVITEE_MAPPER.valueToTree(HttpDictionaryProvider)``: its properties, ``headers`` ``[]`` by default."""
    out = {k: copy.deepcopy(provider[k]) for k in _PROVIDER_FIELDS if provider.get(k) is not None}
    out.setdefault("headers", [])
    return out


def _echo(body: dict[str, Any]) -> dict[str, Any]:
    """``DictionarySpec`` as the generated model holds it (``toDictionaryState(spec)``)."""
    keys = ("hrid", "name", "deployed", "description", "type")
    echo = {k: copy.deepcopy(body[k]) for k in keys if body.get(k) is not None}
    if isinstance(body.get("manual"), dict):
        echo["manual"] = {"properties": dict(body["manual"].get("properties") or {})}
    dynamic = body.get("dynamic")
    if isinstance(dynamic, dict):
        echo["dynamic"] = {
            "provider": _provider_json(dynamic["provider"]),
            "trigger": {k: dynamic["trigger"][k] for k in ("rate", "unit") if k in dynamic["trigger"]},
        }
    return echo


def _validate(kind: str, properties: dict[str, str] | None, dynamic: dict[str, Any] | None) -> None:
    """``ValidateDictionaryDomainService.validate``."""
    provider = dynamic.get("provider") if dynamic else None
    trigger = dynamic.get("trigger") if dynamic else None
    if kind == "MANUAL":
        if not properties:
            raise _invalid("Manual dictionary must have at least one property.")
        if provider is not None or trigger is not None:
            raise _invalid(
                "Manual dictionary must not have 'dynamic' properties (provider, trigger). "
                "Set type to 'DYNAMIC' or remove them."
            )
    elif kind == "DYNAMIC":
        if provider is None or trigger is None:
            raise _invalid("Dynamic dictionary must have a provider and a trigger.")
        if properties:
            raise _invalid(
                "Dynamic dictionary must not have 'manual' properties. Set type to 'MANUAL' or remove them."
            )


def dictionary_state(record: DictionaryRecord) -> dict[str, Any]:
    """``DictionaryMapper.toDictionaryState(DictionaryEntity, ctx)``."""
    state: dict[str, Any] = {
        "id": record.id,
        "environmentId": record.env_id,
        "organizationId": record.org_id,
        "hrid": record.key if record.key is not None else record.id,
        "name": record.name,
        "type": record.type,
    }
    if record.description is not None:
        state["description"] = record.description
    if record.type == "MANUAL":
        state["deployed"] = record.deployed_at is not None
        state["manual"] = {"properties": dict(record.properties or {})}
    else:
        state["deployed"] = record.state == "STARTED"
        provider = record.provider or {}
        dynamic: dict[str, Any] = {}
        if provider:
            dynamic["provider"] = {
                **_provider_json(provider.get("configuration") or {}),
                "type": provider.get("type"),
            }
        if record.trigger is not None:
            dynamic["trigger"] = dict(record.trigger)
        state["dynamic"] = dynamic
    return state


def put_dictionary(call: Call) -> Response:
    call.require_env("DICTIONARY", "CU")
    body = spec_body(call, dictionary_spec(call.version))
    dynamic = body.get("dynamic") if isinstance(body.get("dynamic"), dict) else None
    if dynamic is not None and dynamic["provider"].get("type") is None:
        raise unmapped_500()  # DictionaryMapper.toCoreProvider: http.getType().getValue() on a null type
    manual = body.get("manual") if isinstance(body.get("manual"), dict) else None
    properties = dict(manual["properties"]) if manual is not None else None
    kind = str(body["type"])
    _validate(kind, properties, dynamic)
    if call.request.flag("dryRun"):
        return Response.json(200, _echo(body))
    hrid = str(body["hrid"])
    dictionary_id = ids.top_level_id(call.org_id, call.env_id, hrid)
    data = call.ctx.store.env(call.org_id, call.env_id)
    existing = data.kinds.dictionaries.get(dictionary_id)
    now = call.ctx.store.now_ms()
    provider = (
        {"type": dynamic["provider"]["type"], "configuration": _provider_json(dynamic["provider"])}
        if dynamic is not None
        else None
    )
    trigger = dict(dynamic["trigger"]) if dynamic is not None else None
    record = DictionaryRecord(
        id=dictionary_id,
        key=existing.key if existing is not None else hrid,
        org_id=call.org_id,
        env_id=call.env_id,
        name=str(body["name"]),
        type=kind,
        description=body.get("description"),
        created_at=existing.created_at if existing is not None else now,
        updated_at=now,
    )
    if existing is None:  # DictionaryServiceImpl.create: properties for MANUAL, provider/trigger otherwise
        if kind == "MANUAL":
            record.properties = properties
        else:
            record.provider, record.trigger = provider, trigger
    else:  # update: properties as given, provider/trigger only for DYNAMIC; state kept, no deployment date
        record.properties = properties
        if kind == "DYNAMIC":
            record.provider, record.trigger = provider, trigger
        record.state = existing.state
    _deploy(record, bool(body["deployed"]), now)
    data.kinds.dictionaries[dictionary_id] = record
    call.ctx.store.persist()
    return Response.json(200, dictionary_state(record))


def _deploy(record: DictionaryRecord, deploy: bool, now: int) -> None:
    """``DictionaryAutomationDomainServiceLegacyWrapper.handleDeployment``."""
    if record.type == "MANUAL":
        record.deployed_at = now if deploy else None
    elif deploy and record.state != "STARTED":
        record.state = "STARTED"
    elif not deploy and record.state == "STARTED":
        record.state = "STOPPED"
        record.deployed_at = None


def _find(call: Call) -> DictionaryRecord:
    hrid = call.request.params["hrid"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.kinds.dictionaries.get(ids.top_level_id(call.org_id, call.env_id, hrid))
    if record is None:
        raise _hrid_not_found(hrid)
    return record


def get_dictionary(call: Call) -> Response:
    call.require_env("DICTIONARY", "R")
    record = _find(call)
    return Response.json(200, dictionary_state(record))


def delete_dictionary(call: Call) -> Response:
    call.require_env("DICTIONARY", "D")
    record = _find(call)
    del call.ctx.store.env(call.org_id, call.env_id).kinds.dictionaries[record.id]
    call.ctx.store.persist()
    return Response.empty(204)


def list_dictionaries(call: Call) -> Response:
    """mAPI v1 ``DictionariesResource.getDictionaries``: ``DictionaryListItem`` per dictionary."""
    call.require_env("DICTIONARY", "R")
    data = call.ctx.store.env(call.org_id, call.env_id)
    items = []
    for record in sorted(data.kinds.dictionaries.values(), key=lambda d: (d.name, d.id)):
        item: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "type": record.type,
            "state": record.state,
        }
        for key, value in (
            ("key", record.key),
            ("description", record.description),
            ("created_at", record.created_at),
            ("updated_at", record.updated_at),
            ("deployed_at", record.deployed_at),
        ):
            if value is not None:
                item[key] = value
        item["properties"] = len(record.properties or {})
        if record.provider is not None:
            item["provider"] = record.provider.get("type")
        items.append(item)
    return Response.json(200, items)


def _available(version: ApimVersion) -> bool:
    return version.has_groups_and_dictionaries


ROUTES = [
    Route("PUT", PREFIX + "/dictionaries", put_dictionary, AUTOMATION, _available),
    Route("GET", PREFIX + "/dictionaries/{hrid}", get_dictionary, AUTOMATION, _available),
    Route("DELETE", PREFIX + "/dictionaries/{hrid}", delete_dictionary, AUTOMATION, _available),
    Route("GET", V1_PREFIX + "/configuration/dictionaries", list_dictionaries, MAPI_V1),
]
