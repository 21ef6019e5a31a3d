"""From an environment's contents to the manifests to write: naming, selection, and the context.

Pure. What is exported and what is skipped is decided here, each skip with a reason for people:

* v4 APIs and applications without an HRID (made in the console, or by GKO before the Automation
  API): the planner finds them by HRID (or the ids derived from it), so a manifest of such an object
  would be planned as a *new* object, a duplicate, not adopted. They are skipped unless asked for
  (`include_without_hrid`), and then flagged in a note. v2 APIs have no HRID at all: the planner
  finds them by crossId, which their manifest keeps (see `kinds.api_v2.export_spec`).
* APIs of a definition version no kind has (FEDERATED...): not a kind apim-reconciler manages.

Names: an object of a kind with HRIDs is named after its HRID; a v2 API after the manifest its
ownership record names (so that a repository exported from an environment that apim-reconciler
manages plans nothing), else after its name. Kinds that share a folder (v2 and v4 APIs share `apis/`
and GKO's HRID rule) have their names made unique together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import kinds
from reconciler.defaults import DEFAULT_OWNER
from reconciler.export.mapping import K8S_NAME, Manifest, manifest_name, manifest_of, unique_names
from reconciler.export.reader import EnvironmentContents, RemoteObject
from reconciler.export.secrets import SecretRef
from reconciler.kinds.base import Kind, MapiV1ImportEndpoints, RemoteKind
from reconciler.kinds.exports import MAX_NAME, ContextRef, ExportTarget, slug
from reconciler.manifests.hrid import resource_hrid
from reconciler.manifests.model import API_VERSION, MANAGEMENT_CONTEXT, Resource

JSON = Any
_NO_HRID = (
    "no HRID in APIM: sync could not match a manifest to it and would plan a second object "
    "(pass --include-without-hrid to write it anyway)"
)


@dataclass(frozen=True)
class Skipped:
    kind: str
    name: str
    id: str
    reason: str


@dataclass(frozen=True)
class Selection:
    manifests: tuple[Manifest, ...]
    skipped: tuple[Skipped, ...]


def build_manifests(
    contents: EnvironmentContents,
    namespace: str,
    context: ContextRef,
    *,
    environment_id: str = "DEFAULT",
    include_without_hrid: bool = False,
    owner_id: str = DEFAULT_OWNER,
) -> Selection:
    """One manifest per exportable API and application, named uniquely per folder.

    `environment_id` is the context's, as `reconciler.plan.desired` reads it: the ids it derives
    from a manifest's name are left out of the v2 manifests that would give them back.
    """
    skipped: list[Skipped] = []
    by_folder: dict[str, list[tuple[Kind, RemoteObject]]] = {}
    for remote, objects in ((RemoteKind.API, contents.apis), (RemoteKind.APPLICATION, contents.applications)):
        for obj in objects:
            kind = _kind_of(remote, obj)
            if kind is None:
                reason = f"{obj.definition_version or 'unknown'} API: not a kind apim-reconciler manages"
                skipped.append(Skipped("API", obj.name, obj.id, reason))
            elif obj.state is None:
                reason = f"{_read_from(kind)} does not know it (404)"
                skipped.append(Skipped(_label(kind), obj.name, obj.id, reason))
            elif kind.has_hrid and obj.hrid is None and not include_without_hrid:
                skipped.append(Skipped(_label(kind), obj.name, obj.id, _NO_HRID))
            else:
                by_folder.setdefault(kind.folder, []).append((kind, obj))

    manifests: list[Manifest] = []
    for found in by_folder.values():
        ordered = sorted(found, key=lambda ko: (ko[1].hrid or "~", ko[1].name.lower(), ko[1].id))
        names = unique_names(_wanted_name(kind, obj, namespace) for kind, obj in ordered)
        for (kind, obj), name in zip(ordered, names, strict=True):
            assert obj.state is not None  # objects without a state were skipped above (type narrowing)  # nosec B101
            target = ExportTarget(namespace, name, context, environment_id)
            manifests.append(_annotated(manifest_of(kind, obj.state, target), kind, obj, owner_id))
    return Selection(tuple(manifests), tuple(skipped))


def _kind_of(remote: RemoteKind, obj: RemoteObject) -> Kind | None:
    """The kind of a listed object: an API's by its definition version, else its object's."""
    if remote is RemoteKind.API:
        return kinds.api_kind(obj.definition_version)
    return kinds.full_reader(remote)


def _label(kind: Kind) -> str:
    """How a skipped object is named to people: "API" for either API kind, "Application"."""
    return kind.noun[:1].upper() + kind.noun[1:]


def _read_from(kind: Kind) -> str:
    """Where export reads an object of this kind in full (export/reader.py)."""
    if isinstance(kind.endpoints, MapiV1ImportEndpoints):
        return "APIM's export (mAPI v1 .../crd)"
    return "the Automation API"


def _wanted_name(kind: Kind, obj: RemoteObject, namespace: str) -> tuple[str, bool]:
    """The name a manifest of `obj` asks for, and whether it must keep it (it gives the object's own
    identity back: its HRID, or without one, as for a v2 API, the manifest its ownership record names)."""
    if not kind.has_hrid:
        recorded = obj.record_name
        if recorded and len(recorded) <= MAX_NAME and K8S_NAME.match(recorded):
            return recorded, True
        return slug(obj.name) or "unnamed", False
    wanted = manifest_name(obj.hrid, obj.name, namespace)
    return wanted, obj.hrid is not None and obj.hrid == resource_hrid(namespace, wanted)


def _annotated(manifest: Manifest, kind: Kind, obj: RemoteObject, owner_id: str) -> Manifest:
    notes = list(manifest.notes)
    if obj.hrid is None and kind.has_hrid:
        notes.append(
            "no HRID in APIM: sync will plan this as a new object, not adopt the existing one "
            f"(id {obj.id}); delete one of the two afterwards"
        )
    if obj.record_owner is not None and obj.record_owner != owner_id:
        notes.append(
            f"owned by another reconciler ({obj.record_owner!r}): sync --adopt will report a conflict"
        )
    if not notes:
        return manifest
    return Manifest(
        manifest.kind,
        manifest.namespace,
        manifest.name,
        manifest.hrid,
        manifest.document,
        manifest.secrets,
        tuple(notes),
    )


_AUTH_INLINE = ("bearerToken", "credentials")


def context_manifest(context: Resource) -> Manifest:
    """The ManagementContext to write next to the export, with inline credentials moved out.

    An inline token or password becomes a `secretRef` to a Secret `<name>-credentials` (keys
    `bearerToken`, `username`, `password`, as GKO reads them); templates and `secretRef`s are kept.
    """
    spec = {k: v for k, v in context.spec.items()}
    secrets: list[SecretRef] = []
    auth = spec.get("auth")
    if isinstance(auth, Mapping) and any(_literal(auth.get(k)) for k in _AUTH_INLINE):
        ref = auth.get("secretRef")
        existing = ref.get("name") if isinstance(ref, Mapping) else None
        secret_name = existing if isinstance(existing, str) and existing else f"{context.name}-credentials"
        kept = {k: v for k, v in auth.items() if k not in _AUTH_INLINE}
        if _literal(auth.get("bearerToken")):
            secrets.append(SecretRef(context.namespace, secret_name, "bearerToken", "auth.bearerToken"))
        credentials = auth.get("credentials")
        if isinstance(credentials, Mapping):
            for key in ("username", "password"):
                if credentials.get(key):
                    secrets.append(SecretRef(context.namespace, secret_name, key, f"auth.credentials.{key}"))
        kept.setdefault("secretRef", {"name": secret_name})
        spec["auth"] = kept
    document = {
        "apiVersion": API_VERSION,
        "kind": MANAGEMENT_CONTEXT,
        "metadata": {"name": context.name, "namespace": context.namespace},
        "spec": spec,
    }
    return Manifest(MANAGEMENT_CONTEXT, context.namespace, context.name, None, document, tuple(secrets))


def _literal(value: JSON) -> bool:
    if isinstance(value, Mapping):
        return any(_literal(v) for v in value.values())
    return isinstance(value, str) and value != "" and "[[" not in value
