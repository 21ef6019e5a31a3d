"""Manifests: loading GKO-compatible YAML with positions, schema validation, cross-resource checks."""

from reconciler.manifests.loader import LoadOptions, load_manifests
from reconciler.manifests.model import ManifestSet, Problem

__all__ = [
    "LoadOptions",
    "ManifestSet",
    "Problem",
    "load_manifests",
]
