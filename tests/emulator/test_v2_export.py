"""mAPI v1 ``GET .../apis/{api}/crd``: a v2 API as GKO's ApiDefinition, in YAML (ApiResource.exportApiCRD,
ApiExportServiceImpl.exportAsCustomResourceDefinition, ApiDefinitionResource, ApiDefaultSerializer)."""

from __future__ import annotations

from typing import Any

import httpx
from ruamel.yaml import YAML

from reconciler.emulator import RunningEmulator
from tests.emulator.conftest import People
from tests.emulator.support import AUTO, V1, V2
from tests.emulator.test_contract import v2_definition


def _import(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.put(f"{V1}/apis/import-crd", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _export(client: httpx.Client, api_id: str, **params: str) -> Any:
    response = client.get(f"{V1}/apis/{api_id}/crd", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/yaml"
    assert response.text.startswith("---\n")  # Jackson's YAMLFactory writes the document start
    return YAML(typ="safe", pure=True).load(response.text)


def test_a_v2_api_comes_back_as_an_api_definition(client: httpx.Client) -> None:
    body = v2_definition(
        name="Legacy API_v2",
        lifecycle_state="PUBLISHED",
        local=False,
        metadata=[{"key": "team", "name": "team", "format": "STRING", "value": "payments"}],
        proxy={
            "virtual_hosts": [{"path": "/legacy"}],
            "groups": [
                {
                    "name": "g",
                    "headers": [{"name": "X-Env", "value": "prod"}],
                    "endpoints": [{"name": "e", "target": "https://e.example", "status": "UP"}],
                }
            ],
        },
    )
    body["plans"].append({**body["plans"][0], "id": "closed-id", "crossId": "closed", "status": "CLOSED"})
    api_id = _import(client, body)
    doc = _export(client, api_id)
    assert (doc["apiVersion"], doc["kind"]) == ("gravitee.io/v1alpha1", "ApiDefinition")
    assert doc["metadata"] == {"name": "legacy-api-v2", "annotations": {}, "labels": {}}
    spec = doc["spec"]
    assert (spec["id"], spec["crossId"]) == (api_id, "v2-cross")
    # what the serializer never writes, and what ApiDefinitionResource removes
    assert {"definition_context", "lifecycle_state", "local", "primaryOwner"}.isdisjoint(spec)
    assert spec["state"] == "STARTED" and spec["notifyMembers"] is True
    assert (spec["execution_mode"], spec["gravitee"], spec["flow_mode"]) == ("v3", "2.0.0", "DEFAULT")
    assert spec["properties"] == [] and spec["members"] == [] and spec["pages"] == {}
    # plans: all but the CLOSED one, each with the API's id
    assert [(p["name"], p["status"], p["api"]) for p in spec["plans"]] == [("Free", "PUBLISHED", api_id)]
    # metadata: email-support (every v2 API gets it) with the environment's default, then the API's own
    assert [(m["key"], m.get("value")) for m in spec["metadata"]] == [
        ("email-support", "${(api.primaryOwner.email)!''}"),
        ("team", "payments"),
    ]
    group = spec["proxy"]["groups"][0]
    assert group["headers"] == {"X-Env": "prod"}  # a name -> value map
    assert group["endpoints"] == [{"name": "e", "target": "https://e.example"}]  # no status
    assert spec["proxy"]["virtual_hosts"] == [{"path": "/legacy/"}]  # as sanitized by the import
    # the lifecycle state the export leaves out is in mAPI v2's view
    assert client.get(f"{V2}/apis/{api_id}").json()["lifecycleState"] == "PUBLISHED"


def test_query_parameters(client: httpx.Client) -> None:
    api_id = _import(client, v2_definition())
    spec = _export(
        client,
        api_id,
        removeIds="true",
        managementContextName="apim",
        exclude="plans,metadata",
        version="9",
        contextPath="/moved",
    )["spec"]
    assert "id" not in spec and "crossId" not in spec
    assert spec["contextRef"] == {"name": "apim", "namespace": "default"}
    assert "plans" not in spec and "metadata" not in spec
    assert spec["version"] == "9" and spec["proxy"]["virtual_hosts"][0]["path"] == "/moved"
    kept = _export(client, api_id, removeIds="true")["spec"]
    assert all({"id", "crossId", "api"}.isdisjoint(p) for p in kept["plans"])


def test_a_missing_crossid_is_given_and_saved(emulator: RunningEmulator, client: httpx.Client) -> None:
    api_id = _import(client, v2_definition())
    state = emulator.dump_state()
    state["apis"][0]["crossId"] = ""
    del state["apis"][0]["spec"]["plans"][0]["crossId"]
    emulator.load_state(state)
    first = _export(client, api_id)["spec"]
    assert first["crossId"] not in ("", "v2-cross") and first["plans"][0]["crossId"]
    assert emulator.dump_state()["apis"][0]["crossId"] == first["crossId"]  # saved
    second = _export(client, api_id)["spec"]
    assert (second["crossId"], second["plans"][0]["crossId"]) == (
        first["crossId"],
        first["plans"][0]["crossId"],
    )


def test_refusals(people: People) -> None:
    publisher = people.as_("publisher")
    api_id = _import(publisher, v2_definition())
    assert publisher.get(f"{V1}/apis/{api_id}/crd").status_code == 200  # its primary owner
    assert people.as_("other").get(f"{V1}/apis/{api_id}/crd").status_code == 403  # not a member
    json_only = publisher.get(f"{V1}/apis/{api_id}/crd", headers={"Accept": "application/json"})
    assert json_only.status_code == 406  # @Produces("application/yaml")
    missing = people.as_("admin").get(f"{V1}/apis/no-such-api/crd")
    assert missing.status_code == 404 and missing.json()["message"] == "Api [no-such-api] cannot be found."


def test_a_v4_api_is_not_served(client: httpx.Client, api_spec: dict[str, Any]) -> None:
    v4 = client.put(f"{AUTO}/apis", json=api_spec).json()
    assert client.get(f"{V1}/apis/{v4['id']}/crd").status_code == 404
