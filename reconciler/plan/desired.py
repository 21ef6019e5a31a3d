"""Desired state: what each manifest asks APIM to hold, as the exact body that will be sent.

`ApiV4Definition` and `Application` become Automation API bodies (`ApiV4Spec`, `ApplicationSpec`);
`ApiDefinition` (v2) becomes the mAPI v1 `import-crd` body, i.e. the CRD spec as GKO sends it. GKO's
defaults are applied first, and names follow GKO (HRID `<namespace>-<name>`, plan and page keys as
HRIDs) so that a repository can move between GKO and this reconciler without APIM noticing.

Long because it builds three kinds' bodies; each kind's field facts are in reconciler/kinds/, and its
body builder is the next thing to move there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import kinds
from reconciler.kinds import MANAGED_KINDS, RemoteKind
from reconciler.manifests.hrid import key_hrid, resource_hrid
from reconciler.manifests.model import (
    API_DEFINITION,
    API_V4_DEFINITION,
    APPLICATION,
    MANAGEMENT_CONTEXT,
    FieldPath,
    Position,
    Positions,
    Problem,
    Resource,
    ResourceId,
    Severity,
)
from reconciler.plan import ids
from reconciler.plan.canonical import spec_hash
from reconciler.plan.defaults import GKO_DEFAULTS, apply_rules
from reconciler.plan.normalise import (
    collection_identity,
    comparable,
    hashable,
    hide_ownership,
)
from reconciler.plan.ownership import sensitive_fingerprints
from reconciler.secrets.value import Secret

JSON = Any

# Manifest-only fields: Kubernetes references that GKO resolves itself, and ids APIM derives.
_MANIFEST_ONLY = frozenset(("contextRef", "groupRefs", "notificationsRefs"))
_V4_DERIVED = frozenset(("id", "crossId", "definitionVersion", "hrid"))


def _accepted(kind: str) -> frozenset[str]:
    fields = kinds.kind(kind).fields
    return ((fields.echoed or frozenset()) - {"hrid"}) | fields.write_only


# What the Automation API takes: what it echoes (the kind's fields), less the HRID we set ourselves, plus
# write-only fields. Not `definitionContext` nor `primaryOwner`: `ApiV4Spec` has no definition context
# (the server always applies its own: origin kubernetes, mode fully managed, sync from management) and
# never maps the primary owner (the caller owns what it creates); both would be silently dropped by
# APIM, so they are reported as not sent instead.
_V4_ACCEPTED = _accepted(API_V4_DEFINITION)
_NOT_SENT = {
    "definitionContext": "definitionContext is not sent: APIM's Automation API has no such field and "
    "always sets its own (origin kubernetes, sync from management)",
    "primaryOwner": "primaryOwner is not sent: APIM's Automation API ignores it (the account that "
    "creates an API owns it)",
}
_APP_ACCEPTED = _accepted(APPLICATION)
_PLAN_DERIVED = frozenset(("id", "crossId", "hrid", "definitionVersion", "order"))
_PAGE_DERIVED = frozenset(("id", "crossId", "hrid", "api", "parentId", "order", "parent"))
_RENAMED = {"generalConditionsHrid": "generalConditions", "parentHrid": "parent"}
"""Fields of a plan or page that the body names otherwise than the manifest (see `_plan`, `_page`)."""
# A context that names no organization or environment reaches APIM's default ones, whose ids are
# `DEFAULT` (as reconciler/apim/endpoints.py addresses them): the ids APIM derives start from those.
_DEFAULT_ID = "DEFAULT"


@dataclass(frozen=True)
class DesiredResource:
    """One managed object as it must be in APIM, with what the planner needs to find it there."""

    id: ResourceId
    context: ResourceId
    hrid: str
    cross_id: str
    remote_id: str
    body: Mapping[str, JSON]
    spec_hash: str
    position: Position
    positions: Positions | None = field(default=None, compare=False, repr=False)
    keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False, repr=False)
    """For plans and pages: HRID -> the map key written in the manifest."""
    secret_fields: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Fingerprints of the paths (in the comparable form of the body) that hold secret values: kept in
    the ownership record, so that a later report can mask what APIM holds there."""

    @property
    def kind(self) -> str:
        return self.id.kind

    @property
    def remote_kind(self) -> RemoteKind:
        return kinds.kind(self.id.kind).remote

    def position_of(self, path: FieldPath) -> Position:
        """The manifest position of a field given by its path in the comparable form of the body."""
        if self.positions is None:
            return self.position
        return self.positions.of(("spec", *self._manifest_path(path)))

    def was_written(self, path: FieldPath) -> bool:
        """Whether the manifest writes the field at `path` (in the comparable form of the body): one
        that it does not was derived (an HRID, an id) or defaulted (GKO's CRD defaults) by us. True
        when that cannot be told (positions unknown, an item of a keyed list not found)."""
        if self.positions is None or not self.positions.knows_paths:
            return True
        candidates = self._written_paths(path)
        return candidates is None or any(self.positions.has(("spec", *c)) for c in candidates)

    def _written_paths(self, path: FieldPath) -> list[FieldPath] | None:
        """The manifest paths that may hold the field at `path`; None when the item is not found."""
        if len(path) < 2:
            return [path]
        head, key, rest = path[0], path[1], path[2:]
        if head in self.keys and isinstance(key, str):
            written_key = self.keys[str(head)].get(key)
            if written_key is None:
                return None
            renamed = _RENAMED.get(rest[0]) if rest and isinstance(rest[0], str) else None
            paths: list[FieldPath] = [(head, written_key, *rest)]
            return [*paths, (head, written_key, renamed, *rest[1:])] if renamed else paths
        if head in ("metadata", "members") or (head == "plans" and self.kind == API_DEFINITION):
            items = self.body.get(str(head))
            index = next(
                (
                    i
                    for i, item in enumerate(items if isinstance(items, list) else ())
                    if collection_identity(self.kind, str(head), item) == key
                ),
                None,
            )
            return None if index is None else [(head, index, *rest)]
        return [path]

    def _manifest_path(self, path: FieldPath) -> FieldPath:
        if not path or path[0] == "hrid":
            return ()
        head = path[0]
        if head in self.keys and len(path) > 1 and isinstance(path[1], str):
            return (head, self.keys[str(head)].get(path[1], path[1]), *path[2:])
        if head in ("metadata", "members") or (head == "plans" and self.kind == API_DEFINITION):
            return (head,)  # keyed lists: point at the list
        return path


@dataclass(frozen=True)
class DesiredState:
    """Everything that one ManagementContext (one APIM environment) must hold."""

    context: ResourceId
    organization_id: str
    environment_id: str
    resources: tuple[DesiredResource, ...]


@dataclass(frozen=True)
class DesiredBuild:
    states: Mapping[ResourceId, DesiredState]
    problems: tuple[Problem, ...]


def build_desired(resources: Iterable[Resource]) -> DesiredBuild:
    """Group the managed resources by ManagementContext and build each one's body.

    `resources` must already have their templates resolved (secret values as `Secret` leaves).
    A resource without a contextRef, or whose context is missing, is reported and left out.
    """
    all_resources = list(resources)
    problems: list[Problem] = []
    contexts = {r.id: r for r in all_resources if r.kind == MANAGEMENT_CONTEXT}
    grouped: dict[ResourceId, list[DesiredResource]] = {c: [] for c in contexts}
    for resource in sorted(all_resources, key=lambda r: r.id):
        if resource.kind not in MANAGED_KINDS:
            continue
        ref = resource.context_ref
        if ref is None:
            problems.append(_problem(resource, "no spec.contextRef: not synced to any APIM", ("contextRef",)))
            continue
        context = contexts.get(ref.id)
        if context is None:
            problems.append(
                _problem(resource, f"contextRef points at {ref.id}, which is not in the repository")
            )
            continue
        org, env = _context_ids(context)
        built, dropped = desired_resource(resource, ref.id, org, env)
        problems += [
            _problem(
                resource, _NOT_SENT.get(f, f"{f} is not supported and is not sent"), (f,), Severity.WARNING
            )
            for f in dropped
        ]
        grouped[ref.id].append(built)
    states = {
        cid: DesiredState(cid, *_context_ids(contexts[cid]), resources=tuple(items))
        for cid, items in sorted(grouped.items())
    }
    return DesiredBuild(states, tuple(problems))


def desired_resource(
    resource: Resource, context: ResourceId, organization_id: str, environment_id: str
) -> tuple[DesiredResource, list[str]]:
    """One resource's desired form, and the names of the top-level fields left out of its body."""
    hrid, cross_id, remote_id = _identity(resource, organization_id, environment_id)
    if resource.kind == API_V4_DEFINITION:
        body, dropped = _api_v4_body(resource.spec, hrid)
    elif resource.kind == APPLICATION:
        body, dropped = _application_body(resource.spec, hrid)
    elif resource.kind == API_DEFINITION:
        body, dropped = _api_v2_body(resource, environment_id), []
    else:
        raise ValueError(f"{resource.kind} is not a managed kind")
    if resource.kind == API_DEFINITION:
        cross_id = body.get("crossId", cross_id)
        remote_id = body.get("id", remote_id)
    comparable_body = comparable(resource.kind, body) if resource.has_templates else {}
    return (
        DesiredResource(
            id=resource.id,
            context=context,
            hrid=hrid,
            cross_id=cross_id,
            remote_id=remote_id,
            body=body,
            spec_hash=spec_hash(hashable(resource.kind, body)),
            position=resource.position,
            positions=resource.positions,
            keys=_manifest_keys(resource.spec) if resource.kind == API_V4_DEFINITION else {},
            secret_fields=sensitive_fingerprints(_secret_paths(comparable_body, ())),
        ),
        dropped,
    )


def _secret_paths(value: JSON, path: tuple[str | int, ...]) -> Iterable[tuple[str | int, ...]]:
    if isinstance(value, Secret):
        yield path
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from _secret_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _secret_paths(child, (*path, index))


def application_hrids(resources: Iterable[Resource]) -> dict[ResourceId, dict[str, str]]:
    """Per ManagementContext, the APIM id -> HRID of each Application manifest.

    The listing needs it (APIM lists applications by id only) and can start with it before any
    body is built.
    """
    all_resources = list(resources)
    contexts = {r.id: r for r in all_resources if r.kind == MANAGEMENT_CONTEXT}
    out: dict[ResourceId, dict[str, str]] = {}
    for resource in all_resources:
        ref = resource.context_ref
        context = contexts.get(ref.id) if ref is not None and resource.kind == APPLICATION else None
        if ref is None or context is None:
            continue
        hrid, _, remote_id = _identity(resource, *_context_ids(context))
        out.setdefault(ref.id, {})[remote_id] = hrid
    return out


def _identity(resource: Resource, organization_id: str, environment_id: str) -> tuple[str, str, str]:
    """HRID, crossId and APIM id, as GKO derives them (a v2 body may name its own ids instead)."""
    explicit = resource.spec.get("hrid")
    hrid = (
        explicit
        if isinstance(explicit, str) and explicit
        else resource_hrid(resource.namespace, resource.name)
    )
    cross_id = ids.cross_id(organization_id, hrid)
    return hrid, cross_id, ids.name_uuid(cross_id + environment_id)


def _manifest_keys(spec: Mapping[str, JSON]) -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {}
    for field_name in ("plans", "pages"):
        items = spec.get(field_name)
        if isinstance(items, Mapping):
            keys[field_name] = {}
            for key, item in items.items():
                explicit = item.get("hrid") if isinstance(item, Mapping) else None
                keys[field_name][explicit if isinstance(explicit, str) and explicit else key_hrid(key)] = key
    return keys


def _api_v4_body(spec: Mapping[str, JSON], hrid: str) -> tuple[dict[str, JSON], list[str]]:
    # Shared with the manifest, never changed: bodies are read-only (see `apply_rules`).
    source = apply_rules(dict(spec), GKO_DEFAULTS[API_V4_DEFINITION])
    dropped = sorted(k for k in source if k not in _V4_ACCEPTED and k not in _MANIFEST_ONLY | _V4_DERIVED)
    body: dict[str, JSON] = {"hrid": hrid}
    body.update({k: v for k, v in source.items() if k in _V4_ACCEPTED})
    if isinstance(body.get("plans"), Mapping):
        body["plans"] = [_plan(k, p) for k, p in _ordered(body["plans"])]
    if isinstance(body.get("pages"), Mapping):
        body["pages"] = [_page(k, p) for k, p in _ordered(body["pages"])]
    if "metadata" in body:
        body["metadata"] = hide_ownership(body["metadata"])
    return body, dropped


def _application_body(spec: Mapping[str, JSON], hrid: str) -> tuple[dict[str, JSON], list[str]]:
    spec = apply_rules(dict(spec), GKO_DEFAULTS[APPLICATION])
    dropped = sorted(k for k in spec if k not in _APP_ACCEPTED and k not in _MANIFEST_ONLY | {"id", "hrid"})
    body: dict[str, JSON] = {"hrid": hrid}
    body.update({k: v for k, v in spec.items() if k in _APP_ACCEPTED})
    if "metadata" in body:
        body["metadata"] = hide_ownership(body["metadata"])
    settings = body.get("settings")
    oauth = settings.get("oauth") if isinstance(settings, Mapping) else None
    if isinstance(settings, Mapping) and isinstance(oauth, Mapping):
        kind = oauth.get("applicationType")
        if isinstance(kind, str):
            # The CRD spells the type in upper case (BROWSER), the Automation API in lower case (browser).
            body["settings"] = {**settings, "oauth": {**oauth, "applicationType": kind.lower()}}
    return body, dropped


def _api_v2_body(resource: Resource, environment_id: str) -> dict[str, JSON]:
    """The CRD spec as GKO sends it to mAPI v1 `import-crd`, with the ids GKO gives when the spec has
    none (`PopulateIDs`, `generateEmptyPlanIDs`): crossId from `<namespace>/<name>`, and for each plan
    a crossId from the API's id and the plan's name, an id from those. APIM finds the API to update by
    its crossId and each plan by its id: a plan sent without one is deleted and re-created under a
    random id on every import. (GKO's API id is the Kubernetes UID, which we do not have: ours is
    derived from the crossId, as APIM derives ids from HRIDs.)"""
    spec = apply_rules(dict(resource.spec), GKO_DEFAULTS[API_DEFINITION])
    body: dict[str, JSON] = {k: v for k, v in spec.items() if k not in _MANIFEST_ONLY}
    cross_id = body.get("crossId") or ids.gko_uuid(f"{resource.namespace}/{resource.name}")
    body["crossId"] = cross_id
    api_id = body.setdefault("id", ids.name_uuid(cross_id + environment_id))
    if isinstance(body.get("plans"), list):
        body["plans"] = [_v2_plan(plan, str(api_id)) for plan in body["plans"]]
    if "metadata" in body:
        body["metadata"] = hide_ownership(body["metadata"])
    return body


def _v2_plan(plan: JSON, api_id: str) -> JSON:
    if not isinstance(plan, Mapping) or not isinstance(plan.get("name"), str):
        return plan
    cross = plan.get("crossId") or ids.gko_uuid(api_id, "/", plan["name"])
    return {**plan, "crossId": cross, "id": plan.get("id") or ids.gko_uuid(cross, "/", plan["name"])}


def with_server_ids(
    body: Mapping[str, JSON], actual: Mapping[str, JSON] | None, summary_id: str, cross_id: str | None
) -> dict[str, JSON]:
    """A v2 body to update an object APIM already holds: its own id and crossId (APIM matches the API
    by crossId), and the ids of the plans it holds, matched by crossId, then by name (plans written by
    earlier versions, or in the console, have ids of their own; new ids would delete them)."""
    out = {**body, "id": summary_id, "crossId": cross_id or body.get("crossId")}
    held = [p for p in (actual or {}).get("plans") or [] if isinstance(p, Mapping)]
    by_cross = {p.get("crossId"): p for p in held if p.get("crossId")}
    by_name = {p.get("name"): p for p in held if p.get("name")}
    plans = out.get("plans")
    if isinstance(plans, list):
        merged = []
        for plan in plans:
            if isinstance(plan, Mapping):
                found = by_cross.get(plan.get("crossId")) or by_name.get(plan.get("name"))
                if found is not None and found.get("id"):
                    plan = {**plan, "id": found["id"], "crossId": found.get("crossId") or plan.get("crossId")}
            merged.append(plan)
        out["plans"] = merged
    return out


def _ordered(items: Mapping[str, JSON]) -> list[tuple[str, JSON]]:
    """Map entries in manifest order, but an explicit `order` first (plans: earlier = higher priority)."""
    entries = list(items.items())
    return sorted(entries, key=lambda e: (_order_of(e[1]), entries.index(e)))


def _order_of(item: JSON) -> int:
    order = item.get("order") if isinstance(item, Mapping) else None
    return order if isinstance(order, int) and not isinstance(order, bool) else 1 << 30


def _keyed_item(key: str, item: JSON, derived: frozenset[str]) -> dict[str, JSON]:
    fields = item if isinstance(item, Mapping) else {}
    explicit = fields.get("hrid")
    hrid = explicit if isinstance(explicit, str) and explicit else key_hrid(key)
    return {"hrid": hrid, **{k: v for k, v in fields.items() if k not in derived}}


def _plan(key: str, item: JSON) -> dict[str, JSON]:
    """A v4 plan as `PlanV4` takes it. The CRD names the general conditions page by its map key
    (`generalConditions`); `PlanV4` knows only `generalConditionsHrid`, and would drop the other, so
    GKO converts it (`pickPlanHRIDs`) and so do we."""
    plan = _keyed_item(key, item, _PLAN_DERIVED)
    conditions = plan.pop("generalConditions", None)
    if isinstance(conditions, str) and conditions and "generalConditionsHrid" not in plan:
        plan["generalConditionsHrid"] = key_hrid(conditions)
    return plan


def _page(key: str, item: JSON) -> dict[str, JSON]:
    page = _keyed_item(key, item, _PAGE_DERIVED)
    parent = item.get("parent") if isinstance(item, Mapping) else None
    if isinstance(parent, str) and parent and "parentHrid" not in page:
        page["parentHrid"] = key_hrid(parent)
    return page


def _context_ids(context: Resource) -> tuple[str, str]:
    """The organization and environment ids a ManagementContext reaches."""
    organization = _text(context.spec.get("organizationId")).strip() or _DEFAULT_ID
    environment = _text(context.spec.get("environmentId")).strip() or _DEFAULT_ID
    return organization, environment


def _text(value: JSON) -> str:
    if isinstance(value, Secret):
        return value.reveal()
    return value if isinstance(value, str) else ""


def _problem(
    resource: Resource, message: str, field: tuple[str, ...] = (), severity: Severity = Severity.ERROR
) -> Problem:
    return Problem(severity, message, resource.at(*field), resource.id, ("spec", *field))
