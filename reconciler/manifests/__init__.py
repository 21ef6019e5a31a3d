"""Manifests: loading GKO-compatible YAML with positions, schema validation, cross-resource checks."""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.manifests.loader import LoadOptions, load_manifests
    from reconciler.manifests.model import ManifestSet, Problem
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "LoadOptions",
    "ManifestSet",
    "Problem",
    "load_manifests",
]
