"""Manifests: loading GKO-compatible YAML with positions, schema validation, cross-resource checks."""

from reconciler.manifests.loader import LoadOptions, load_manifests
from reconciler.manifests.model import ManifestSet, Position, Problem, Resource, ResourceId, Severity

__all__ = [
    "LoadOptions",
    "ManifestSet",
    "Position",
    "Problem",
    "Resource",
    "ResourceId",
    "Severity",
    "load_manifests",
]
