"""Shared policy groups through the Automation API (``SharedPolicyGroupsResource``,
``SharedPolicyGroupResource``, ``ImportSharedPolicyGroupCRDCRDUseCase``, ``SharedPolicyGroup``), the mAPI v2
reads, and API flow steps that call one (``SharedPolicyGroupIdHelper``), over real HTTP."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from reconciler.emulator import ids
from tests.emulator.conftest import People
from tests.emulator.support import AUTO, AUTOMATION, V2, SpecBook, api_body

SPG: dict[str, Any] = {
    "hrid": "default-simple-spg",
    "name": "simple-shared-policy-groups",
    "description": "Simple shared policy groups",
    "apiType": "PROXY",
    "phase": "REQUEST",
    "steps": [
        {
            "name": "Rate Limit",
            "description": "k8s rate limit",
            "enabled": True,
            "policy": "rate-limit",
            "configuration": {
                "async": False,
                "rate": {"limit": 10, "periodTime": 1, "periodTimeUnit": "MINUTES"},
            },
        },
        {"name": "Cache", "enabled": False, "policy": "cache"},
    ],
}


def _put(client: httpx.Client, body: dict[str, Any], **params: str) -> httpx.Response:
    return client.put(f"{AUTO}/shared-policy-groups", json=body, params=params)


def _v2(client: httpx.Client, spg_id: str) -> dict[str, Any]:
    r = client.get(f"{V2}/shared-policy-groups/{spg_id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_put_then_get(client: httpx.Client, specs: SpecBook) -> None:
    specs.schema(AUTOMATION, "SharedPolicyGroupSpec", SPG)
    r = _put(client, SPG)
    assert r.status_code == 200, r.text
    state = r.json()
    specs.schema(AUTOMATION, "SharedPolicyGroupState", state)
    assert state["id"] == ids.top_level_id("DEFAULT", "DEFAULT", SPG["hrid"])
    assert state["crossId"] == ids.top_level_cross_id("DEFAULT", SPG["hrid"])
    assert state["steps"][1] == {"name": "Cache", "policy": "cache", "enabled": False}
    assert "errors" not in state
    read = client.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").json()
    specs.schema(AUTOMATION, "SharedPolicyGroupState", read)
    assert {k: read[k] for k in ("hrid", "name", "description", "apiType", "phase", "steps")} == {
        k: state[k] for k in ("hrid", "name", "description", "apiType", "phase", "steps")
    }
    # created UNDEPLOYED (version 0), deployed at once
    view = _v2(client, state["id"])
    assert view["lifecycleState"] == "DEPLOYED" and view["version"] == 1


def test_an_update_keeps_api_type_and_phase_and_redeploys(client: httpx.Client) -> None:
    state = _put(client, SPG).json()
    changed = {
        **SPG,
        "phase": "RESPONSE",
        "name": "renamed",
        "steps": [{"name": "No flag", "policy": "cache"}],
    }
    del changed["description"]
    r = _put(client, changed)
    assert r.status_code == 200
    assert r.json()["phase"] == "RESPONSE"  # the answer is the request echo
    read = client.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").json()
    assert read["phase"] == "REQUEST"  # UpdateSharedPolicyGroup has no phase: the stored one stays
    assert read["name"] == "renamed"
    assert read["steps"] == [{"name": "No flag", "policy": "cache", "enabled": True}]  # StepV4's default
    assert read["description"] == SPG["description"]  # a missing description keeps the old one
    assert _v2(client, state["id"])["version"] == 2


@pytest.mark.parametrize(("api_type", "phase"), [("PROXY", "PUBLISH"), ("PROXY", "SUBSCRIBE")])
def test_invalid_phase_for_the_api_type(client: httpx.Client, api_type: str, phase: str) -> None:
    body = {**SPG, "apiType": api_type, "phase": phase}
    dry = _put(client, body, dryRun="true")
    assert dry.status_code == 200
    assert dry.json()["errors"] == {
        "severe": [f"Invalid phase {phase} for API type {api_type}"],
        "warning": [],
    }
    r = _put(client, body)
    assert r.status_code == 400
    assert r.json() == {
        "httpStatus": 400,
        "message": f"Unable to import because of errors [Invalid phase {phase} for API type {api_type}]",
        "technicalCode": "invalid",
    }
    assert client.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").status_code == 404


def test_message_api_phases_are_valid(client: httpx.Client) -> None:
    for phase in ("REQUEST", "RESPONSE", "PUBLISH", "SUBSCRIBE"):
        body = {**SPG, "hrid": f"default-msg-{phase.lower()}", "apiType": "MESSAGE", "phase": phase}
        assert _put(client, body).status_code == 200


@pytest.mark.parametrize(
    ("version", "phase", "status", "message"),
    [
        # 4.12+: FlowPhase lists only the four valid phases: a deserialization error
        ("4.13.0", "ENTRYPOINT_CONNECT", 400, "Unexpected value 'ENTRYPOINT_CONNECT'"),
        # 4.11: the enum has ENTRYPOINT_CONNECT and INTERACT; hasValidPhase refuses them
        (
            "4.11.25",
            "ENTRYPOINT_CONNECT",
            400,
            "Unable to import because of errors [Invalid phase ENTRYPOINT_CONNECT for API type PROXY]",
        ),
        (
            "4.10.0",
            "CONNECT",
            400,
            "Unable to import because of errors [Invalid phase CONNECT for API type PROXY]",
        ),
        ("4.10.0", "ENTRYPOINT_CONNECT", 400, "Unexpected value 'ENTRYPOINT_CONNECT'"),
        (
            "4.8.0",
            "INTERACT",
            400,
            "Unable to import because of errors [Invalid phase INTERACT for API type PROXY]",
        ),
    ],
)
def test_removed_phases_per_version(
    make_emulator: Any, version: str, phase: str, status: int, message: str
) -> None:
    emu = make_emulator(apim_version=version)
    r = httpx.put(
        f"{emu.base_url}{AUTO}/shared-policy-groups", json={**SPG, "phase": phase}, auth=("admin", "admin")
    )
    assert r.status_code == status, r.text
    assert r.json()["message"] == message


def test_api_type_per_version(make_emulator: Any) -> None:
    newest = httpx.Client(base_url=make_emulator().base_url, auth=("admin", "admin"))
    assert _put(newest, {**SPG, "apiType": "NATIVE"}).json()["message"] == "Unexpected value 'NATIVE'"
    older = httpx.Client(base_url=make_emulator(apim_version="4.11.0").base_url, auth=("admin", "admin"))
    r = _put(older, {**SPG, "apiType": "NATIVE"})
    assert (
        r.json()["message"]
        == "Unable to import because of errors [Invalid phase REQUEST for API type NATIVE]"
    )


def test_found_by_cross_id(client: httpx.Client) -> None:
    """A body with another HRID but the crossId of an existing group updates that group."""
    first = _put(client, SPG).json()
    r = _put(client, {**SPG, "hrid": "default-other-name", "crossId": first["crossId"], "name": "moved"})
    assert r.status_code == 200
    assert r.json()["id"] == first["id"]
    # the id stays the one derived from the first HRID: the group is read by that HRID, and shows the new one
    read = client.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").json()
    assert (read["hrid"], read["name"]) == ("default-other-name", "moved")
    assert client.get(f"{AUTO}/shared-policy-groups/default-other-name").status_code == 404


def test_hrid_contains_uuid(client: httpx.Client) -> None:
    spg_id = "5f0a5bd4-0000-4000-8000-00000000000b"
    cross_id = "5f0a5bd4-0000-4000-8000-00000000000c"
    r = _put(client, {**SPG, "hrid": spg_id, "crossId": cross_id}, hridContainsUUID="true")
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["crossId"]) == (spg_id, cross_id)
    read = client.get(f"{AUTO}/shared-policy-groups/{spg_id}", params={"hridContainsUUID": "true"}).json()
    assert "hrid" not in read and read["crossId"] == cross_id


def test_dry_run_and_delete(client: httpx.Client) -> None:
    r = _put(client, SPG, dryRun="true")
    assert r.status_code == 200 and "errors" not in r.json()
    assert client.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").status_code == 404
    assert _put(client, SPG).status_code == 200
    assert (
        client.delete(f"{AUTO}/shared-policy-groups/{SPG['hrid']}", params={"dryRun": "true"}).status_code
        == 204
    )
    assert client.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").status_code == 200
    assert client.delete(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").status_code == 204
    r = client.delete(f"{AUTO}/shared-policy-groups/{SPG['hrid']}")
    assert r.status_code == 404 and r.json()["message"] == f"HRID [{SPG['hrid']}] cannot be found."


def test_body_errors(client: httpx.Client) -> None:
    r = _put(client, {k: v for k, v in SPG.items() if k != "phase"})
    assert r.status_code == 400 and r.json()["details"] == [
        {"message": "must not be null", "location": "phase"}
    ]
    r = _put(client, {**SPG, "name": ""})
    assert r.json()["message"] == "Unable to import because of errors [Name is required.]"
    r = _put(client, {**SPG, "description": "x" * 1025})
    assert r.json()["details"][0]["message"] == "size must be between 0 and 1024"


def test_permissions(people: People) -> None:
    user = people.as_("user")  # ENVIRONMENT_SHARED_POLICY_GROUP[R]
    assert _put(people.as_("publisher"), SPG).status_code == 200  # API_PUBLISHER has it CRUD
    assert user.get(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").status_code == 200
    assert _put(user, SPG).status_code == 403
    assert user.delete(f"{AUTO}/shared-policy-groups/{SPG['hrid']}").status_code == 403


def test_api_steps_get_the_group_id_from_its_hrid(client: httpx.Client) -> None:
    api = api_body("default-uses-spg")
    step = {
        "name": "simple-shared-policy-groups",
        "policy": "shared-policy-group-policy",
        "configuration": {"hrid": SPG["hrid"]},
    }
    api["flows"] = [{"name": "all", "request": [step]}]
    dry = client.put(f"{AUTO}/apis", json=api, params={"dryRun": "true"}).json()
    cross_id = ids.top_level_cross_id("DEFAULT", SPG["hrid"])
    # the dry run answers the spec the helper changed; a real PUT and the GET drop the id again
    assert dry["flows"][0]["request"][0]["configuration"] == {
        "hrid": SPG["hrid"],
        "sharedPolicyGroupId": cross_id,
    }
    real = client.put(f"{AUTO}/apis", json=copy.deepcopy(api)).json()
    assert real["flows"][0]["request"][0]["configuration"] == {"hrid": SPG["hrid"]}
    got = client.get(f"{AUTO}/apis/default-uses-spg").json()
    assert got["flows"][0]["request"][0]["configuration"] == {"hrid": SPG["hrid"]}


def test_mapi_v2_search(client: httpx.Client, specs: SpecBook) -> None:
    for name in ("beta", "alpha", "gamma"):
        assert _put(client, {**SPG, "hrid": f"default-{name}", "name": name}).status_code == 200
    r = client.get(f"{V2}/shared-policy-groups")
    assert r.status_code == 200
    specs.check(
        "openapi-environments.yaml",
        "/components/responses/SharedPolicyGroupsResponse/content/application~1json/schema",
        r.json(),
    )
    assert [g["name"] for g in r.json()["data"]] == ["gamma", "alpha", "beta"]  # -updatedAt by default
    by_name = client.get(f"{V2}/shared-policy-groups", params={"sortBy": "name", "q": "a"}).json()
    assert [g["name"] for g in by_name["data"]] == ["alpha", "beta", "gamma"]
    r = client.get(f"{V2}/shared-policy-groups", params={"sortBy": "hrid"})
    assert r.status_code == 500 and r.json()["message"] == "Invalid sort by field: hrid"
    r = client.get(f"{V2}/shared-policy-groups/nope")
    assert r.status_code == 404 and r.json()["technicalCode"] == "sharedPolicyGroup.notFound"
