"""Groups through the Automation API (``GroupsResource``, ``GroupResource``, ``ImportGroupCRDUseCase``,
``ValidateGroupCRDDomainServiceImpl``, ``ValidateCRDMembersDomainService``) and the mAPI v2 listing, over
real HTTP to an emulator whose users file has the members (``tests/emulator/support.PEOPLE``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import ids
from tests.emulator.conftest import People
from tests.emulator.support import AUTO, AUTOMATION, V2, SpecBook, api_body

GROUP: dict[str, Any] = {
    "hrid": "default-developers",
    "name": "developers",
    "notifyMembers": False,
    "members": [
        {"source": "memory", "sourceId": "publisher", "roles": {"API": "OWNER", "APPLICATION": "OWNER"}},
        {"source": "memory", "sourceId": "user"},
    ],
}


def _put(client: httpx.Client, body: dict[str, Any], **params: str) -> httpx.Response:
    return client.put(f"{AUTO}/groups", json=body, params=params)


def test_put_echoes_the_request_and_get_reads_the_stored_members(people: People, specs: SpecBook) -> None:
    admin = people.as_("admin")
    r = _put(admin, GROUP)
    assert r.status_code == 200, r.text
    state = r.json()
    specs.schema(AUTOMATION, "GroupState", state)
    assert state["id"] == ids.top_level_id("DEFAULT", "DEFAULT", "default-developers")
    # the echo is the request as sent (a member without roles shows {}), plus the status
    assert state["members"][1] == {"source": "memory", "sourceId": "user", "roles": {}}
    assert state["memberCount"] == 2
    assert state["errors"] == {"severe": [], "warning": []}
    r = admin.get(f"{AUTO}/groups/default-developers")
    assert r.status_code == 200
    read = r.json()
    specs.schema(AUTOMATION, "GroupState", read)
    assert read["notifyMembers"] is False and read["hrid"] == "default-developers" and "errors" not in read
    # every member has a role in each of the three scopes, defaults (USER) where none was given
    assert read["members"] == [
        {
            "source": "memory",
            "sourceId": "publisher",
            "roles": {"API": "OWNER", "APPLICATION": "OWNER", "INTEGRATION": "USER"},
        },
        {
            "source": "memory",
            "sourceId": "user",
            "roles": {"API": "USER", "APPLICATION": "USER", "INTEGRATION": "USER"},
        },
    ]


def test_unknown_members_and_roles_are_warnings(people: People) -> None:
    admin = people.as_("admin")
    body = {
        "hrid": "default-warned",
        "name": "warned",
        "members": [
            {"source": "memory", "sourceId": "ghost"},
            {"source": "memory", "sourceId": "other", "roles": {"API": "NOPE"}},
        ],
    }
    r = _put(admin, body)
    assert r.status_code == 200, r.text
    assert r.json()["memberCount"] == 1
    assert r.json()["errors"] == {
        "severe": [],
        "warning": [
            "member [ghost] of source [memory] could not be found in organization [DEFAULT]",
            "member role [NOPE] doesn't exist",
        ],
    }
    read = admin.get(f"{AUTO}/groups/default-warned").json()
    # the unknown role was replaced by the scope's default role on import
    assert read["members"] == [
        {
            "source": "memory",
            "sourceId": "other",
            "roles": {"API": "USER", "APPLICATION": "USER", "INTEGRATION": "USER"},
        }
    ]


@pytest.mark.parametrize(
    ("member", "message", "scopes"),
    [
        (
            {"source": "memory", "sourceId": "user", "roles": {"APPLICATION": "PRIMARY_OWNER"}},
            "setting a member with the primary owner role is not allowed",
            1,
        ),
        # the caller is refused once per scope checked (API, APPLICATION, INTEGRATION)
        ({"source": "memory", "sourceId": "admin"}, "can not change the role of primary owner [admin]", 3),
    ],
)
def test_primary_owner_and_the_caller_are_severe(
    people: People, member: dict[str, Any], message: str, scopes: int
) -> None:
    admin = people.as_("admin")
    body = {"hrid": "default-severe", "name": "severe", "members": [member]}
    dry = _put(admin, body, dryRun="true")
    assert dry.status_code == 200
    assert dry.json()["errors"] == {"severe": [message], "warning": []}  # GroupCRDStatus: distinct
    r = _put(admin, body)
    assert r.status_code == 400
    assert r.json() == {  # ImportGroupCRDUseCase joins every severe error, duplicates included
        "httpStatus": 400,
        "message": f"Unable to import because of errors [{','.join([message] * scopes)}]",
        "technicalCode": "invalid",
    }
    assert admin.get(f"{AUTO}/groups/default-severe").status_code == 404


def test_dry_run_stores_nothing_and_shows_errors_only_when_there_are_some(people: People) -> None:
    admin = people.as_("admin")
    r = _put(admin, GROUP, dryRun="true")
    assert r.status_code == 200
    assert "errors" not in r.json() and r.json()["memberCount"] == 2
    r = admin.get(f"{AUTO}/groups/default-developers")
    assert r.status_code == 404
    assert r.json() == {
        "httpStatus": 404,
        "message": "HRID [default-developers] cannot be found.",
        "technicalCode": "hrid.notFound",
    }


def test_an_update_replaces_the_members(people: People) -> None:
    admin = people.as_("admin")
    assert _put(admin, GROUP).status_code == 200
    assert _put(admin, {**GROUP, "notifyMembers": True, "members": GROUP["members"][1:]}).status_code == 200
    read = admin.get(f"{AUTO}/groups/default-developers").json()
    assert [m["sourceId"] for m in read["members"]] == ["user"]
    assert read["notifyMembers"] is True and read["memberCount"] == 1
    # an explicit null: not echoed, and the import's primitive boolean reads it as false
    echo = _put(admin, {**GROUP, "notifyMembers": None}).json()
    assert "notifyMembers" not in echo
    assert admin.get(f"{AUTO}/groups/default-developers").json()["notifyMembers"] is False


def test_hrid_contains_uuid(people: People) -> None:
    admin = people.as_("admin")
    group_id = "5F0A5BD4-0000-4000-8000-00000000000A"
    r = _put(admin, {**GROUP, "hrid": group_id}, hridContainsUUID="true")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == group_id.lower() and r.json()["hrid"] == group_id  # the echo keeps the spec
    read = admin.get(f"{AUTO}/groups/{group_id.lower()}", params={"hridContainsUUID": "true"}).json()
    assert read["id"] == group_id.lower() and "hrid" not in read
    r = _put(admin, {**GROUP, "hrid": "not-a-uuid"}, hridContainsUUID="true")
    assert r.status_code == 400
    assert r.json()["message"] == "Unable to import because of errors [property [id] must be a valid UUID]"


def test_body_errors(people: People) -> None:
    admin = people.as_("admin")
    r = _put(admin, {"hrid": "default-x"})
    assert r.status_code == 400
    assert r.json() == {
        "httpStatus": 400,
        "message": "Validation error",
        "details": [{"message": "must not be null", "location": "name"}],
    }
    r = _put(admin, {"hrid": "default-x", "name": "x", "members": [{"source": "memory"}]})
    assert r.json()["details"] == [{"message": "must not be null", "location": "members[0].sourceId"}]
    # RoleScope.valueOf in the mapper, before any validation: no mapper handles it
    r = _put(
        admin,
        {
            "hrid": "default-x",
            "name": "x",
            "members": [{"source": "memory", "sourceId": "user", "roles": {"api": "USER"}}],
        },
    )
    assert r.status_code == 500 and r.content == b""


def test_permissions(people: People) -> None:
    assert _put(people.as_("admin"), GROUP).status_code == 200
    user = people.as_("user")  # environment USER: ENVIRONMENT_GROUP[R] only
    assert user.get(f"{AUTO}/groups/default-developers").status_code == 200
    assert _put(user, GROUP).status_code == 403
    assert user.delete(f"{AUTO}/groups/default-developers").status_code == 403


def test_api_groups_find_the_group_are_exported_by_hrid_and_a_delete_removes_them(people: People) -> None:
    admin = people.as_("admin")
    assert _put(admin, GROUP).status_code == 200
    r = admin.put(f"{AUTO}/apis", json=api_body("default-grouped", groups=["developers", "unknown"]))
    assert r.status_code == 200, r.text
    assert r.json()["errors"]["warning"] == ["Group [unknown] could not be found in environment [DEFAULT]"]
    # the export names the group by its HRID (ApiResource.replaceGroupNamesWithHrids)
    assert admin.get(f"{AUTO}/apis/default-grouped").json()["groups"] == ["default-developers"]
    assert admin.delete(f"{AUTO}/groups/default-developers").status_code == 204
    assert admin.get(f"{AUTO}/apis/default-grouped").json()["groups"] == []
    assert admin.delete(f"{AUTO}/groups/default-developers").status_code == 404


def test_groups_are_listed_by_name_in_mapi_v2(people: People, specs: SpecBook) -> None:
    admin = people.as_("admin")
    for name in ("zeta", "Alpha", "beta"):
        assert _put(admin, {"hrid": f"default-{name.lower()}", "name": name}).status_code == 200
    r = admin.get(f"{V2}/groups", params={"perPage": 2})
    assert r.status_code == 200
    page = r.json()
    specs.check(
        "openapi-apis.yaml", "/components/responses/GroupsResponse/content/application~1json/schema", page
    )
    assert [g["name"] for g in page["data"]] == ["Alpha", "beta"]  # String.compareTo: upper case first
    assert page["pagination"]["totalCount"] == 3 and page["data"][0]["manageable"] is True
    assert people.as_("user").get(f"{V2}/groups").json()["data"][0]["manageable"] is False


@pytest.mark.parametrize(("version", "status"), [("4.11.25", 404), ("4.12.0", 200)])
def test_groups_exist_from_4_12(make_emulator: Any, version: str, status: int) -> None:
    emu = make_emulator(apim_version=version)
    r = httpx.put(
        f"{emu.base_url}{AUTO}/groups", json={"hrid": "default-g", "name": "g"}, auth=("admin", "admin")
    )
    assert r.status_code == status, r.text
