"""Management API v1: a v2 API exported as GKO's ``ApiDefinition``, in YAML.

``GET /management/organizations/{orgId}/environments/{envId}/apis/{api}/crd`` (v1 ``ApiResource.exportApiCRD``,
``@Produces("application/yaml")``, ``API_DEFINITION[R]``) -> ``ApiExportServiceImpl.exportAsCustomResourceDefinition``:

* The API is read with the v2 service and serialized by ``ApiDefaultSerializer`` (export version 2.0.0): in
  this order ``name, crossId, version, execution_mode (v3 when unset), description, visibility, tags, flows,
  gravitee, flow_mode, services, resources, properties ([] when none), categories, labels, groups (names),
  members, pages, plans (all but CLOSED), metadata, id, path_mappings, proxy, response_templates``.
  ``lifecycle_state`` and ``definition_context`` are not written by it; ``disable_membership_notifications``
  becomes ``notifyMembers``; ``state`` is the API's (``STOPPED`` when unset).
* Metadata are ``ApiMetadataService.findAllByApi``: the API's entries (a null value read as ``""``) and the
  environment's defaults as ``defaultValue``; every v2 API got ``email-support`` when it was created.
* ``ApiDefinitionResource`` then drops ``definition_context, primaryOwner, createdAt, updatedAt, picture,
  apiMedia``, plan fields ``created_at, updated_at, published_at, definitionVersion, environmentId,
  comment_message, general_conditions``, page fields ``lastContributor, lastModificationDate, parentPath,
  attached_media, contentType, excluded_groups``, metadata ``apiId``, endpoint ``status``; turns pages into a
  map keyed by page name (else id) and endpoint group headers into a name -> value map. The members'
  primary owner is left out (``mapCRDMembers``).
* An API or plan without a crossId is given a random one, **saved** (``generateAndSaveCrossId``): the only
  write of an export.
* Query: ``removeIds`` (drop the API's ``crossId``/``id`` and each plan's ``crossId``/``id``/``api``),
  ``managementContextName`` / ``managementContextNamespace`` (default ``default``): a ``contextRef``;
  ``contextPath``, ``version``: replace those; ``exclude``: ``groups, members, pages, plans, metadata``.
* The document is Jackson's ``YAMLFactory`` default: ``---``, double-quoted strings, sequences not indented
  under their key. ``CustomResourceDefinitionMapper``; ``ObjectMeta`` lower-cases the name, spaces and
  ``_`` as ``-``, other characters outside ``[-.a-z0-9]`` dropped.

Only v2 APIs are exported here (see docs/emulator-fidelity.md for what a v4 id gives).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

from . import roles
from .context import Call, Route
from .messages import MAPI_V1, HttpProblem, Response
from .normalise import merged_metadata
from .store import ApiRecord

PREFIX = "/management/organizations/{orgId}/environments/{envId}"
_YAML = "application/yaml"
_API_DROPPED = ("definition_context", "primaryOwner", "createdAt", "updatedAt", "picture", "apiMedia")
_PLAN_DROPPED = (
    "created_at",
    "updated_at",
    "published_at",
    "definitionVersion",
    "environmentId",
    "comment_message",
    "general_conditions",
)
_PAGE_DROPPED = (
    "lastContributor",
    "lastModificationDate",
    "parentPath",
    "attached_media",
    "contentType",
    "excluded_groups",
)
_EXCLUDABLE = ("groups", "members", "pages", "plans", "metadata")


def _accepts_yaml(accept: str | None) -> bool:
    """Jersey matches ``Accept`` against ``@Produces``: no header, ``*/*``, ``application/*`` or the type."""
    if not accept:
        return True
    kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(kinds & {"*/*", "application/*", _YAML})


def export_crd(call: Call) -> Response:
    if not _accepts_yaml(call.request.headers.get("accept")):
        raise HttpProblem(406, "HTTP 406 Not Acceptable")
    api_id = call.request.params["api"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.apis.get(api_id)
    call.require_member(roles.API, record.members if record else None, "DEFINITION", "R")
    if record is None or record.definition_version != "V2":
        raise HttpProblem(
            404, f"Api [{api_id}] cannot be found.", technical_code="api.notFound", parameters={"api": api_id}
        )
    if _ensure_cross_ids(record):
        data.put_api(record)
        call.ctx.store.persist()
    request = call.request
    spec = _serialized(record, call, excluded={e for e in request.args("exclude") if e in _EXCLUDABLE})
    if request.flag("removeIds"):
        spec.pop("crossId", None)
        spec.pop("id", None)
        for plan in spec.get("plans") or []:
            for key in ("crossId", "id", "api"):
                plan.pop(key, None)
    if request.arg("managementContextName"):
        namespace = request.arg("managementContextNamespace") or "default"
        spec["contextRef"] = {"name": request.arg("managementContextName"), "namespace": namespace}
    hosts = (spec.get("proxy") or {}).get("virtual_hosts") or []
    if request.arg("contextPath") and hosts:
        hosts[0]["path"] = request.arg("contextPath")
    if request.arg("version"):
        spec["version"] = request.arg("version")
    spec["notifyMembers"] = spec.pop("notifyMembers", True) is not False
    document = {
        "apiVersion": "gravitee.io/v1alpha1",
        "kind": "ApiDefinition",
        "metadata": {"name": _object_name(record.name), "annotations": {}, "labels": {}},
        "spec": spec,
    }
    return Response(200, yaml_document(document).encode(), {"Content-Type": _YAML})


def _ensure_cross_ids(record: ApiRecord) -> bool:
    """``generateAndSaveCrossId``: a random crossId for the API and each plan that lacks one."""
    changed = False
    if not record.cross_id:
        record.cross_id = str(uuid.uuid4())
        changed = True
    for plan in record.spec.get("plans") or []:
        if isinstance(plan, dict) and not plan.get("crossId"):
            plan["crossId"] = str(uuid.uuid4())
            changed = True
    return changed


def _serialized(record: ApiRecord, call: Call, *, excluded: set[str]) -> dict[str, Any]:
    """``ApiDefaultSerializer`` over what the record stores, then ``ApiDefinitionResource``'s removals."""
    stored = copy.deepcopy(record.spec)
    out: dict[str, Any] = {"name": stored.get("name"), "crossId": record.cross_id}
    for key in ("version",):
        if stored.get(key) is not None:
            out[key] = stored[key]
    out["execution_mode"] = stored.get("execution_mode") or "v3"
    for key in ("description", "visibility"):
        if stored.get(key) is not None:
            out[key] = stored[key]
    if stored.get("tags"):
        out["tags"] = stored["tags"]
    out["flows"] = stored.get("flows") or []
    out["gravitee"] = stored.get("gravitee") or "2.0.0"
    out["flow_mode"] = str(stored.get("flow_mode") or "DEFAULT").upper()
    if stored.get("services"):
        out["services"] = stored["services"]
    out["resources"] = stored.get("resources") or []
    out["properties"] = stored.get("properties") or []
    for key in ("categories", "labels"):
        if stored.get(key):
            out[key] = stored[key]
    if "groups" not in excluded and stored.get("groups"):
        out["groups"] = stored["groups"]
    if "members" not in excluded:
        members = stored.get("members") or []
        out["members"] = [m for m in members if isinstance(m, dict) and m.get("role") != roles.PRIMARY_OWNER]
    if "pages" not in excluded:
        out["pages"] = _pages(stored.get("pages"))
    if "plans" not in excluded:
        out["plans"] = [
            {**{k: v for k, v in plan.items() if k not in _PLAN_DROPPED}, "api": record.id}
            for plan in stored.get("plans") or []
            if isinstance(plan, dict) and plan.get("status") != "CLOSED"
        ]
    if "metadata" not in excluded:
        metadata = merged_metadata(stored.get("metadata") or [], call.env.metadata, _metadata_key)
        if metadata:
            out["metadata"] = [{k: v for k, v in m.items() if k != "apiId"} for m in metadata]
    out["id"] = record.id
    if stored.get("path_mappings") is not None:
        out["path_mappings"] = stored["path_mappings"]
    if isinstance(stored.get("proxy"), dict):
        out["proxy"] = _proxy(stored["proxy"])
    if stored.get("response_templates") is not None:
        out["response_templates"] = stored["response_templates"]
    for key in _API_DROPPED:
        out.pop(key, None)
    out["state"] = stored.get("state") or "STOPPED"
    out["notifyMembers"] = stored.get("notifyMembers", True)
    return out


def _pages(stored: Any) -> dict[str, Any]:
    pages = list(stored.values()) if isinstance(stored, dict) else list(stored or [])
    out: dict[str, Any] = {}
    for page in pages:
        if isinstance(page, dict):
            key = page.get("name") or page.get("id")
            out[str(key)] = {k: v for k, v in page.items() if k not in _PAGE_DROPPED}
    return out


def _proxy(proxy: dict[str, Any]) -> dict[str, Any]:
    out = dict(proxy)
    groups = []
    for group in proxy.get("groups") or []:
        if not isinstance(group, dict):
            continue
        group = dict(group)
        group["endpoints"] = [
            {k: v for k, v in e.items() if k != "status"} if isinstance(e, dict) else e
            for e in group.get("endpoints") or []
        ]
        if isinstance(group.get("headers"), list):
            group["headers"] = {str(h.get("name")): str(h.get("value")) for h in group["headers"]}
        groups.append(group)
    if "groups" in proxy:
        out["groups"] = groups
    return out


def _metadata_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _object_name(name: str) -> str:
    """``ObjectMeta.sanitizeName``."""
    return re.sub(r"[^-.a-z0-9]", "", re.sub(r"[\s_]", "-", name.lower()))


# ------------------------------------------------------------------ YAML, as Jackson's YAMLFactory writes it

_PLAIN_KEY = re.compile(r"[A-Za-z_/][-A-Za-z0-9_./]*")
_NOT_A_STRING = re.compile(r"(?i:true|false|yes|no|on|off|null|~|[-+]?[0-9][0-9_.:eE+-]*)")


def yaml_document(document: Any) -> str:
    """``---`` and the document in block style; strings double-quoted (JSON's escapes are YAML's)."""
    return "---\n" + "".join(_lines(document, 0))


def _key(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key) and not _NOT_A_STRING.fullmatch(key):
        return key
    return "'" + key.replace("'", "''") + "'"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return json.dumps(str(value), ensure_ascii=False)


def _lines(node: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value:
                out.append(f"{pad}{_key(str(key))}:\n")
                out += _lines(value, indent + 2)
            elif isinstance(value, list) and value:
                out.append(f"{pad}{_key(str(key))}:\n")
                out += _lines(value, indent)  # Jackson does not indent a sequence under its key
            else:
                out.append(f"{pad}{_key(str(key))}: {_scalar(value)}\n")
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list) and item:
                nested = _lines(item, indent + 2)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out += nested[1:]
            else:
                out.append(f"{pad}- {_scalar(item)}\n")
    return out


ROUTES = [Route("GET", PREFIX + "/apis/{api}/crd", export_crd, MAPI_V1)]
