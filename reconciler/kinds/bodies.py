"""What every kind's body builder shares: the result it returns, and the rules for keyed children.

A body builder (each kind module's `build_body`) turns one manifest's spec into the exact body that
is sent to APIM. The helpers here are pure and reach only the planner's leaf modules (defaults,
ids, ownership: none of them imports this package), so that a kind module can hold its own builder
without an import cycle (tests/test_layers.py holds the list).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds.base import Fields
from reconciler.manifests.hrid import key_hrid

JSON = Any

MANIFEST_ONLY = frozenset(("contextRef", "groupRefs", "notificationsRefs"))
"""Manifest-only fields: Kubernetes references that GKO resolves itself."""


@dataclass(frozen=True, slots=True)
class BuiltBody:
    """A kind's body for one manifest, and what the planner needs to know about how it was made."""

    body: dict[str, JSON]
    dropped: list[str] = field(default_factory=list)
    """The top-level fields of the spec left out of the body (reported as warnings)."""
    keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per keyed collection (a v4 API's plans and pages): HRID -> the map key written in the manifest."""
    cross_id: JSON = None
    """The crossId the body names itself (a v2 body may), else None: the derived one is used."""
    remote_id: JSON = None
    """The APIM id the body names itself, else None."""


def accepted(fields: Fields) -> frozenset[str]:
    """What the Automation API takes: what it echoes, less the HRID we set ourselves, plus
    write-only fields."""
    return ((fields.echoed or frozenset()) - {"hrid"}) | fields.write_only


def ordered(items: Mapping[str, JSON]) -> list[tuple[str, JSON]]:
    """Map entries in manifest order, but an explicit `order` first (plans: earlier = higher priority)."""
    entries = list(items.items())
    return sorted(entries, key=lambda e: (_order_of(e[1]), entries.index(e)))


def _order_of(item: JSON) -> int:
    order = item.get("order") if isinstance(item, Mapping) else None
    return order if isinstance(order, int) and not isinstance(order, bool) else 1 << 30


def keyed_item(key: str, item: JSON, derived: frozenset[str]) -> dict[str, JSON]:
    """An item of a manifest's map (a plan, a page) as a list item keyed by its HRID."""
    fields = item if isinstance(item, Mapping) else {}
    explicit = fields.get("hrid")
    hrid = explicit if isinstance(explicit, str) and explicit else key_hrid(key)
    return {"hrid": hrid, **{k: v for k, v in fields.items() if k not in derived}}


def metadata_key(name: str) -> str:
    """APIM's key for a metadata entry given only a name: lower case, runs of other characters as `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
