"""Snapshot → manifests, with file names that mean something to the reader of a message.

A folder is loaded as the user typed it, so ``apis/echo.yaml:7:5`` reads like their own path. A
git checkout lives in a cache folder whose name (a hash) means nothing to anyone: its files are
named relative to the repository instead, as a code host shows them (``manifests/echo.yaml``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.loader import LoadCache
from reconciler.manifests.model import ManifestSet, Position, Problem, Resource
from reconciler.source import Snapshot


def load_snapshot(
    snapshot: Snapshot,
    options: LoadOptions,
    *,
    folder_display: str | None = None,
    sub_path: str | None = None,
    cache: LoadCache | None = None,
) -> ManifestSet:
    """Load the manifests of ``snapshot``.

    With ``folder_display`` (a folder source), that path is loaded as given. Otherwise the snapshot's
    root (a git checkout plus ``sub_path``) is loaded and every position is renamed from the cache
    path to the path inside the repository. With ``cache``, unchanged files are not parsed again.
    """
    if folder_display is not None:
        return load_manifests([folder_display], options, cache=cache)
    repository = _repository_of(snapshot.root, sub_path)
    manifests = load_manifests([snapshot.root], options, repository=repository, cache=cache)
    prefix = sub_path.strip("/") if sub_path else ""
    return relocate(manifests, snapshot.root, prefix)


def relocate(manifests: ManifestSet, root: Path, prefix: str) -> ManifestSet:
    """The same manifests with ``root/x.yaml`` shown as ``prefix/x.yaml`` (or ``x.yaml``)."""
    root_text = str(root).rstrip(os.sep) + os.sep
    shown_root = prefix + "/" if prefix else ""

    def name(file: str) -> str:
        return shown_root + file[len(root_text) :] if file.startswith(root_text) else file

    def position(pos: Position) -> Position:
        return replace(pos, file=name(pos.file))

    def problem(found: Problem) -> Problem:
        message = found.message.replace(root_text, shown_root).replace(str(root), prefix or ".")
        return replace(
            found,
            message=message,
            position=position(found.position) if found.position is not None else None,
        )

    def resource(item: Resource) -> Resource:
        return replace(item, positions=item.positions.moved(name(item.positions.document.file)))

    return replace(
        manifests,
        resources=tuple(resource(r) for r in manifests.resources),
        problems=tuple(problem(p) for p in manifests.problems),
        ignored=tuple(name(path) for path in manifests.ignored),
    )


def _repository_of(root: Path, sub_path: str | None) -> Path | None:
    """The checkout that ``root`` (checkout plus ``--path``) is inside, for its ``.sourceignore``."""
    parts = [p for p in (sub_path or "").strip("/").split("/") if p and p != "."]
    if not parts:
        return None
    top = root
    for _ in parts:
        top = top.parent
    return top
