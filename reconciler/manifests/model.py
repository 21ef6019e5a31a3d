"""The values that the manifest stage hands to the rest of the pipeline.

Everything here is immutable: a resource is read once per sync and then only passed along.
Specs are plain JSON-like data (dict, list, str, int, float, bool, None) so that every later
stage can hash, diff and serialise them without knowing about YAML.
"""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.manifests.names import API_DEFINITION as API_DEFINITION
from reconciler.manifests.names import API_V4_DEFINITION as API_V4_DEFINITION
from reconciler.manifests.names import API_VERSION as API_VERSION
from reconciler.manifests.names import APPLICATION as APPLICATION
from reconciler.manifests.names import DEFAULT_NAMESPACE as DEFAULT_NAMESPACE
from reconciler.manifests.names import MANAGEMENT_CONTEXT as MANAGEMENT_CONTEXT
from reconciler.manifests.names import OTHER_GKO_KINDS as OTHER_GKO_KINDS
from reconciler.manifests.names import RECONCILED_KINDS as RECONCILED_KINDS
from reconciler.textsafe import printable

JSON = Any
"""A value made of dict, list, str, int, float, bool and None only."""

FieldPath = tuple[str | int, ...]
"""Where a value sits inside a document, e.g. ("spec", "plans", "API_KEY", "security", "type")."""


def format_field_path(path: FieldPath) -> str:
    """Render a path the way users write it: `spec.listeners[0].paths[1].path`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A place in a file; line and column count from 1, as editors show them.

    Slots: a repository of 10,000 APIs holds some 700,000 of them."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class ResourceId:
    """The identity of a resource: two documents with one identity are a duplicate."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """Something wrong (or worth a warning) with the manifests, pointing at file and line."""

    severity: Severity
    message: str
    position: Position | None = None
    resource: ResourceId | None = None
    field: FieldPath = ()
    involves: tuple[ResourceId, ...] = ()
    """Other resources that the problem is about as much as `resource` (the first of two that claim one
    path or one HRID): none of them is OK while it stands."""

    @property
    def resources(self) -> tuple[ResourceId, ...]:
        """Every resource this problem concerns."""
        return ((self.resource,) if self.resource is not None else ()) + self.involves

    def sort_key(self) -> tuple[str, int, int, str]:
        pos = self.position
        return (pos.file, pos.line, pos.column, self.message) if pos else ("", 0, 0, self.message)

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        context = ""
        if self.resource is not None:
            context = f" ({self.resource}"
            if self.field:
                context += f" at {format_field_path(self.field)}"
            context += ")"
        # One line whatever the file or resource is called: a newline in a name cannot forge a line.
        return printable(f"{where}{self.severity}: {self.message}{context}")


class _Shape:
    """The field paths of a document, in the order they were written, with an index by path.

    Shared by every document written the same way (the APIs of one template, say), so that a
    repository of 10,000 of them keeps one set of paths instead of 700,000 tuples.
    """

    __slots__ = ("__weakref__", "index", "paths")

    def __init__(self, paths: tuple[FieldPath, ...]) -> None:
        self.paths = paths
        self.index = {path: i for i, path in enumerate(paths)}  # a repeated path: the last one wins


_SHAPES: weakref.WeakValueDictionary[tuple[FieldPath, ...], _Shape] = weakref.WeakValueDictionary()
_COLUMN_BITS = 24


class Positions:
    """Where each field of one document was written, to point errors at a line.

    Looking up a path that was not written (a missing required field, say) falls back to
    the nearest written ancestor, which is where the user has to add it.

    Kept compact, since every loaded document holds one for as long as its manifest lives: the
    file once, a shared `_Shape` of paths, and one packed integer per field, from which a
    `Position` is made when asked for.
    """

    __slots__ = ("_file", "_shape", "_spots", "document")

    def __init__(self, by_path: Mapping[FieldPath, Position], document: Position) -> None:
        if any(p.file != document.file for p in by_path.values()):
            raise ValueError("every position of a document must be in the document's file")
        self._init(document.file, list(by_path), [pack(p.line, p.column) for p in by_path.values()], document)

    def _init(self, file: str, paths: list[FieldPath], spots: list[int], document: Position) -> None:
        key = tuple(paths)
        shape = _SHAPES.get(key)
        if shape is None:
            shape = _SHAPES.setdefault(key, _Shape(key))
        self._file = file
        self._shape = shape
        self._spots = array("Q", spots)
        self.document = document

    @classmethod
    def packed(cls, file: str, paths: list[FieldPath], spots: list[int], document: Position) -> Positions:
        """From the loader: `spots[i]` is where `paths[i]` was written, as `pack(line, column)`."""
        positions = cls.__new__(cls)
        positions._init(file, paths, spots, document)
        return positions

    def of(self, path: FieldPath) -> Position:
        index = self._shape.index
        for end in range(len(path), -1, -1):
            found = index.get(path[:end])
            if found is not None:
                return self._position(self._spots[found])
        return self.document

    def has(self, path: FieldPath) -> bool:
        """Whether the document writes this very field (not only one of its ancestors)."""
        return path in self._shape.index

    @property
    def knows_paths(self) -> bool:
        """False for positions made without the document's fields (a resource built in code)."""
        return bool(self._shape.paths)

    @property
    def by_path(self) -> dict[FieldPath, Position]:
        return {path: self._position(self._spots[i]) for path, i in self._shape.index.items()}

    def moved(self, file: str) -> Positions:
        """The same positions in a file of another name (a repository shown under a sub-path)."""
        moved = Positions.__new__(Positions)
        moved._file, moved._shape, moved._spots = file, self._shape, self._spots
        moved.document = Position(file, self.document.line, self.document.column)
        return moved

    def _position(self, spot: int) -> Position:
        return Position(self._file, unpack_line(spot), spot & ((1 << _COLUMN_BITS) - 1))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Positions):
            return NotImplemented
        return self.document == other.document and self.by_path == other.by_path

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the dict it stands for

    def __repr__(self) -> str:
        return f"Positions({self.document}, {len(self._spots)} fields)"


def pack(line: int, column: int) -> int:
    """A line and a column as one integer, the form `Positions.packed` takes."""
    return (line << _COLUMN_BITS) | min(column, (1 << _COLUMN_BITS) - 1)


def unpack_line(spot: int) -> int:
    return spot >> _COLUMN_BITS


@dataclass(frozen=True)
class ContextRef:
    namespace: str
    name: str

    @property
    def id(self) -> ResourceId:
        return ResourceId(MANAGEMENT_CONTEXT, self.namespace, self.name)


@dataclass(frozen=True)
class Resource:
    """A manifest of one of the kinds that we reconcile."""

    id: ResourceId
    spec: Mapping[str, JSON]
    metadata: Mapping[str, JSON]
    positions: Positions = field(compare=False, repr=False)
    has_templates: bool = field(default=False, compare=False)
    """Whether some string of the spec holds a template: most do not, and need no resolution pass."""

    @property
    def kind(self) -> str:
        return self.id.kind

    @property
    def namespace(self) -> str:
        return self.id.namespace

    @property
    def name(self) -> str:
        return self.id.name

    @property
    def position(self) -> Position:
        return self.positions.document

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, Mapping) else {}

    @property
    def context_ref(self) -> ContextRef | None:
        """The ManagementContext this resource belongs to; its namespace defaults to ours."""
        ref = self.spec.get("contextRef")
        if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str):
            return None
        namespace = ref.get("namespace")
        return ContextRef(
            namespace if isinstance(namespace, str) and namespace else self.namespace, ref["name"]
        )

    def at(self, *path: str | int) -> Position:
        """The position of a field of the spec, e.g. `resource.at("plans", "API_KEY")`."""
        return self.positions.of(("spec", *path))


@dataclass(frozen=True)
class ManifestSet:
    """Everything that one load of a repository produced: resources, and what went wrong."""

    resources: tuple[Resource, ...]
    problems: tuple[Problem, ...]
    files: int
    ignored: tuple[str, ...] = ()
    """Files and folders (these with a trailing `/`) that `.sourceignore` or Flux's default
    exclusions kept out of the load, as shown."""

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def with_errors(self) -> frozenset[ResourceId]:
        """The resources that an error concerns, cross-file errors included: none of them is OK."""
        return frozenset(r for p in self.errors for r in p.resources)

    def of_kind(self, kind: str) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.kind == kind)
