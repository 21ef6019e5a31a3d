"""Contract tests: every endpoint and status code the emulator can answer, checked against the specs.

Request bodies sent here are validated against the request schemas too, so the tests cannot pass by
sending something the real server would refuse.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import Fault, RunningEmulator
from tests.emulator.support import APIS, AUTO, AUTOMATION, CRD, INSTALLATION, V1, V2, SpecBook

APIS_RESPONSE = "/components/responses/ApisResponse/content/application~1json/schema"


def _json(response: httpx.Response) -> Any:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return response.json()


def _empty(response: httpx.Response) -> None:
    assert response.content == b""


def automation_error(specs: SpecBook, response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = _json(response)
    specs.schema(AUTOMATION, "HttpError", body)
    assert body["httpStatus"] == status
    return body  # type: ignore[no-any-return]


def mapi_error(specs: SpecBook, response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = _json(response)
    specs.schema(APIS, "Error", body)
    assert body["httpStatus"] == status
    return body  # type: ignore[no-any-return]


def crd_spec(api_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "5f0a5bd4-0000-4000-8000-000000000001",
        "crossId": "5f0a5bd4-0000-4000-8000-000000000002",
        "hrid": "default-crd-api",
        "name": "CRD API",
        "version": "1",
        "type": "PROXY",
        "state": "STARTED",
        "lifecycleState": "UNPUBLISHED",
        "definitionContext": {"origin": "kubernetes", "mode": "fully_managed", "syncFrom": "management"},
        "listeners": [
            {"type": "HTTP", "paths": [{"path": "/crd-api"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": api_spec["endpointGroups"],
        "plans": {
            "key less": {
                "id": "5f0a5bd4-0000-4000-8000-000000000003",
                "name": "Keyless",
                "security": {"type": "KEY_LESS"},
                "status": "PUBLISHED",
                "type": "API",
                "mode": "STANDARD",
                "validation": "AUTO",
            }
        },
        "metadata": [{"name": "owner", "format": "STRING", "value": "crd"}],
    }


# -- Automation API -----------------------------------------------------------------------------------
def test_automation_api_endpoints(client: httpx.Client, specs: SpecBook, api_spec: dict[str, Any]) -> None:
    specs.schema(AUTOMATION, "ApiV4Spec", api_spec)
    r = client.put(f"{AUTO}/apis", json=api_spec)
    assert r.status_code == 200, r.text
    state = _json(r)
    specs.schema(AUTOMATION, "ApiV4State", state)
    assert "notifyMembers" not in state  # writeOnly

    r = client.get(f"{AUTO}/apis/{api_spec['hrid']}")
    assert r.status_code == 200
    specs.schema(AUTOMATION, "ApiV4State", _json(r))

    r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_spec | {"hrid": "default-other"})
    assert r.status_code == 200
    dry = _json(r)
    specs.schema(AUTOMATION, "ApiV4State", dry)
    assert dry["errors"]["severe"] == ["Path [/my-api/] already exists"]

    automation_error(specs, client.put(f"{AUTO}/apis", json=api_spec | {"hrid": "default-other"}), 400)
    broken = {k: v for k, v in api_spec.items() if k != "listeners"}
    body = automation_error(specs, client.put(f"{AUTO}/apis", json=broken), 400)
    assert body["details"][0]["location"] == "apiV4Spec.listeners"
    automation_error(
        specs,
        client.put(f"{AUTO}/apis", content=b"{not json", headers={"content-type": "application/json"}),
        400,
    )
    automation_error(specs, client.get(f"{AUTO}/apis/default-missing"), 404)

    r = client.delete(f"{AUTO}/apis/{api_spec['hrid']}")
    assert r.status_code == 204
    _empty(r)
    automation_error(specs, client.delete(f"{AUTO}/apis/{api_spec['hrid']}"), 404)


def test_automation_application_endpoints(
    client: httpx.Client, specs: SpecBook, app_spec: dict[str, Any]
) -> None:
    specs.schema(AUTOMATION, "ApplicationSpec", app_spec)
    r = client.put(f"{AUTO}/applications", json=app_spec)
    assert r.status_code == 200, r.text
    state = _json(r)
    specs.schema(AUTOMATION, "ApplicationState", state)
    r = client.get(f"{AUTO}/applications/{app_spec['hrid']}")
    specs.schema(AUTOMATION, "ApplicationState", _json(r))
    r = client.put(f"{AUTO}/applications", params={"dryRun": "true"}, json=app_spec | {"name": "renamed"})
    specs.schema(AUTOMATION, "ApplicationState", _json(r))
    automation_error(specs, client.put(f"{AUTO}/applications", json={"hrid": "x!", "name": "n"}), 400)
    assert client.delete(f"{AUTO}/applications/{app_spec['hrid']}").status_code == 204
    automation_error(specs, client.get(f"{AUTO}/applications/{app_spec['hrid']}"), 404)
    automation_error(specs, client.delete(f"{AUTO}/applications/{app_spec['hrid']}"), 404)


def test_automation_auth_errors(emulator: RunningEmulator, specs: SpecBook, make_emulator: Any) -> None:
    r = httpx.get(f"{emulator.base_url}{AUTO}/apis/x")
    assert r.status_code == 401
    _empty(r)  # the real server sends no body, although the spec declares an HttpError
    r = httpx.get(
        f"{emulator.base_url}/automation/organizations/DEFAULT/environments/NOPE/apis/x",
        auth=("admin", "admin"),
    )
    automation_error(specs, r, 400)
    users = {
        "organizations": [
            {"id": "DEFAULT", "environments": [{"id": "DEFAULT"}]},
            {"id": "OTHER", "environments": [{"id": "DEFAULT"}]},
        ],
        "users": [{"username": "bob", "password": "pw", "organizations": ["OTHER"]}],
    }
    other = make_emulator(users=users)
    automation_error(specs, httpx.get(f"{other.base_url}{AUTO}/apis/x", auth=("bob", "pw")), 403)
    mapi_error(specs, httpx.get(f"{other.base_url}{V2}", auth=("bob", "pw")), 403)


# -- mAPI v2 ------------------------------------------------------------------------------------------
def test_mapi_v2_environment(client: httpx.Client, specs: SpecBook) -> None:
    r = client.get(V2)
    assert r.status_code == 200
    specs.schema(INSTALLATION, "Environment", _json(r))
    r = client.get("/management/v2/organizations/DEFAULT/environments/unknown")
    assert r.status_code == 400
    body = _json(r)
    specs.schema(INSTALLATION, "Error", body)
    assert body == {"httpStatus": 400, "message": "Invalid organization or environment"}


def test_mapi_v2_apis(client: httpx.Client, specs: SpecBook, api_spec: dict[str, Any]) -> None:
    for i in range(3):
        spec = api_spec | {"hrid": f"default-api-{i}", "name": f"API {i}"}
        spec["listeners"] = [
            {"type": "HTTP", "paths": [{"path": f"/api-{i}"}], "entrypoints": [{"type": "http-proxy"}]}
        ]
        assert client.put(f"{AUTO}/apis", json=spec).status_code == 200

    r = client.get(f"{V2}/apis", params={"perPage": 2, "expands": "metadata"})
    assert r.status_code == 200
    page = _json(r)
    specs.check(APIS, APIS_RESPONSE, page)
    assert page["pagination"] == {
        "page": 1,
        "perPage": 2,
        "pageCount": 2,
        "pageItemsCount": 2,
        "totalCount": 3,
    }
    assert set(page["links"]) == {"self", "first", "last", "next"}

    query = {"query": "API 2"}
    specs.schema(APIS, "ApiSearchQuery", query)
    r = client.post(f"{V2}/apis/_search", params={"expands": "metadata"}, json=query)
    found = _json(r)
    specs.check(APIS, APIS_RESPONSE, found)
    assert [a["name"] for a in found["data"]] == ["API 2"]
    assert found["data"][0]["metadata"] == {"team-name": "platform"}

    r = client.post(f"{V2}/apis/_search", json={"ids": ["nope"]})
    empty = _json(r)
    specs.check(APIS, APIS_RESPONSE, empty)
    assert empty["data"] == [] and empty["pagination"] == {}

    mapi_error(specs, client.post(f"{V2}/apis/_search", params={"page": 9}, json={}), 400)
    mapi_error(specs, client.get(f"{V2}/apis", params={"perPage": 0}), 400)

    api_id = page["data"][0]["id"]
    r = client.get(f"{V2}/apis/{api_id}")
    assert r.status_code == 200
    api = _json(r)
    specs.schema(APIS, "Api", api)
    assert "metadata" not in api
    assert r.headers["etag"] == f'"{_millis(api["updatedAt"])}"'
    mapi_error(specs, client.get(f"{V2}/apis/unknown"), 404)

    update = {
        k: api[k] for k in ("name", "apiVersion", "definitionVersion", "type", "listeners", "endpointGroups")
    }
    update["description"] = "edited in the console"
    specs.schema(APIS, "UpdateApi", update)
    r = client.put(f"{V2}/apis/{api_id}", json=update, headers={"If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    specs.schema(APIS, "Api", _json(r))
    r = client.put(f"{V2}/apis/{api_id}", json=update, headers={"If-Match": '"1"'})
    assert r.status_code == 412
    _empty(r)
    mapi_error(
        specs,
        client.put(f"{V2}/apis/{api_id}", json=update | {"listeners": page["data"][1]["listeners"]}),
        400,
    )
    mapi_error(specs, client.put(f"{V2}/apis/{api_id}", json={"definitionVersion": "V4"}), 400)

    mapi_error(specs, client.delete(f"{V2}/apis/{api_id}"), 400)  # published plan, no closePlans
    r = client.delete(f"{V2}/apis/{api_id}", params={"closePlans": "true"})
    assert r.status_code == 204
    _empty(r)
    mapi_error(specs, client.delete(f"{V2}/apis/{api_id}"), 404)
    assert client.request("PATCH", f"{V2}/apis/{api_id}").status_code == 405


def _millis(iso: str) -> int:
    from datetime import datetime

    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_mapi_v2_crd_import(client: httpx.Client, specs: SpecBook, api_spec: dict[str, Any]) -> None:
    body = crd_spec(api_spec)
    specs.schema(CRD, "ApiCRDSpec", body)
    r = client.put(f"{V2}/apis/_import/crd", params={"dryRun": "true"}, json=body)
    assert r.status_code == 200
    specs.schema(CRD, "ApiCRDStatus", _json(r))
    assert client.get(f"{V2}/apis/{body['id']}").status_code == 404
    r = client.put(f"{V2}/apis/_import/crd", json=body)
    assert r.status_code == 200, r.text
    status = _json(r)
    specs.schema(CRD, "ApiCRDStatus", status)
    assert status["plans"] == {"key less": "5f0a5bd4-0000-4000-8000-000000000003"}
    api = _json(client.get(f"{V2}/apis/{body['id']}"))
    specs.schema(APIS, "Api", api)
    assert api["definitionContext"]["origin"] == "KUBERNETES"
    assert client.get(f"{AUTO}/apis/default-crd-api").json()["plans"][0]["hrid"] == "key-less"

    clash = body | {"id": "other", "crossId": "other-cross", "hrid": "default-crd-other"}
    mapi_error(specs, client.put(f"{V2}/apis/_import/crd", json=clash), 400)
    mapi_error(specs, client.put(f"{V2}/apis/_import/crd", json={"name": "x"}), 400)

    app = {
        "hrid": "default-crd-app",
        "name": "CRD app",
        "description": "d",
        "settings": {"app": {"type": "web"}},
    }
    specs.schema(CRD, "ApplicationCRDSpec", app)
    r = client.put(f"{V2}/applications/_import/crd", json=app)
    assert r.status_code == 200
    specs.schema(CRD, "ApplicationCRDStatus", _json(r))
    r = client.put(f"{V2}/applications/_import/crd", params={"dryRun": "true"}, json=app)
    specs.schema(CRD, "ApplicationCRDStatus", _json(r))
    mapi_error(specs, client.put(f"{V2}/applications/_import/crd", json={"name": "no description"}), 400)
    assert client.get(f"{AUTO}/applications/default-crd-app").status_code == 200


# -- mAPI v1 (no spec here: shapes documented in reconciler/emulator/mapi_v1.py) ------------------------
def test_mapi_v1(client: httpx.Client, app_spec: dict[str, Any]) -> None:
    definition = {
        "crossId": "v2-cross",
        "name": "Legacy API",
        "version": "1",
        "proxy": {"virtual_hosts": [{"path": "/legacy"}]},
        "plans": [{"name": "Free", "security": "KEY_LESS", "status": "PUBLISHED"}],
        "definition_context": {"origin": "kubernetes", "syncFrom": "management"},
    }
    r = client.put(f"{V1}/apis/import-crd", params={"dryRun": "true"}, json=definition)
    assert r.status_code == 200 and client.get(f"{V2}/apis").json()["data"] == []
    r = client.put(f"{V1}/apis/import-crd", json=definition)
    assert r.status_code == 200
    entity = r.json()
    assert entity["crossId"] == "v2-cross" and entity["plans"][0]["id"]
    again = client.put(f"{V1}/apis/import-crd", json=definition).json()
    assert again["id"] == entity["id"] and again["plans"][0]["id"] == entity["plans"][0]["id"]
    listed = client.get(f"{V2}/apis").json()["data"]
    assert [(a["definitionVersion"], a["contextPath"]) for a in listed] == [("V2", "/legacy")]
    clash = definition | {"crossId": "another"}
    assert (
        client.put(f"{V1}/apis/import-crd", json=clash).json()["message"] == "Path [/legacy/] already exists"
    )

    client.put(f"{AUTO}/applications", json=app_spec)
    page = client.get(f"{V1}/applications/_paged", params={"page": 1, "size": 10}).json()
    assert page["page"]["total_elements"] == 1
    assert page["data"][0]["name"] == app_spec["name"]


# -- injected faults and unknown routes -----------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 503, 429])
def test_fault_bodies(emulator: RunningEmulator, client: httpx.Client, specs: SpecBook, status: int) -> None:
    emulator.set_faults([Fault.parse(f"* *=${status}".replace("$", ""))])
    automation_error(specs, client.get(f"{AUTO}/apis/x"), status)
    r = client.get(V2)
    mapi_error(specs, r, status)
    assert ("retry-after" in r.headers) == (status in (429, 503))


def test_unknown_route(client: httpx.Client, specs: SpecBook) -> None:
    mapi_error(specs, client.get("/management/v2/nothing-here"), 404)


def test_more_mapi_v2_errors(client: httpx.Client, specs: SpecBook) -> None:
    update = {
        "name": "n",
        "apiVersion": "1",
        "definitionVersion": "V4",
        "type": "PROXY",
        "listeners": [],
        "endpointGroups": [],
    }
    mapi_error(specs, client.put(f"{V2}/apis/unknown", json=update), 404)
    mapi_error(specs, client.post(f"{V2}/apis/_search", json=["not", "an", "object"]), 400)
    mapi_error(specs, client.post(f"{V2}/apis/_search", params={"page": "x"}, json={}), 400)
    r = client.get("/management/v2/environments/DEFAULT/apis")
    assert r.status_code == 200
    specs.check(APIS, APIS_RESPONSE, _json(r))


# -- reads by UUID (export: the only read that tells an API's HRID) --------------------------------------
def test_automation_reads_by_uuid(
    client: httpx.Client, specs: SpecBook, api_spec: dict[str, Any], app_spec: dict[str, Any]
) -> None:
    api = _json(client.put(f"{AUTO}/apis", json=api_spec))
    r = client.get(f"{AUTO}/apis/{api['id']}", params={"hridContainsUUID": "true"})
    assert r.status_code == 200, r.text
    state = _json(r)
    specs.schema(AUTOMATION, "ApiV4State", state)
    assert (state["id"], state["hrid"]) == (api["id"], api_spec["hrid"])
    assert client.get(f"{AUTO}/apis/{api['id']}", params={"legacy": "true"}).json() == state

    app = _json(client.put(f"{AUTO}/applications", json=app_spec))
    r = client.get(f"{AUTO}/applications/{app['id']}", params={"hridContainsUUID": "true"})
    specs.schema(AUTOMATION, "ApplicationState", _json(r))
    assert r.json()["hrid"] == app_spec["hrid"]

    automation_error(
        specs, client.get(f"{AUTO}/apis/{api['hrid']}", params={"hridContainsUUID": "true"}), 404
    )
    v2 = {"name": "v2", "version": "1", "proxy": {"virtual_hosts": [{"path": "/v2"}]}}
    v2_id = client.put(f"{V1}/apis/import-crd", json=v2).json()["id"]
    automation_error(specs, client.get(f"{AUTO}/apis/{v2_id}", params={"hridContainsUUID": "true"}), 404)
