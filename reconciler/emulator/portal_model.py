"""Next-gen portal objects the Automation API writes (APIM 4.12+): portals, listings, links and
documentation pages, with the ids, path rules and checks the server shares between them.

Read from the server (``core/portal``, ``core/portal_listing``, ``core/portal_page``,
``svc/common/HRIDToUUID.java``; see ``docs/emulator-fidelity.md``):

* Ids are derived from HRIDs: a portal u(u(org + hrid) + env); a listing or a portal documentation page
  u(u(org + "portal" + portalHrid) + env + hrid); an API documentation page u(u(org + "api" + apiHrid) + env
  + hrid); a link, a navigation item, u(u(org + "portal" + portalId) + env + hrid) where ``portalId`` is the
  portal's *UUID* (``PortalNavigationItemId.forPortalLink``); a navigation folder u(org + env + portalId +
  "folder" + path). ``u`` is Java's ``UUID.nameUUIDFromBytes`` of the concatenation (``UuidString``).
* Navigation paths (``NavigationPath``): one trailing ``/`` stripped, every segment slugified (lowercase,
  each run of characters other than ``a-z0-9`` becomes ``-``, leading and trailing ``-`` dropped), then
  checked by ``NavigationPathValidator`` (must start with ``/``, no ``//``, no ``..``, no trailing ``/``).
  Listing, link and documentation locations are checked as sent, not normalised.
* One portal per environment (``automation.portal.allowMultiplePortalPerEnv`` defaults to false,
  ``PortalAutomationScopeDomainService``): once a portal exists, any other portal HRID, in a portal PUT or
  in the path of a listing, link or documentation PUT, is the severe error ``<field> does not match the
  established portal for this environment``. Sub-resources of a portal that does not exist yet are
  accepted; their navigation is only built when the portal exists ("default portal").

The records are plain data in the store, persisted with the other kinds (the ``--state`` file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .ids import name_uuid
from .messages import HttpProblem

TOP_NAVBAR = "TOP_NAVBAR"
HOMEPAGE = "HOMEPAGE"
PORTAL_REF = "PORTAL"
API_REF = "API"
_SLUG_RUN = re.compile(r"[^a-z0-9]+")
_JAVA_TRIMMED = "".join(chr(c) for c in range(33))  # String.trim() drops every char <= ' '


# -- ids (HRIDToUUID, PortalNavigationItemId) -------------------------------------------------------
def portal_id(org_id: str, env_id: str, hrid: str) -> str:
    return name_uuid(name_uuid(org_id + hrid) + env_id)


def portal_child_id(org_id: str, env_id: str, portal_hrid: str, hrid: str) -> str:
    """``HRIDToUUID.portalListing()`` / ``portalDocumentation()``: scoped by the portal's *HRID*."""
    return name_uuid(name_uuid(org_id + "portal" + portal_hrid) + env_id + hrid)


def link_id(org_id: str, env_id: str, portal_uuid: str, hrid: str) -> str:
    """``PortalNavigationItemId.forPortalLink``: ``HRIDToUUID.portalLink()`` fed the portal's *UUID*."""
    return portal_child_id(org_id, env_id, portal_uuid, hrid)


def api_documentation_id(org_id: str, env_id: str, api_hrid: str, hrid: str) -> str:
    return name_uuid(name_uuid(org_id + "api" + api_hrid) + env_id + hrid)


def folder_id(org_id: str, env_id: str, portal_uuid: str, path: str | None) -> str | None:
    """``PortalNavigationItemId.forPortalFolder``: none for no location, a blank one or ``/``."""
    if path is None or not path.strip() or path == "/":
        return None
    return name_uuid(org_id + env_id + portal_uuid + "folder" + path)


# -- paths ------------------------------------------------------------------------------------------
def slugify(text: str) -> str:
    """``Slug.from``: lowercase, non-``[a-z0-9]`` runs to ``-``, no leading or trailing ``-``."""
    return _SLUG_RUN.sub("-", text.lower()).strip("-")


def normalise_path(path: str) -> str:
    """``NavigationPath``'s canonical constructor."""
    stripped = path[:-1] if len(path) > 1 and path.endswith("/") else path
    if not stripped:
        return stripped
    return "/".join(slugify(part) if part else part for part in stripped.split("/"))


def path_errors(path: str | None, field_name: str) -> list[str]:
    """``NavigationPathValidator.validate``: severe messages, in its order."""
    if path is None or not path.strip():
        return [f"{field_name} must not be empty"]
    errors = []
    if not path.startswith("/"):
        errors.append(f"{field_name} must start with '/' (was: {path})")
    if "//" in path:
        errors.append(f"{field_name} must not contain consecutive '/' (was: {path})")
    if ".." in path:
        errors.append(f"{field_name} must not contain '..' (was: {path})")
    if len(path) > 1 and path.endswith("/"):
        errors.append(f"{field_name} must not end with '/' (was: {path})")
    return errors


def expand_paths(paths: Iterable[str]) -> set[str]:
    """``NavigationSyncPlanner.expandToFullPaths``: every path and each of its ancestors (implicit folders)."""
    out: set[str] = set()
    for path in paths:
        parts = path.split("/")
        for cut in range(2, len(parts) + 1):
            out.add("/".join(parts[:cut]))
    return out


def java_trim(text: str | None) -> str | None:
    return None if text is None else text.strip(_JAVA_TRIMMED)


# -- records ----------------------------------------------------------------------------------------
@dataclass
class PortalRecord:
    """A portal (``core/portal/model/Portal``): no HRID is stored, the id is derived from it."""

    id: str
    org_id: str
    env_id: str
    name: str
    top_navbar: list[dict[str, Any]] = field(default_factory=list)  # [{path, displayName?}], in order

    def folder_paths(self) -> set[str]:
        return expand_paths(str(p["path"]) for p in self.top_navbar)


@dataclass
class ListingRecord:
    id: str
    org_id: str
    env_id: str
    portal_id: str
    apis: list[dict[str, Any]] = field(default_factory=list)  # [{apiHrid, location, order?}]


@dataclass
class LinkRecord:
    """A link is only a navigation item (``PortalNavigationLink``): title and url trimmed, order 0 unless set."""

    id: str
    org_id: str
    env_id: str
    portal_id: str
    title: str
    url: str
    order: int = 0
    location: str | None = None


@dataclass
class DocumentationRecord:
    """A page content with its automation metadata; ``nav_area`` is the area of its navigation page, None
    while it has none (a portal page whose portal does not exist yet)."""

    id: str
    org_id: str
    env_id: str
    reference_type: str  # PORTAL or API
    reference_id: str  # the portal's or the API's UUID
    name: str
    type: str
    content: str
    location: str | None = None
    order: int | None = None
    nav_area: str | None = None

    @property
    def top_level(self) -> bool:
        return self.location is None or not self.location.strip() or self.location == "/"


Record = PortalRecord | ListingRecord | LinkRecord | DocumentationRecord
_KINDS: dict[str, type[PortalRecord] | type[ListingRecord] | type[LinkRecord] | type[DocumentationRecord]] = {
    "portals": PortalRecord,
    "portalListings": ListingRecord,
    "portalLinks": LinkRecord,
    "documentations": DocumentationRecord,
}


class PortalData:
    """The portal objects of one environment, by id."""

    def __init__(self) -> None:
        self.portals: dict[str, PortalRecord] = {}
        self.listings: dict[str, ListingRecord] = {}
        self.links: dict[str, LinkRecord] = {}
        self.docs: dict[str, DocumentationRecord] = {}

    def _table(self, record: Record) -> dict[str, Any]:
        if isinstance(record, PortalRecord):
            return self.portals
        if isinstance(record, ListingRecord):
            return self.listings
        if isinstance(record, LinkRecord):
            return self.links
        return self.docs

    def put(self, record: Record) -> None:
        self._table(record)[record.id] = record

    def records(self) -> Iterator[tuple[str, Record]]:
        for kind, table in (
            ("portals", self.portals),
            ("portalListings", self.listings),
            ("portalLinks", self.links),
            ("documentations", self.docs),
        ):
            for record in table.values():
                yield kind, record

    def scope_errors(self, portal_uuid: str, field_name: str) -> list[str]:
        """``PortalAutomationScopeDomainService.validate``: another portal is established here."""
        if any(pid != portal_uuid for pid in self.portals):
            return [f"{field_name} does not match the established portal for this environment"]
        return []

    def homepage_of(self, portal_uuid: str, other_than: str) -> DocumentationRecord | None:
        """A top-level HOMEPAGE navigation page of the portal (``findTopLevelItemsBy...AndReference``)."""
        return next(
            (
                d
                for d in self.docs.values()
                if d.reference_type == PORTAL_REF
                and d.reference_id == portal_uuid
                and d.nav_area == HOMEPAGE
                and d.top_level
                and d.id != other_than
            ),
            None,
        )


def dump_portal_data(datas: Iterable[PortalData]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    for data in datas:
        for kind, record in data.records():
            out[kind].append(asdict(record))
    return out


def load_portal_data(state: dict[str, Any]) -> list[Record]:
    records: list[Record] = []
    for kind, cls in _KINDS.items():
        for obj in state.get(kind) or []:
            records.append(cls(**obj))
    return records


# -- answers ----------------------------------------------------------------------------------------
def errors_view(severe: list[str], warning: list[str] | None = None) -> dict[str, list[str]] | None:
    """``toErrors``: null (omitted) when there are none, else both lists."""
    if not severe and not warning:
        return None
    return {"severe": list(severe), "warning": list(warning or [])}


def with_status(state: dict[str, Any], **status: Any) -> dict[str, Any]:
    """Add status fields, leaving out nulls (``GraviteeMapper`` ``NON_NULL``)."""
    state.update({k: v for k, v in status.items() if v is not None})
    return state


def unable(severe: list[str]) -> HttpProblem:
    """``new ValidationDomainException(String.join(", ", messages))`` -> ``ValidationDomainMapper``."""
    return HttpProblem(400, ", ".join(severe), technical_code="invalid")


def hrid_not_found(hrid: str) -> HttpProblem:
    return HttpProblem(404, f"HRID [{hrid}] cannot be found.", technical_code="hrid.notFound")
