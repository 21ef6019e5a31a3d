"""Narrowing a sync to part of the repository (`--context`, `--kind`, `--name`, `--label`).

A scope must narrow deletions too: a sync of one kind must never prune another. Remote objects are
matched through the manifest identity in their ownership record; labels live only in git, so a label
selector turns pruning off (the plan says so) rather than guess.
"""

from __future__ import annotations

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

    @property
    def everything(self) -> bool:
        return not (self.contexts or self.kinds or self.names or self.labels)

    @property
    def allows_prune(self) -> bool:
        return not self.labels

    def context_selected(self, context: ResourceId) -> bool:
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


def parse_labels(selectors: list[str]) -> dict[str, str]:
    """`team=storefront` pairs; raises ValueError with the bad one."""
    labels: dict[str, str] = {}
    for selector in selectors:
        key, sep, value = selector.partition("=")
        if not sep or not key:
            raise ValueError(f"label selector {selector!r} is not KEY=VALUE")
        labels[key] = value
    return labels
