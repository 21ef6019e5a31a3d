"""Contract of the emulator's mAPI v1 users/tokens endpoints, as `reconciler/emulator/mapi_v1_users.py`
documents them (shapes read from APIM's source), and the roles the emulator enforces with them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.emulator.support import API_SPEC, AUTO, V2
from tests.identity.helpers import ORG, hs256_jwt

ADMIN = ("admin", "admin")


def _client(emulator: RunningEmulator, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=emulator.base_url, timeout=5, **kwargs)


def _service_account(c: httpx.Client, name: str = "robot") -> dict[str, Any]:
    r = c.post(f"{ORG}/users", json={"service": True, "lastname": name}, auth=ADMIN)
    assert r.status_code == 200, r.text  # APIM's UsersResource answers Response.ok, not 201
    body: dict[str, Any] = r.json()
    return body


def _token(c: httpx.Client, user_id: str, name: str = "t1") -> dict[str, Any]:
    r = c.post(f"{ORG}/users/{user_id}/tokens", json={"name": name}, auth=ADMIN)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _roles(c: httpx.Client, user_id: str, ref_type: str, ref_id: str, roles: list[str]) -> httpx.Response:
    """Set roles by name, the way a client must: APIM takes role ids, listed per scope (an unknown
    name is sent as it is, to see APIM refuse it)."""
    listed = c.get(f"{ORG}/configuration/rolescopes/{ref_type}/roles", auth=ADMIN).json()
    ids = {r["name"]: r["id"] for r in listed}
    body = {
        "user": user_id,
        "referenceType": ref_type,
        "referenceId": ref_id,
        "roles": [ids.get(n, n) for n in roles],
    }
    return c.put(f"{ORG}/users/{user_id}/roles", json=body, auth=ADMIN)


def test_create_find_and_read_a_service_account(emulator: RunningEmulator) -> None:
    with _client(emulator) as c:
        user = _service_account(c)
        assert user["sourceId"] == user["lastname"] == user["displayName"] == "robot"
        assert user["serviceAccount"] is True and "firstname" not in user and "email" not in user
        assert isinstance(user["created_at"], int) and user["organizationId"] == "DEFAULT"

        page = c.get(f"{ORG}/users", params={"q": "robo", "page": 1, "size": 10}, auth=ADMIN).json()
        assert [u["id"] for u in page["data"]] == [user["id"]]
        assert page["page"] == {
            "current": 1,
            "size": 1,
            "per_page": 10,
            "total_pages": 1,
            "total_elements": 1,
        }
        everyone = c.get(f"{ORG}/users", auth=ADMIN).json()
        assert {u["sourceId"] for u in everyone["data"]} == {"admin", "robot"}

        full = c.get(f"{ORG}/users/{user['id']}", auth=ADMIN).json()
        assert [r["name"] for r in full["roles"]] == ["USER"] and full["roles"][0]["scope"] == "ORGANIZATION"
        # A new user gets the default roles: USER on the organization and on each environment.
        assert [r["name"] for r in full["envRoles"]["DEFAULT"]] == ["USER"]
        assert c.get(f"{ORG}/users/nope", auth=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"service": True, "firstname": "Ro", "lastname": "bot"},
            "a service account must not have a firstname",
        ),
        ({"service": True}, "a service account requires a sourceId, lastname or email"),
        ({"lastname": "Person"}, "email is required"),
    ],
)
def test_new_user_validation(emulator: RunningEmulator, body: dict[str, Any], message: str) -> None:
    r = httpx.post(f"{emulator.base_url}{ORG}/users", json=body, auth=ADMIN)
    assert r.status_code == 400 and message in r.json()["message"]


def test_same_source_id_twice_is_refused(emulator: RunningEmulator) -> None:
    with _client(emulator) as c:
        _service_account(c)
        r = c.post(f"{ORG}/users", json={"service": True, "lastname": "robot"}, auth=ADMIN)
        assert r.status_code == 400 and "already exists" in r.json()["message"]


def test_roles_replace_per_reference(emulator: RunningEmulator) -> None:
    with _client(emulator) as c:
        user = _service_account(c)
        r = _roles(c, user["id"], "ORGANIZATION", "DEFAULT", ["ADMIN"])
        assert (r.status_code, r.content) == (200, b"")
        assert (
            _roles(c, user["id"], "ENVIRONMENT", "default", ["API_PUBLISHER"]).status_code == 200
        )  # by HRID
        full = c.get(f"{ORG}/users/{user['id']}", auth=ADMIN).json()
        assert [r["name"] for r in full["roles"]] == ["ADMIN"]
        assert [r["name"] for r in full["envRoles"]["DEFAULT"]] == ["API_PUBLISHER"]
        assert _roles(c, user["id"], "ENVIRONMENT", "DEFAULT", ["NOPE"]).status_code == 404


def test_tokens_are_shown_once_work_at_once_and_die_when_revoked(emulator: RunningEmulator) -> None:
    with _client(emulator) as c:
        user = _service_account(c)
        created = _token(c, user["id"])
        assert set(created) == {"id", "name", "token", "created_at"}
        assert "." not in created["token"]
        me = c.get(f"{ORG}/user", headers={"Authorization": f"Bearer {created['token']}"})
        assert me.status_code == 200
        assert me.json()["id"] == user["id"] and me.json()["serviceAccount"] is True
        assert [(r["scope"], r["name"]) for r in me.json()["roles"]] == [("ORGANIZATION", "USER")]

        listed = c.get(f"{ORG}/users/{user['id']}/tokens", auth=ADMIN).json()
        assert [set(t) for t in listed] == [{"id", "name", "created_at", "last_use_at"}]
        assert listed[0]["last_use_at"] >= created["created_at"]
        again = c.post(f"{ORG}/users/{user['id']}/tokens", json={"name": "t1"}, auth=ADMIN)
        assert again.status_code == 400
        assert c.post(f"{ORG}/users/{user['id']}/tokens", json={"name": ""}, auth=ADMIN).status_code == 400

        r = c.delete(f"{ORG}/users/{user['id']}/tokens/{created['id']}", auth=ADMIN)
        assert r.status_code == 204
        gone = c.get(f"{ORG}/user", headers={"Authorization": f"Bearer {created['token']}"})
        assert (gone.status_code, gone.content) == (401, b"")
        assert c.delete(f"{ORG}/users/{user['id']}/tokens/{created['id']}", auth=ADMIN).status_code == 404


def test_api_writes_need_api_publisher_on_the_environment(emulator: RunningEmulator) -> None:
    """Without organization ADMIN (which passes every check), API writes need API_PUBLISHER (or
    ADMIN) on the environment; managing users needs organization ADMIN."""
    with _client(emulator) as c:
        user = _service_account(c)
        _roles(c, user["id"], "ENVIRONMENT", "DEFAULT", ["USER"])
        bearer = {"Authorization": f"Bearer {_token(c, user['id'])['token']}"}
        assert c.get(f"{V2}", headers=bearer).status_code == 200
        assert c.post(f"{V2}/apis/_search", json={}, headers=bearer).status_code == 200  # a read
        assert c.put(f"{AUTO}/apis", json=API_SPEC, headers=bearer).status_code == 403
        assert c.delete(f"{AUTO}/apis/default-my-api", headers=bearer).status_code == 403
        assert c.put(f"{V2}/apis/_import/crd", json={}, headers=bearer).status_code == 403

        _roles(c, user["id"], "ENVIRONMENT", "DEFAULT", ["API_PUBLISHER"])
        assert c.put(f"{AUTO}/apis", json=API_SPEC, headers=bearer).status_code == 200
        assert c.get(f"{ORG}/users", headers=bearer).status_code == 403
        assert c.get(f"{ORG}/user", headers=bearer).status_code == 200


def test_default_admin_keeps_every_right(emulator: RunningEmulator) -> None:
    with _client(emulator, headers={"Authorization": "Bearer emulator-token"}) as c:
        me = c.get(f"{ORG}/user").json()
        assert me["sourceId"] == "admin" and me["roles"][0]["name"] == "ADMIN"
        assert c.put(f"{AUTO}/apis", json=API_SPEC).status_code == 200
        assert c.get(f"{ORG}/users").status_code == 200


def test_token_ttl_knob_expires_tokens(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(token_ttl_seconds=0.4)
    with _client(emu) as c:
        user = _service_account(c)
        created = _token(c, user["id"])
        assert created["expires_at"] - created["created_at"] == 400
        bearer = {"Authorization": f"Bearer {created['token']}"}
        assert c.get(f"{ORG}/user", headers=bearer).status_code == 200
        time.sleep(0.5)
        expired = c.get(f"{ORG}/user", headers=bearer)
        assert (expired.status_code, expired.content) == (401, b"")


def test_console_jwts_with_a_jwt_secret(make_emulator: Callable[..., RunningEmulator]) -> None:
    users = {
        "jwtSecret": "s3cret-signing-key",
        "organizations": [{"id": "DEFAULT", "environments": [{"id": "DEFAULT"}]}],
        "users": [{"username": "admin", "password": "admin", "organizations": ["DEFAULT"]}],
    }
    emu = make_emulator(users=users)
    now = int(time.time())
    good = hs256_jwt("s3cret-signing-key", {"sub": "admin", "exp": now + 60})
    expired = hs256_jwt("s3cret-signing-key", {"sub": "admin", "exp": now - 1})
    forged = hs256_jwt("another-key", {"sub": "admin", "exp": now + 60})
    with _client(emu) as c:
        assert c.get(f"{ORG}/user", headers={"Authorization": f"Bearer {good}"}).json()["sourceId"] == "admin"
        for token in (expired, forged, good + "x"):
            assert c.get(f"{ORG}/user", headers={"Authorization": f"Bearer {token}"}).status_code == 401
