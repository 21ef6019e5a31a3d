"""Narrowing a sync to part of the repository (`--context`, `--kind`, `--name`, `--label`).

A scope must narrow deletions too: a sync of one kind must never prune another. Remote objects are
matched through the manifest identity in their ownership record; labels live only in git, so a label
selector turns pruning off (the plan says so) rather than guess.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from reconciler.manifests.model import MANAGEMENT_CONTEXT, Resource, ResourceId


@dataclass(frozen=True)
class Scope:
    contexts: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    labels: Mapping[str, str] | None = None
    shards: int = 1
    shard_index: int = 0

    @property
    def everything(self) -> bool:
        return not (self.contexts or self.kinds or self.names or self.labels)

    @property
    def allows_prune(self) -> bool:
        return not self.labels

    def context_selected(self, context: ResourceId) -> bool:
        if self.shards > 1 and shard_of(context, self.shards) != self.shard_index:
            return False
        return not self.contexts or context.name in self.contexts or str(context) in self.contexts

    def identity_selected(self, resource: ResourceId) -> bool:
        if self.kinds and resource.kind not in self.kinds:
            return False
        return not self.names or any(fnmatchcase(resource.name, pattern) for pattern in self.names)

    def selects(self, resource: Resource) -> bool:
        """A managed resource of the repository is in scope (contexts are filtered separately)."""
        if resource.kind == MANAGEMENT_CONTEXT:
            return True
        ref = resource.context_ref
        if ref is not None and not self.context_selected(ref.id):
            return False
        if not self.identity_selected(resource.id):
            return False
        labels = self.labels or {}
        return all(resource.labels.get(key) == value for key, value in labels.items())


def shard_of(context: ResourceId, shards: int) -> int:
    """The replica that owns a context: a stable hash, the same in every process and every run."""
    digest = hashlib.sha256(f"{context.namespace}/{context.name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def parse_shard_index(value: str, hostname: str) -> int:
    """An index, or `auto`: the ordinal at the end of a StatefulSet pod's hostname (`reconciler-2`)."""
    if value != "auto":
        return int(value)
    _, _, ordinal = hostname.rpartition("-")
    if not ordinal.isdigit():
        raise ValueError(
            f"--shard-index auto needs a hostname ending in -N (a StatefulSet pod), got {hostname!r}"
        )
    return int(ordinal)


def parse_labels(selectors: list[str]) -> dict[str, str]:
    """`team=storefront` pairs; raises ValueError with the bad one."""
    labels: dict[str, str] = {}
    for selector in selectors:
        key, sep, value = selector.partition("=")
        if not sep or not key:
            raise ValueError(f"label selector {selector!r} is not KEY=VALUE")
        labels[key] = value
    return labels
