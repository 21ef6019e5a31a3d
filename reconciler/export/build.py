"""From an environment's contents to the manifests to write: naming, selection, and the context.

Pure. What is exported and what is skipped is decided here, each skip with a reason for people:

* v4 APIs and applications without an HRID (made in the console, or by GKO before the Automation
  API): the planner finds them by HRID (or the ids derived from it), so a manifest of such an object
  would be planned as a *new* object, a duplicate, not adopted. They are skipped unless asked for
  (`include_without_hrid`), and then flagged in a note. v2 APIs have no HRID at all: the planner
  finds them by crossId, which their manifest keeps (see `mapping.api_v2_manifest`).
* APIs of another definition version (FEDERATED...): not a kind apim-reconciler manages.

Names: a v4 API or an application is named after its HRID; a v2 API after the manifest its ownership
record names (so that a repository exported from an environment that apim-reconciler manages plans
nothing), else after its name. APIs of both kinds share `apis/` and GKO's HRID rule, so their names
are made unique together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.export.mapping import (
    K8S_NAME,
    MAX_NAME,
    ContextRef,
    Manifest,
    api_v2_manifest,
    api_v4_manifest,
    application_manifest,
    manifest_name,
    slug,
    unique_names,
)
from reconciler.export.reader import EnvironmentContents, RemoteObject
from reconciler.export.secrets import SecretRef
from reconciler.manifests.hrid import resource_hrid
from reconciler.manifests.model import API_VERSION, MANAGEMENT_CONTEXT, Resource
from reconciler.plan.ownership import DEFAULT_OWNER

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
    apis: list[RemoteObject] = []
    for api in contents.apis:
        version = api.definition_version
        if version not in ("V4", "V2"):
            reason = f"{version or 'unknown'} API: not a kind apim-reconciler manages"
            skipped.append(Skipped("API", api.name, api.id, reason))
        elif api.state is None:
            where = "the Automation API" if version == "V4" else "APIM's export (mAPI v1 .../crd)"
            skipped.append(Skipped("API", api.name, api.id, f"{where} does not know it (404)"))
        elif version == "V4" and api.hrid is None and not include_without_hrid:
            skipped.append(Skipped("API", api.name, api.id, _NO_HRID))
        else:
            apis.append(api)
    apps = []
    for app in contents.applications:
        if app.hrid is None and not include_without_hrid:
            skipped.append(Skipped("Application", app.name, app.id, _NO_HRID))
        else:
            apps.append(app)

    def an_api(state: Mapping[str, JSON], name: str, version: str | None) -> Manifest:
        if version == "V2":
            return api_v2_manifest(state, namespace, name, context, environment_id)
        return api_v4_manifest(state, namespace, name, context)

    def an_application(state: Mapping[str, JSON], name: str, version: str | None) -> Manifest:
        return application_manifest(state, namespace, name, context)

    manifests: list[Manifest] = []
    for objects, make in ((apis, an_api), (apps, an_application)):
        ordered = sorted(objects, key=lambda o: (o.hrid or "~", o.name.lower(), o.id))
        names = unique_names(_wanted_name(o, namespace) for o in ordered)
        for obj, name in zip(ordered, names, strict=True):
            assert obj.state is not None  # objects without a state were skipped above (type narrowing)  # nosec B101
            manifests.append(_annotated(make(obj.state, name, obj.definition_version), obj, owner_id))
    return Selection(tuple(manifests), tuple(skipped))


def _wanted_name(obj: RemoteObject, namespace: str) -> tuple[str, bool]:
    """The name a manifest of `obj` asks for, and whether it must keep it (it gives the object's own
    identity back: its HRID, or for a v2 API the manifest its ownership record names)."""
    if obj.definition_version == "V2":
        recorded = obj.record_name
        if recorded and len(recorded) <= MAX_NAME and K8S_NAME.match(recorded):
            return recorded, True
        return slug(obj.name) or "unnamed", False
    wanted = manifest_name(obj.hrid, obj.name, namespace)
    return wanted, obj.hrid is not None and obj.hrid == resource_hrid(namespace, wanted)


def _annotated(manifest: Manifest, obj: RemoteObject, owner_id: str) -> Manifest:
    notes = list(manifest.notes)
    if obj.hrid is None and obj.definition_version != "V2":
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
