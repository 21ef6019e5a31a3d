"""Permission checks per endpoint and role (``PermissionServiceImpl``, ``PermissionsFilter``,
``@Permissions``), and what a caller without the organization ADMIN role sees."""

from __future__ import annotations

from tests.emulator.conftest import People
from tests.emulator.support import APP_SPEC, AUTO, V1, V2, api_body


def _put(people: People, who: str, hrid: str, **changes: object) -> int:
    return people.as_(who).put(f"{AUTO}/apis", json=api_body(hrid, **changes)).status_code


def test_organization_admin_needs_no_environment_role(people: People) -> None:
    assert _put(people, "orgadmin", "default-by-orgadmin") == 200
    assert people.as_("orgadmin").get(f"{AUTO}/apis/default-by-orgadmin").status_code == 200


def test_environment_user_writes_applications_not_apis(people: People) -> None:
    user = people.as_("user")
    r = user.put(f"{AUTO}/apis", json=api_body("default-by-user"))
    assert r.status_code == 403
    assert r.json() == {
        "httpStatus": 403,
        "message": "You do not have sufficient rights to access this resource",
        "technicalCode": "forbidden",
    }
    assert user.put(f"{AUTO}/applications", json=APP_SPEC).status_code == 200
    # the creator is the application's primary owner, so it can read it back
    assert user.get(f"{AUTO}/applications/{APP_SPEC['hrid']}").status_code == 200


def test_reads_need_a_membership_and_a_missing_hrid_is_403(people: People) -> None:
    assert _put(people, "publisher", "default-mine") == 200
    publisher, other = people.as_("publisher"), people.as_("other")
    assert publisher.get(f"{AUTO}/apis/default-mine").status_code == 200  # PRIMARY_OWNER
    assert other.get(f"{AUTO}/apis/default-mine").status_code == 403
    assert other.delete(f"{AUTO}/apis/default-mine").status_code == 403
    assert other.get(f"{AUTO}/apis/default-missing").status_code == 403  # not 404: no membership
    assert people.as_("admin").get(f"{AUTO}/apis/default-missing").status_code == 404


def test_put_needs_only_the_environment_permission_so_it_overwrites(people: People) -> None:
    """ImportApiCRDUseCase finds the API by crossId and updates it: no membership is checked."""
    assert _put(people, "publisher", "default-shared", description="the publisher's") == 200
    assert _put(people, "other", "default-shared", description="taken over") == 200
    state = people.as_("publisher").get(f"{AUTO}/apis/default-shared").json()
    assert state["description"] == "taken over"
    assert people.as_("other").get(f"{AUTO}/apis/default-shared").status_code == 403  # still not a member


def test_search_shows_only_managed_apis_by_default(people: People) -> None:
    assert _put(people, "publisher", "default-pub") == 200
    assert _put(people, "admin", "default-admin") == 200
    pub = people.as_("publisher")
    found = pub.post(f"{V2}/apis/_search", json={}).json()
    assert [a["name"] for a in found["data"]] == ["default-pub"]
    assert found["pagination"]["totalCount"] == 1
    # manageOnly=false: any API membership counts, still not every API
    assert len(pub.post(f"{V2}/apis/_search", params={"manageOnly": "false"}, json={}).json()["data"]) == 1
    assert [a["name"] for a in pub.get(f"{V2}/apis").json()["data"]] == ["default-pub"]
    assert len(people.as_("admin").post(f"{V2}/apis/_search", json={}).json()["data"]) == 2
    empty = people.as_("other").post(f"{V2}/apis/_search", json={}).json()
    assert empty["data"] == [] and empty["pagination"]["totalCount"] == 0
    # a v2 API path needs API_DEFINITION on the API
    api_id = found["data"][0]["id"]
    assert people.as_("other").get(f"{V2}/apis/{api_id}").status_code == 403
    assert people.as_("other").delete(f"{V2}/apis/{api_id}", params={"closePlans": "true"}).status_code == 403


def test_paged_applications_are_filtered(people: People) -> None:
    people.as_("user").put(f"{AUTO}/applications", json=APP_SPEC)
    people.as_("admin").put(
        f"{AUTO}/applications", json=APP_SPEC | {"hrid": "default-admin-app", "name": "B"}
    )
    mine = people.as_("user").get(f"{V1}/applications/_paged").json()
    assert [a["name"] for a in mine["data"]] == [APP_SPEC["name"]]
    assert people.as_("admin").get(f"{V1}/applications/_paged").json()["page"]["total_elements"] == 2
    # ARCHIVED is for organization admins only
    assert (
        people.as_("user").get(f"{V1}/applications/_paged", params={"status": "ARCHIVED"}).status_code == 403
    )
    assert (
        people.as_("admin").get(f"{V1}/applications/_paged", params={"status": "ARCHIVED"}).status_code == 200
    )


def test_reading_an_api_by_uuid_needs_hrid_contains_api_uuid_too(people: People) -> None:
    """From 4.12 PermissionsFilter reads ``hridContainsApiUUID`` for ``/apis/{apiHrid}``: with
    ``hridContainsUUID`` alone the UUID is checked as an HRID, so a member gets a 403."""
    assert _put(people, "publisher", "default-by-id") == 200
    pub = people.as_("publisher")
    api_id = pub.post(f"{V2}/apis/_search", json={}).json()["data"][0]["id"]
    assert pub.get(f"{AUTO}/apis/{api_id}", params={"hridContainsUUID": "true"}).status_code == 403
    both = {"hridContainsUUID": "true", "hridContainsApiUUID": "true"}
    assert pub.get(f"{AUTO}/apis/{api_id}", params=both).status_code == 200
    assert (
        people.as_("admin").get(f"{AUTO}/apis/{api_id}", params={"hridContainsUUID": "true"}).status_code
        == 200
    )
