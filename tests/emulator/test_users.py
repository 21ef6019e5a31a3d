"""mAPI v1 users as the service-account commands use them (UsersResource, UserResource, CurrentUserResource)."""

from __future__ import annotations

import httpx

from tests.emulator.conftest import People

ORG = "/management/organizations/DEFAULT"


def test_current_user(people: People) -> None:
    me = people.as_("publisher").get(f"{ORG}/user").json()
    assert me["sourceId"] == "publisher" and me["organizationId"] == "DEFAULT"
    assert me["roles"] == [
        {
            "scope": "ORGANIZATION",
            "name": "USER",
            "permissions": {
                "ENVIRONMENT": ["R"],
                "ROLE": ["R"],
                "TAG": ["R"],
                "TENANT": ["R"],
                "ENTRYPOINT": ["R"],
            },
        }
    ]


def test_create_search_and_read_users(client: httpx.Client) -> None:
    r = client.post(f"{ORG}/users", json={"service": True, "firstname": "Ro", "lastname": "bot"})
    assert r.status_code == 400
    assert r.json()["message"] == "a service account must not have a firstname"
    assert r.json()["path"] == "createUser.newPreRegisterUserEntity"  # a class-level constraint
    r = client.post(f"{ORG}/users", json={"service": True, "lastname": "robot"})
    assert r.status_code == 200  # 200, not 201
    user = r.json()
    again = client.post(f"{ORG}/users", json={"service": True, "lastname": "robot"})
    assert again.json() == {
        "message": "A user [robot] already exists for organization DEFAULT.",
        "http_status": 400,
        "parameters": {"user": "robot", "organizationId": "DEFAULT", "source": "gravitee"},
        "technicalCode": "user.exists",
    }
    page = client.get(f"{ORG}/users", params={"q": "robot"}).json()
    assert [u["id"] for u in page["data"]] == [user["id"]]
    assert page["page"] == {"current": 1, "size": 1, "per_page": 20, "total_pages": 1, "total_elements": 1}
    full = client.get(f"{ORG}/users/{user['id']}").json()
    assert {r["name"] for r in full["roles"]} == {"USER"} and set(full["envRoles"]) == {"DEFAULT"}
