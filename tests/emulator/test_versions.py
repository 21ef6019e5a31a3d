"""``--apim-version``: what each APIM release has, as read per release tag (see reconciler/emulator/versions.py)."""

from __future__ import annotations

import argparse
import base64
from typing import Any

import httpx
import pytest

from reconciler.emulator import cli
from reconciler.emulator.versions import ApimVersion
from tests.emulator.support import API_SPEC, APP_SPEC, AUTO, V2, api_body

AUTH = ("admin", "admin")


def _client(make_emulator: Any, version: str) -> httpx.Client:
    emu = make_emulator(apim_version=version)
    return httpx.Client(base_url=emu.base_url, auth=AUTH, timeout=10)


def test_version_parsing_and_range() -> None:
    assert str(ApimVersion.parse("4.12.3")) == "4.12.3"
    for bad in ("4.7.9", "4.14.0", "5.0.0", "4.12", "latest"):
        with pytest.raises(ValueError):
            ApimVersion.parse(bad)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.config_from_args(parser.parse_args([])).apim_version == "4.13.0"
    assert cli.config_from_args(parser.parse_args(["--apim-version", "4.9.18"])).apim_version == "4.9.18"
    with pytest.raises(SystemExit):
        parser.parse_args(["--apim-version", "4.7.0"])


def test_node_endpoint_reports_the_configured_version(make_emulator: Any) -> None:
    emu = make_emulator(apim_version="4.10.13")
    r = httpx.get(f"{emu.base_url}/_node", auth=("admin", "adminadmin"))
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Gravitee.io - Rest APIs"
    assert body["version"]["MAJOR_VERSION"] == "4.10.13"
    assert set(body["version"]) == {"BUILD_ID", "BUILD_NUMBER", "MAJOR_VERSION", "REVISION"}
    # its own credentials (services.core.http), not the APIM users
    denied = httpx.get(f"{emu.base_url}/_node", auth=AUTH)
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == 'Basic realm="gravitee.io"'
    assert httpx.get(f"{emu.base_url}/_node").status_code == 401
    token = base64.b64encode(b"admin:adminadmin").decode()
    assert httpx.post(f"{emu.base_url}/_node", headers={"Authorization": f"Basic {token}"}).status_code == 405


@pytest.mark.parametrize(
    ("version", "has_metadata"),
    [
        ("4.8.24", False),
        ("4.8.25", True),
        ("4.9.17", False),
        ("4.9.18", True),
        ("4.10.12", False),
        ("4.10.13", True),
        ("4.11.4", False),
        ("4.11.5", True),
        ("4.12.0", True),
        ("4.13.0", True),
    ],
)
def test_expands_metadata_per_patch(make_emulator: Any, version: str, has_metadata: bool) -> None:
    with _client(make_emulator, version) as client:
        spec: dict[str, Any] = dict(API_SPEC)
        if ApimVersion.parse(version).automation_preview:  # 4.8's contract
            spec |= {
                "definitionContext": {"origin": "KUBERNETES"},
                "plans": {p["hrid"]: p for p in API_SPEC["plans"]},
            }
        assert client.put(f"{AUTO}/apis", json=spec).status_code == 200
        found = client.post(f"{V2}/apis/_search", params={"expands": "metadata"}, json={}).json()["data"]
        listed = client.get(f"{V2}/apis", params={"expands": "metadata"}).json()["data"]
        assert ("metadata" in found[0]) is has_metadata
        assert ("metadata" in listed[0]) is has_metadata


def test_uuid_flag_spelling(make_emulator: Any) -> None:
    for version, flag in (("4.9.0", "legacy"), ("4.11.25", "legacy"), ("4.12.0", "hridContainsUUID")):
        with _client(make_emulator, version) as client:
            body = api_body("default-by-uuid")
            # the UUID goes in the hrid field, so it must pass the version's HRID pattern: before 4.12 a
            # UUID that starts with a digit is refused
            body["hrid"] = "1c9d4d68-0000-4000-8000-000000000001"
            r = client.put(f"{AUTO}/apis", params={flag: "true"}, json=body)
            assert r.status_code == (400 if flag == "legacy" else 200), version
            body = api_body("default-by-uuid-2")
            body["hrid"] = "ac9d4d68-0000-4000-8000-000000000001"
            r = client.put(f"{AUTO}/apis", params={flag: "true"}, json=body)
            assert r.status_code == 200, (version, r.text)
            assert r.json()["id"] == body["hrid"], version
            got = client.get(f"{AUTO}/apis/{body['hrid']}", params={flag: "true"}).json()
            # legacy (4.9-4.11) kept the HRID; hridContainsUUID (4.12+) removes it
            assert ("hrid" in got) is (flag == "legacy"), version


def test_hrid_pattern_and_required_plan_security(make_emulator: Any) -> None:
    # 4.9-4.11: ^[a-zA-Z][a-zA-Z0-9_-]{2,}$ and PlanV4.security required; 4.12+: the other way round
    no_security = api_body("1starts-with-digit")
    del no_security["plans"][0]["security"]
    with _client(make_emulator, "4.11.0") as old:
        details = old.put(f"{AUTO}/apis", json=no_security).json()["details"]
        assert {d["location"] for d in details} == {"hrid", "plans[0].security"}
        assert old.put(f"{AUTO}/apis", json=api_body("ends-with-dash-")).status_code == 200
    with _client(make_emulator, "4.12.0") as new:
        assert new.put(f"{AUTO}/apis", json=no_security).status_code == 200
        r = new.put(f"{AUTO}/apis", json=api_body("ends-with-dash-"))
        assert [d["location"] for d in r.json()["details"]] == ["hrid"]


def test_api_types_per_version(make_emulator: Any) -> None:
    llm = api_body("default-llm", type="LLM_PROXY")
    with _client(make_emulator, "4.9.32") as client:
        r = client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=llm)
        assert (r.status_code, r.json()["message"]) == (400, "Unexpected value 'LLM_PROXY'")
    with _client(make_emulator, "4.10.0") as client:
        assert client.put(f"{AUTO}/apis", params={"dryRun": "true"}, json=llm).status_code == 200


def test_automation_preview_of_4_8(make_emulator: Any) -> None:
    """4.8.x: no Automation applications, plans as a map, definitionContext required."""
    with _client(make_emulator, "4.8.32") as client:
        assert client.put(f"{AUTO}/applications", json=APP_SPEC).status_code == 404
        r = client.put(f"{AUTO}/apis", json=API_SPEC)  # a 4.9+ body: plans as a list
        assert (r.status_code, r.json()["technicalCode"]) == (400, "invalidValue")
        preview = {**API_SPEC, "plans": {p["hrid"]: p for p in API_SPEC["plans"]}}
        r = client.put(f"{AUTO}/apis", json=preview)
        assert r.json()["details"] == [{"message": "must not be null", "location": "definitionContext"}]
        r = client.put(f"{AUTO}/apis", json={**preview, "definitionContext": {"origin": "KUBERNETES"}})
        assert r.status_code == 200
        assert client.get(f"{AUTO}/apis/{API_SPEC['hrid']}").status_code == 200


def test_sort_by_values_per_version(make_emulator: Any) -> None:
    with _client(make_emulator, "4.8.0") as client:
        assert client.post(f"{V2}/apis/_search", params={"sortBy": "-name"}, json={}).status_code == 200
        r = client.post(f"{V2}/apis/_search", params={"sortBy": "status"}, json={})
        assert r.json() == {"httpStatus": 400, "message": "Invalid sortBy parameter: status"}
    with _client(make_emulator, "4.9.0") as client:
        assert client.post(f"{V2}/apis/_search", params={"sortBy": "status"}, json={}).status_code == 200


def test_detach_exists_from_a_patch_per_minor(make_emulator: Any) -> None:
    for version, present in (
        ("4.8.19", False),
        ("4.8.20", True),
        ("4.10.4", False),
        ("4.10.5", True),
        ("4.11.0", True),
    ):
        with _client(make_emulator, version) as client:
            r = client.post(f"{V2}/apis/some-id/_detach")
            # present: the route exists (404 for an unknown API); absent: no such route (404 too, but
            # the route-not-found body)
            assert r.status_code == 404
            assert (r.json().get("technicalCode") == "api.notFound") is present, version
