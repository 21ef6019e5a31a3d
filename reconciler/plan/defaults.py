"""Default values, as path rules over a body, for two purposes kept apart on purpose.

* `GKO_DEFAULTS`: what GKO always sends because the Kubernetes API server fills the CRD defaults in
  (all of them, generated from GKO's CRDs into `crd_defaults.py`). They are written into the spec
  before the body is built, hashed, diffed or sent, so that a manifest behaves the same here as
  under GKO.
* `SERVER_DEFAULTS`: what APIM fills in (Automation API schema defaults) and echoes back. They are
  filled into *both* sides before comparing, so an omitted field and its default never differ.

A rule is a path whose `*` steps walk every item of a list (or every value of a map: a manifest's
plans and pages); the last step is the key to fill when it is missing or null. Nothing is filled into
a container that does not exist, except at the top level.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, APPLICATION
from reconciler.plan.canonical import clone
from reconciler.plan.crd_defaults import CRD_DEFAULTS

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
    API_V4_DEFINITION: Rules(*CRD_DEFAULTS[API_V4_DEFINITION]),
    # v2: the CRD's own defaults, and the definition context GKO always sets (EnsureDefinitionContext),
    # except syncFrom: without a Kubernetes cluster the gateways can only read the definition from
    # APIM, so "kubernetes" would leave the API undeployed.
    API_DEFINITION: Rules(
        (("definition_context",), {}),
        *(r for r in CRD_DEFAULTS[API_DEFINITION] if r[0] != ("definition_context", "syncFrom")),
        (("definition_context", "syncFrom"), "management"),
    ),
    APPLICATION: Rules(*CRD_DEFAULTS[APPLICATION]),
}
"""Applied to the manifest's spec before the body is built, as the Kubernetes API server applies them
before GKO reads it (`crd_defaults.py` holds them, generated from GKO's CRDs)."""


def _flow_rules(prefix: tuple[str, ...]) -> list[Rule]:
    rules: list[Rule] = [((*prefix, "*", "enabled"), True)]
    rules += [((*prefix, "*", phase, "*", "enabled"), True) for phase in _STEP_PHASES]
    return rules


SERVER_DEFAULTS: dict[str, Rules] = {
    API_V4_DEFINITION: Rules(
        # What the Automation API's generated model fills in (open-api.yaml defaults) and the import
        # adds (the export of what was stored, ApiCRDExportDomainServiceImpl). Lists it defaults to []
        # need no rule: an empty list counts as missing. Type-dependent defaults (selectors) and
        # rewritten values (paths, description, metadata) are in normalise.py.
        (("state",), "STARTED"),
        (("lifecycleState",), "UNPUBLISHED"),
        (("visibility",), "PRIVATE"),
        (("plans", "*", "status"), "PUBLISHED"),
        (("plans", "*", "validation"), "AUTO"),
        (("plans", "*", "type"), "API"),
        (("plans", "*", "mode"), "STANDARD"),
        (("listeners", "*", "paths", "*", "overrideAccess"), False),
        (("listeners", "*", "entrypoints", "*", "qos"), "AUTO"),
        (("listeners", "*", "cors", "maxAge"), -1),
        (("endpointGroups", "*", "loadBalancer"), {"type": "ROUND_ROBIN"}),
        (("endpointGroups", "*", "loadBalancer", "type"), "ROUND_ROBIN"),
        (("endpointGroups", "*", "services", "discovery", "enabled"), True),
        (("endpointGroups", "*", "services", "discovery", "overrideConfiguration"), False),
        (("endpointGroups", "*", "services", "healthCheck", "enabled"), True),
        (("endpointGroups", "*", "services", "healthCheck", "overrideConfiguration"), False),
        (("endpointGroups", "*", "endpoints", "*", "services", "healthCheck", "enabled"), True),
        (
            ("endpointGroups", "*", "endpoints", "*", "services", "healthCheck", "overrideConfiguration"),
            False,
        ),
        (("services", "dynamicProperty", "enabled"), True),
        (("services", "dynamicProperty", "overrideConfiguration"), False),
        (("analytics",), {"enabled": True}),
        (("analytics", "enabled"), True),
        (("failover", "enabled"), False),
        (("failover", "maxRetries"), 2),
        (("failover", "slowCallDuration"), 2000),
        (("failover", "openStateDuration"), 10000),
        (("failover", "maxFailures"), 5),
        (("failover", "perSubscription"), True),
        (("failover", "forceNextEndpointOnFailure"), False),
        (("responseTemplates", "*", "*", "propagateErrorKeyToLogs"), False),
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
