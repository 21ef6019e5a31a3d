"""Builders for secret tests: ManagementContext resources and Kubernetes secret-volume layouts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.manifests.model import MANAGEMENT_CONTEXT, Position, Positions, Resource, ResourceId

_generation = itertools.count(1)


def resource(
    kind: str, spec: Mapping[str, Any], *, name: str = "dev-ctx", namespace: str = "default"
) -> Resource:
    positions = Positions(
        {("spec",): Position("ctx.yml", 5), ("spec", "auth"): Position("ctx.yml", 9)},
        Position("ctx.yml", 1),
    )
    return Resource(ResourceId(kind, namespace, name), spec, {"name": name}, positions)


def context(spec: Mapping[str, Any], *, name: str = "dev-ctx", namespace: str = "default") -> Resource:
    return resource(MANAGEMENT_CONTEXT, spec, name=name, namespace=namespace)


def secret_volume(directory: Path, data: Mapping[str, str]) -> Path:
    """Write `data` the way kubelet mounts a secret: `..<ts>/key`, `..data -> ..<ts>`, `key -> ..data/key`."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = _write_generation(directory, data)
    os.symlink(stamp, directory / "..data")
    for key in data:
        os.symlink(f"..data/{key}", directory / key)
    return directory


def rotate(directory: Path, data: Mapping[str, str]) -> None:
    """Rotate a secret volume as kubelet does: new timestamped dir, atomic rename of `..data`, old dir removed."""
    old = os.readlink(directory / "..data")
    stamp = _write_generation(directory, data)
    tmp = directory / "..data_tmp"
    os.symlink(stamp, tmp)
    os.rename(tmp, directory / "..data")  # atomic replacement of the symlink
    for key in data:
        if not (directory / key).is_symlink():
            os.symlink(f"..data/{key}", directory / key)
    for child in (directory / old).iterdir():
        child.unlink()
    (directory / old).rmdir()


def _write_generation(directory: Path, data: Mapping[str, str]) -> str:
    stamp = f"..2026_11_23_10_00_{next(_generation):02d}.{os.getpid()}"
    (directory / stamp).mkdir()
    for key, value in data.items():
        (directory / stamp / key).write_text(value + "\n", encoding="utf-8")
    return stamp
