"""Automation API: portals, portal listings and portal links (``/portals``, ``/portals/{hrid}/listings``,
``/portals/{hrid}/links``).

Read from the server (automation-rest ``resource/PortalsResource``, ``PortalResource``,
``PortalListingsResource``, ``PortalListingResource``, ``PortalLinksResource``, ``PortalLinkResource``,
``mapper/PortalMapper``, ``PortalListingMapper``, ``PortalLinkMapper``; core ``CreateOrUpdatePortalUseCase``,
``ValidatePortalDomainService``, ``CreateOrUpdatePortalListingUseCase``, ``ValidatePortalListingDomainService``,
``CreateOrUpdatePortalLinkUseCase``, ``ValidatePortalLinkUseCase``, ``LinkUrlRule``, ``TitleRequiredRule``):

* Every route needs ``ENVIRONMENT_PORTAL`` (C or U for a PUT, R for a GET, D for a DELETE). Portals and
  listings exist from 4.12.0, links from 4.13; the portal's ``structure`` (and with it the 400
  ``navigation and structure cannot be used at the same time``) from 4.13: 4.12 knows ``navigation`` only.
* A PUT is bean-validated first (400 ``Validation error``), then validated by the domain service; a dry run
  answers 200 with the state and ``errors`` when there are any, a real PUT with severe errors is a 400
  ``ValidationDomainException`` whose message joins them with ``, `` -- except a link, answered 400 with the
  link *state* as body (``PortalLinksResource``: "A real apply that produced severe errors persisted nothing").
* The PUT answers the request (plus ids, ``portalHrid``); a GET answers what was stored: a portal's
  navigation normalised, a link's name and href trimmed and its order 0 when none was sent.
* The server does not check that a listed API exists, nor that the portal of a listing, link or page
  exists: without a portal a listing is stored, a link is answered but not stored (it is a navigation
  item, built only for the default portal).
"""

from __future__ import annotations

import re
from typing import Any

from .context import Call, Route
from .kinds_common import spec_body
from .messages import AUTOMATION, HttpProblem, Response
from .portal_model import (
    LinkRecord,
    ListingRecord,
    PortalData,
    PortalRecord,
    errors_view,
    hrid_not_found,
    java_trim,
    link_id,
    normalise_path,
    path_errors,
    portal_child_id,
    portal_id,
    unable,
    with_status,
)
from .validation import STR, hrid
from .versions import ApimVersion

PREFIX = "/automation/organizations/{orgId}/environments/{envId}/portals"
_NAV_PATH = {"type": "object", "required": ["path"], "properties": {"path": STR, "displayName": STR}}
_NAV_LIST = {"type": "array", "items": _NAV_PATH}


def has_portals(version: ApimVersion) -> bool:
    """``PortalsResource`` and its sub-resources: registered from 4.12.0."""
    return version.minor >= 12


def has_links(version: ApimVersion) -> bool:
    """``PortalLinksResource``: 4.13 (absent from every 4.12.x tag)."""
    return version.minor >= 13


def _has_structure(version: ApimVersion) -> bool:
    """``PortalSpec.structure``: 4.13; 4.12's ``PortalSpec`` has ``navigation`` only."""
    return version.minor >= 13


def _portal_spec(version: ApimVersion) -> dict[str, Any]:
    props: dict[str, Any] = {"hrid": hrid(version.hrid_pattern), "name": STR, "navigation": _NAV_LIST}
    if _has_structure(version):
        props["structure"] = {"type": "object", "properties": {"topNavbar": _NAV_LIST}}
    return {"type": "object", "required": ["hrid", "name"], "properties": props}


def _listing_spec(version: ApimVersion) -> dict[str, Any]:
    entry = {
        "type": "object",
        "required": ["apiHrid", "location"],
        "properties": {"apiHrid": STR, "location": STR, "order": {"type": "integer"}},
    }
    return {
        "type": "object",
        "required": ["hrid", "apis"],
        "properties": {"hrid": hrid(version.hrid_pattern), "apis": {"type": "array", "items": entry}},
    }


def _link_spec(version: ApimVersion) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["hrid", "name", "href"],
        "properties": {
            "hrid": hrid(version.hrid_pattern),
            "name": STR,
            "href": STR,
            "location": STR,
            "order": {"type": "integer"},
        },
    }


def project(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """What the generated model keeps of ``obj`` (unknown properties dropped, nulls omitted)."""
    return {k: obj[k] for k in keys if obj.get(k) is not None}


def portal_data(call: Call) -> PortalData:
    return call.ctx.store.env(call.org_id, call.env_id).portal


def _status(call: Call, record_id: str | None, **extra: Any) -> dict[str, Any]:
    return {"id": record_id, "environmentId": call.env_id, "organizationId": call.org_id, **extra}


# -- portals ----------------------------------------------------------------------------------------
def _navigation(entries: list[Any] | None) -> list[dict[str, Any]]:
    """``PortalMapper.toCoreNavigationPathList``: blank paths dropped, the rest normalised, list order kept."""
    out = []
    for entry in entries or []:
        if isinstance(entry, dict) and str(entry.get("path", "")).strip():
            item = {"path": normalise_path(str(entry["path"]))}
            if entry.get("displayName") is not None:
                item["displayName"] = entry["displayName"]
            out.append(item)
    return out


def _portal_state(
    call: Call, record: PortalRecord, hrid_value: str, errors: dict[str, Any] | None
) -> dict[str, Any]:
    """``PortalMapper.toPortalState``: ``navigation`` is a copy of ``structure.topNavbar`` (4.13); 4.12
    answers ``navigation`` only, ``[]`` when empty."""
    state: dict[str, Any] = {"hrid": hrid_value, "name": record.name}
    paths = [dict(p) for p in record.top_navbar]
    if _has_structure(call.version):
        state["structure"] = {"topNavbar": paths} if paths else {}
        if paths:
            state["navigation"] = [dict(p) for p in paths]
    else:
        state["navigation"] = paths
    return with_status(state, **_status(call, record.id), errors=errors)


def put_portal(call: Call) -> Response:
    call.require_env("PORTAL", "CU")
    spec = spec_body(call, _portal_spec(call.version))
    structure = spec.get("structure") if _has_structure(call.version) else None
    if isinstance(structure, dict) and spec.get("navigation"):
        raise HttpProblem(
            400, "navigation and structure cannot be used at the same time", technical_code="invalid"
        )
    entries = structure.get("topNavbar") if isinstance(structure, dict) else spec.get("navigation")
    top_navbar = _navigation(entries)
    hrid_value = str(spec["hrid"])
    record = PortalRecord(
        id=portal_id(call.org_id, call.env_id, hrid_value),
        org_id=call.org_id,
        env_id=call.env_id,
        name=str(spec["name"]),
        top_navbar=top_navbar,
    )
    data = portal_data(call)
    severe = data.scope_errors(record.id, "hrid")
    field_prefix = "structure.topNavbar" if _has_structure(call.version) else "navigation"
    for i, item in enumerate(top_navbar):
        severe.extend(path_errors(item["path"], f"{field_prefix}[{i}].path"))
    if call.request.flag("dryRun"):
        return Response.json(200, _portal_state(call, record, hrid_value, errors_view(severe)))
    if severe:
        raise unable(severe)
    data.put(record)
    materialise_portal_pages(data, record.id)
    call.ctx.store.persist()
    return Response.json(200, _portal_state(call, record, hrid_value, None))


def materialise_portal_pages(data: PortalData, portal_uuid: str) -> None:
    """``CreateOrUpdatePortalUseCase``: the portal's pages get their navigation page, in the area they
    already had, else TOP_NAVBAR (``PortalDocumentationSyncDomainService.materialize`` without an area)."""
    for doc in data.docs.values():
        if doc.reference_id == portal_uuid and doc.nav_area is None:
            doc.nav_area = "TOP_NAVBAR"


def _find_portal(call: Call) -> tuple[str, PortalRecord | None]:
    hrid_value = call.request.params["hrid"]
    return hrid_value, portal_data(call).portals.get(portal_id(call.org_id, call.env_id, hrid_value))


def get_portal(call: Call) -> Response:
    call.require_env("PORTAL", "R")
    hrid_value, record = _find_portal(call)
    if record is None:
        raise hrid_not_found(hrid_value)
    return Response.json(200, _portal_state(call, record, hrid_value, None))


def delete_portal(call: Call) -> Response:
    """``DeletePortalUseCase``: the portal and its folders go; listings, links and pages stay (the
    navigation sync skips automation-managed items)."""
    call.require_env("PORTAL", "D")
    hrid_value, record = _find_portal(call)
    if record is None:
        raise hrid_not_found(hrid_value)
    del portal_data(call).portals[record.id]
    call.ctx.store.persist()
    return Response.empty(204)


# -- listings ---------------------------------------------------------------------------------------
_LISTING_ENTRY = ("apiHrid", "location", "order")


def _listing_state(
    call: Call, hrid_value: str, apis: list[Any], record_id: str, errors: Any
) -> dict[str, Any]:
    entries = [project(a, _LISTING_ENTRY) for a in apis if isinstance(a, dict)]
    state: dict[str, Any] = {"hrid": hrid_value, "apis": entries}
    return with_status(
        state, **_status(call, record_id), errors=errors, portalHrid=call.request.params["hrid"]
    )


def put_listing(call: Call) -> Response:
    call.require_env("PORTAL", "CU")
    spec = spec_body(call, _listing_spec(call.version))
    portal_hrid = call.request.params["hrid"]
    hrid_value = str(spec["hrid"])
    listing_id = portal_child_id(call.org_id, call.env_id, portal_hrid, hrid_value)
    portal_uuid = portal_id(call.org_id, call.env_id, portal_hrid)
    data = portal_data(call)
    apis = [a for a in spec.get("apis") or [] if isinstance(a, dict)]
    severe = data.scope_errors(portal_uuid, "portalHrid")
    for i, entry in enumerate(apis):
        severe.extend(path_errors(entry.get("location"), f"apis[{i}].location"))
    if call.request.flag("dryRun"):
        return Response.json(200, _listing_state(call, hrid_value, apis, listing_id, errors_view(severe)))
    if severe:
        raise unable(severe)
    record = ListingRecord(
        id=listing_id,
        org_id=call.org_id,
        env_id=call.env_id,
        portal_id=portal_uuid,
        apis=[project(a, _LISTING_ENTRY) for a in apis],
    )
    data.put(record)
    call.ctx.store.persist()
    return Response.json(200, _listing_state(call, hrid_value, apis, listing_id, None))


def _find_listing(call: Call) -> tuple[str, ListingRecord | None]:
    params = call.request.params
    listing_id = portal_child_id(call.org_id, call.env_id, params["hrid"], params["listingHrid"])
    return params["listingHrid"], portal_data(call).listings.get(listing_id)


def get_listing(call: Call) -> Response:
    call.require_env("PORTAL", "R")
    hrid_value, record = _find_listing(call)
    if record is None:
        raise hrid_not_found(hrid_value)
    return Response.json(200, _listing_state(call, hrid_value, record.apis, record.id, None))


def delete_listing(call: Call) -> Response:
    call.require_env("PORTAL", "D")
    hrid_value, record = _find_listing(call)
    if record is None:
        raise hrid_not_found(hrid_value)
    del portal_data(call).listings[record.id]
    call.ctx.store.persist()
    return Response.empty(204)


# -- links ------------------------------------------------------------------------------------------
# java.net.URL knows these protocols out of the box (a URI with another scheme: MalformedURLException)
_URL_PROTOCOLS = frozenset({"http", "https", "ftp", "file", "jar", "mailto", "jrt"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(.*)$", re.DOTALL)
_URI_ILLEGAL = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def url_ok(url: str | None) -> bool:
    """``LinkUrlRule.isWellFormedAbsoluteUrl``: ``new URI(url).toURL()`` succeeds (a close reading of
    ``java.net.URI``'s grammar: legal characters and escapes, an absolute URI, a known protocol)."""
    if url is None or _URI_ILLEGAL.search(url) or _BAD_ESCAPE.search(url) or url.count("#") > 1:
        return False
    match = _SCHEME.match(url)
    if match is None or match[1].lower() not in _URL_PROTOCOLS:
        return False
    rest = match[2]
    if not rest:  # "http:": Expected scheme-specific part
        return False
    if rest.startswith("//") and (len(rest) == 2 or rest[2] in "?#"):  # "http://": Expected authority
        return False
    return match[1].lower() != "jar" or "!/" in rest  # JarURLConnection: no !/ in spec


def _link_state(
    call: Call, hrid_value: str, fields: dict[str, Any], record_id: str, errors: Any
) -> dict[str, Any]:
    state = {"hrid": hrid_value, **project(fields, ("name", "href", "location", "order"))}
    return with_status(
        state, **_status(call, record_id), errors=errors, portalHrid=call.request.params["hrid"]
    )


def put_link(call: Call) -> Response:
    call.require_env("PORTAL", "CU")
    spec = spec_body(call, _link_spec(call.version))
    portal_hrid = call.request.params["hrid"]
    hrid_value = str(spec["hrid"])
    portal_uuid = portal_id(call.org_id, call.env_id, portal_hrid)
    record_id = link_id(call.org_id, call.env_id, portal_uuid, hrid_value)
    data = portal_data(call)
    name, href = java_trim(spec.get("name")), java_trim(spec.get("href"))
    severe = data.scope_errors(portal_uuid, "portalHrid")
    if spec.get("location") is not None:
        severe.extend(path_errors(spec["location"], "location"))
    # the navigation item validator throws on its first failing rule: title before url
    if not name or not name.strip():
        severe.append("The title field is required and cannot be blank.")
    elif not url_ok(href):
        severe.append("Provided url is invalid")
    dry_run = call.request.flag("dryRun")
    if severe:
        return Response.json(
            200 if dry_run else 400, _link_state(call, hrid_value, spec, record_id, errors_view(severe))
        )
    if not dry_run and portal_uuid in data.portals:
        order = spec.get("order")
        data.put(
            LinkRecord(
                id=record_id,
                org_id=call.org_id,
                env_id=call.env_id,
                portal_id=portal_uuid,
                title=str(name),
                url=str(href),
                order=int(order) if order is not None else 0,
                location=spec.get("location"),
            )
        )
        call.ctx.store.persist()
    return Response.json(200, _link_state(call, hrid_value, spec, record_id, None))


def _find_link(call: Call) -> tuple[str, LinkRecord | None]:
    params = call.request.params
    portal_uuid = portal_id(call.org_id, call.env_id, params["hrid"])
    record_id = link_id(call.org_id, call.env_id, portal_uuid, params["linkHrid"])
    return params["linkHrid"], portal_data(call).links.get(record_id)


def get_link(call: Call) -> Response:
    call.require_env("PORTAL", "R")
    hrid_value, record = _find_link(call)
    if record is None:
        raise hrid_not_found(hrid_value)
    fields = {"name": record.title, "href": record.url, "order": record.order, "location": record.location}
    return Response.json(200, _link_state(call, hrid_value, fields, record.id, None))


def delete_link(call: Call) -> Response:
    call.require_env("PORTAL", "D")
    hrid_value, record = _find_link(call)
    if record is None:
        raise hrid_not_found(hrid_value)
    del portal_data(call).links[record.id]
    call.ctx.store.persist()
    return Response.empty(204)


ROUTES = [
    Route("PUT", PREFIX, put_portal, AUTOMATION, has_portals),
    Route("GET", PREFIX + "/{hrid}", get_portal, AUTOMATION, has_portals),
    Route("DELETE", PREFIX + "/{hrid}", delete_portal, AUTOMATION, has_portals),
    Route("PUT", PREFIX + "/{hrid}/listings", put_listing, AUTOMATION, has_portals),
    Route("GET", PREFIX + "/{hrid}/listings/{listingHrid}", get_listing, AUTOMATION, has_portals),
    Route("DELETE", PREFIX + "/{hrid}/listings/{listingHrid}", delete_listing, AUTOMATION, has_portals),
    Route("PUT", PREFIX + "/{hrid}/links", put_link, AUTOMATION, has_links),
    Route("GET", PREFIX + "/{hrid}/links/{linkHrid}", get_link, AUTOMATION, has_links),
    Route("DELETE", PREFIX + "/{hrid}/links/{linkHrid}", delete_link, AUTOMATION, has_links),
]
