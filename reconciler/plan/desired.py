"""Desired state: what each manifest asks APIM to hold, as the exact body that will be sent.

`ApiV4Definition` and `Application` become Automation API bodies (`ApiV4Spec`, `ApplicationSpec`);
`ApiDefinition` (v2) becomes the mAPI v1 `import-crd` body, i.e. the CRD spec as GKO sends it. GKO's
defaults are applied first, and names follow GKO (HRID `<namespace>-<name>`, plan and page keys as
HRIDs) so that a repository can move between GKO and this reconciler without APIM noticing.

Each kind's body builder is its module's `build_body` in reconciler/kinds/; this module holds what
every kind shares: grouping by context, identity (HRID, crossId, id), positions, dropped-field warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import kinds
from reconciler.kinds import MANAGED_KINDS, RemoteKind
from reconciler.manifests.hrid import resource_hrid
from reconciler.manifests.model import (
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
from reconciler.plan.normalise import (
    collection_identity,
    comparable,
    hashable,
)
from reconciler.plan.ownership import sensitive_fingerprints
from reconciler.secrets.value import Secret

JSON = Any

# Why a field of the spec is not sent, when a plain "not supported" would mislead (v4 APIs and
# applications: the Automation API's specs have neither field, and APIM would drop them silently).
_NOT_SENT = {
    "definitionContext": "definitionContext is not sent: APIM's Automation API has no such field and "
    "always sets its own (origin kubernetes, sync from management)",
    "primaryOwner": "primaryOwner is not sent: APIM's Automation API ignores it (the account that "
    "creates an API owns it)",
}
_RENAMED = {"generalConditionsHrid": "generalConditions", "parentHrid": "parent"}
"""Fields of a plan or page that the body names otherwise than the manifest (kinds/api_v4.py)."""
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
        if head in ("metadata", "members") or head in kinds.kind(self.kind).written_as_lists:
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
        if head in ("metadata", "members") or head in kinds.kind(self.kind).written_as_lists:
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
    if resource.kind not in MANAGED_KINDS:
        raise ValueError(f"{resource.kind} is not a managed kind")
    built = kinds.kind(resource.kind).build_body(resource, hrid, environment_id)
    body = built.body
    cross_id = cross_id if built.cross_id is None else built.cross_id
    remote_id = remote_id if built.remote_id is None else built.remote_id
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
            keys=built.keys,
            secret_fields=sensitive_fingerprints(_secret_paths(comparable_body, ())),
        ),
        built.dropped,
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
    """Per ManagementContext, the APIM id -> HRID of each manifest of a kind listed by id alone
    (`Kind.listed_by_id`: applications).

    The listing needs it (APIM lists applications by id only) and can start with it before any
    body is built.
    """
    all_resources = list(resources)
    contexts = {r.id: r for r in all_resources if r.kind == MANAGEMENT_CONTEXT}
    out: dict[ResourceId, dict[str, str]] = {}
    for resource in all_resources:
        ref = resource.context_ref
        listed_by_id = resource.kind in MANAGED_KINDS and kinds.kind(resource.kind).listed_by_id
        context = contexts.get(ref.id) if ref is not None and listed_by_id else None
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
