"""Roles by id (``UserServiceImpl.updateUserRoles``), the role listing, a caller's environment permissions,
personal access token names."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.emulator.conftest import People

ORG = "/management/organizations/DEFAULT"
ENV = f"{ORG}/environments/DEFAULT"


def _roles(client: httpx.Client, scope: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"{ORG}/configuration/rolescopes/{scope}/roles")
    assert r.status_code == 200, r.text
    return {role["name"]: role for role in r.json()}


def _service_account(client: httpx.Client, name: str = "ci-bot") -> dict[str, Any]:
    r = client.post(f"{ORG}/users", json={"lastname": name, "service": True})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_role_listing(client: httpx.Client) -> None:
    org = client.get(f"{ORG}/configuration/rolescopes/ORGANIZATION/roles").json()
    assert [r["name"] for r in org] == ["ADMIN", "USER"]  # sorted by name
    admin, user = org
    uuid.UUID(admin["id"])  # a random UUID, never the name
    assert admin["system"] is True and admin["default"] is False
    assert user["default"] is True and user["permissions"]["ROLE"] == ["R"]
    env = _roles(client, "ENVIRONMENT")
    assert list(env) == ["ADMIN", "API_PUBLISHER", "EDGE_MANAGER", "FEDERATION_AGENT", "USER"]
    assert env["API_PUBLISHER"]["permissions"]["API"] == ["C", "R", "U", "D"]
    assert env["USER"]["permissions"]["APPLICATION"] == ["C", "R", "U", "D"]
    assert list(_roles(client, "API")) == ["OWNER", "PRIMARY_OWNER", "REVIEWER", "USER"]
    assert client.get(f"{ORG}/configuration/rolescopes/GROUP/roles").json() == []  # not modelled
    assert client.get(f"{ORG}/configuration/rolescopes/NOPE/roles").status_code == 404


def test_role_ids_differ_between_installations(make_emulator: Any) -> None:
    seen = set()
    for _ in range(2):
        emu = make_emulator()
        body = httpx.get(
            f"{emu.base_url}{ORG}/configuration/rolescopes/ORGANIZATION/roles", auth=("admin", "admin")
        ).json()
        seen.add(body[0]["id"])
    assert len(seen) == 2


def test_update_roles_takes_ids(client: httpx.Client) -> None:
    account = _service_account(client)
    env_roles = _roles(client, "ENVIRONMENT")
    org_roles = _roles(client, "ORGANIZATION")
    # a new user has the default roles: organization USER and environment USER on DEFAULT
    user = client.get(f"{ORG}/users/{account['id']}").json()
    assert [r["name"] for r in user["roles"]] == ["USER"]
    assert [r["name"] for r in user["envRoles"]["DEFAULT"]] == ["USER"]
    assert user["roles"][0]["id"] == org_roles["USER"]["id"]

    body = {"user": account["id"], "referenceType": "ENVIRONMENT", "referenceId": "DEFAULT"}
    r = client.put(
        f"{ORG}/users/{account['id']}/roles", json=body | {"roles": [env_roles["API_PUBLISHER"]["id"]]}
    )
    assert (r.status_code, r.content) == (200, b"")
    user = client.get(f"{ORG}/users/{account['id']}").json()
    assert [r["name"] for r in user["envRoles"]["DEFAULT"]] == ["API_PUBLISHER"]
    # an id of another scope is ignored (filtered on the reference type)
    r = client.put(
        f"{ORG}/users/{account['id']}/roles",
        json=body | {"roles": [env_roles["API_PUBLISHER"]["id"], org_roles["ADMIN"]["id"]]},
    )
    assert r.status_code == 200
    assert [r["name"] for r in client.get(f"{ORG}/users/{account['id']}").json()["envRoles"]["DEFAULT"]] == [
        "API_PUBLISHER"
    ]


def test_a_role_name_is_not_found_after_the_current_role_was_removed(client: httpx.Client) -> None:
    account = _service_account(client)
    body = {
        "user": account["id"],
        "referenceType": "ORGANIZATION",
        "referenceId": "DEFAULT",
        "roles": ["ADMIN"],
    }
    r = client.put(f"{ORG}/users/{account['id']}/roles", json=body)
    assert r.status_code == 404
    assert r.json() == {
        "message": "Role [ADMIN] cannot be found.",
        "http_status": 404,
        "parameters": {"id": "ADMIN"},
        "technicalCode": "role.notFound",
    }
    # the removal loop ran first: the account lost its organization USER role
    assert client.get(f"{ORG}/users/{account['id']}").json()["roles"] == []


def test_environment_permissions(people: People) -> None:
    admin = people.as_("admin").get(f"{ENV}/permissions").json()
    assert admin["API"] == ["C", "R", "U", "D"] and admin["AI_WORKSPACE"] == ["C", "R", "U", "D"]
    publisher = people.as_("publisher").get(f"{ENV}/permissions").json()
    assert publisher["API"] == ["C", "R", "U", "D"] and "SETTINGS" not in publisher
    user = people.as_("user").get(f"{ENV}/permissions").json()
    assert user["API"] == ["R"] and user["APPLICATION"] == ["C", "R", "U", "D"]
    # an organization ADMIN has every permission even without an environment role
    assert people.as_("orgadmin").get(f"{ENV}/permissions").json() == admin


def test_listing_roles_needs_organization_role_read(people: People) -> None:
    assert people.as_("user").get(f"{ORG}/configuration/rolescopes/ENVIRONMENT/roles").status_code == 200
    # managing users needs ORGANIZATION_USERS, which the organization USER role lacks
    r = people.as_("publisher").get(f"{ORG}/users")
    assert r.status_code == 403 and r.json()["http_status"] == 403


def test_token_names_are_unique_without_regard_to_case(client: httpx.Client) -> None:
    account = _service_account(client)
    assert client.post(f"{ORG}/users/{account['id']}/tokens", json={"name": "Deploy"}).status_code == 201
    r = client.post(f"{ORG}/users/{account['id']}/tokens", json={"name": "deploy"})
    assert r.status_code == 400
    assert r.json() == {
        "message": "A token with the name [deploy] already exists.",
        "http_status": 400,
        "technicalCode": "token.alreadyExists",
    }
    listed = client.get(f"{ORG}/users/{account['id']}/tokens").json()
    assert [t["name"] for t in listed] == ["Deploy"] and "expires_at" not in listed[0]  # never expires
    r = client.delete(f"{ORG}/users/{account['id']}/tokens/nope")
    assert (r.status_code, r.json()["message"]) == (404, "Token [nope] cannot be found.")
