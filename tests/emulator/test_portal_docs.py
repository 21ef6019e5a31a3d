"""Automation API documentation pages of the next-gen portal, on a portal or an API, over real HTTP.

Each test holds one row of docs/emulator-fidelity.md ("Automation API: next-gen portal").
"""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.emulator.ids import name_uuid
from tests.emulator.portal_support import documentation_call, load
from tests.emulator.support import AUTO, AUTOMATION, ENV, ORG, SpecBook, api_body

PORTAL = "default-default-portal"
DOCS = f"{AUTO}/portals/{PORTAL}/documentations"
API_DOCS = f"{AUTO}/apis/my-api/documentations"
AUTH = ("admin", "admin")


def _page(hrid: str = "getting-started", **fields: Any) -> dict[str, Any]:
    return {
        "hrid": hrid,
        "name": "Getting Started",
        "type": "GRAVITEE_MARKDOWN",
        "content": "# Hello",
        **fields,
    }


def _portal(client: httpx.Client, *paths: str) -> None:
    top = [{"path": p} for p in paths]
    r = client.put(
        f"{AUTO}/portals", json={"hrid": PORTAL, "name": "Portal", "structure": {"topNavbar": top}}
    )
    assert r.status_code == 200, r.text


def test_portal_page_lifecycle(client: httpx.Client, specs: SpecBook) -> None:
    _portal(client, "/guides")
    r = client.put(DOCS, json=_page(location="/guides", order=2))
    assert r.status_code == 200, r.text
    state = r.json()
    doc_id = name_uuid(name_uuid(ORG + "portal" + PORTAL) + ENV + "getting-started")
    assert state == {
        **_page(location="/guides", order=2),
        "area": "TOP_NAVBAR",  # the generated model's default
        "id": doc_id,
        "environmentId": ENV,
        "organizationId": ORG,
        "portalHrid": PORTAL,
    }
    specs.schema(AUTOMATION, "DocumentationState", state)
    assert client.get(f"{DOCS}/getting-started").json() == state
    assert client.delete(f"{DOCS}/getting-started").status_code == 204
    r = client.get(f"{DOCS}/getting-started")
    assert r.status_code == 404 and r.json()["message"] == "HRID [getting-started] cannot be found."


def test_a_second_homepage_is_a_conflict_and_its_content_stays(client: httpx.Client) -> None:
    _portal(client)
    assert client.put(DOCS, json=_page("home", area="HOMEPAGE")).status_code == 200
    assert (
        client.put(DOCS, json=_page("home", area="HOMEPAGE", content="# v2")).status_code == 200
    )  # in place
    r = client.put(DOCS, json=_page("welcome", area="HOMEPAGE"))
    assert r.status_code == 409
    assert r.json() == {"httpStatus": 409, "message": "Homepage already exists"}
    saved = client.get(f"{DOCS}/welcome").json()  # the page content was saved before the refusal
    assert saved["area"] == "TOP_NAVBAR" and saved["content"] == "# Hello"
    assert client.get(f"{DOCS}/home").json()["area"] == "HOMEPAGE"
    # a dry run does not look at the navigation: no conflict reported
    dry = client.put(DOCS, params={"dryRun": "true"}, json=_page("other", area="HOMEPAGE"))
    assert dry.status_code == 200 and "errors" not in dry.json()


def test_pages_get_their_navigation_when_the_portal_exists(client: httpx.Client) -> None:
    r = client.put(DOCS, json=_page("home", area="HOMEPAGE"))  # no portal yet: accepted, no navigation page
    assert r.status_code == 200 and r.json()["area"] == "HOMEPAGE"
    assert client.get(f"{DOCS}/home").json()["area"] == "TOP_NAVBAR"
    _portal(client)  # the portal builds the missing navigation pages in TOP_NAVBAR
    assert client.get(f"{DOCS}/home").json()["area"] == "TOP_NAVBAR"
    assert client.put(DOCS, json=_page("home", area="HOMEPAGE")).status_code == 200
    assert client.get(f"{DOCS}/home").json()["area"] == "HOMEPAGE"


def test_page_validation_errors(client: httpx.Client) -> None:
    body = _page(name="  ", location="docs/")
    severe = [
        "name must not be blank",
        "location must start with '/' (was: docs/)",
        "location must not end with '/' (was: docs/)",
    ]
    dry = client.put(DOCS, params={"dryRun": "true"}, json=body)
    assert dry.status_code == 200 and dry.json()["errors"] == {"severe": severe, "warning": []}
    r = client.put(DOCS, json=body)
    assert r.status_code == 400
    assert r.json() == {"httpStatus": 400, "message": ", ".join(severe), "technicalCode": "invalid"}
    r = client.put(DOCS, json={"hrid": "x-doc", "name": "X", "type": "PDF", "content": "x"})
    assert r.status_code == 400 and r.json()["technicalCode"] == "invalidValue"
    r = client.put(DOCS, json={"hrid": "x-doc", "name": "X", "type": "OPENAPI"})
    assert r.json()["details"] == [{"message": "must not be null", "location": "content"}]
    _portal(client)
    r = client.put(f"{AUTO}/portals/default-other/documentations", json=_page())
    assert r.json()["message"] == "portalHrid does not match the established portal for this environment"


def test_content_is_checked_on_an_update_of_the_same_type_only(client: httpx.Client) -> None:
    assert client.put(DOCS, json=_page(content="  ")).status_code == 200  # a new page: not checked
    r = client.put(DOCS, json=_page(content="\n\t"))
    assert r.status_code == 400
    assert r.json() == {
        "httpStatus": 400,
        "message": "Content must not be null or empty",
        "technicalCode": "invalid",
    }
    assert (
        client.put(DOCS, json=_page(type="OPENAPI", content="")).status_code == 200
    )  # another type replaces
    assert client.get(f"{DOCS}/getting-started").json()["type"] == "OPENAPI"


def test_a_page_under_a_folder_must_share_its_area(client: httpx.Client) -> None:
    _portal(client, "/guides/start")
    portal_id = name_uuid(name_uuid(ORG + PORTAL) + ENV)
    folder = name_uuid(ORG + ENV + portal_id + "folder" + "/guides")  # an implicit folder
    r = client.put(DOCS, json=_page(area="HOMEPAGE", location="/guides"))
    assert r.status_code == 400
    assert (
        r.json()["message"] == f"Parent item with id {folder} belongs to a different area than the child item"
    )
    assert client.get(f"{DOCS}/getting-started").json()["area"] == "TOP_NAVBAR"  # saved, no navigation page
    assert client.put(DOCS, json=_page(area="HOMEPAGE", location="/elsewhere")).status_code == 200  # phantom


def test_api_pages(client: httpx.Client, specs: SpecBook) -> None:
    r = client.put(API_DOCS, params={"dryRun": "true"}, json=_page(area="HOMEPAGE"))
    assert r.status_code == 400
    assert r.json()["message"] == "API documentation must be under TOP_NAVBAR area"
    r = client.put(API_DOCS, json=_page(location="/docs", order=1))  # the API does not exist: not checked
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["id"] == name_uuid(name_uuid(ORG + "api" + "my-api") + ENV + "getting-started")
    assert state["apiHrid"] == "my-api" and "portalHrid" not in state
    specs.schema(AUTOMATION, "DocumentationState", state)
    assert client.get(f"{API_DOCS}/getting-started").json() == state
    assert client.get(f"{DOCS}/getting-started").status_code == 404  # another id scheme


def test_api_pages_need_api_documentation_on_the_api(people: Any) -> None:
    publisher, other = people.as_("publisher"), people.as_("other")
    assert publisher.put(f"{AUTO}/apis", json=api_body("my-api")).status_code == 200  # PRIMARY_OWNER
    assert publisher.put(API_DOCS, json=_page()).status_code == 200
    for method in ("PUT", "GET", "DELETE"):
        path = API_DOCS if method == "PUT" else f"{API_DOCS}/getting-started"
        r = other.request(method, path, json=_page() if method == "PUT" else None)
        assert r.status_code == 403, (method, r.text)
    assert publisher.put(f"{AUTO}/apis/no-api/documentations", json=_page()).status_code == 403
    assert people.as_("admin").put(f"{AUTO}/apis/no-api/documentations", json=_page()).status_code == 200


def test_deleting_an_api_leaves_its_pages(client: httpx.Client, api_spec: dict[str, Any]) -> None:
    api_spec["hrid"] = "my-api"
    api_spec["state"] = "STOPPED"
    assert client.put(f"{AUTO}/apis", json=api_spec).status_code == 200
    assert client.put(API_DOCS, json=_page()).status_code == 200
    assert client.delete(f"{AUTO}/apis/my-api").status_code == 204
    assert client.get(f"{API_DOCS}/getting-started").status_code == 200
    assert client.delete(f"{API_DOCS}/getting-started").status_code == 204
    assert client.delete(f"{API_DOCS}/getting-started").status_code == 404


def test_4_12_has_no_area(make_emulator: Any) -> None:
    emu = make_emulator(apim_version="4.12.17")
    with httpx.Client(base_url=emu.base_url, auth=AUTH, timeout=10) as client:
        state = client.put(DOCS, json=_page(area="HOMEPAGE")).json()
        assert "area" not in state
        assert client.put(API_DOCS, json=_page(area="HOMEPAGE")).status_code == 200  # no area rule in 4.12
        assert "area" not in client.get(f"{DOCS}/getting-started").json()


def test_gko_documentation_examples_are_accepted(client: httpx.Client, specs: SpecBook) -> None:
    _portal(client, "/projects/alpha")
    examples = {
        "documentation-portal.yml": "TOP_NAVBAR",
        "documentation-portal-top-navbar.yml": "TOP_NAVBAR",
        "documentation-portal-homepage.yml": "HOMEPAGE",
        "documentation-api.yml": "TOP_NAVBAR",
    }
    for example, area in examples.items():
        parent, body = documentation_call(load(example))
        r = client.put(f"{AUTO}/{parent}/documentations", params={"dryRun": "false"}, json=body)
        assert r.status_code == 200, (example, r.text)
        got = client.get(f"{AUTO}/{parent}/documentations/{body['hrid']}").json()
        specs.schema(AUTOMATION, "DocumentationState", got)
        assert got["area"] == area, example
        assert {k: got[k] for k in body} == body, example
