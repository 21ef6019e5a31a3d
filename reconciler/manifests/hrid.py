"""GKO's naming of resources in APIM (HRID = human readable id), kept identical so that a
repository can move between GKO and this reconciler without APIM seeing new objects."""

from __future__ import annotations


def resource_hrid(namespace: str, name: str) -> str:
    """The HRID of an API or application: `<namespace>-<name>`, as GKO writes it."""
    return f"{namespace}-{name}"


def key_hrid(key: str) -> str:
    """The HRID of a plan or page from its map key: spaces and dots become `-` (GKO's rule)."""
    return key.replace(" ", "-").replace(".", "-")
