"""Authentication and organization/environment resolution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator import RunningEmulator
from tests.emulator.support import V2


def test_basic_and_bearer(emulator: RunningEmulator) -> None:
    assert httpx.get(emulator.base_url + V2, auth=("admin", "admin")).status_code == 200
    bearer = {"Authorization": "Bearer emulator-token"}
    assert httpx.get(emulator.base_url + V2, headers=bearer).status_code == 200


def test_wrong_credentials_are_401_with_empty_body(emulator: RunningEmulator) -> None:
    for headers in (
        {},
        {"Authorization": "Basic " + "YWRtaW46d3Jvbmc="},  # admin:wrong
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer eyJhbGciOi.eyJzdWIi.sig"},  # a console JWT: not issued by the emulator
        {"Authorization": "Digest x"},
    ):
        r = httpx.get(emulator.base_url + V2, headers=headers)
        assert r.status_code == 401 and r.content == b"", headers


def test_unknown_environment_or_organization_is_400(emulator: RunningEmulator) -> None:
    expected = {"httpStatus": 400, "message": "Invalid organization or environment"}
    for path in (
        "/management/v2/organizations/DEFAULT/environments/nope",
        "/management/v2/organizations/NOPE/environments/DEFAULT",
    ):
        r = httpx.get(emulator.base_url + path, auth=("admin", "admin"))
        assert (r.status_code, r.json()) == (400, expected)


def test_environment_by_hrid(emulator: RunningEmulator) -> None:
    r = httpx.get(
        emulator.base_url + "/management/v2/organizations/DEFAULT/environments/default",
        auth=("admin", "admin"),
    )
    assert r.json()["id"] == "DEFAULT"


def test_users_file(make_emulator: Any, tmp_path: Path) -> None:
    users = {
        "organizations": [
            {
                "id": "acme",
                "environments": [{"id": "env-prod", "hrids": ["prod"], "name": "Prod", "description": "P"}],
            },
            {"id": "other", "environments": [{"id": "x"}]},
        ],
        "users": [
            {"username": "ci", "password": "s3cret", "tokens": ["pat-1"], "organizations": ["acme"]},
            {"username": "root", "password": "r", "organizations": ["*"]},
        ],
    }
    path = tmp_path / "users.json"
    path.write_text(json.dumps(users))
    emu = make_emulator(users=str(path))
    base = emu.base_url + "/management/v2/organizations"
    r = httpx.get(f"{base}/acme/environments/prod", headers={"Authorization": "Bearer pat-1"})
    assert r.json() == {"id": "env-prod", "name": "Prod", "description": "P"}
    assert httpx.get(f"{base}/other/environments/x", auth=("ci", "s3cret")).status_code == 403
    assert httpx.get(f"{base}/other/environments/x", auth=("root", "r")).status_code == 200
    # an unknown organization/environment is refused before authentication (GraviteeContextFilter)
    assert httpx.get(f"{base}/DEFAULT/environments/DEFAULT", auth=("admin", "admin")).status_code == 400
    assert httpx.get(f"{base}/acme/environments/prod", auth=("admin", "admin")).status_code == 401
    assert "s3cret" not in repr(emu.server.context.directory.users)


def test_mapi_v2_without_organization_in_path(emulator: RunningEmulator) -> None:
    r = httpx.get(emulator.base_url + "/management/v2/environments/DEFAULT/apis", auth=("admin", "admin"))
    assert r.status_code == 200 and r.json()["data"] == []
    assert (
        httpx.get(emulator.base_url + "/management/v2/environments/nope", auth=("admin", "admin")).status_code
        == 400
    )
