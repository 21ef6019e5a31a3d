"""The JSON Schemas in `schemas/`: well-formed, accept GKO's own examples, and reject what they should.

Plain `jsonschema.Draft202012Validator` over documents loaded with ruamel.yaml (safe, pure). GKO templates
(``[[ secret `ns/name` ]]``) stand for values resolved later, so an error is ignored when its validator is
one of type/enum/format/pattern/const and its instance is a string made of exactly one template: the same
rule the reconciler's validator applies.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError

from tests.reference import REFERENCE

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
KINDS = ("ManagementContext", "ApiV4Definition", "ApiDefinition", "Application")

EXAMPLE_ROOTS = ("gko-examples", "gko-context-variants")

TEMPLATE = re.compile(r"^\s*\[\[.*\]\]\s*$")
TEMPLATE_TOLERATED = frozenset({"type", "enum", "format", "pattern", "const"})

# One upstream example repeats a key (`useSystemProxy: false`, same value twice) inside the free-form
# configuration of a page fetcher. YAML 1.2 forbids duplicate keys and ruamel.yaml rejects them. It is a
# defect of the file, not something for the schema to allow: we load that file leniently and every other
# file strictly, so that a new duplicate shows up here.
DUPLICATE_KEY_EXAMPLES = frozenset(
    {"gko-examples/apim/api_definition/v4/api-v4-with-page-swagger-http-fetcher.yml"}
)


@functools.cache
def schema(kind: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))


@functools.cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind))


def is_template_error(error: ValidationError) -> bool:
    return (
        error.validator in TEMPLATE_TOLERATED
        and isinstance(error.instance, str)
        and TEMPLATE.match(error.instance) is not None
    )


def errors(doc: dict[str, Any], tolerate_templates: bool = True, kind: str = "") -> list[ValidationError]:
    found = validator(kind or doc["kind"]).iter_errors(doc)
    return [e for e in found if not (tolerate_templates and is_template_error(e))]


def describe(errs: list[ValidationError]) -> list[tuple[str, str, str]]:
    return [(e.json_path, str(e.validator), e.message[:200]) for e in errs]


# --------------------------------------------------------------------------------------------------
# The schemas themselves
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    s = schema(kind)
    Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["$id"] == f"https://apim-reconciler.dev/schemas/{kind}.json"
    assert s["title"] and s["description"]
    assert s["properties"]["kind"] == {"const": kind}
    assert s["properties"]["apiVersion"]["const"] == "gravitee.io/v1alpha1"
    # every $ref resolves inside the file: the schemas are self-contained for editors
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(s))
    assert refs and set(refs) <= set(s["$defs"])


# --------------------------------------------------------------------------------------------------
# GKO's examples
# --------------------------------------------------------------------------------------------------


def load_documents(path: Path) -> list[dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = path.relative_to(REFERENCE).as_posix() in DUPLICATE_KEY_EXAMPLES
    return [d for d in yaml.load_all(path.read_text(encoding="utf-8")) if d and d.get("kind") in KINDS]


def example_files() -> list[Path]:
    """YAML files holding at least one document of our kinds (the others hold only Secrets/ConfigMaps)."""
    files = []
    for root in EXAMPLE_ROOTS:
        files += sorted(p for p in (REFERENCE / root).rglob("*") if p.suffix in (".yml", ".yaml"))
    return [p for p in files if load_documents(p)]


needs_reference = pytest.mark.skipif(
    not (REFERENCE / "gko-examples").is_dir(), reason=f"GKO reference examples not found in {REFERENCE}"
)
EXAMPLES = example_files() if (REFERENCE / "gko-examples").is_dir() else []


@needs_reference
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.relative_to(REFERENCE).as_posix())
def test_gko_example_validates(path: Path) -> None:
    for doc in load_documents(path):
        assert describe(errors(doc)) == [], f"{doc['kind']} {doc['metadata']['name']}"


@needs_reference
def test_examples_cover_every_kind() -> None:
    counts = Counter(doc["kind"] for path in EXAMPLES for doc in load_documents(path))
    assert counts == {"ApiV4Definition": 42, "ApiDefinition": 38, "ManagementContext": 12, "Application": 11}


@needs_reference
def test_template_tolerance_is_what_makes_the_templated_examples_pass() -> None:
    """Only two example values need the rule: a templated plan security type, v2 and v4."""
    tolerated = []
    for path in EXAMPLES:
        for doc in load_documents(path):
            tolerated += [
                (doc["kind"], e.json_path, e.validator) for e in errors(doc, tolerate_templates=False)
            ]
    assert sorted(tolerated) == [
        ("ApiDefinition", "$.spec.plans[0].security", "enum"),
        ("ApiV4Definition", "$.spec.plans.KeyLess.security.type", "enum"),
    ]


@needs_reference
def test_duplicate_key_example_is_still_duplicated() -> None:
    """If upstream fixes the file, drop it from DUPLICATE_KEY_EXAMPLES."""
    yaml = YAML(typ="safe", pure=True)
    for name in DUPLICATE_KEY_EXAMPLES:
        with pytest.raises(DuplicateKeyError):
            list(yaml.load_all((REFERENCE / name).read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------------
# Focused rules: a valid document per kind, one change, one expected error
# --------------------------------------------------------------------------------------------------

BASE: dict[str, dict[str, Any]] = {
    "ManagementContext": {
        "apiVersion": "gravitee.io/v1alpha1",
        "kind": "ManagementContext",
        "metadata": {"name": "dev-ctx", "namespace": "apim", "labels": {"team": "core"}},
        "spec": {
            "baseUrl": "http://localhost:8083",
            "organizationId": "DEFAULT",
            "environmentId": "DEFAULT",
            "auth": {"secretRef": {"name": "apim-credentials"}},
        },
    },
    "Application": {
        "apiVersion": "gravitee.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "my-app"},
        "spec": {
            "contextRef": {"name": "dev-ctx"},
            "name": "My app",
            "description": "An application",
            "members": [{"source": "gravitee", "sourceId": "jane@example.com", "role": "OWNER"}],
            "metadata": [{"name": "owner", "format": "MAIL", "value": "jane@example.com"}],
            "settings": {
                "app": {"type": "WEB", "clientId": "my-client"},
                "tls": {
                    "clientCertificates": [{"name": "c1", "ref": {"name": "client-cert", "kind": "secrets"}}]
                },
            },
        },
    },
    "ApiV4Definition": {
        "apiVersion": "gravitee.io/v1alpha1",
        "kind": "ApiV4Definition",
        "metadata": {"name": "my-api", "namespace": "apis", "annotations": {"example.com/owner": "core"}},
        "spec": {
            "contextRef": {"name": "dev-ctx", "namespace": "apim"},
            "name": "My API",
            "version": "1.0",
            "type": "PROXY",
            "state": "STARTED",
            "lifecycleState": "PUBLISHED",
            "visibility": "PUBLIC",
            "listeners": [
                {
                    "type": "HTTP",
                    "paths": [{"path": "/my-api"}],
                    "entrypoints": [{"type": "http-proxy", "qos": "AUTO"}],
                }
            ],
            "endpointGroups": [
                {
                    "name": "default",
                    "type": "http-proxy",
                    "loadBalancer": {"type": "ROUND_ROBIN"},
                    "endpoints": [
                        {
                            "name": "default",
                            "type": "http-proxy",
                            "inheritConfiguration": False,
                            "configuration": {"target": "https://api.example.com"},
                        }
                    ],
                }
            ],
            "flowExecution": {"mode": "DEFAULT", "matchRequired": False},
            "flows": [
                {
                    "name": "all",
                    "enabled": True,
                    "selectors": [
                        {"type": "HTTP", "path": "/", "pathOperator": "STARTS_WITH", "methods": ["GET"]}
                    ],
                    "request": [
                        {
                            "name": "limit",
                            "enabled": True,
                            "policy": "rate-limit",
                            "configuration": {"rate": {"limit": 10}},
                        }
                    ],
                }
            ],
            "plans": {"free": {"name": "Free", "security": {"type": "KEY_LESS"}, "status": "PUBLISHED"}},
            "pages": {"readme": {"name": "README", "type": "MARKDOWN", "content": "# Hello"}},
            "metadata": [{"key": "team", "name": "team", "format": "STRING", "value": "core"}],
            "properties": [{"key": "backend", "value": "https://api.example.com"}],
            "resources": [{"name": "cache", "type": "cache", "configuration": {"timeToLiveSeconds": 60}}],
            "members": [{"source": "gravitee", "sourceId": "jane@example.com"}],
        },
    },
    "ApiDefinition": {
        "apiVersion": "gravitee.io/v1alpha1",
        "kind": "ApiDefinition",
        "metadata": {"name": "my-v2-api"},
        "spec": {
            "contextRef": {"name": "dev-ctx"},
            "name": "My v2 API",
            "version": "1.0",
            "description": "A v2 API",
            "state": "STARTED",
            "lifecycle_state": "CREATED",
            "flow_mode": "DEFAULT",
            "plans": [{"name": "free", "description": "Free", "security": "KEY_LESS"}],
            "flows": [
                {
                    "path-operator": {"path": "/", "operator": "STARTS_WITH"},
                    "methods": ["GET"],
                    "pre": [
                        {"name": "limit", "policy": "rate-limit", "configuration": {"rate": {"limit": 10}}}
                    ],
                }
            ],
            "proxy": {
                "virtual_hosts": [{"path": "/my-v2-api"}],
                "groups": [
                    {
                        "name": "default",
                        "endpoints": [{"name": "default", "target": "https://api.example.com"}],
                        "load_balancing": {"type": "ROUND_ROBIN"},
                    }
                ],
                "logging": {"mode": "CLIENT_PROXY", "content": "HEADERS", "scope": "REQUEST"},
            },
        },
    },
}

DELETE = object()


def changed(kind: str, path: str, value: Any) -> dict[str, Any]:
    """A copy of BASE[kind] with the value at a dotted path (digits index lists) replaced or deleted."""
    doc = copy.deepcopy(BASE[kind])
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = doc
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize("kind", KINDS)
def test_base_document_is_valid(kind: str) -> None:
    assert describe(errors(BASE[kind], tolerate_templates=False)) == []


# (kind, dotted path to change, new value or DELETE, expected error's json_path, expected validator)
INVALID = [
    # Every kind: the Kubernetes envelope
    ("ManagementContext", "apiVersion", "gravitee.io/v1beta1", "$.apiVersion", "const"),
    ("Application", "kind", "ApiV4Definition", "$.kind", "const"),
    ("ApiV4Definition", "metadata.name", DELETE, "$.metadata", "required"),
    ("ApiV4Definition", "metadata.name", "My_API", "$.metadata.name", "pattern"),
    ("ApiDefinition", "metadata.name", "a" * 254, "$.metadata.name", "maxLength"),
    ("ManagementContext", "metadata.namespace", "apim.prod", "$.metadata.namespace", "pattern"),
    ("ManagementContext", "metadata.labels", {"team": True}, "$.metadata.labels.team", "type"),
    ("ApiV4Definition", "metadata.annotations", {"bad key!": "x"}, "$.metadata.annotations", "pattern"),
    ("Application", "spec", DELETE, "$", "required"),
    ("ApiDefinition", "specs", {}, "$", "additionalProperties"),
    # ManagementContext
    ("ManagementContext", "spec.baseUrl", DELETE, "$.spec", "required"),
    ("ManagementContext", "spec.baseUrl", "localhost:8083", "$.spec.baseUrl", "pattern"),
    ("ManagementContext", "spec.baseURL", "http://localhost:8083", "$.spec", "additionalProperties"),
    ("ManagementContext", "spec.auth.secretRef", {"namespace": "apim"}, "$.spec.auth.secretRef", "required"),
    (
        "ManagementContext",
        "spec.auth",
        {"credentials": {"username": "admin"}},
        "$.spec.auth.credentials",
        "required",
    ),
    ("ManagementContext", "spec.auth", {}, "$.spec.auth", "minProperties"),
    ("ManagementContext", "spec.auth", {"bearerToken": 42}, "$.spec.auth.bearerToken", "type"),
    ("ManagementContext", "spec.cloud", {}, "$.spec.cloud", "minProperties"),
    # Application
    ("Application", "spec.contextRef", DELETE, "$.spec", "required"),
    ("Application", "spec.contextRef", "dev-ctx", "$.spec.contextRef", "type"),
    ("Application", "spec.contextRef", {"namespace": "apim"}, "$.spec.contextRef", "required"),
    ("Application", "spec.contextRef.nmae", "dev-ctx", "$.spec.contextRef", "additionalProperties"),
    ("Application", "spec.description", DELETE, "$.spec", "required"),
    ("Application", "spec.settings", DELETE, "$.spec", "required"),
    ("Application", "spec.settings.app.type", DELETE, "$.spec.settings.app", "required"),
    (
        "Application",
        "spec.settings.oauth",
        {"applicationType": "WEB", "grantTypes": ["authorization_code"]},
        "$.spec.settings",
        "not",
    ),
    (
        "Application",
        "spec.settings.tls.clientCertificates.0",
        {"name": "c"},
        "$.spec.settings.tls.clientCertificates[0]",
        "anyOf",
    ),
    (
        "Application",
        "spec.settings.tls.clientCertificates.0.ref.kind",
        "secret",
        "$.spec.settings.tls.clientCertificates[0].ref.kind",
        "enum",
    ),
    ("Application", "spec.metadata.0.format", "EMAIL", "$.spec.metadata[0].format", "enum"),
    ("Application", "spec.members.0.sourceId", DELETE, "$.spec.members[0]", "required"),
    ("Application", "spec.notifyMembers", "yes", "$.spec.notifyMembers", "type"),
    ("Application", "spec.status", "ACTIVE", "$.spec", "additionalProperties"),
    # ApiV4Definition: required fields and enums
    ("ApiV4Definition", "spec.name", DELETE, "$.spec", "required"),
    ("ApiV4Definition", "spec.endpointGroups", [], "$.spec.endpointGroups", "minItems"),
    ("ApiV4Definition", "spec.type", "HTTP_PROXY", "$.spec.type", "enum"),
    ("ApiV4Definition", "spec.state", "RUNNING", "$.spec.state", "enum"),
    ("ApiV4Definition", "spec.lifecycleState", "CREATED", "$.spec.lifecycleState", "enum"),
    ("ApiV4Definition", "spec.visibility", "INTERNAL", "$.spec.visibility", "enum"),
    ("ApiV4Definition", "spec.definitionVersion", "V2", "$.spec.definitionVersion", "enum"),
    ("ApiV4Definition", "spec.hrid", "my api", "$.spec.hrid", "pattern"),
    ("ApiV4Definition", "spec.listners", [], "$.spec", "additionalProperties"),
    ("ApiV4Definition", "spec.contextRef", {"namespace": "apim"}, "$.spec.contextRef", "required"),
    # listeners and entrypoints
    ("ApiV4Definition", "spec.listeners", [], "$.spec.listeners", "minItems"),
    ("ApiV4Definition", "spec.listeners.0.type", "HTTPS", "$.spec.listeners[0].type", "enum"),
    ("ApiV4Definition", "spec.listeners.0.type", DELETE, "$.spec.listeners[0]", "required"),
    ("ApiV4Definition", "spec.listeners.0.paths", DELETE, "$.spec.listeners[0]", "required"),
    ("ApiV4Definition", "spec.listeners.0.paths", [], "$.spec.listeners[0].paths", "minItems"),
    (
        "ApiV4Definition",
        "spec.listeners.0.paths.0",
        {"host": "api.example.com"},
        "$.spec.listeners[0].paths[0]",
        "required",
    ),
    (
        "ApiV4Definition",
        "spec.listeners.0",
        {"type": "TCP", "entrypoints": [{"type": "tcp-proxy"}]},
        "$.spec.listeners[0]",
        "required",
    ),
    (
        "ApiV4Definition",
        "spec.listeners.0",
        {"type": "KAFKA", "port": 9092},
        "$.spec.listeners[0]",
        "required",
    ),
    (
        "ApiV4Definition",
        "spec.listeners.0.entrypoints.0.qos",
        "EXACTLY_ONCE",
        "$.spec.listeners[0].entrypoints[0].qos",
        "enum",
    ),
    (
        "ApiV4Definition",
        "spec.listeners.0.entrypoints.0.type",
        DELETE,
        "$.spec.listeners[0].entrypoints[0]",
        "required",
    ),
    # endpoint groups
    ("ApiV4Definition", "spec.endpointGroups.0.type", DELETE, "$.spec.endpointGroups[0]", "required"),
    (
        "ApiV4Definition",
        "spec.endpointGroups.0.loadbalancer",
        {},
        "$.spec.endpointGroups[0]",
        "additionalProperties",
    ),
    (
        "ApiV4Definition",
        "spec.endpointGroups.0.loadBalancer.type",
        "LEAST_CONN",
        "$.spec.endpointGroups[0].loadBalancer.type",
        "enum",
    ),
    (
        "ApiV4Definition",
        "spec.endpointGroups.0.endpoints.0.inheritConfiguration",
        DELETE,
        "$.spec.endpointGroups[0].endpoints[0]",
        "required",
    ),
    # plans and plan security
    ("ApiV4Definition", "spec.plans.free.security.type", "BASIC", "$.spec.plans.free.security.type", "enum"),
    ("ApiV4Definition", "spec.plans.free.security", {}, "$.spec.plans.free.security", "required"),
    ("ApiV4Definition", "spec.plans.free.status", "CLOSED", "$.spec.plans.free.status", "enum"),
    ("ApiV4Definition", "spec.plans.free.validation", "AUTOMATIC", "$.spec.plans.free.validation", "enum"),
    ("ApiV4Definition", "spec.plans.free.mode", "PULL", "$.spec.plans.free.mode", "enum"),
    ("ApiV4Definition", "spec.plans.free.type", "PRODUCT", "$.spec.plans.free.type", "enum"),
    ("ApiV4Definition", "spec.plans.free.name", DELETE, "$.spec.plans.free", "required"),
    (
        "ApiV4Definition",
        "spec.plans.free.securty",
        {"type": "KEY_LESS"},
        "$.spec.plans.free",
        "additionalProperties",
    ),
    # flows, steps, selectors
    ("ApiV4Definition", "spec.flowExecution.mode", "FIRST_MATCH", "$.spec.flowExecution.mode", "enum"),
    ("ApiV4Definition", "spec.flowExecution.matchRequired", DELETE, "$.spec.flowExecution", "required"),
    ("ApiV4Definition", "spec.flows.0.enabled", "yes", "$.spec.flows[0].enabled", "type"),
    ("ApiV4Definition", "spec.flows.0.request.0.enabled", "no", "$.spec.flows[0].request[0].enabled", "type"),
    ("ApiV4Definition", "spec.flows.0.request.0.policy", DELETE, "$.spec.flows[0].request[0]", "anyOf"),
    (
        "ApiV4Definition",
        "spec.flows.0.request.0.polcy",
        "x",
        "$.spec.flows[0].request[0]",
        "additionalProperties",
    ),
    ("ApiV4Definition", "spec.flows.0.selectors.0.type", "PATH", "$.spec.flows[0].selectors[0].type", "enum"),
    (
        "ApiV4Definition",
        "spec.flows.0.selectors.0.methods",
        ["FETCH"],
        "$.spec.flows[0].selectors[0].methods[0]",
        "enum",
    ),
    (
        "ApiV4Definition",
        "spec.flows.0.selectors.0.pathOperator",
        "LIKE",
        "$.spec.flows[0].selectors[0].pathOperator",
        "enum",
    ),
    # pages, metadata, members, properties, resources, failover
    ("ApiV4Definition", "spec.pages.readme.type", "HTML", "$.spec.pages.readme.type", "enum"),
    ("ApiV4Definition", "spec.pages.readme.visibility", "INTERNAL", "$.spec.pages.readme.visibility", "enum"),
    ("ApiV4Definition", "spec.pages.readme.name", DELETE, "$.spec.pages.readme", "required"),
    ("ApiV4Definition", "spec.metadata.0.format", "TEXT", "$.spec.metadata[0].format", "enum"),
    ("ApiV4Definition", "spec.metadata.0.key", DELETE, "$.spec.metadata[0]", "required"),
    ("ApiV4Definition", "spec.members.0.source", DELETE, "$.spec.members[0]", "required"),
    ("ApiV4Definition", "spec.properties.0.key", DELETE, "$.spec.properties[0]", "required"),
    ("ApiV4Definition", "spec.resources.0.enabled", "true", "$.spec.resources[0].enabled", "type"),
    (
        "ApiV4Definition",
        "spec.resources.0.ref",
        {"kind": "ApiResource"},
        "$.spec.resources[0].ref",
        "required",
    ),
    ("ApiV4Definition", "spec.failover", {"maxRetries": "2"}, "$.spec.failover.maxRetries", "type"),
    (
        "ApiV4Definition",
        "spec.analytics",
        {"sampling": {"type": "RANDOM", "value": "1"}},
        "$.spec.analytics.sampling.type",
        "enum",
    ),
    # ApiDefinition (v2)
    ("ApiDefinition", "spec.description", DELETE, "$.spec", "required"),
    ("ApiDefinition", "spec.state", "PAUSED", "$.spec.state", "enum"),
    ("ApiDefinition", "spec.lifecycle_state", "ACTIVE", "$.spec.lifecycle_state", "enum"),
    ("ApiDefinition", "spec.visibility", "public", "$.spec.visibility", "enum"),
    ("ApiDefinition", "spec.flow_mode", "BEST", "$.spec.flow_mode", "enum"),
    ("ApiDefinition", "spec.execution_mode", "v5", "$.spec.execution_mode", "enum"),
    ("ApiDefinition", "spec.plan", [], "$.spec", "additionalProperties"),
    ("ApiDefinition", "spec.plans.0.security", "BASIC", "$.spec.plans[0].security", "enum"),
    ("ApiDefinition", "spec.plans.0.security", DELETE, "$.spec.plans[0]", "required"),
    ("ApiDefinition", "spec.flows.0.methods", ["FETCH"], "$.spec.flows[0].methods[0]", "enum"),
    (
        "ApiDefinition",
        "spec.flows.0.path-operator.operator",
        "LIKE",
        "$.spec.flows[0]['path-operator'].operator",
        "enum",
    ),
    ("ApiDefinition", "spec.flows.0.pre.0.policy", DELETE, "$.spec.flows[0].pre[0]", "required"),
    (
        "ApiDefinition",
        "spec.proxy.virtual_hosts.0",
        {"host": "api.example.com"},
        "$.spec.proxy.virtual_hosts[0]",
        "required",
    ),
    (
        "ApiDefinition",
        "spec.proxy.groups.0.endpoints.0.target",
        DELETE,
        "$.spec.proxy.groups[0].endpoints[0]",
        "required",
    ),
    ("ApiDefinition", "spec.proxy.logging.mode", "ALL", "$.spec.proxy.logging.mode", "enum"),
    ("ApiDefinition", "spec.proxy.virtualHosts", [], "$.spec.proxy", "additionalProperties"),
    ("ApiDefinition", "spec.local", "true", "$.spec.local", "type"),
]


@pytest.mark.parametrize(
    ("kind", "path", "value", "error_path", "error_validator"),
    INVALID,
    ids=[f"{c[0]}:{c[1]}={'<del>' if c[2] is DELETE else c[2]!r}"[:80] for c in INVALID],
)
def test_rule(kind: str, path: str, value: Any, error_path: str, error_validator: str) -> None:
    found = describe(errors(changed(kind, path, value), kind=kind))
    assert [(p, v) for p, v, _ in found] == [(error_path, error_validator)], found


# Looser on purpose: these must stay valid
VALID = [
    # CRD defaults are applied before validation by Kubernetes: required-with-default is optional here
    ("ApiV4Definition", "spec.flows.0.enabled", DELETE),
    ("ApiV4Definition", "spec.flows.0.request.0.enabled", DELETE),
    ("ApiV4Definition", "spec.endpointGroups.0.loadBalancer", {}),
    ("ApiV4Definition", "spec.endpointGroups.0.http", {"connectTimeout": 3000}),
    ("ApiV4Definition", "spec.endpointGroups.0.ssl", {"keyStore": {"type": "PEM"}}),
    ("ApiV4Definition", "spec.analytics", {"tracing": {"enabled": True}}),
    # free-form plugin configuration (x-kubernetes-preserve-unknown-fields)
    ("ApiV4Definition", "spec.endpointGroups.0.endpoints.0.configuration", {"anything": {"goes": [1, 2]}}),
    ("ApiV4Definition", "spec.endpointGroups.0.sharedConfiguration", {"http": {"version": "HTTP_2"}}),
    ("ApiV4Definition", "spec.plans.free.security.configuration", {"propagateApiKey": True}),
    # listeners are free-form in the CRD too: unknown listener fields are kept
    ("ApiV4Definition", "spec.listeners.0.futureField", True),
    ("ApiV4Definition", "spec.listeners.0", {"type": "SUBSCRIPTION", "entrypoints": [{"type": "webhook"}]}),
    ("ApiV4Definition", "spec.flowExecution.mode", "best-match"),
    # a shared policy group step has no policy
    ("ApiV4Definition", "spec.flows.0.request.0", {"sharedPolicyGroupRef": {"name": "common"}}),
    # contextRef is optional for APIs (local APIs), as in the CRD
    ("ApiV4Definition", "spec.contextRef", DELETE),
    ("ApiDefinition", "spec.contextRef", DELETE),
    # templates stand for any value
    ("ApiV4Definition", "spec.plans.free.security.type", "[[ secret `api-secrets/security` ]]"),
    ("ApiV4Definition", "spec.flowExecution.matchRequired", "[[ configmap `api-config/match` ]]"),
    ("ApiDefinition", "spec.plans.0.security", '[[ secret "api-secrets/security" ]]'),
    # ManagementContext: Gravitee Cloud needs no baseUrl
    ("ManagementContext", "spec", {"cloud": {"secretRef": {"name": "cloud-token"}}}),
    ("ManagementContext", "spec", {"baseUrl": "https://apim.example.com", "auth": {"bearerToken": "abc"}}),
    ("ManagementContext", "metadata.uid", "0f1e2d3c"),
    # Application settings: `app` may be omitted (APIM falls back to a simple application)
    ("Application", "spec.settings.app", DELETE),
    ("ManagementContext", "status", {"conditions": []}),
]


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    VALID,
    ids=[f"{c[0]}:{c[1]}={'<del>' if c[2] is DELETE else c[2]!r}"[:80] for c in VALID],
)
def test_still_valid(kind: str, path: str, value: Any) -> None:
    assert describe(errors(changed(kind, path, value), kind=kind)) == []


@pytest.mark.parametrize(
    "value",
    ["[[ secret `s/k` ]] ", "prefix [[ secret `s/k` ]]", "[[ secret `s/k` ]] suffix"],
)
def test_only_whole_templates_are_tolerated(value: str) -> None:
    found = describe(errors(changed("ApiV4Definition", "spec.plans.free.security.type", value)))
    expected = [] if value.strip().startswith("[[") and value.strip().endswith("]]") else ["enum"]
    assert [v for _, v, _ in found] == expected


def test_template_does_not_excuse_a_missing_field() -> None:
    doc = changed("ApiV4Definition", "spec.plans.free.security", {"configuration": "[[ secret `s/k` ]]"})
    assert [(p, v) for p, v, _ in describe(errors(doc))] == [("$.spec.plans.free.security", "required")]
