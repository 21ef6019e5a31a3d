"""Default values, as path rules over a body, for two purposes kept apart on purpose.

Each kind module (reconciler/kinds/) holds its two sets as `GKO_DEFAULTS` and `SERVER_DEFAULTS`
(`Kind.gko_defaults`, `Kind.server_defaults`); this module is how rules are written and applied.

* GKO defaults: what GKO always sends because the Kubernetes API server fills the CRD defaults in
  (all of them, generated from GKO's CRDs into `crd_defaults.py`). They are written into the spec
  before the body is built, hashed, diffed or sent, so that a manifest behaves the same here as
  under GKO.
* server defaults: what APIM fills in (Automation API schema defaults) and echoes back. They are
  filled into *both* sides before comparing, so an omitted field and its default never differ.

A rule is a path whose `*` steps walk every item of a list (or every value of a map: a manifest's
plans and pages); the last step is the key to fill when it is missing or null. Nothing is filled into
a container that does not exist, except at the top level.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.plan.canonical import clone

JSON = Any
Rule = tuple[tuple[str, ...], JSON]
T = TypeVar("T")


@dataclass(frozen=True)
class _RuleTree:
    """Rules grouped by their first step: keys to fill here, keys to descend into, `*` for list items."""

    fills: tuple[tuple[str, JSON], ...] = ()
    children: tuple[tuple[str, _RuleTree], ...] = ()
    each: _RuleTree | None = None


def _compile(rules: Sequence[Rule]) -> _RuleTree:
    fills: list[tuple[str, JSON]] = []
    nested: dict[str, list[Rule]] = {}
    for path, default in rules:
        if len(path) == 1 and path[0] != "*":
            fills.append((path[0], default))
        elif len(path) > 1:
            nested.setdefault(path[0], []).append((path[1:], default))
    each = _compile(nested.pop("*")) if "*" in nested else None
    children = tuple((key, _compile(sub)) for key, sub in nested.items())
    return _RuleTree(tuple(fills), children, each)


class Rules:
    """A set of default rules, with the tree that `apply_rules` walks built once."""

    def __init__(self, *rules: Rule) -> None:
        self.rules = rules
        self.tree = _compile(rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)


def apply_rules(body: T, rules: Rules) -> T:
    """`body` with every rule's default filled in where the value is missing or null.

    Copy on write: only the containers on the way to a filled value are copied, the rest is shared
    with `body`, which is never changed. Bodies are therefore read-only from here on; a full deep
    copy of every manifest was a fifth of a no-op sync's CPU. The rules are walked as one tree, so
    that each container of the body is visited once, not once per rule.
    """
    filled: T = _apply(body, rules.tree)
    return filled


def _apply(node: Any, tree: _RuleTree) -> Any:
    if isinstance(node, list):
        if tree.each is None:
            return node
        items = [_apply(item, tree.each) for item in node]
        return node if all(new is old for new, old in zip(items, node, strict=True)) else items
    if not isinstance(node, dict):
        return node
    if tree.each is not None and not tree.fills and not tree.children:
        # A map whose values are alike (a manifest's plans and pages, keyed by name): `*` is each value.
        values = {key: _apply(value, tree.each) for key, value in node.items()}
        return node if all(values[k] is node[k] for k in node) else values
    out = node
    for key, default in tree.fills:
        if out.get(key) is None:
            out = out if out is not node else dict(node)
            out[key] = clone(default)
    for key, subtree in tree.children:
        value = out.get(key)
        if value is None:
            continue
        filled = _apply(value, subtree)
        if filled is not value:
            out = out if out is not node else dict(node)
            out[key] = filled
    return out
