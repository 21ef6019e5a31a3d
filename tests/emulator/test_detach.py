"""Console "detach" (``POST /management/v2/.../apis/{apiId}/_detach``, AutomatedApiDomainService.detach):
origin MANAGEMENT, shown in the listing; the next Automation PUT re-attaches; a detached running API cannot
be deleted."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.emulator import RunningEmulator
from tests.emulator.support import AUTO, V2


def _api(client: httpx.Client) -> dict[str, Any]:
    return client.post(f"{V2}/apis/_search", json={}).json()["data"][0]  # type: ignore[no-any-return]


def test_detach_and_reattach(
    emulator: RunningEmulator, client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    client.put(f"{AUTO}/apis", json=api_spec)
    api = _api(client)
    assert api["originContext"] == {"origin": "KUBERNETES", "mode": "FULLY_MANAGED", "syncFrom": "MANAGEMENT"}
    before = emulator.dump_state()["apis"][0]["updatedAt"]
    r = client.post(f"{V2}/apis/{api['id']}/_detach")
    assert (r.status_code, r.content) == (200, b"")
    api = _api(client)
    assert api["originContext"] == {"origin": "MANAGEMENT"}
    assert api["definitionContext"]["origin"] == "MANAGEMENT"
    assert emulator.dump_state()["apis"][0]["updatedAt"] == before  # a detach is not an update
    # detached and STARTED: the Automation DELETE refuses
    r = client.delete(f"{AUTO}/apis/{api_spec['hrid']}")
    assert r.json() == {
        "httpStatus": 400,
        "message": f"API [{api['id']}] is still running and must be stopped before being deleted !",
        "technicalCode": "api.running",
        "parameters": {"api": api["id"]},
    }
    # a second detach: the API is no longer automated
    r = client.post(f"{V2}/apis/{api['id']}/_detach")
    assert r.json() == {
        "httpStatus": 400,
        "message": "The API must be managed by an automation tool in order to be detached.",
        "parameters": {},
    }
    # the next Automation PUT silently re-attaches (ImportApiCRDUseCase.update sets OriginContext.Kubernetes)
    assert client.put(f"{AUTO}/apis", json=api_spec).status_code == 200
    assert _api(client)["originContext"]["origin"] == "KUBERNETES"
    assert client.delete(f"{AUTO}/apis/{api_spec['hrid']}").status_code == 204


def test_a_detached_stopped_api_can_be_deleted(client: httpx.Client, api_spec: dict[str, Any]) -> None:
    client.put(f"{AUTO}/apis", json=api_spec | {"state": "STOPPED"})
    client.post(f"{V2}/apis/{_api(client)['id']}/_detach")
    assert client.delete(f"{AUTO}/apis/{api_spec['hrid']}").status_code == 204
