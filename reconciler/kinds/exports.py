"""What every kind's export mapping shares: its input and output, and the helpers for the inverse of a body.

A kind's `export_spec(state, target)` turns what APIM returns for one object (`ApiV4State`,
`ApplicationState`, the spec of a v2 API's mAPI v1 `.../crd` export) into the spec of the manifest
that would give that object back: the inverse of its `build_body`, so that a manifest exported here
plans to *no change* against the object it came from (export/mapping.py puts it in a document).
Pure, and of the planner only the leaves (tests/test_layers.py), like the body builders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.manifests.hrid import key_hrid, resource_hrid
from reconciler.plan.ownership import hide_ownership

JSON = Any

MAX_NAME = 63
"""The longest Kubernetes name (a DNS label)."""


@dataclass(frozen=True, slots=True)
class ContextRef:
    """The ManagementContext that every exported manifest points at."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class ExportTarget:
    """Where an exported manifest goes: its identity, its context, and the context's environment (the
    ids a v2 API derives from its name depend on it)."""

    namespace: str
    name: str
    context: ContextRef
    environment_id: str = "DEFAULT"


@dataclass(frozen=True, slots=True)
class ExportedSpec:
    """A kind's manifest spec for one object, its HRID, and what people should be told about it."""

    hrid: str | None
    spec: dict[str, JSON]
    notes: tuple[str, ...] = ()


def slug(text: str) -> str:
    """A Kubernetes name (DNS label) from free text: lower case, other characters as `-`, 63 at most."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:MAX_NAME].rstrip("-")


def context_ref(target: ExportTarget) -> dict[str, str]:
    """The manifest's `contextRef`, its namespace written only when it is not the manifest's own."""
    ref = {"name": target.context.name}
    if target.context.namespace != target.namespace:
        ref["namespace"] = target.context.namespace
    return ref


def spec_with_hrid(state: Mapping[str, JSON], target: ExportTarget) -> tuple[str | None, dict[str, JSON]]:
    """The object's HRID, and a spec that starts with its contextRef and names the HRID only when
    GKO's rule would not give it back from the manifest's name (v4 APIs, applications)."""
    hrid = state.get("hrid") if isinstance(state.get("hrid"), str) else None
    spec: dict[str, JSON] = {"contextRef": context_ref(target)}
    if hrid and hrid != resource_hrid(target.namespace, target.name):
        spec["hrid"] = hrid
    return hrid, spec


def keyed(items: JSON, assigned: frozenset[str], what: str, notes: list[str]) -> JSON:
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


def exported_entries(entries: list[JSON]) -> list[Mapping[str, JSON]]:
    """The metadata entries a manifest may carry: objects, less our ownership record."""
    return [e for e in hide_ownership(entries) if isinstance(e, Mapping)]


def note_unknown(state: Mapping[str, JSON], known: set[str], notes: list[str]) -> None:
    """A note naming what the state carries that the manifest schema has no field for."""
    unknown = sorted(k for k, v in state.items() if k not in known and v not in (None, [], {}))
    if unknown:
        notes.append(f"{', '.join(unknown)} not exported (not in the manifest schema)")
