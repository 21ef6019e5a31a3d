"""`kind: List` documents, as `kubectl get -o yaml` writes them: their items are the manifests.

kubectl (and so a GKO user's `kubectl apply -f`) treats any kind that ends in `List` and holds
`items` as a list of objects, `v1/List` first of all, and applies each item; a List inside a List
is expanded too. Each item keeps its own place in the file, so a problem of one points at its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.manifests.model import JSON, FieldPath, Position, Positions, Problem, Severity

MAX_LIST_DEPTH = 10
"""Lists inside lists that are expanded; kubectl writes one level."""


@dataclass(frozen=True)
class Item:
    """One document to turn into a resource: a whole YAML document, or an item of a List."""

    body: JSON
    positions: Positions
    nulls: tuple[tuple[FieldPath, Position], ...] = ()


def is_list(body: JSON) -> bool:
    if not isinstance(body, dict):
        return False
    kind = body.get("kind")
    return kind == "List" or (isinstance(kind, str) and kind.endswith("List") and "items" in body)


def expand(document: Item, problems: list[Problem], depth: int = 0) -> Iterator[Item]:
    """The document itself, or, for a List, each of its items (Lists in it expanded as well)."""
    if not is_list(document.body):
        yield document
        return
    items = document.body.get("items", [])
    where = document.positions
    if not isinstance(items, list):
        problems.append(
            Problem(
                Severity.ERROR,
                f"the items of a {document.body['kind']} must be a list of manifests, not "
                f"{_json_type(items)}: nothing in it is loaded",
                where.of(("items",)),
                None,
                ("items",),
            )
        )
        return
    if depth >= MAX_LIST_DEPTH:
        problems.append(
            Problem(
                Severity.ERROR, f"Lists nested deeper than {MAX_LIST_DEPTH} levels: not read", where.document
            )
        )
        return
    fields: dict[int, dict[FieldPath, Position]] = {}  # one pass over the fields, not one per item
    for path, position in where.by_path.items():
        if len(path) > 2 and path[0] == "items" and isinstance(path[1], int):
            fields.setdefault(path[1], {})[path[2:]] = position
    nulls: dict[int, list[tuple[FieldPath, Position]]] = {}
    for path, position in document.nulls:
        if len(path) > 2 and path[0] == "items" and isinstance(path[1], int):
            nulls.setdefault(path[1], []).append((path[2:], position))
    for index, body in enumerate(items):
        start = where.of(("items", index))
        positions = Positions(fields.get(index, {}), start)
        yield from expand(Item(body, positions, tuple(nulls.get(index, ()))), problems, depth + 1)


def _json_type(value: JSON) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "a mapping"
