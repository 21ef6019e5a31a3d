"""GKO's examples of the next-gen portal kinds, turned into the Automation bodies GKO sends.

GKO (``internal/apim/service/portals.go``, ``portallistings.go``, ``portallinks.go``, ``documentations.go``
and the DTOs of ``internal/apim/model/``) sends ``hrid = <namespace>-<name>``, the portal's HRID in the path
of its sub-resources, a listing's API refs as ``apiHrid = <ref namespace or the listing's>-<ref name>``, and
leaves out empty strings, nil pointers and the refs themselves (``omitempty``). The examples carry no
namespace: ``kubectl apply`` puts them in ``default``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.reference import REFERENCE

EXAMPLES = REFERENCE / "gko-examples-more-kinds" / "apim" / "portal"
NAMESPACE = "default"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = YAML(typ="safe").load(Path(EXAMPLES / name).read_text(encoding="utf-8"))
    return doc


def _hrid(ref: dict[str, Any], namespace: str = NAMESPACE) -> str:
    return f"{ref.get('namespace') or namespace}-{ref['name']}"


def _present(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: obj[k] for k in keys if obj.get(k) not in (None, "")}


def portal_body(manifest: dict[str, Any]) -> dict[str, Any]:
    """``model.PortalDTO``: ``portal.Type`` (name, structure, navigation) plus ``hrid``."""
    spec = manifest["spec"]
    return {"hrid": _hrid(manifest["metadata"]), **_present(spec, ("name", "structure", "navigation"))}


def listing_call(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(portal HRID, ``PortalListingDTO``)."""
    spec = manifest["spec"]
    apis = [
        {"apiHrid": _hrid(entry["ref"]), **_present(entry, ("location", "order"))} for entry in spec["apis"]
    ]
    return _hrid(spec["portalRef"]), {"hrid": _hrid(manifest["metadata"]), "apis": apis}


def link_call(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(portal HRID, ``PortalLinkDTO``)."""
    spec = manifest["spec"]
    body = {"hrid": _hrid(manifest["metadata"]), **_present(spec, ("name", "href", "location", "order"))}
    return _hrid(spec["portalRef"]), body


def documentation_call(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(parent path ``portals/<hrid>`` or ``apis/<hrid>``, ``DocumentationDTO``); ``area`` omitted when unset."""
    spec = manifest["spec"]
    parent = f"portals/{_hrid(spec['portalRef'])}" if "portalRef" in spec else f"apis/{_hrid(spec['apiRef'])}"
    keys = ("name", "type", "content", "location", "order", "area")
    return parent, {"hrid": _hrid(manifest["metadata"]), **_present(spec, keys)}
