"""Errors and transitions as the server answers them: body shapes per API family, update failures wrapped
in 500s, lifecycle rules, validation before the dry run, pre-authentication refusals."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.emulator.support import AUTO, V1, V2, api_body

ORG = "/management/organizations/DEFAULT"


def test_update_failures_are_500_but_create_failures_are_not(
    client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    deprecated = api_spec | {"lifecycleState": "DEPRECATED"}
    assert client.put(f"{AUTO}/apis", json=deprecated).status_code == 200  # create: any state is taken
    r = client.put(f"{AUTO}/apis", json=api_spec | {"lifecycleState": "PUBLISHED"})
    assert r.status_code == 500
    assert r.json() == {
        "httpStatus": 500,
        "message": "io.gravitee.rest.api.service.exceptions.LifecycleStateChangeNotAllowedException: "
        "The API lifecycle state cannot be changed to PUBLISHED.",
        "technicalCode": "unexpected",
    }
    # nothing was written
    assert client.get(f"{AUTO}/apis/{api_spec['hrid']}").json()["lifecycleState"] == "DEPRECATED"
    assert client.put(f"{AUTO}/apis", json=api_spec | {"lifecycleState": "ARCHIVED"}).status_code == 200
    assert (
        client.put(f"{AUTO}/apis", json=api_spec | {"lifecycleState": "ARCHIVED"}).status_code == 200
    )  # same
    assert client.put(f"{AUTO}/apis", json=api_spec | {"lifecycleState": "DEPRECATED"}).status_code == 500


def test_lifecycle_transitions(client: httpx.Client) -> None:
    moves = [
        ("CREATED", "PUBLISHED", 200),
        ("PUBLISHED", "UNPUBLISHED", 200),
        ("UNPUBLISHED", "CREATED", 500),
    ]
    for i, (start, target, status) in enumerate(moves):
        body = api_body(f"default-life-{i}", lifecycleState=start)
        client.put(f"{AUTO}/apis", json=body)
        assert client.put(f"{AUTO}/apis", json=body | {"lifecycleState": target}).status_code == status, (
            start,
            target,
        )


def test_console_edits_refuse_the_same_moves_with_a_400(
    client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    client.put(f"{AUTO}/apis", json=api_spec | {"lifecycleState": "DEPRECATED"})
    api = client.post(f"{V2}/apis/_search", json={}).json()["data"][0]
    update = {
        k: api[k] for k in ("name", "apiVersion", "definitionVersion", "type", "listeners", "endpointGroups")
    }
    r = client.put(f"{V2}/apis/{api['id']}", json=update | {"lifecycleState": "PUBLISHED"})
    assert (r.status_code, r.json()["technicalCode"]) == (400, "api.lifecycleState.invalid")


def test_a_closed_plan_cannot_change_status(client: httpx.Client, api_spec: dict[str, Any]) -> None:
    closed = copy.deepcopy(api_spec)
    closed["plans"][0]["status"] = "CLOSED"
    client.put(f"{AUTO}/apis", json=closed)
    r = client.put(f"{AUTO}/apis", json=api_spec)
    assert r.status_code == 500 and r.json()["message"].endswith("Invalid status for plan 'Keyless'")


def test_missing_state_is_a_500(client: httpx.Client, api_spec: dict[str, Any]) -> None:
    """ApiCRDSpec.toApiBuilder: Api.LifecycleState.valueOf(null)."""
    body = {k: v for k, v in api_spec.items() if k != "state"}
    assert client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=body).status_code == 200
    r = client.put(f"{AUTO}/apis", json=body)
    assert (r.status_code, r.json()["message"]) == (500, "java.lang.NullPointerException: Name is null")


def test_duplicate_plan_or_page_hrids_are_refused_before_the_dry_run(
    client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    api_spec["plans"].append(api_spec["plans"][0])
    r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_spec)
    assert r.json() == {
        "httpStatus": 400,
        "message": "Duplicate hrid found in plans",
        "technicalCode": "invalid",
    }
    page = {"hrid": "docs", "name": "Docs", "type": "MARKDOWN", "visibility": "PUBLIC"}
    r = client.put(
        f"{AUTO}/apis", params={"dryRun": "true"}, json=api_body("default-pages", pages=[page, page])
    )
    assert r.json()["message"] == "Duplicate hrid found in pages"


def test_page_validation(client: httpx.Client) -> None:
    pages = [
        {"hrid": "a", "name": "x" * 65},
        {"hrid": "docs/intro", "type": "NOPE", "visibility": "PUBLIC", "name": "n"},
    ]
    r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_body("default-p", pages=pages))
    assert r.json()["message"] == "Unexpected value 'NOPE'"  # deserialization stops at the first bad enum
    pages[1]["type"] = "MARKDOWN"
    r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_body("default-p", pages=pages))
    assert r.json()["message"] == "Validation error"
    assert sorted((d["location"], d["message"]) for d in r.json()["details"]) == [
        ("pages[0].hrid", 'must match "^[a-zA-Z0-9][a-zA-Z0-9_-]+[a-zA-Z0-9]$"'),
        ("pages[0].name", "size must be between 0 and 64"),
        ("pages[0].type", "must not be null"),
        ("pages[0].visibility", "must not be null"),
        ("pages[1].hrid", 'must match "^[a-zA-Z0-9][a-zA-Z0-9_-]+[a-zA-Z0-9]$"'),
    ]


def test_path_errors(client: httpx.Client) -> None:
    client.put(f"{AUTO}/apis", json=api_body("default-base", path="/shop"))
    # prefixes clash both ways; the message names the existing path
    for path in ("/shop/cart", "/"):
        r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_body("default-x", path=path))
        assert r.json()["errors"]["severe"] == ["Path [/shop/] already exists"], path
    assert (
        client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=api_body("default-x", path="/shopping"))
        .json()
        .get("errors")
        is None
    )
    body = api_body("default-x")
    body["listeners"][0]["paths"] = [{"path": "/a b"}, {"path": "/dup"}, {"path": "dup/"}]
    severe = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=body).json()["errors"]["severe"]
    assert severe == ["Path [/a b] is invalid", "Path [/dup/] is duplicated"]
    r = client.put(f"{AUTO}/apis", json=api_body("default-y", path="/shop/x"))
    assert r.json()["message"] == "Unable to import because of errors [Path [/shop/] already exists]"
    # on another host there is no clash
    on_host = api_body("default-z")
    on_host["listeners"][0]["paths"] = [{"path": "/shop", "host": "example.com"}]
    assert client.put(f"{AUTO}/apis", json=on_host).status_code == 200


def test_error_bodies_per_family(client: httpx.Client) -> None:
    v2 = client.get(f"{V2}/apis/nope").json()
    assert v2 == {
        "httpStatus": 404,
        "message": "Api [nope] cannot be found.",
        "technicalCode": "api.notFound",
        "parameters": {"api": "nope"},
    }
    v1 = client.delete(f"{V1}/apis/nope").json()
    assert v1 == {
        "message": "Api [nope] cannot be found.",
        "http_status": 404,
        "technicalCode": "api.notFound",
        "parameters": {"api": "nope"},
    }
    user = client.get(f"{ORG}/users/nope").json()
    assert user == {
        "message": "User [nope] cannot be found.",
        "http_status": 404,
        "technicalCode": "user.notFound",
        "parameters": {"user": "nope"},
    }


def test_context_and_authentication_refusals(emulator: Any) -> None:
    base = emulator.base_url
    r = httpx.get(f"{base}/management/v2/organizations/DEFAULT/environments/NOPE/apis")  # no credentials
    assert (r.status_code, r.json()) == (
        400,
        {"httpStatus": 400, "message": "Invalid organization or environment"},
    )
    r = httpx.get(f"{base}{V2}/apis")
    assert (
        r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="Gravitee.io Management API"'
    )
    r = httpx.get(f"{base}{V2}/apis", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and "www-authenticate" not in r.headers and r.content == b""


def test_metadata_limits_of_jdbc(make_emulator: Any) -> None:
    """JDBC metadata columns: key nvarchar(64), value nvarchar(1024); MongoDB has no limit."""
    long_value = [{"name": "Record", "format": "STRING", "value": "v" * 1025}]
    jdbc = make_emulator(repository="jdbc")
    with httpx.Client(base_url=jdbc.base_url, auth=("admin", "admin")) as client:
        r = client.put(f"{AUTO}/apis", json=api_body("default-long", metadata=long_value))
        assert (r.status_code, r.content) == (500, b"")  # a TechnicalDomainException nothing maps
        state = client.get(f"{AUTO}/apis/default-long").json()  # the API was created before the failure
        assert [m["key"] for m in state["metadata"]] == ["email-support"]
        r = client.put(f"{AUTO}/apis", json=api_body("default-long", metadata=long_value))
        assert r.status_code == 500 and r.json()["technicalCode"] == "unexpected"  # an update: wrapped
        ok = [{"name": "Record", "format": "STRING", "value": "v" * 1024}]
        assert client.put(f"{AUTO}/apis", json=api_body("default-long", metadata=ok)).status_code == 200
        long_key = [{"key": "k" * 65, "name": "n", "format": "STRING", "value": "v"}]
        assert client.put(f"{AUTO}/apis", json=api_body("default-long", metadata=long_key)).status_code == 500
    mongo = make_emulator(repository="mongodb")
    with httpx.Client(base_url=mongo.base_url, auth=("admin", "admin")) as client:
        assert (
            client.put(f"{AUTO}/apis", json=api_body("default-long", metadata=long_value)).status_code == 200
        )
