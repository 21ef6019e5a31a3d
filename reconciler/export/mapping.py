"""APIM's model -> GKO manifests. Pure: plain data in, plain data out, no I/O.

The input is what the Automation API returns (`ApiV4State`, `ApplicationState`) and, for v2 APIs,
the spec of APIM's own `ApiDefinition` export (mAPI v1 `GET .../apis/{id}/crd`): the same shapes as
the bodies that `reconciler.plan.desired` builds from manifests, so the mapping is that module's
inverse, and a manifest exported here plans to *no change* against the object it came from. That is
the whole point of an export meant for adoption: the first `sync --adopt` must only write the
ownership record, never "fix" an API that was working.

What is left out, and why:

* what APIM assigns (ids, crossIds, organization and environment ids, plan and page ids, the primary
  owner, timestamps, `errors`) and what it never echoes (`definitionContext`, `notifyMembers`): the
  planner ignores them too (`reconciler.plan.normalise`), and a manifest carrying ids would pin it to
  one environment;
* the HRID, when it is the `<namespace>-<name>` that the manifest's identity already gives
  (`spec.hrid` is written only when it differs, so the identity is kept either way); likewise a v2
  API's `crossId` and `id` and its plans' `crossId` and `id`, written only when they differ from the
  ids GKO (and `reconciler.plan.desired`) derive from the manifest's namespace, name and plan names;
* our own ownership metadata entry (it is rewritten on every apply);
* fields that the manifest schemas do not accept (reported as notes, never silently).

Long because it maps three kinds; each kind's facts (what its state carries that a manifest must
not) are already in reconciler/kinds/, and its mapping function is the next thing to move there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import kinds
from reconciler.export.secrets import SecretRef, extract_secrets
from reconciler.manifests.hrid import key_hrid, resource_hrid
from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, API_VERSION, APPLICATION
from reconciler.plan import ids
from reconciler.plan.defaults import Rules, apply_rules
from reconciler.plan.normalise import metadata_key
from reconciler.plan.ownership import OWNERSHIP_KEY, hide_ownership

JSON = Any

# What APIM's states (and its v2 export) carry that a manifest must not: the kinds' own facts.
_V4 = kinds.kind(API_V4_DEFINITION).fields
_V2 = kinds.kind(API_DEFINITION).fields
_APP = kinds.kind(APPLICATION).fields
# The spec fields each kind's manifest is written with, in order (the kind modules hold them).
V4_FIELDS = kinds.kind(API_V4_DEFINITION).exported
V2_FIELDS = kinds.kind(API_DEFINITION).exported
APPLICATION_FIELDS = kinds.kind(APPLICATION).exported


_V2_PLAN_FIELDS = frozenset(
    [
        "id",
        "crossId",
        "name",
        "description",
        "security",
        "securityDefinition",
        "status",
        "type",
        "validation",
        "order",
        "characteristics",
        "tags",
        "paths",
        "flows",
        "excluded_groups",
        "comment_required",
        "selection_rule",
    ]
)
# APIM gives every v2 API this entry when it creates it (ApiServiceImpl), and again on every import.
_EMAIL_SUPPORT = ("email-support", "${(api.primaryOwner.email)!''}")

_APP_SETTINGS = {
    "app": ("type", "clientId"),
    "oauth": ("applicationType", "grantTypes", "redirectUris"),
    "tls": ("clientCertificate", "clientCertificates"),
}
_APP_METADATA_FIELDS = ("name", "format", "value", "defaultValue", "hidden")

# Fields the CRD requires but APIM may leave out, filled with the value APIM means by leaving them out
# (the planner fills the same default on both sides, so this is never a change).
_REQUIRED_DEFAULTS = Rules(
    *(r for r in kinds.kind(API_V4_DEFINITION).server_defaults if r[0][-1] == "inheritConfiguration")
)

K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 63


@dataclass(frozen=True)
class ContextRef:
    """The ManagementContext that every exported manifest points at."""

    namespace: str
    name: str


@dataclass(frozen=True)
class Manifest:
    """One exported resource: the document to write, the secrets it now expects, what to tell."""

    kind: str
    namespace: str
    name: str
    hrid: str | None
    document: Mapping[str, JSON]
    secrets: tuple[SecretRef, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def slug(text: str) -> str:
    """A Kubernetes name (DNS label) from free text: lower case, other characters as `-`, 63 at most."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:MAX_NAME].rstrip("-")


def manifest_name(hrid: str | None, display_name: str, namespace: str) -> str:
    """`metadata.name` for an object: its HRID without `<namespace>-` when it has that prefix (then
    the manifest's identity gives the HRID back exactly), else a slug of its name."""
    prefix = f"{namespace}-"
    if hrid and hrid.startswith(prefix):
        rest = hrid[len(prefix) :]
        if len(rest) <= MAX_NAME and K8S_NAME.match(rest):
            return rest
    return slug(display_name) or slug(hrid or "") or "unnamed"


def unique_names(wanted: Iterable[tuple[str, bool]]) -> list[str]:
    """Names made unique with `-2`, `-3`... ; entries flagged True (exact HRID matches) keep theirs."""
    items = list(wanted)
    taken = {name for name, exact in items if exact}
    out: list[str] = []
    for name, exact in items:
        if exact:
            out.append(name)
            continue
        candidate, n = name, 2
        while candidate in taken:
            suffix = f"-{n}"
            candidate, n = name[: MAX_NAME - len(suffix)].rstrip("-") + suffix, n + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def api_v4_manifest(state: Mapping[str, JSON], namespace: str, name: str, context: ContextRef) -> Manifest:
    """An `ApiV4Definition` from an `ApiV4State`."""
    notes: list[str] = []
    hrid, spec = _spec_with_hrid(state, namespace, name, context)
    for key in V4_FIELDS:
        value = state.get(key)
        if value is None:
            continue
        if key == "plans":
            value = _keyed(value, _V4.children_state_only["plans"], "plan", notes)
        elif key == "pages":
            value = _keyed(value, _V4.children_state_only["pages"], "page", notes)
        elif key == "metadata":
            value = _api_metadata(value)
        if value in ([], {}):
            continue
        spec[key] = value
    _note_unknown(state, set(V4_FIELDS) | _V4.state_only, notes)
    return _finish(API_V4_DEFINITION, namespace, name, hrid, apply_rules(spec, _REQUIRED_DEFAULTS), notes)


def api_v2_manifest(
    state: Mapping[str, JSON], namespace: str, name: str, context: ContextRef, environment_id: str
) -> Manifest:
    """An `ApiDefinition` from the spec of APIM's v2 export (`lifecycle_state` added from the listing).

    Ids are kept only where the manifest would not give them back: `reconciler.plan.desired` gives an
    API without a `crossId` GKO's `<namespace>/<name>` one and the id APIM derives from it, and each
    plan GKO's ids from the API id and the plan name. So an API that apim-reconciler or GKO created
    from a manifest of this name exports without ids, and any other keeps the ids APIM matches it by.
    """
    notes: list[str] = []
    derived_cross = ids.gko_uuid(f"{namespace}/{name}")
    cross = state.get("crossId") if isinstance(state.get("crossId"), str) else None
    cross = cross or derived_cross
    api_id = state.get("id") if isinstance(state.get("id"), str) else None
    api_id = api_id or ids.name_uuid(cross + environment_id)
    spec: dict[str, JSON] = {"contextRef": _context_ref(context, namespace)}
    if cross != derived_cross:
        spec["crossId"] = cross
    if api_id != ids.name_uuid(cross + environment_id):
        spec["id"] = api_id
    for key in V2_FIELDS:
        value = state.get(key)
        if key == "plans":
            value = _v2_plans(value, api_id, notes)
        elif key == "metadata":
            value = _v2_metadata(value)
        elif key == "notifyMembers" and value is True:
            continue  # GKO's default: written only when APIM was told not to notify
        if value is None or value in ([], {}):
            continue
        spec[key] = value
    _note_unknown(state, set(V2_FIELDS) | _V2.state_only, notes)
    return _finish(API_DEFINITION, namespace, name, None, spec, notes)


def _v2_plans(plans: JSON, api_id: str, notes: list[str]) -> JSON:
    """APIM's plans, without what it assigns; their ids kept only where GKO's would differ."""
    if not isinstance(plans, list):
        return plans
    out = []
    unknown: set[str] = set()
    for plan in plans:
        if not isinstance(plan, Mapping):
            continue
        body = {k: v for k, v in plan.items() if k not in _V2.children_state_only["plans"] and v is not None}
        unknown |= set(body) - _V2_PLAN_FIELDS
        body = {k: v for k, v in body.items() if k in _V2_PLAN_FIELDS}
        name = str(body["name"]) if isinstance(body.get("name"), str) else ""
        body.setdefault("description", "")  # required by the CRD; APIM may hold none
        cross = body.get("crossId") or ids.gko_uuid(api_id, "/", name)
        if cross == ids.gko_uuid(api_id, "/", name):
            body.pop("crossId", None)
        if body.get("id") == ids.gko_uuid(str(cross), "/", name):
            body.pop("id", None)
        out.append(body)
    if unknown:
        notes.append(f"plans: {', '.join(sorted(unknown))} not exported (not in the manifest schema)")
    return out


def _v2_metadata(entries: JSON) -> JSON:
    """The API's own entries: not ours, not the environment's defaults (entries without a value of
    their own), not the `email-support` entry that APIM adds to every v2 API itself."""
    if not isinstance(entries, list):
        return entries
    out = []
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("key") == OWNERSHIP_KEY or "value" not in entry:
            continue
        if (entry.get("key"), entry.get("value")) == _EMAIL_SUPPORT:
            continue
        out.append({k: v for k, v in entry.items() if k != "apiId"})
    return out


def application_manifest(
    state: Mapping[str, JSON], namespace: str, name: str, context: ContextRef
) -> Manifest:
    """An `Application` from an `ApplicationState` (or, lacking one, a mAPI v1 listing item)."""
    notes: list[str] = []
    hrid, spec = _spec_with_hrid(state, namespace, name, context)
    for key in APPLICATION_FIELDS:
        value = state.get(key)
        if key == "description" and value is None:
            value = ""  # required by the CRD; APIM's own default
        if key == "settings":
            value = _app_settings(value, notes)
        elif key == "metadata":
            value = _app_metadata(value, notes)
        if value is None or value in ([], {}):
            continue
        spec[key] = value
    _note_unknown(state, set(APPLICATION_FIELDS) | _APP.state_only | {"picture"}, notes)
    return _finish(APPLICATION, namespace, name, hrid, spec, notes)


def _finish(
    kind: str, namespace: str, name: str, hrid: str | None, spec: dict[str, JSON], notes: list[str]
) -> Manifest:
    cleaned, secrets = extract_secrets(spec, namespace, f"{name}-secrets")
    document = {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": cleaned,
    }
    return Manifest(kind, namespace, name, hrid, document, tuple(secrets), tuple(notes))


def _spec_with_hrid(
    state: Mapping[str, JSON], namespace: str, name: str, context: ContextRef
) -> tuple[str | None, dict[str, JSON]]:
    """The object's HRID, and a spec that starts with its contextRef and names the HRID only when
    GKO's rule would not give it back from the manifest's name (v4 APIs, applications)."""
    hrid = state.get("hrid") if isinstance(state.get("hrid"), str) else None
    spec: dict[str, JSON] = {"contextRef": _context_ref(context, namespace)}
    if hrid and hrid != resource_hrid(namespace, name):
        spec["hrid"] = hrid
    return hrid, spec


def _context_ref(context: ContextRef, namespace: str) -> dict[str, str]:
    ref = {"name": context.name}
    if context.namespace != namespace:
        ref["namespace"] = context.namespace
    return ref


def _keyed(items: JSON, assigned: frozenset[str], what: str, notes: list[str]) -> JSON:
    """Plans or pages: APIM's list keyed by HRID, back to GKO's map keyed by the same HRID."""
    if not isinstance(items, list):
        return items
    out: dict[str, JSON] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        hrid = item.get("hrid")
        key = hrid if isinstance(hrid, str) and hrid else slug(str(item.get("name") or what)) or what
        if key in out:
            notes.append(f"two {what}s share the HRID {key!r}: only the first is exported")
            continue
        body = {k: v for k, v in item.items() if k not in assigned}
        if isinstance(hrid, str) and hrid and key_hrid(key) != hrid:
            body = {"hrid": hrid, **body}  # a key whose HRID would differ: keep the identity explicit
        out[key] = body
    return out


def _exported_entries(entries: list[JSON]) -> list[Mapping[str, JSON]]:
    """The metadata entries a manifest may carry: objects, less our ownership record."""
    return [e for e in hide_ownership(entries) if isinstance(e, Mapping)]


def _api_metadata(entries: JSON) -> JSON:
    if not isinstance(entries, list):
        return entries
    out = []
    for entry in _exported_entries(entries):
        item = dict(entry)
        if not item.get("key") and isinstance(item.get("name"), str):
            item = {"key": metadata_key(item["name"]), **item}  # the key APIM derives; required by GKO
        out.append(item)
    return out


def _app_metadata(entries: JSON, notes: list[str]) -> JSON:
    """The Application CRD has no metadata `key`: APIM derives it from the name, so it must match."""
    if not isinstance(entries, list):
        return entries
    out = []
    for entry in _exported_entries(entries):
        key, name = entry.get("key"), entry.get("name")
        if isinstance(key, str) and key and isinstance(name, str) and metadata_key(name) != key:
            notes.append(
                f"metadata {name!r} has the key {key!r}, which its name does not give: "
                "the Application CRD cannot keep it, the first sync will show it as a change"
            )
        out.append({k: entry[k] for k in _APP_METADATA_FIELDS if entry.get(k) is not None})
    return out


def _app_settings(settings: JSON, notes: list[str]) -> JSON:
    """Only what the Application CRD accepts; the OAuth type in the CRD's upper case."""
    if not isinstance(settings, Mapping):
        return settings
    out: dict[str, JSON] = {}
    for section, fields in _APP_SETTINGS.items():
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


def _note_unknown(state: Mapping[str, JSON], known: set[str], notes: list[str]) -> None:
    unknown = sorted(k for k, v in state.items() if k not in known and v not in (None, [], {}))
    if unknown:
        notes.append(f"{', '.join(unknown)} not exported (not in the manifest schema)")
