"""Mapping units on plain data: APIM's model -> manifests, names, secrets, what is skipped."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import kinds
from reconciler.export.build import build_manifests, context_manifest
from reconciler.export.mapping import Manifest, manifest_name, manifest_of, unique_names
from reconciler.export.reader import EnvironmentContents, RemoteObject
from reconciler.export.secrets import extract_secrets, looks_secret
from reconciler.export.writer import render_yaml
from reconciler.kinds.exports import ContextRef, ExportTarget, slug
from reconciler.manifests.model import Position, Positions, Resource, ResourceId
from reconciler.plan import ids
from reconciler.plan.ownership import OWNERSHIP_KEY

CTX = ContextRef("default", "apim")


def api_v4_manifest(state: dict[str, Any], namespace: str, name: str, context: ContextRef) -> Manifest:
    return manifest_of(kinds.kind("ApiV4Definition"), state, ExportTarget(namespace, name, context))


def api_v2_manifest(
    state: dict[str, Any], namespace: str, name: str, context: ContextRef, environment_id: str
) -> Manifest:
    target = ExportTarget(namespace, name, context, environment_id)
    return manifest_of(kinds.kind("ApiDefinition"), state, target)


def application_manifest(state: dict[str, Any], namespace: str, name: str, context: ContextRef) -> Manifest:
    return manifest_of(kinds.kind("Application"), state, ExportTarget(namespace, name, context))


def api_state(**overrides: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": "0b1c6f61-aaaa-3bbb-8ccc-000000000001",
        "crossId": "0b1c6f61-aaaa-3bbb-8ccc-000000000002",
        "hrid": "default-orders",
        "organizationId": "DEFAULT",
        "environmentId": "DEFAULT",
        "primaryOwner": {"id": "u1", "type": "USER", "displayName": "admin"},
        "definitionContext": {"origin": "MANAGEMENT", "syncFrom": "MANAGEMENT"},
        "name": "Orders",
        "version": "1.0",
        "type": "PROXY",
        "state": "STARTED",
        "listeners": [
            {"type": "HTTP", "paths": [{"path": "/orders"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": [
            {
                "name": "default",
                "type": "http-proxy",
                "endpoints": [{"name": "e1", "type": "http-proxy", "configuration": {"target": "https://o"}}],
            }
        ],
        "plans": [
            {
                "id": "p1",
                "crossId": "pc1",
                "hrid": "keyless",
                "name": "Free",
                "security": {"type": "KEY_LESS"},
            },
            {
                "id": "p2",
                "hrid": "gold",
                "name": "Gold",
                "security": {"type": "API_KEY"},
                "status": "DEPRECATED",
            },
        ],
        "pages": [
            {"id": "pg1", "hrid": "docs", "name": "Docs", "type": "FOLDER"},
            {"id": "pg2", "hrid": "readme", "name": "Readme", "type": "MARKDOWN", "parentHrid": "docs"},
        ],
        "metadata": [
            {"key": "team", "name": "team", "format": "STRING", "value": "payments"},
            {"key": OWNERSHIP_KEY, "name": OWNERSHIP_KEY, "format": "STRING", "value": "{}"},
            {"name": "Support Mail", "format": "MAIL", "value": "a@b.c"},
        ],
    }
    state.update(overrides)
    return state


def test_api_strips_what_apim_assigns_and_keys_plans_and_pages_by_hrid() -> None:
    manifest = api_v4_manifest(api_state(), "default", "orders", CTX)
    doc = manifest.document
    assert doc["apiVersion"] == "gravitee.io/v1alpha1" and doc["kind"] == "ApiV4Definition"
    assert doc["metadata"] == {"name": "orders", "namespace": "default"}
    spec = doc["spec"]
    assert list(spec)[:3] == ["contextRef", "name", "version"]  # stable, readable order
    assert spec["contextRef"] == {"name": "apim"}
    for assigned in ("id", "crossId", "hrid", "organizationId", "environmentId", "primaryOwner"):
        assert assigned not in spec
    assert "definitionContext" not in spec
    assert spec["plans"] == {
        "keyless": {"name": "Free", "security": {"type": "KEY_LESS"}},
        "gold": {"name": "Gold", "security": {"type": "API_KEY"}, "status": "DEPRECATED"},
    }
    assert spec["pages"]["readme"] == {"name": "Readme", "type": "MARKDOWN", "parentHrid": "docs"}
    assert [m["key"] for m in spec["metadata"]] == ["team", "support-mail"]  # ours gone, key derived
    assert manifest.secrets == () and manifest.notes == ()


def test_hrid_is_written_only_when_the_identity_would_not_give_it_back() -> None:
    same = api_v4_manifest(api_state(), "default", "orders", CTX)
    assert "hrid" not in same.document["spec"]
    other = api_v4_manifest(api_state(hrid="billing-orders"), "default", "orders", CTX)
    assert other.document["spec"]["hrid"] == "billing-orders"
    elsewhere = api_v4_manifest(api_state(), "team-a", "orders", CTX)
    assert elsewhere.document["spec"]["contextRef"] == {"name": "apim", "namespace": "default"}


def test_unknown_fields_are_reported_not_written() -> None:
    manifest = api_v4_manifest(api_state(somethingNew={"a": 1}), "default", "orders", CTX)
    assert "somethingNew" not in manifest.document["spec"]
    assert manifest.notes == ("somethingNew not exported (not in the manifest schema)",)


def test_application_follows_the_crd() -> None:
    state = {
        "id": "a1",
        "hrid": "default-mobile",
        "organizationId": "DEFAULT",
        "environmentId": "DEFAULT",
        "status": "ACTIVE",
        "name": "Mobile",
        "settings": {
            "oauth": {"applicationType": "browser", "grantTypes": ["implicit"], "clientSecret": "x"}
        },
        "metadata": [{"key": "tier", "name": "tier", "format": "STRING", "value": "gold"}],
    }
    manifest = application_manifest(state, "default", "mobile", CTX)
    spec = manifest.document["spec"]
    assert spec["description"] == ""  # required by the CRD
    assert spec["settings"] == {"oauth": {"applicationType": "BROWSER", "grantTypes": ["implicit"]}}
    assert spec["metadata"] == [{"name": "tier", "format": "STRING", "value": "gold"}]
    assert "status" not in spec and "id" not in spec
    assert manifest.notes == ("settings.oauth: clientSecret not exported (not in the CRD)",)


@pytest.mark.parametrize(
    ("hrid", "name", "expected"),
    [
        ("default-orders", "Whatever", "orders"),
        ("team-orders", "Orders API v2", "orders-api-v2"),
        (None, "  Ünïcode & Co.  ", "n-code-co"),
        ("default-Not_A_Name", "Legacy Thing", "legacy-thing"),
        (None, "!!!", "unnamed"),
    ],
)
def test_names(hrid: str | None, name: str, expected: str) -> None:
    assert manifest_name(hrid, name, "default") == expected


def test_slug_is_a_dns_label_and_names_are_unique() -> None:
    assert len(slug("x" * 100)) == 63
    assert unique_names([("a", False), ("a", True), ("a", False)]) == ["a-2", "a", "a-3"]


@pytest.mark.parametrize(
    "key",
    ["password", "clientSecret", "keyStorePassword", "x-api-key", "accessToken", "Authorization", "pwd"],
)
def test_secret_looking_keys(key: str) -> None:
    assert looks_secret(key)


@pytest.mark.parametrize("key", ["target", "tokenEndpoint", "secretRef", "name", "keyStoreType", "tokenType"])
def test_keys_that_are_not_secrets(key: str) -> None:
    assert not looks_secret(key)


def test_secrets_become_templates_with_readable_unique_keys() -> None:
    spec = {
        "endpointGroups": [
            {
                "name": "default",
                "endpoints": [
                    {
                        "name": "primary",
                        "configuration": {
                            "target": "https://x",
                            "ssl": {"keyStore": {"type": "PKCS12", "password": "CANARY-1"}},
                            "headers": [
                                {"name": "X-Api-Key", "value": "CANARY-2"},
                                {"name": "Accept", "value": "*/*"},
                            ],
                        },
                    }
                ],
            }
        ],
        "properties": [{"key": "db", "value": "CANARY-3", "encrypted": True}, {"key": "url", "value": "u"}],
        "resources": [{"name": "idp", "configuration": {"clientSecret": "{#properties['s']}", "token": ""}}],
        "flows": [{"request": [{"configuration": {"password": "[[ secret `a/b` ]]"}}]}],
    }
    out, refs = extract_secrets(spec, "default", "orders-secrets")
    assert "CANARY" not in repr(out)
    assert [(r.key, r.path) for r in refs] == [
        (
            "endpointGroups.default.endpoints.primary.ssl.keyStore.password",
            "endpointGroups.default.endpoints.primary.configuration.ssl.keyStore.password",
        ),
        (
            "endpointGroups.default.endpoints.primary.headers.X-Api-Key",
            "endpointGroups.default.endpoints.primary.configuration.headers.X-Api-Key.value",
        ),
        ("properties.db", "properties.db.value"),
    ]
    config = out["endpointGroups"][0]["endpoints"][0]["configuration"]
    assert config["headers"][0]["value"] == (
        "[[ secret `orders-secrets/endpointGroups.default.endpoints.primary.headers.X-Api-Key` ]]"
    )
    assert config["headers"][1]["value"] == "*/*"
    assert out["properties"][1]["value"] == "u"
    assert out["resources"][0]["configuration"] == {"clientSecret": "{#properties['s']}", "token": ""}
    assert out["flows"][0]["request"][0]["configuration"]["password"] == "[[ secret `a/b` ]]"
    _, again = extract_secrets({"a": {"password": "1"}, "a.": {"password": "2"}}, "default", "s")
    assert len({r.key for r in again}) == 2


def test_build_selects_and_names_apis_of_both_kinds() -> None:
    contents = EnvironmentContents(
        apis=(
            RemoteObject("1", "Orders", "default-orders", "V4", api_state()),
            RemoteObject("2", "Gone", None, "V2", None),
            RemoteObject("3", "Console", None, "V4", api_state(hrid=None, name="Console")),
            RemoteObject("4", "Theirs", "default-theirs", "V4", api_state(hrid="default-theirs"), "gko-prod"),
            RemoteObject("6", "Orders", None, "V2", v2_state()),  # its slug is taken by the v4 API
            RemoteObject("7", "Renamed in the console", None, "V2", v2_state(), "apim-reconciler", "billing"),
            RemoteObject("8", "Federated", None, "FEDERATED", {}),
        ),
        applications=(RemoteObject("5", "App", None, None, {"id": "5", "name": "App"}),),
    )
    selection = build_manifests(contents, "default", CTX)
    assert [(m.kind, m.name) for m in selection.manifests] == [
        ("ApiV4Definition", "orders"),
        ("ApiV4Definition", "theirs"),
        ("ApiDefinition", "orders-2"),  # v2 and v4 APIs share apis/ and GKO's HRID rule
        ("ApiDefinition", "billing"),  # the manifest its ownership record names
    ]
    assert "another reconciler ('gko-prod')" in selection.manifests[1].notes[0]
    assert selection.manifests[2].notes == ()  # a v2 API has no HRID, and needs none: its crossId is kept
    assert [(s.id, s.reason.split(":")[0]) for s in selection.skipped] == [
        ("2", "APIM's export (mAPI v1 .../crd) does not know it (404)"),
        ("3", "no HRID in APIM"),
        ("8", "FEDERATED API"),
        ("5", "no HRID in APIM"),
    ]
    everything = build_manifests(contents, "default", CTX, include_without_hrid=True)
    assert sorted(m.name for m in everything.manifests) == [
        "app",
        "billing",
        "console",
        "orders",
        "orders-2",
        "theirs",
    ]


def v2_state(**overrides: Any) -> dict[str, Any]:
    """The spec of APIM's ApiDefinition export of a v2 API that GKO created from `default/legacy`."""
    cross = ids.gko_uuid("default/legacy")
    api_id = ids.name_uuid(cross + "DEFAULT")
    plan_cross = ids.gko_uuid(api_id, "/", "Free")
    state: dict[str, Any] = {
        "name": "Legacy",
        "crossId": cross,
        "version": "1",
        "execution_mode": "v4-emulation-engine",
        "description": "The old one",
        "visibility": "PRIVATE",
        "flows": [],
        "gravitee": "2.0.0",
        "flow_mode": "DEFAULT",
        "resources": [],
        "properties": [],
        "members": [],
        "pages": {},
        "plans": [
            {
                "id": ids.gko_uuid(plan_cross, "/", "Free"),
                "crossId": plan_cross,
                "name": "Free",
                "security": "KEY_LESS",
                "status": "PUBLISHED",
                "api": api_id,
                "created_at": 1,
            }
        ],
        "metadata": [
            {
                "key": "email-support",
                "name": "email-support",
                "format": "MAIL",
                "value": "${(api.primaryOwner.email)!''}",
            },
            {"key": "region", "name": "region", "format": "STRING", "defaultValue": "eu"},
            {"key": OWNERSHIP_KEY, "name": OWNERSHIP_KEY, "format": "STRING", "value": "{}"},
            {"key": "team", "name": "team", "format": "STRING", "value": "payments", "apiId": api_id},
        ],
        "id": api_id,
        "proxy": {"virtual_hosts": [{"path": "/legacy/"}]},
        "state": "STARTED",
        "notifyMembers": True,
        "lifecycle_state": "PUBLISHED",
    }
    state.update(overrides)
    return state


def test_v2_ids_are_left_out_where_the_manifest_gives_them_back() -> None:
    spec = api_v2_manifest(v2_state(), "default", "legacy", CTX, "DEFAULT").document["spec"]
    assert list(spec)[:4] == ["contextRef", "name", "version", "description"]
    assert {"crossId", "id", "notifyMembers"}.isdisjoint(spec)
    assert spec["plans"] == [
        {"name": "Free", "security": "KEY_LESS", "status": "PUBLISHED", "description": ""}
    ]
    assert spec["metadata"] == [{"key": "team", "name": "team", "format": "STRING", "value": "payments"}]
    assert spec["lifecycle_state"] == "PUBLISHED"
    assert {"members", "pages", "resources", "properties", "flows"}.isdisjoint(spec)  # empty


def test_v2_ids_that_the_manifest_would_not_give_are_kept() -> None:
    # Another namespace, another environment, or ids of its own: the same object is addressed either way.
    elsewhere = api_v2_manifest(v2_state(), "shop", "legacy", CTX, "DEFAULT").document["spec"]
    assert elsewhere["crossId"] == ids.gko_uuid("default/legacy") and "id" not in elsewhere
    assert elsewhere["contextRef"] == {"name": "apim", "namespace": "default"}
    other_env = api_v2_manifest(v2_state(), "default", "legacy", CTX, "prod").document["spec"]
    assert "crossId" not in other_env and other_env["id"] == ids.name_uuid(
        ids.gko_uuid("default/legacy") + "DEFAULT"
    )
    plan = {"id": "p1", "crossId": "c1", "name": "Gold", "description": "d", "security": "API_KEY"}
    own = api_v2_manifest(v2_state(plans=[plan], notifyMembers=False), "default", "legacy", CTX, "DEFAULT")
    assert own.document["spec"]["plans"] == [plan]
    assert own.document["spec"]["notifyMembers"] is False


def test_v2_fields_the_schema_refuses_are_noted_not_written() -> None:
    plans = [{"name": "Free", "description": "", "security": "KEY_LESS", "flavour": "x"}]
    manifest = api_v2_manifest(
        v2_state(apiMedia=[{"a": 1}], plans=plans), "default", "legacy", CTX, "DEFAULT"
    )
    assert "apiMedia" not in manifest.document["spec"]
    assert "flavour" not in manifest.document["spec"]["plans"][0]
    assert manifest.notes == (
        "plans: flavour not exported (not in the manifest schema)",
        "apiMedia not exported (not in the manifest schema)",
    )


def test_context_credentials_move_to_a_secret_ref() -> None:
    spec = {"baseUrl": "http://x", "auth": {"credentials": {"username": "admin", "password": "CANARY-4"}}}
    context = Resource(
        ResourceId("ManagementContext", "default", "dev"),
        spec,
        {"name": "dev"},
        Positions({}, Position("f", 1)),
    )
    manifest = context_manifest(context)
    assert manifest.document["spec"]["auth"] == {"secretRef": {"name": "dev-credentials"}}
    assert [(s.name, s.key) for s in manifest.secrets] == [
        ("dev-credentials", "username"),
        ("dev-credentials", "password"),
    ]
    assert "CANARY" not in render_yaml(manifest.document)


def test_yaml_is_block_style_with_literal_multiline_strings() -> None:
    text = render_yaml({"spec": {"content": "# Title\n\nbody\n", "version": "1.0", "list": [{"a": 1}]}})
    assert text == "spec:\n  content: |\n    # Title\n\n    body\n  version: '1.0'\n  list:\n    - a: 1\n"


def test_yaml_quotes_what_yaml_1_1_readers_would_not_read_as_strings() -> None:
    text = render_yaml({"a": "yes", "b": "on", "c": "1:20", "d": "yesterday", "e": True})
    assert text == "a: 'yes'\nb: 'on'\nc: '1:20'\nd: yesterday\ne: true\n"
