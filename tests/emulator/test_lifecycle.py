"""One API through create, no-op update, change, console edit, dry run and delete, seen from every view."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.emulator import RunningEmulator
from tests.emulator.support import APIS, AUTO, AUTOMATION, V2, SpecBook

EXPECTED_CROSS_ID = "b54c45d2-1e4f-3330-aa2d-9c931c795b92"  # u("DEFAULT" + "default-my-api"), from Java


def _views(
    client: httpx.Client, specs: SpecBook, hrid: str
) -> tuple[dict[str, Any], dict[str, Any], str, dict[str, Any]]:
    auto = client.get(f"{AUTO}/apis/{hrid}")
    assert auto.status_code == 200
    state = auto.json()
    specs.schema(AUTOMATION, "ApiV4State", state)
    single = client.get(f"{V2}/apis/{state['id']}")
    assert single.status_code == 200
    specs.schema(APIS, "Api", single.json())
    found = client.post(
        f"{V2}/apis/_search", params={"expands": "metadata"}, json={"ids": [state["id"]]}
    ).json()
    assert found["pagination"]["totalCount"] == 1
    return state, single.json(), single.headers["etag"], found["data"][0]


def test_api_lifecycle(
    emulator: RunningEmulator, client: httpx.Client, specs: SpecBook, api_spec: dict[str, Any]
) -> None:
    hrid = api_spec["hrid"]
    # create
    created = client.put(f"{AUTO}/apis", json=api_spec).json()
    assert created["crossId"] == EXPECTED_CROSS_ID
    state, api, etag1, listed = _views(client, specs, hrid)
    assert state["id"] == created["id"] == api["id"] == listed["id"]
    assert api["crossId"] == EXPECTED_CROSS_ID
    assert api["definitionContext"]["origin"] == "KUBERNETES"
    # email-support is on every v4 API (ApiMetadataDomainService), raw in the listing
    assert listed["metadata"] == {"email-support": "${(api.primaryOwner.email)!''}", "team-name": "platform"}
    assert "metadata" not in api
    plan_id = state["plans"][0]["id"]
    assert etag1 == f'"{emulator.dump_state()["apis"][0]["updatedAt"]}"'

    # the same spec again: same ids, and still an update, redeployed (no "unchanged" shortcut)
    again = client.put(f"{AUTO}/apis", json=api_spec).json()
    assert again == created
    _, api_noop, etag_noop, _ = _views(client, specs, hrid)
    assert etag_noop != etag1 and api_noop["updatedAt"] > api["updatedAt"]
    assert api_noop["deployedAt"] == api_noop["updatedAt"]

    # change: new name, a second plan, metadata; ids stay
    api_spec["name"] = "My API v2"
    api_spec["metadata"] = [{"key": "team", "name": "Team", "format": "STRING", "value": "core"}]
    api_spec["plans"].append(api_spec["plans"][0] | {"hrid": "second", "name": "Second"})
    changed = client.put(f"{AUTO}/apis", json=api_spec).json()
    assert changed["id"] == created["id"]
    state, api, etag2, listed = _views(client, specs, hrid)
    assert state["plans"][0]["id"] == plan_id
    assert etag2 != etag1 and api["name"] == "My API v2"
    assert listed["metadata"] == {"email-support": "${(api.primaryOwner.email)!''}", "team": "core"}
    assert [p["hrid"] for p in state["plans"]] == ["keyless", "second"]

    # plans missing from the spec are deleted
    api_spec["plans"] = api_spec["plans"][1:]
    client.put(f"{AUTO}/apis", json=api_spec)
    state = client.get(f"{AUTO}/apis/{hrid}").json()
    assert [p["hrid"] for p in state["plans"]] == ["second"]
    _, _, etag3, _ = _views(client, specs, hrid)

    # console edit through mAPI v2: bumps updatedAt, visible in the Automation view (drift)
    update = {
        k: api[k] for k in ("name", "apiVersion", "definitionVersion", "type", "listeners", "endpointGroups")
    }
    update |= {"description": "edited by a person", "labels": ["console"]}
    r = client.put(f"{V2}/apis/{api['id']}", json=update, headers={"If-Match": etag3})
    assert r.status_code == 200
    state, api, etag4, listed = _views(client, specs, hrid)
    assert etag4 == r.headers["etag"] != etag3
    assert state["description"] == "edited by a person" and state["labels"] == ["console"]
    assert api["updatedAt"] > listed["createdAt"] or api["updatedAt"] >= api["createdAt"]
    # a stale ETag now fails
    assert client.put(f"{V2}/apis/{api['id']}", json=update, headers={"If-Match": etag3}).status_code == 412

    # dry run: reports, stores nothing
    dry = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_spec | {"name": "Dry"})
    assert dry.status_code == 200 and dry.json()["name"] == "Dry" and "errors" not in dry.json()
    state, _, etag5, _ = _views(client, specs, hrid)
    assert state["name"] == "My API v2" and etag5 == etag4

    # delete
    assert client.delete(f"{AUTO}/apis/{hrid}").status_code == 204
    assert client.get(f"{AUTO}/apis/{hrid}").status_code == 404
    assert client.get(f"{V2}/apis/{api['id']}").status_code == 404
    assert client.post(f"{V2}/apis/_search", json={"ids": [api["id"]]}).json()["data"] == []


def test_uuid_addressing(make_emulator: Any, api_spec: dict[str, Any]) -> None:
    """``hridContainsUUID`` from 4.12.0, ``legacy`` in 4.9-4.11: each version knows only its spelling."""
    for version, flag, other in (
        ("4.13.0", "hridContainsUUID", "legacy"),
        ("4.11.5", "legacy", "hridContainsUUID"),
    ):
        emu = make_emulator(apim_version=version)
        with httpx.Client(base_url=emu.base_url, auth=("admin", "admin")) as client:
            created = client.put(f"{AUTO}/apis", json=api_spec).json()
            r = client.get(f"{AUTO}/apis/{created['id']}", params={flag: "true"})
            assert r.status_code == 200 and r.json()["id"] == created["id"], version
            assert client.get(f"{AUTO}/apis/{created['id']}", params={other: "true"}).status_code == 404
            assert client.get(f"{AUTO}/apis/{created['id']}").status_code == 404
            assert client.delete(f"{AUTO}/apis/{created['id']}", params={flag: "true"}).status_code == 204


def test_ids_are_deterministic_across_emulators(make_emulator: Any, api_spec: dict[str, Any]) -> None:
    ids = []
    for _ in range(2):
        emu = make_emulator()
        httpx.put(f"{emu.base_url}{AUTO}/apis", json=api_spec, auth=("admin", "admin"))
        state = httpx.get(f"{emu.base_url}{AUTO}/apis/{api_spec['hrid']}", auth=("admin", "admin")).json()
        ids.append((state["id"], state["crossId"], state["plans"][0]["id"]))
    assert ids[0] == ids[1]
