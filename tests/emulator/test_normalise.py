"""What the Automation API answers to a PUT (the echo) and what a GET exports (what the import stored):
reconciler/emulator/normalise.py."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from reconciler.emulator import RunningEmulator
from tests.emulator.support import APP_SPEC, AUTO, AUTOMATION, V2, SpecBook, api_body
from tests.reference import GKO_EXAMPLES

V4_EXAMPLES = sorted((GKO_EXAMPLES / "apim" / "api_definition" / "v4").glob("*.yml"))


def test_put_echoes_the_request_with_generated_model_defaults(
    client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    echo = client.put(f"{AUTO}/apis", json=api_spec).json()
    assert echo["listeners"][0]["paths"] == [
        {"path": "/my-api", "overrideAccess": False}
    ]  # as sent + default
    assert echo["endpointGroups"][0]["endpoints"][0]["tenants"] == []
    assert "loadBalancer" not in echo["endpointGroups"][0]  # no default at that level
    assert "analytics" not in echo and echo["tags"] == [] and echo["pages"] == []
    assert "id" not in echo["plans"][0]  # CrdIdHelper writes plan ids into the CRD, not the spec
    assert echo["plans"][0]["characteristics"] == [] and echo["description"] == api_spec["description"]


def test_get_exports_what_the_server_stored(
    client: httpx.Client, specs: SpecBook, api_spec: dict[str, Any]
) -> None:
    api_spec["description"] = 'An <b>important</b> API<script>alert("x")</script> &amp; more'
    api_spec["definitionContext"] = {"origin": "KUBERNETES", "syncFrom": "KUBERNETES"}  # not read
    api_spec["primaryOwner"] = {"id": "someone-else", "type": "USER"}  # not read
    api_spec["plans"][0]["generalConditions"] = "a-page-id"  # not a PlanV4 property
    api_spec["listeners"][0]["entrypoints"][0]["configuration"] = {"whatever": 1}  # http-proxy: none allowed
    api_spec["categories"] = ["unknown-category"]
    api_spec["groups"] = ["unknown-group"]
    api_spec["somethingNew"] = {"ignored": True}  # unknown properties are ignored, not refused
    put = client.put(f"{AUTO}/apis", json=api_spec)
    assert put.status_code == 200, put.text
    assert put.json()["errors"]["warning"] == [
        "Group [unknown-group] could not be found in environment [DEFAULT]",
        "category [unknown-category] is not defined in environment [DEFAULT]",
    ]
    state = client.get(f"{AUTO}/apis/{api_spec['hrid']}").json()
    specs.schema(AUTOMATION, "ApiV4State", state)
    assert state["description"] == "An important API & more"
    assert state["listeners"][0]["paths"] == [{"path": "/my-api/", "overrideAccess": False}]
    assert state["listeners"][0]["entrypoints"][0]["configuration"] == {}
    assert state["endpointGroups"][0]["loadBalancer"] == {"type": "ROUND_ROBIN"}
    assert state["analytics"] == {"enabled": True}
    assert state["flowExecution"] == {"mode": "DEFAULT", "matchRequired": False}
    assert state["categories"] == [] and state["groups"] == []
    assert "definitionContext" not in state and "somethingNew" not in state
    assert state["primaryOwner"]["displayName"] == "admin"  # the caller, not the primaryOwner sent
    assert "generalConditions" not in state["plans"][0]
    assert state["metadata"][0] == {
        "key": "email-support",
        "name": "email-support",
        "format": "MAIL",
        "value": "${(api.primaryOwner.email)!''}",
        "defaultValue": "support@change.me",  # the environment's own email-support entry
    }
    api = client.get(f"{V2}/apis/{state['id']}").json()
    assert api["definitionContext"]["syncFrom"] == "MANAGEMENT"  # definitionContext was not read


def test_environment_metadata_categories_and_groups(make_emulator: Any) -> None:
    users = {
        "organizations": [
            {
                "id": "DEFAULT",
                "environments": [
                    {
                        "id": "DEFAULT",
                        "metadata": [
                            {"key": "team", "name": "team", "format": "STRING", "value": "platform"}
                        ],
                        "categories": ["billing"],
                        "groups": ["devs"],
                    }
                ],
            }
        ],
        "users": [{"username": "admin", "password": "admin", "organizations": ["DEFAULT"]}],
    }
    emu = make_emulator(users=users)
    with httpx.Client(base_url=emu.base_url, auth=("admin", "admin")) as client:
        body = api_body("default-env-meta", categories=["billing", "other"], groups=["devs"])
        assert client.put(f"{AUTO}/apis", json=body).json()["errors"]["warning"] == [
            "category [other] is not defined in environment [DEFAULT]"
        ]
        state = client.get(f"{AUTO}/apis/default-env-meta").json()
        assert state["categories"] == ["billing"] and state["groups"] == ["devs"]
        assert {"key": "team", "name": "team", "format": "STRING", "defaultValue": "platform"} in state[
            "metadata"
        ]
        listed = client.post(f"{V2}/apis/_search", params={"expands": "metadata"}, json={}).json()["data"][0]
        assert listed["metadata"]["team"] == "platform"


def test_enums_are_case_insensitive_and_stored_canonical(
    client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    api_spec["type"] = "proxy"
    api_spec["flowExecution"] = {"mode": "default"}
    assert client.put(f"{AUTO}/apis", json=api_spec).status_code == 200
    state = client.get(f"{AUTO}/apis/{api_spec['hrid']}").json()
    assert state["type"] == "PROXY" and state["flowExecution"]["mode"] == "DEFAULT"
    r = client.put(f"{AUTO}/apis", json=api_spec | {"visibility": "SECRET"})
    assert r.json() == {
        "httpStatus": 400,
        "message": "Unexpected value 'SECRET'",
        "technicalCode": "invalidValue",
        "details": [{"message": "Unexpected value 'SECRET'", "location": "visibility"}],
    }


def test_every_put_updates_and_redeploys(
    emulator: RunningEmulator, client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    client.put(f"{AUTO}/apis", json=api_spec)
    first = emulator.dump_state()["apis"][0]
    client.put(f"{AUTO}/apis", json=api_spec)
    second = emulator.dump_state()["apis"][0]
    assert second["updatedAt"] > first["updatedAt"] and second["deployedAt"] == second["updatedAt"]
    assert second["createdAt"] == first["createdAt"]
    # not deployed when nothing is published
    stopped = copy.deepcopy(api_spec)
    stopped["plans"][0]["status"] = "STAGING"
    client.put(f"{AUTO}/apis", json=stopped)
    third = emulator.dump_state()["apis"][0]
    assert third["updatedAt"] > second["updatedAt"] and third["deployedAt"] == second["deployedAt"]


def test_application_export(client: httpx.Client, specs: SpecBook, app_spec: dict[str, Any]) -> None:
    app_spec["metadata"] = [{"name": "Owner Team", "format": "STRING", "value": "core", "hidden": True}]
    echo = client.put(f"{AUTO}/applications", json=app_spec).json()
    assert (
        echo["status"] == "ACTIVE"
        and echo["groups"] == []
        and echo["errors"] == {"severe": [], "warning": []}
    )
    state = client.get(f"{AUTO}/applications/{app_spec['hrid']}").json()
    specs.schema(AUTOMATION, "ApplicationState", state)
    assert state["metadata"] == [
        {"key": "owner-team", "name": "Owner Team", "format": "STRING", "value": "core"}
    ]
    # an empty metadata list leaves the stored metadata alone (createOrUpdateApplicationMetadata)
    client.put(f"{AUTO}/applications", json=app_spec | {"metadata": []})
    assert client.get(f"{AUTO}/applications/{app_spec['hrid']}").json()["metadata"] == state["metadata"]


def test_deleted_application_is_archived_and_a_put_restores_it(client: httpx.Client) -> None:
    client.put(f"{AUTO}/applications", json=APP_SPEC)
    assert client.delete(f"{AUTO}/applications/{APP_SPEC['hrid']}").status_code == 204
    assert client.get(f"{AUTO}/applications/{APP_SPEC['hrid']}").json()["status"] == "ARCHIVED"
    assert (
        client.get("/management/organizations/DEFAULT/environments/DEFAULT/applications/_paged").json()[
            "data"
        ]
        == []
    )
    r = client.put(f"{AUTO}/applications", json=APP_SPEC | {"status": "ARCHIVED"})
    assert r.status_code == 400 and r.json()["technicalCode"] == "application.archived"
    assert client.put(f"{AUTO}/applications", json=APP_SPEC).status_code == 200  # status ACTIVE: restored
    assert client.get(f"{AUTO}/applications/{APP_SPEC['hrid']}").json()["status"] == "ACTIVE"


def _as_automation_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    """A GKO ApiV4Definition as an Automation ApiV4Spec, with the CRD defaults GKO always sends."""
    spec = copy.deepcopy(manifest["spec"])
    spec.pop("contextRef", None)
    spec["hrid"] = f"{manifest['metadata'].get('namespace', 'default')}-{manifest['metadata']['name']}"
    spec.setdefault("state", "STARTED")
    spec.setdefault("lifecycleState", "UNPUBLISHED")
    spec.setdefault("visibility", "PRIVATE")
    for field, defaults in (
        ("plans", {"status": "PUBLISHED", "validation": "AUTO", "type": "API", "mode": "STANDARD"}),
        ("pages", {"visibility": "PUBLIC"}),
    ):
        items = spec.get(field) or {}
        spec[field] = [
            defaults | item | {"hrid": key.replace(" ", "-").replace(".", "-")} for key, item in items.items()
        ]
    return spec


@pytest.mark.skipif(not V4_EXAMPLES, reason="GKO examples not available")
@pytest.mark.parametrize("path", V4_EXAMPLES, ids=lambda p: Path(p).stem)
def test_gko_v4_examples_are_accepted_and_normalised(
    client: httpx.Client, specs: SpecBook, path: Path
) -> None:
    text = path.read_text(encoding="utf-8")
    if "[[" in text or "sharedPolicyGroupRef" in text or "ref:" in text:
        pytest.skip("GKO resolves this example's templates or references before sending it")
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True
    manifest = yaml.load(text)
    spec = _as_automation_spec(manifest)
    r = client.put(f"{AUTO}/apis", json=spec)
    assert r.status_code == 200, r.text
    state = client.get(f"{AUTO}/apis/{spec['hrid']}").json()
    specs.schema(AUTOMATION, "ApiV4State", state)
    for listener in state["listeners"]:
        for p in listener.get("paths", []):
            assert p["path"].endswith("/") and p["overrideAccess"] in (True, False)
    assert all("loadBalancer" in g for g in state["endpointGroups"])
    assert state["metadata"][0]["key"] == "email-support"
