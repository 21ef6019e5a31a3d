"""Default values, as path rules over a body, for two purposes kept apart on purpose.

* `GKO_DEFAULTS`: what GKO always sends because the Kubernetes API server fills the CRD defaults in.
  They are written into the desired body before it is hashed, diffed or sent, so that a manifest
  behaves the same here as under GKO.
* `SERVER_DEFAULTS`: what APIM fills in (Automation API schema defaults) and echoes back. They are
  filled into *both* sides before comparing, so an omitted field and its default never differ.

A rule is a path whose `*` steps walk every item of a list; the last step is the key to fill when it
is missing or null. Nothing is filled into a container that does not exist, except at the top level.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, APPLICATION
from reconciler.plan.canonical import clone

JSON = Any
Rule = tuple[tuple[str, ...], JSON]
T = TypeVar("T")

_STEP_PHASES = ("request", "response", "subscribe", "publish", "entrypointConnect", "interact", "connect")


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


NO_RULES = Rules()

GKO_DEFAULTS: dict[str, Rules] = {
    API_V4_DEFINITION: Rules(
        (("state",), "STARTED"),
        (("lifecycleState",), "UNPUBLISHED"),
        (("visibility",), "PRIVATE"),
        (("notifyMembers",), True),
        (("plans", "*", "status"), "PUBLISHED"),
        (("plans", "*", "validation"), "AUTO"),
        (("plans", "*", "type"), "API"),
        (("plans", "*", "mode"), "STANDARD"),
        (("listeners", "*", "entrypoints", "*", "qos"), "AUTO"),
    ),
    # v2: the CRD's own defaults, except syncFrom: without a Kubernetes cluster the gateways can only
    # read the definition from APIM, so "kubernetes" would leave the API undeployed.
    API_DEFINITION: Rules(
        (("state",), "STARTED"),
        (("visibility",), "PRIVATE"),
        (("notifyMembers",), True),
        (("definition_context",), {}),
        (("definition_context", "origin"), "kubernetes"),
        (("definition_context", "mode"), "fully_managed"),
        (("definition_context", "syncFrom"), "management"),
        (("plans", "*", "status"), "PUBLISHED"),
        (("plans", "*", "validation"), "AUTO"),
        (("plans", "*", "type"), "API"),
    ),
    APPLICATION: Rules(),
}


def _flow_rules(prefix: tuple[str, ...]) -> list[Rule]:
    rules: list[Rule] = [((*prefix, "*", "enabled"), True)]
    rules += [((*prefix, "*", phase, "*", "enabled"), True) for phase in _STEP_PHASES]
    return rules


SERVER_DEFAULTS: dict[str, Rules] = {
    API_V4_DEFINITION: Rules(
        # GKO's defaults minus the write-only fields that APIM never echoes.
        *(r for r in GKO_DEFAULTS[API_V4_DEFINITION] if r[0][0] != "notifyMembers"),
        (("allowedInApiProducts",), False),
        (("allowMultiJwtOauth2Subscriptions",), False),
        (("flowExecution",), {}),
        (("flowExecution", "mode"), "DEFAULT"),
        (("flowExecution", "matchRequired"), False),
        (("endpointGroups", "*", "endpoints", "*", "weight"), 1),
        (("endpointGroups", "*", "endpoints", "*", "inheritConfiguration"), False),
        (("endpointGroups", "*", "endpoints", "*", "secondary"), False),
        (("resources", "*", "enabled"), True),
        (("pages", "*", "published"), False),
        (("pages", "*", "homepage"), False),
        (("pages", "*", "visibility"), "PUBLIC"),
        *_flow_rules(("flows",)),
        *_flow_rules(("plans", "*", "flows")),
    ),
    API_DEFINITION: Rules(
        *GKO_DEFAULTS[API_DEFINITION],
        (("flow_mode",), "DEFAULT"),
        (("execution_mode",), "v4-emulation-engine"),
        (("gravitee",), "2.0.0"),
        (("lifecycle_state",), "CREATED"),
        (("resources", "*", "enabled"), True),
        (("flows", "*", "enabled"), True),
        (("plans", "*", "flows", "*", "enabled"), True),
    ),
    APPLICATION: Rules((("status",), "ACTIVE")),
}


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
