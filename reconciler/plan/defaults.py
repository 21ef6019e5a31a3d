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

from collections.abc import Sequence
from typing import Any, TypeVar

from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, APPLICATION
from reconciler.plan.canonical import clone

JSON = Any
Rule = tuple[tuple[str, ...], JSON]
T = TypeVar("T")

_STEP_PHASES = ("request", "response", "subscribe", "publish", "entrypointConnect", "interact", "connect")

GKO_DEFAULTS: dict[str, tuple[Rule, ...]] = {
    API_V4_DEFINITION: (
        (("state",), "STARTED"),
        (("lifecycleState",), "UNPUBLISHED"),
        (("visibility",), "PRIVATE"),
        (("definitionContext",), {}),
        (("definitionContext", "origin"), "KUBERNETES"),
        (("definitionContext", "syncFrom"), "MANAGEMENT"),
        (("notifyMembers",), True),
        (("plans", "*", "status"), "PUBLISHED"),
        (("plans", "*", "validation"), "AUTO"),
        (("plans", "*", "type"), "API"),
        (("plans", "*", "mode"), "STANDARD"),
        (("listeners", "*", "entrypoints", "*", "qos"), "AUTO"),
    ),
    # v2: the CRD's own defaults, except syncFrom: without a Kubernetes cluster the gateways can only
    # read the definition from APIM, so "kubernetes" would leave the API undeployed.
    API_DEFINITION: (
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
    APPLICATION: (),
}


def _flow_rules(prefix: tuple[str, ...]) -> list[Rule]:
    rules: list[Rule] = [((*prefix, "*", "enabled"), True)]
    rules += [((*prefix, "*", phase, "*", "enabled"), True) for phase in _STEP_PHASES]
    return rules


SERVER_DEFAULTS: dict[str, tuple[Rule, ...]] = {
    API_V4_DEFINITION: (
        # GKO's defaults minus the write-only fields that APIM never echoes.
        *(
            r
            for r in GKO_DEFAULTS[API_V4_DEFINITION]
            if r[0][0] not in ("definitionContext", "notifyMembers")
        ),
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
    API_DEFINITION: (
        *GKO_DEFAULTS[API_DEFINITION],
        (("flow_mode",), "DEFAULT"),
        (("execution_mode",), "v4-emulation-engine"),
        (("gravitee",), "2.0.0"),
        (("lifecycle_state",), "CREATED"),
        (("resources", "*", "enabled"), True),
        (("flows", "*", "enabled"), True),
        (("plans", "*", "flows", "*", "enabled"), True),
    ),
    APPLICATION: ((("status",), "ACTIVE"),),
}


def apply_rules(body: T, rules: Sequence[Rule]) -> T:
    """A copy of `body` with every rule's default filled in where the value is missing or null."""
    out: T = clone(body)
    for path, default in rules:
        _fill(out, path, default)
    return out


def _fill(node: JSON, path: tuple[str, ...], default: JSON) -> None:
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for item in node:
                if rest:
                    _fill(item, rest, default)
        return
    if not isinstance(node, dict):
        return
    if not rest:
        if node.get(head) is None:
            node[head] = clone(default)
        return
    if head in node and node[head] is not None:
        _fill(node[head], rest, default)
