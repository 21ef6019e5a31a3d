"""From an environment's contents to the manifests to write: naming, selection, and the context.

Pure. What is exported and what is skipped is decided here, each skip with a reason for people:

* v2 APIs: no documented endpoint returns their full definition (see `reader`); a partial manifest
  would make `sync` delete what it does not show (plans), so none is written.
* objects without an HRID (made in the console, or by GKO before the Automation API): the planner
  finds APIM objects by HRID (or the ids derived from it), so a manifest of such an object would be
  planned as a *new* object, a duplicate, not adopted. They are skipped unless asked for
  (`include_without_hrid`), and then flagged in a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.export.mapping import (
    ContextRef,
    Manifest,
    api_v4_manifest,
    application_manifest,
    manifest_name,
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
    include_without_hrid: bool = False,
    owner_id: str = DEFAULT_OWNER,
) -> Selection:
    """One manifest per exportable API and application, named uniquely per kind."""
    skipped: list[Skipped] = []
    apis: list[RemoteObject] = []
    for api in contents.apis:
        if api.definition_version != "V4":
            reason = (
                f"{api.definition_version or 'unknown'} API: no documented endpoint returns its full "
                "definition; write its ApiDefinition by hand (see docs/export.md)"
            )
            skipped.append(Skipped("API", api.name, api.id, reason))
        elif api.state is None:
            skipped.append(Skipped("API", api.name, api.id, "the Automation API does not know it (404)"))
        elif api.hrid is None and not include_without_hrid:
            skipped.append(Skipped("API", api.name, api.id, _NO_HRID))
        else:
            apis.append(api)
    apps = []
    for app in contents.applications:
        if app.hrid is None and not include_without_hrid:
            skipped.append(Skipped("Application", app.name, app.id, _NO_HRID))
        else:
            apps.append(app)

    manifests: list[Manifest] = []
    for objects, make in ((apis, api_v4_manifest), (apps, application_manifest)):
        ordered = sorted(objects, key=lambda o: (o.hrid or "~", o.name.lower(), o.id))
        wanted = [manifest_name(o.hrid, o.name, namespace) for o in ordered]
        exact = [
            o.hrid is not None and o.hrid == resource_hrid(namespace, w)
            for o, w in zip(ordered, wanted, strict=True)
        ]
        names = unique_names(zip(wanted, exact, strict=True))
        for obj, name in zip(ordered, names, strict=True):
            assert obj.state is not None  # objects without a state were skipped above (type narrowing)  # nosec B101
            manifest = make(obj.state, namespace, name, context)
            manifests.append(_annotated(manifest, obj, owner_id))
    return Selection(tuple(manifests), tuple(skipped))


def _annotated(manifest: Manifest, obj: RemoteObject, owner_id: str) -> Manifest:
    notes = list(manifest.notes)
    if obj.hrid is None:
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
