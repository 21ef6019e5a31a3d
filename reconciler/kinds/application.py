"""`Application`: written through the Automation API; it subscribes to APIs, so it comes after them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.base import AutomationEndpoints, Fields, Kind, RemoteKind
from reconciler.kinds.bodies import MANIFEST_ONLY, BuiltBody, accepted, metadata_key
from reconciler.kinds.exports import (
    ExportedSpec,
    ExportTarget,
    exported_entries,
    note_unknown,
    spec_with_hrid,
)
from reconciler.manifests.model import APPLICATION, Resource
from reconciler.plan.crd_defaults import CRD_DEFAULTS
from reconciler.plan.defaults import Rules, apply_rules
from reconciler.plan.ownership import hide_ownership

JSON = Any

# The spec fields `export` writes, in the order written.
EXPORTED = (
    "name",
    "description",
    "domain",
    "groups",
    "pictureUrl",
    "background",
    "settings",
    "metadata",
    "members",
)
# The fields of ApplicationSpec that ApplicationState echoes (hrid is the identity): what export
# writes, and the status APIM keeps.
ECHOED = frozenset(("hrid", *EXPORTED, "status"))


GKO_DEFAULTS = Rules(*CRD_DEFAULTS[APPLICATION])
"""Applied to the manifest's spec before the body is built, as the Kubernetes API server applies GKO's
CRD defaults before GKO reads it (plan/crd_defaults.py, generated from GKO's CRDs)."""

SERVER_DEFAULTS = Rules((("status",), "ACTIVE"))
"""What APIM fills in and echoes: filled into both sides before comparing (plan/normalise.py)."""


def build_body(resource: Resource, hrid: str, environment_id: str) -> BuiltBody:
    """An `ApplicationSpec`: GKO's defaults, the accepted fields, the OAuth type in APIM's case."""
    spec = apply_rules(dict(resource.spec), GKO_DEFAULTS)
    dropped = sorted(k for k in spec if k not in _ACCEPTED and k not in MANIFEST_ONLY | {"id", "hrid"})
    body: dict[str, JSON] = {"hrid": hrid}
    body.update({k: v for k, v in spec.items() if k in _ACCEPTED})
    if "metadata" in body:
        body["metadata"] = hide_ownership(body["metadata"])
    settings = body.get("settings")
    oauth = settings.get("oauth") if isinstance(settings, Mapping) else None
    if isinstance(settings, Mapping) and isinstance(oauth, Mapping):
        kind = oauth.get("applicationType")
        if isinstance(kind, str):
            # The CRD spells the type in upper case (BROWSER), the Automation API in lower case (browser).
            body["settings"] = {**settings, "oauth": {**oauth, "applicationType": kind.lower()}}
    return BuiltBody(body, dropped)


# What the Application CRD accepts of APIM's settings and metadata entries.
_SETTINGS = {
    "app": ("type", "clientId"),
    "oauth": ("applicationType", "grantTypes", "redirectUris"),
    "tls": ("clientCertificate", "clientCertificates"),
}
_METADATA_FIELDS = ("name", "format", "value", "defaultValue", "hidden")


def export_spec(state: Mapping[str, JSON], target: ExportTarget) -> ExportedSpec:
    """An `Application` spec from an `ApplicationState` (or, lacking one, a mAPI v1 listing item)."""
    notes: list[str] = []
    hrid, spec = spec_with_hrid(state, target)
    for key in EXPORTED:
        value = state.get(key)
        if key == "description" and value is None:
            value = ""  # required by the CRD; APIM's own default
        if key == "settings":
            value = _exported_settings(value, notes)
        elif key == "metadata":
            value = _exported_metadata(value, notes)
        if value is None or value in ([], {}):
            continue
        spec[key] = value
    note_unknown(state, set(EXPORTED) | KIND.fields.state_only | {"picture"}, notes)
    return ExportedSpec(hrid, spec, tuple(notes))


def _exported_metadata(entries: JSON, notes: list[str]) -> JSON:
    """The Application CRD has no metadata `key`: APIM derives it from the name, so it must match."""
    if not isinstance(entries, list):
        return entries
    out = []
    for entry in exported_entries(entries):
        key, name = entry.get("key"), entry.get("name")
        if isinstance(key, str) and key and isinstance(name, str) and metadata_key(name) != key:
            notes.append(
                f"metadata {name!r} has the key {key!r}, which its name does not give: "
                "the Application CRD cannot keep it, the first sync will show it as a change"
            )
        out.append({k: entry[k] for k in _METADATA_FIELDS if entry.get(k) is not None})
    return out


def _exported_settings(settings: JSON, notes: list[str]) -> JSON:
    """Only what the Application CRD accepts; the OAuth type in the CRD's upper case."""
    if not isinstance(settings, Mapping):
        return settings
    out: dict[str, JSON] = {}
    for section, fields in _SETTINGS.items():
        value = settings.get(section)
        if not isinstance(value, Mapping):
            continue
        if section == "app" and "client_id" in value and "clientId" not in value:
            value = {**value, "clientId": value["client_id"]}  # mAPI v1 spells it in snake case
        kept = {f: value[f] for f in fields if value.get(f) is not None}
        dropped = sorted(set(value) - set(fields) - {"client_id"})
        if dropped:
            notes.append(f"settings.{section}: {', '.join(dropped)} not exported (not in the CRD)")
        if section == "oauth" and isinstance(kept.get("applicationType"), str):
            kept["applicationType"] = kept["applicationType"].upper()
        if kept:
            out[section] = kept
    return out


KIND = Kind(
    name=APPLICATION,
    remote=RemoteKind.APPLICATION,
    level=1,
    endpoints=AutomationEndpoints("applications"),
    fields=Fields(
        echoed=ECHOED,
        write_only=frozenset({"notifyMembers"}),
        normalised_by_server=True,
        state_only=frozenset(
            [
                "id",
                "hrid",
                "organizationId",
                "environmentId",
                "errors",
                "primaryOwner",
                "owner",
                "notifyMembers",
                "status",
                "origin",
                "type",
                "createdAt",
                "updatedAt",
                "created_at",
                "updated_at",
                "api_key_mode",
                "apiKeyMode",
                "disable_membership_notifications",
                "disableMembershipNotifications",
            ]
        ),
    ),
    folder="applications",
    reads_full_state=True,
    archived_status="ARCHIVED",
    listing="mAPI v1 GET /applications, one request per page, which shows neither HRID nor metadata: "
    "each application is then read (Automation GET) to know whether it is ours",
    build_body=build_body,
    gko_defaults=GKO_DEFAULTS,
    server_defaults=SERVER_DEFAULTS,
    exported=EXPORTED,
    export_spec=export_spec,
    noun="application",
    listed_by_id=True,
)
_ACCEPTED = accepted(KIND.fields)
"""What the Automation API takes (used by `build_body`, which runs only after this module is loaded)."""
