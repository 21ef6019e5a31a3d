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
    # The spec types details[].invalidValue as an object; the server (ConstraintValidationExceptionMapper)
    # writes the rejected value as it is, a string or a number: the source wins, the spec is checked
    # without it.
    checked = {
        **body,
        "details": [{k: v for k, v in d.items() if k != "invalidValue"} for d in body.get("details", [])],
    }
    if not checked["details"]:
        del checked["details"]
    specs.schema(AUTOMATION, "HttpError", checked)
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
    assert (
        state["notifyMembers"] is True
    )  # writeOnly in the spec, yet serialized (see docs/emulator-fidelity.md)
    assert state["errors"] == {"severe": [], "warning": []}  # a real import always reports its errors

    r = client.get(f"{AUTO}/apis/{api_spec['hrid']}")
    assert r.status_code == 200
    specs.schema(AUTOMATION, "ApiV4State", _json(r))

    r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_spec | {"hrid": "default-other"})
    assert r.status_code == 200
    dry = _json(r)
    specs.schema(AUTOMATION, "ApiV4State", dry)
    assert dry["errors"] == {"severe": ["Path [/my-api/] already exists"], "warning": []}

    body = automation_error(specs, client.put(f"{AUTO}/apis", json=api_spec | {"hrid": "default-other"}), 400)
    assert body == {
        "httpStatus": 400,
        "message": "Unable to import because of errors [Path [/my-api/] already exists]",
        "technicalCode": "invalid",
    }
    broken = {k: v for k, v in api_spec.items() if k != "listeners"}
    body = automation_error(specs, client.put(f"{AUTO}/apis", json=broken), 400)
    assert body["message"] == "Validation error"
    assert body["details"] == [{"message": "must not be null", "location": "listeners"}]
    automation_error(
        specs,
        client.put(f"{AUTO}/apis", content=b"{not json", headers={"content-type": "application/json"}),
        400,
    )
    body = automation_error(specs, client.get(f"{AUTO}/apis/default-missing"), 404)
    assert body == {
        "httpStatus": 404,
        "message": "HRID [default-missing] cannot be found.",
        "technicalCode": "hrid.notFound",
    }

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
    # a DELETE archives: the application is still there (ApplicationServiceImpl.archive)
    r = client.get(f"{AUTO}/applications/{app_spec['hrid']}")
    specs.schema(AUTOMATION, "ApplicationState", _json(r))
    assert r.json()["status"] == "ARCHIVED"
    assert client.delete(f"{AUTO}/applications/{app_spec['hrid']}").status_code == 204
    automation_error(specs, client.get(f"{AUTO}/applications/default-never"), 404)
    automation_error(specs, client.delete(f"{AUTO}/applications/default-never"), 404)


def test_automation_auth_errors(emulator: RunningEmulator, specs: SpecBook, make_emulator: Any) -> None:
    r = httpx.get(f"{emulator.base_url}{AUTO}/apis/x")
    assert r.status_code == 401
    _empty(r)  # the real server sends no body, although the spec declares an HttpError
    r = httpx.get(f"{emulator.base_url}/automation/organizations/DEFAULT/environments/NOPE/apis/x")
    automation_error(specs, r, 400)  # GraviteeContextFilter: before authentication
    users = {
        "organizations": [
            {"id": "DEFAULT", "environments": [{"id": "DEFAULT"}]},
            {"id": "OTHER", "environments": [{"id": "DEFAULT"}]},
        ],
        "users": [{"username": "bob", "password": "pw", "organizations": ["OTHER"]}],
    }
    other = make_emulator(users=users)
    body = automation_error(specs, httpx.get(f"{other.base_url}{AUTO}/apis/x", auth=("bob", "pw")), 403)
    assert body == {"httpStatus": 403, "message": "User is not allowed to access this organization"}
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
    assert found["data"][0]["metadata"] == {
        "email-support": "${(api.primaryOwner.email)!''}",
        "team-name": "platform",
    }

    r = client.post(f"{V2}/apis/_search", json={"ids": ["nope"]})
    empty = _json(r)
    specs.check(APIS, APIS_RESPONSE, empty)
    assert empty["data"] == []
    assert empty["pagination"] == {
        "page": 1,
        "perPage": 10,
        "pageItemsCount": 0,
        "pageCount": 0,
        "totalCount": 0,
    }

    mapi_error(specs, client.post(f"{V2}/apis/_search", params={"page": 9}, json={}), 400)
    # the repository listing answers an empty page; PaginationLinks gives no links past the last page
    past = client.get(f"{V2}/apis", params={"page": 9, "perPage": 2})
    specs.check(APIS, APIS_RESPONSE, _json(past))
    assert past.json()["data"] == [] and "links" not in past.json()
    mapi_error(specs, client.get(f"{V2}/apis", params={"perPage": 0}), 400)
    mapi_error(specs, client.post(f"{V2}/apis/_search", params={"sortBy": "nope"}, json={}), 400)

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

    body = mapi_error(specs, client.delete(f"{V2}/apis/{api_id}"), 400)  # published plan, no closePlans
    assert body["message"] == "Plan(s) [Keyless] must be closed before being able to delete the API !"
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
    # its id is the body's, not the one derived from its HRID: the Automation API finds it by UUID only
    assert client.get(f"{AUTO}/apis/default-crd-api").status_code == 404
    by_id = client.get(f"{AUTO}/apis/{body['id']}", params={"hridContainsUUID": "true"}).json()
    assert by_id["plans"][0]["hrid"] == "key-less"

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
def v2_definition(**changes: Any) -> dict[str, Any]:
    """An ApiDefinition spec as GKO sends it to mAPI v1 import-crd (ids from PopulateIDs)."""
    body = {
        "id": "0b6b9e0e-0000-4000-8000-00000000000a",
        "crossId": "v2-cross",
        "name": "Legacy API",
        "version": "1",
        "description": "A v2 API",
        "state": "STARTED",
        "proxy": {"virtual_hosts": [{"path": "/legacy"}]},
        "plans": [
            {
                "id": "0b6b9e0e-0000-4000-8000-00000000000b",
                "crossId": "0b6b9e0e-0000-4000-8000-00000000000c",
                "name": "Free",
                "security": "KEY_LESS",
                "status": "PUBLISHED",
            }
        ],
        "definition_context": {"origin": "kubernetes", "mode": "fully_managed", "syncFrom": "management"},
    }
    body.update(changes)
    return body


def test_mapi_v1(client: httpx.Client, app_spec: dict[str, Any]) -> None:
    definition = v2_definition()
    r = client.put(f"{V1}/apis/import-crd", params={"dryRun": "true"}, json=definition)
    assert r.status_code == 200 and client.get(f"{V2}/apis").json()["data"] == []
    assert r.json() == {
        "organizationId": "DEFAULT",
        "environmentId": "DEFAULT",
        "id": definition["id"],
        "crossId": "v2-cross",
        "state": "STARTED",
        "errors": {"severe": [], "warning": []},
        "plans": {},
    }
    r = client.put(f"{V1}/apis/import-crd", json=definition)
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["id"] == definition["id"]
    assert status["plans"] == {"0b6b9e0e-0000-4000-8000-00000000000c": "0b6b9e0e-0000-4000-8000-00000000000b"}
    again = client.put(f"{V1}/apis/import-crd", json=definition).json()
    assert again["id"] == status["id"] and again["plans"] == status["plans"]
    listed = client.get(f"{V2}/apis").json()["data"]
    assert [(a["definitionVersion"], a["contextPath"]) for a in listed] == [("V2", "/legacy/")]
    clash = definition | {"crossId": "another", "id": "0b6b9e0e-0000-4000-8000-0000000000ff"}
    r = client.put(f"{V1}/apis/import-crd", json=clash)
    assert (r.status_code, r.json()) == (400, {"severe": ["Path [/legacy/] already exists"], "warning": []})
    r = client.put(f"{V1}/apis/import-crd", json={k: v for k, v in definition.items() if k != "description"})
    assert r.status_code == 400 and r.json()["path"] == "importApiDefinitionCrd.api.description"

    client.put(f"{AUTO}/applications", json=app_spec)
    page = client.get(f"{V1}/applications/_paged", params={"page": 1, "size": 10}).json()
    assert page["page"]["total_elements"] == 1
    assert page["data"][0]["name"] == app_spec["name"]
    assert "hrid" not in page["data"][0] and "metadata" not in page["data"][0]

    r = client.delete(f"{V1}/apis/{status['id']}", params={"closePlans": "true"})
    assert r.status_code == 204
    r = client.delete(f"{V1}/apis/{status['id']}")
    assert (r.status_code, r.json()["http_status"], r.json()["technicalCode"]) == (404, 404, "api.notFound")


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
    mapi_error(specs, client.post(f"{V2}/apis/_search", params={"page": "0"}, json={}), 400)
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
    # 4.12+ knows only hridContainsUUID: `legacy` is ignored, the UUID taken as an HRID
    assert client.get(f"{AUTO}/apis/{api['id']}", params={"legacy": "true"}).status_code == 404

    app = _json(client.put(f"{AUTO}/applications", json=app_spec))
    r = client.get(f"{AUTO}/applications/{app['id']}", params={"hridContainsUUID": "true"})
    specs.schema(AUTOMATION, "ApplicationState", _json(r))
    assert r.json()["hrid"] == app_spec["hrid"]

    automation_error(
        specs, client.get(f"{AUTO}/apis/{api['hrid']}", params={"hridContainsUUID": "true"}), 404
    )
    v2 = v2_definition(proxy={"virtual_hosts": [{"path": "/v2"}]})
    v2_id = client.put(f"{V1}/apis/import-crd", json=v2).json()["id"]
    # the export of a v2 API is refused (ApiImportExportServiceImpl.exportApi)
    body = automation_error(
        specs, client.get(f"{AUTO}/apis/{v2_id}", params={"hridContainsUUID": "true"}), 400
    )
    assert body["technicalCode"] == "api.definitionVersionNotSupported"
