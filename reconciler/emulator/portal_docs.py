"""Automation API: documentation pages of the next-gen portal, on a portal
(``/portals/{hrid}/documentations``) or on an API (``/apis/{apiHrid}/documentations``), from 4.12.0.

Read from the server (automation-rest ``resource/PortalDocumentationsResource``,
``PortalDocumentationResource``, ``ApiDocumentationsResource``, ``ApiDocumentationResource``,
``mapper/PortalDocumentationMapper``, ``ApiDocumentationMapper``; core ``CreateOrUpdatePortalDocumentationUseCase``,
``ValidatePortalDocumentationDomainService``, ``CreateOrUpdateApiDocumentationUseCase``,
``ValidateApiDocumentationDomainService``, ``GetPortalDocumentationUseCase``, ``PortalDocumentationSyncDomainService``,
``HomepageUniquenessRule``, ``ParentRule``, ``PortalPageContentValidatorService``):

* Portal pages need ``ENVIRONMENT_PORTAL``; API pages ``API_DOCUMENTATION`` *on the API* (a membership, or
  organization ADMIN), checked on the id derived from the path. Neither use case checks that the portal or
  the API exists.
* ``area`` (4.13; 4.12 has none and every page is TOP_NAVBAR): an API page with another area is a 400
  ``API documentation must be under TOP_NAVBAR area``, before anything else. A portal page's navigation page
  is built only when its portal exists, in the area asked; its GET reads the area back from that navigation
  page (TOP_NAVBAR without one). A second top-level HOMEPAGE of a portal is a 409 ``Homepage already exists``
  (``HomepageUniquenessRule``: the automation-managed homepage is never dropped, only console ones) and a
  page placed under a TOP_NAVBAR folder of another area a 400 ``ParentAreaMismatchException``: both are
  raised after the page content was saved, which stays (without navigation page).
* Updating a page of the same type checks its content is not blank (400 ``Content must not be null or
  empty``, nothing changed); a page of another type replaces it. A new page's content is not checked.
* Deleting an API leaves its pages (``ApiDocumentationSyncDomainService.cleanupForApi`` removes navigation
  items only).
"""

from __future__ import annotations

from typing import Any

from . import roles
from .context import Call, Route
from .ids import api_id
from .kinds_common import spec_body
from .messages import AUTOMATION, HttpProblem, Response
from .portal_model import (
    API_REF,
    HOMEPAGE,
    PORTAL_REF,
    TOP_NAVBAR,
    DocumentationRecord,
    PortalData,
    api_documentation_id,
    errors_view,
    folder_id,
    hrid_not_found,
    java_trim,
    path_errors,
    portal_child_id,
    portal_id,
    unable,
    with_status,
)
from .portals import PREFIX, has_portals, portal_data, project
from .validation import STR, hrid
from .versions import ApimVersion

APIS = "/automation/organizations/{orgId}/environments/{envId}/apis"
_TYPES = ["GRAVITEE_MARKDOWN", "OPENAPI", "ASYNCAPI"]
_FIELDS = ("name", "type", "content", "location", "order", "area")


def _has_area(version: ApimVersion) -> bool:
    """``DocumentationSpec.area`` (``DocumentationArea``): 4.13."""
    return version.minor >= 13


def _spec(version: ApimVersion) -> dict[str, Any]:
    props: dict[str, Any] = {
        "hrid": hrid(version.hrid_pattern),
        "name": STR,
        "type": {"type": "string", "enum": _TYPES},
        "content": STR,
        "location": STR,
        "order": {"type": "integer"},
    }
    if _has_area(version):
        props["area"] = {"type": "string", "enum": [TOP_NAVBAR, HOMEPAGE]}
    return {"type": "object", "required": ["hrid", "name", "type", "content"], "properties": props}


def _read(call: Call) -> dict[str, Any]:
    spec = spec_body(call, _spec(call.version))
    if _has_area(call.version) and "area" not in spec:
        spec["area"] = TOP_NAVBAR  # the generated model's default (DocumentationArea default)
    elif not _has_area(call.version):
        spec.pop("area", None)  # unknown to 4.12's model
    return spec


def _state(
    call: Call, hrid_value: str, fields: dict[str, Any], record_id: str, errors: Any, **parent: str
) -> dict[str, Any]:
    state = {"hrid": hrid_value, **project(fields, _FIELDS)}
    if not _has_area(call.version):
        state.pop("area", None)
    status = {"id": record_id, "environmentId": call.env_id, "organizationId": call.org_id}
    return with_status(state, **status, errors=errors, **parent)


def _validation_errors(spec: dict[str, Any]) -> list[str]:
    """``Validate{Portal,Api}DocumentationDomainService`` after the scope check (type and content are
    already non-null: the spec requires them)."""
    errors = []
    if not str(spec.get("name") or "").strip():
        errors.append("name must not be blank")
    if spec.get("location") is not None:
        errors.extend(path_errors(spec["location"], "location"))
    return errors


def _save(
    call: Call, data: PortalData, record_id: str, ref_type: str, ref_id: str, spec: dict[str, Any]
) -> DocumentationRecord:
    """The page content: updated in place (same type, content must not be blank), replaced (another type)
    or created; the navigation page, if any, keeps its area either way."""
    existing = data.docs.get(record_id)
    content = str(spec["content"])
    if existing is not None and existing.type == spec["type"] and not java_trim(content):
        raise HttpProblem(400, "Content must not be null or empty", technical_code="invalid")
    record = DocumentationRecord(
        id=record_id,
        org_id=call.org_id,
        env_id=call.env_id,
        reference_type=ref_type,
        reference_id=ref_id,
        name=str(spec["name"]),
        type=str(spec["type"]),
        content=content,
        location=spec.get("location"),
        order=spec.get("order"),
        nav_area=existing.nav_area if existing is not None else None,
    )
    data.put(record)
    return record


# -- portal pages -----------------------------------------------------------------------------------
def _materialise(call: Call, data: PortalData, doc: DocumentationRecord, area: str) -> None:
    """``PortalDocumentationSyncDomainService.materialize`` for the default portal."""
    portal = data.portals.get(doc.reference_id)
    if portal is None:
        return
    if doc.nav_area != area:
        doc.nav_area = None  # the navigation page of the other area is deleted before the new one is built
        if area == HOMEPAGE and data.homepage_of(portal.id, other_than=doc.id) is not None:
            raise HttpProblem(409, "Homepage already exists")
    if doc.location in portal.folder_paths() and area != TOP_NAVBAR:
        parent = folder_id(call.org_id, call.env_id, portal.id, doc.location)
        raise HttpProblem(
            400,
            f"Parent item with id {parent} belongs to a different area than the child item",
            technical_code="invalid",
        )
    doc.nav_area = area


def put_portal_doc(call: Call) -> Response:
    call.require_env("PORTAL", "CU")
    spec = _read(call)
    portal_hrid = call.request.params["hrid"]
    hrid_value = str(spec["hrid"])
    record_id = portal_child_id(call.org_id, call.env_id, portal_hrid, hrid_value)
    portal_uuid = portal_id(call.org_id, call.env_id, portal_hrid)
    data = portal_data(call)
    severe = data.scope_errors(portal_uuid, "portalHrid") + _validation_errors(spec)
    if call.request.flag("dryRun"):
        state = _state(call, hrid_value, spec, record_id, errors_view(severe), portalHrid=portal_hrid)
        return Response.json(200, state)
    if severe:
        raise unable(severe)
    doc = _save(call, data, record_id, PORTAL_REF, portal_uuid, spec)
    try:
        _materialise(call, data, doc, str(spec.get("area") or TOP_NAVBAR))
    finally:
        call.ctx.store.persist()  # the page content is saved even when its navigation page is refused
    return Response.json(200, _state(call, hrid_value, spec, record_id, None, portalHrid=portal_hrid))


def _find_portal_doc(call: Call) -> tuple[str, DocumentationRecord | None]:
    params = call.request.params
    record_id = portal_child_id(call.org_id, call.env_id, params["hrid"], params["docHrid"])
    return params["docHrid"], portal_data(call).docs.get(record_id)


def _fields(doc: DocumentationRecord, area: str) -> dict[str, Any]:
    return {
        "name": doc.name,
        "type": doc.type,
        "content": doc.content,
        "location": doc.location,
        "order": doc.order,
        "area": area,
    }


def get_portal_doc(call: Call) -> Response:
    call.require_env("PORTAL", "R")
    hrid_value, doc = _find_portal_doc(call)
    if doc is None:
        raise hrid_not_found(hrid_value)
    fields = _fields(doc, doc.nav_area or TOP_NAVBAR)
    return Response.json(
        200, _state(call, hrid_value, fields, doc.id, None, portalHrid=call.request.params["hrid"])
    )


def delete_portal_doc(call: Call) -> Response:
    call.require_env("PORTAL", "D")
    hrid_value, doc = _find_portal_doc(call)
    if doc is None:
        raise hrid_not_found(hrid_value)
    del portal_data(call).docs[doc.id]
    call.ctx.store.persist()
    return Response.empty(204)


# -- API pages --------------------------------------------------------------------------------------
def _require_api(call: Call, acls: str) -> None:
    """``PermissionsFilter`` on ``{apiHrid}``: ``API_DOCUMENTATION`` on u(org + apiHrid) + env, or on the
    path value itself with ``hridContainsApiUUID=true``."""
    ref = call.request.params["apiHrid"]
    target_id = ref if call.request.flag("hridContainsApiUUID") else api_id(call.org_id, call.env_id, ref)
    target = call.ctx.store.env(call.org_id, call.env_id).apis.get(target_id)
    call.require_member(roles.API, target.members if target else None, "DOCUMENTATION", acls)


def put_api_doc(call: Call) -> Response:
    _require_api(call, "CU")
    spec = _read(call)
    if spec.get("area") not in (None, TOP_NAVBAR):
        raise HttpProblem(400, "API documentation must be under TOP_NAVBAR area", technical_code="invalid")
    api_hrid = call.request.params["apiHrid"]
    hrid_value = str(spec["hrid"])
    record_id = api_documentation_id(call.org_id, call.env_id, api_hrid, hrid_value)
    severe = _validation_errors(spec)
    if call.request.flag("dryRun"):
        return Response.json(
            200, _state(call, hrid_value, spec, record_id, errors_view(severe), apiHrid=api_hrid)
        )
    if severe:
        raise unable(severe)
    _save(call, portal_data(call), record_id, API_REF, api_id(call.org_id, call.env_id, api_hrid), spec)
    call.ctx.store.persist()
    return Response.json(200, _state(call, hrid_value, spec, record_id, None, apiHrid=api_hrid))


def _find_api_doc(call: Call) -> tuple[str, DocumentationRecord | None]:
    params = call.request.params
    record_id = api_documentation_id(call.org_id, call.env_id, params["apiHrid"], params["docHrid"])
    doc = portal_data(call).docs.get(record_id)
    return params["docHrid"], doc if doc is not None and doc.reference_type == API_REF else None


def get_api_doc(call: Call) -> Response:
    _require_api(call, "R")
    hrid_value, doc = _find_api_doc(call)
    if doc is None:
        raise hrid_not_found(hrid_value)
    fields = _fields(doc, TOP_NAVBAR)  # ApiDocumentationMapper: always TOP_NAVBAR
    return Response.json(
        200, _state(call, hrid_value, fields, doc.id, None, apiHrid=call.request.params["apiHrid"])
    )


def delete_api_doc(call: Call) -> Response:
    _require_api(call, "D")
    hrid_value, doc = _find_api_doc(call)
    if doc is None:
        raise hrid_not_found(hrid_value)
    del portal_data(call).docs[doc.id]
    call.ctx.store.persist()
    return Response.empty(204)


ROUTES = [
    Route("PUT", PREFIX + "/{hrid}/documentations", put_portal_doc, AUTOMATION, has_portals),
    Route("GET", PREFIX + "/{hrid}/documentations/{docHrid}", get_portal_doc, AUTOMATION, has_portals),
    Route("DELETE", PREFIX + "/{hrid}/documentations/{docHrid}", delete_portal_doc, AUTOMATION, has_portals),
    Route("PUT", APIS + "/{apiHrid}/documentations", put_api_doc, AUTOMATION, has_portals),
    Route("GET", APIS + "/{apiHrid}/documentations/{docHrid}", get_api_doc, AUTOMATION, has_portals),
    Route("DELETE", APIS + "/{apiHrid}/documentations/{docHrid}", delete_api_doc, AUTOMATION, has_portals),
]
