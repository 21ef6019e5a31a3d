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

Each kind's mapping (state -> spec) is its module's `export_spec` in reconciler/kinds/, beside the
body builder it inverts; this module names the manifest, moves secrets out and writes the envelope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.export.secrets import SecretRef, extract_secrets
from reconciler.kinds.base import Kind
from reconciler.kinds.exports import MAX_NAME, ExportTarget, slug
from reconciler.manifests.model import API_VERSION

JSON = Any

K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


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


def manifest_of(kind: Kind, state: Mapping[str, JSON], target: ExportTarget) -> Manifest:
    """The manifest of one object of `kind`, from what APIM returns for it: its kind's mapping,
    then every secret value moved out into a `[[ secret ]]` template of `<name>-secrets`."""
    exported = kind.export_spec(state, target)
    cleaned, secrets = extract_secrets(exported.spec, target.namespace, f"{target.name}-secrets")
    document = {
        "apiVersion": API_VERSION,
        "kind": kind.name,
        "metadata": {"name": target.name, "namespace": target.namespace},
        "spec": cleaned,
    }
    return Manifest(
        kind.name, target.namespace, target.name, exported.hrid, document, tuple(secrets), exported.notes
    )
