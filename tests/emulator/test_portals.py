"""Automation API portals, portal listings and portal links (APIM 4.12/4.13), over real HTTP.

Each test holds one row of docs/emulator-fidelity.md ("Automation API: next-gen portal").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.ids import name_uuid
from tests.emulator.portal_support import link_call, listing_call, load, portal_body
from tests.emulator.support import AUTO, AUTOMATION, ENV, ORG, SpecBook

PORTAL = "default-default-portal"
PORTALS = f"{AUTO}/portals"
AUTH = ("admin", "admin")


def _portal(hrid: str = PORTAL, **fields: Any) -> dict[str, Any]:
    return {"hrid": hrid, "name": "Default Portal", **fields}


def _client(make_emulator: Any, **config: Any) -> httpx.Client:
    emu = make_emulator(**config)
    return httpx.Client(base_url=emu.base_url, auth=AUTH, timeout=10)


def test_routes_exist_from_4_12_and_links_from_4_13(make_emulator: Any) -> None:
    listing = {"hrid": "my-listing", "apis": []}
    link = {"hrid": "my-link", "name": "Docs", "href": "https://docs.example.com"}
    with _client(make_emulator, apim_version="4.11.25") as old:
        r = old.put(PORTALS, json=_portal())
        assert r.status_code == 404, r.text
        assert old.put(f"{PORTALS}/{PORTAL}/listings", json=listing).status_code == 404
    with _client(make_emulator, apim_version="4.12.17") as v412:
        assert v412.put(PORTALS, json=_portal()).status_code == 200
        assert v412.put(f"{PORTALS}/{PORTAL}/listings", json=listing).status_code == 200
        assert v412.put(f"{PORTALS}/{PORTAL}/links", json=link).status_code == 404
    with _client(make_emulator, apim_version="4.13.0") as v413:
        assert v413.put(PORTALS, json=_portal()).status_code == 200
        assert v413.put(f"{PORTALS}/{PORTAL}/links", json=link).status_code == 200


def test_every_route_needs_environment_portal(people: Any) -> None:
    publisher = people.as_("publisher")  # API_PUBLISHER has no ENVIRONMENT_PORTAL
    for method, path in (
        ("PUT", PORTALS),
        ("GET", f"{PORTALS}/{PORTAL}"),
        ("DELETE", f"{PORTALS}/{PORTAL}"),
        ("PUT", f"{PORTALS}/{PORTAL}/listings"),
        ("GET", f"{PORTALS}/{PORTAL}/listings/my-listing"),
        ("PUT", f"{PORTALS}/{PORTAL}/links"),
        ("DELETE", f"{PORTALS}/{PORTAL}/links/my-link"),
    ):
        r = publisher.request(method, path, json=_portal() if method == "PUT" else None)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["technicalCode"] == "forbidden"
    assert people.as_("admin").put(PORTALS, json=_portal()).status_code == 200


def test_bodies_are_bean_validated_first(client: httpx.Client) -> None:
    r = client.put(PORTALS, json={"hrid": PORTAL})
    assert r.status_code == 400
    assert r.json()["details"] == [{"message": "must not be null", "location": "name"}]
    r = client.put(PORTALS, json=_portal(hrid="-bad"))
    assert r.status_code == 400 and r.json()["details"][0]["location"] == "hrid"
    r = client.put(f"{PORTALS}/{PORTAL}/listings", json={"hrid": "my-listing", "apis": [{"apiHrid": "x"}]})
    assert r.status_code == 400
    assert r.json()["details"] == [{"message": "must not be null", "location": "apis[0].location"}]
    r = client.put(f"{PORTALS}/{PORTAL}/links", json={"hrid": "my-link", "name": "Docs"})
    assert r.json()["details"] == [{"message": "must not be null", "location": "href"}]
    assert client.get(f"{PORTALS}/{PORTAL}").status_code == 404  # nothing stored


def test_ids_are_derived_from_the_hrids(client: httpx.Client) -> None:
    portal_id = name_uuid(name_uuid(ORG + PORTAL) + ENV)
    assert client.put(PORTALS, json=_portal()).json()["id"] == portal_id
    listing = client.put(f"{PORTALS}/{PORTAL}/listings", json={"hrid": "my-listing", "apis": []}).json()
    assert listing["id"] == name_uuid(name_uuid(ORG + "portal" + PORTAL) + ENV + "my-listing")
    link = {"hrid": "my-link", "name": "Docs", "href": "https://docs.example.com"}
    # a link is a navigation item: its id is scoped by the portal's UUID, not its HRID
    assert client.put(f"{PORTALS}/{PORTAL}/links", json=link).json()["id"] == name_uuid(
        name_uuid(ORG + "portal" + portal_id) + ENV + "my-link"
    )


def test_navigation_is_normalised_and_echoed_as_structure_and_navigation(
    client: httpx.Client, specs: SpecBook
) -> None:
    top = [{"path": "/Projects/Alpha Team/", "displayName": "Alpha"}, {"path": "   "}, {"path": "/archive"}]
    r = client.put(PORTALS, json=_portal(structure={"topNavbar": top}))
    assert r.status_code == 200, r.text
    expected = [{"path": "/projects/alpha-team", "displayName": "Alpha"}, {"path": "/archive"}]
    state = r.json()
    assert state["structure"] == {"topNavbar": expected}
    assert state["navigation"] == expected
    assert "errors" not in state
    specs.schema(AUTOMATION, "PortalState", state)
    got = client.get(f"{PORTALS}/{PORTAL}").json()
    assert got == state
    empty = client.put(PORTALS, json=_portal()).json()
    assert empty["structure"] == {} and "navigation" not in empty


def test_path_errors_are_listed_on_a_dry_run_and_refuse_a_real_put(client: httpx.Client) -> None:
    top = [{"path": "projects"}, {"path": "/a//b"}, {"path": "/ok"}]
    r = client.put(PORTALS, params={"dryRun": "true"}, json=_portal(structure={"topNavbar": top}))
    assert r.status_code == 200
    severe = [
        "structure.topNavbar[0].path must start with '/' (was: projects)",
        "structure.topNavbar[1].path must not contain consecutive '/' (was: /a//b)",
    ]
    assert r.json()["errors"] == {"severe": severe, "warning": []}
    r = client.put(PORTALS, json=_portal(structure={"topNavbar": top}))
    assert r.status_code == 400
    assert r.json() == {"httpStatus": 400, "message": ", ".join(severe), "technicalCode": "invalid"}
    assert client.get(f"{PORTALS}/{PORTAL}").status_code == 404


def test_navigation_and_structure_together_are_refused_from_4_13(make_emulator: Any) -> None:
    both = _portal(structure={"topNavbar": [{"path": "/a"}]}, navigation=[{"path": "/b"}])
    with _client(make_emulator) as v413:
        r = v413.put(PORTALS, params={"dryRun": "true"}, json=both)
        assert r.status_code == 400
        assert r.json()["message"] == "navigation and structure cannot be used at the same time"
        deprecated = v413.put(PORTALS, json=_portal(navigation=[{"path": "/b", "order": 3}])).json()
        assert deprecated["structure"] == {"topNavbar": [{"path": "/b"}]}
    with _client(make_emulator, apim_version="4.12.17") as v412:
        state = v412.put(PORTALS, json=both).json()  # 4.12 knows no structure: dropped, navigation used
        assert state["navigation"] == [{"path": "/b"}] and "structure" not in state
        assert v412.put(PORTALS, json=_portal()).json()["navigation"] == []
        r = v412.put(PORTALS, params={"dryRun": "true"}, json=_portal(navigation=[{"path": "x"}]))
        assert r.json()["errors"]["severe"] == ["navigation[0].path must start with '/' (was: x)"]


def test_one_portal_per_environment(client: httpx.Client) -> None:
    assert client.put(PORTALS, json=_portal()).status_code == 200
    r = client.put(PORTALS, params={"dryRun": "true"}, json=_portal(hrid="default-other-portal"))
    assert r.status_code == 200
    message = "hrid does not match the established portal for this environment"
    assert r.json()["errors"] == {"severe": [message], "warning": []}
    r = client.put(PORTALS, json=_portal(hrid="default-other-portal"))
    assert r.status_code == 400 and r.json()["message"] == message
    r = client.put(f"{AUTO}/portals/default-other-portal/listings", json={"hrid": "my-listing", "apis": []})
    assert r.status_code == 400
    assert r.json()["message"] == "portalHrid does not match the established portal for this environment"
    assert client.put(PORTALS, json=_portal(name="Renamed")).json()["name"] == "Renamed"  # same one: fine


def test_delete_portal_keeps_its_listings_and_links(client: httpx.Client) -> None:
    client.put(PORTALS, json=_portal())
    client.put(f"{PORTALS}/{PORTAL}/listings", json={"hrid": "my-listing", "apis": []})
    client.put(f"{PORTALS}/{PORTAL}/links", json={"hrid": "my-link", "name": "Docs", "href": "https://x.io"})
    assert client.delete(f"{PORTALS}/{PORTAL}").status_code == 204
    r = client.get(f"{PORTALS}/{PORTAL}")
    assert r.status_code == 404
    assert r.json() == {
        "httpStatus": 404,
        "message": f"HRID [{PORTAL}] cannot be found.",
        "technicalCode": "hrid.notFound",
    }
    assert client.delete(f"{PORTALS}/{PORTAL}").status_code == 404
    assert client.get(f"{PORTALS}/{PORTAL}/listings/my-listing").status_code == 200
    assert client.get(f"{PORTALS}/{PORTAL}/links/my-link").status_code == 200


def test_listing_of_unknown_apis_and_portal_is_stored(client: httpx.Client, specs: SpecBook) -> None:
    body = {"hrid": "my-listing", "apis": [{"apiHrid": "no-such-api", "location": "/Projects", "order": 2}]}
    r = client.put(f"{PORTALS}/{PORTAL}/listings", json=body)  # no portal, no API: neither is checked
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["apis"] == body["apis"] and state["portalHrid"] == PORTAL and "errors" not in state
    specs.schema(AUTOMATION, "PortalListingState", state)
    got = client.get(f"{PORTALS}/{PORTAL}/listings/my-listing")
    assert got.json() == state
    assert client.get(f"{AUTO}/portals/another-portal/listings/my-listing").status_code == 404
    assert client.delete(f"{PORTALS}/{PORTAL}/listings/my-listing").status_code == 204
    r = client.get(f"{PORTALS}/{PORTAL}/listings/my-listing")
    assert r.status_code == 404 and r.json()["message"] == "HRID [my-listing] cannot be found."


def test_listing_locations_are_checked_as_sent(client: httpx.Client) -> None:
    apis = [{"apiHrid": "a-api", "location": "projects/"}, {"apiHrid": "b-api", "location": "/x/../y"}]
    r = client.put(
        f"{PORTALS}/{PORTAL}/listings", params={"dryRun": "true"}, json={"hrid": "my-listing", "apis": apis}
    )
    assert r.json()["errors"]["severe"] == [
        "apis[0].location must start with '/' (was: projects/)",
        "apis[0].location must not end with '/' (was: projects/)",
        "apis[1].location must not contain '..' (was: /x/../y)",
    ]
    r = client.put(f"{PORTALS}/{PORTAL}/listings", json={"hrid": "my-listing", "apis": apis})
    assert r.status_code == 400 and r.json()["technicalCode"] == "invalid"
    assert client.get(f"{PORTALS}/{PORTAL}/listings/my-listing").status_code == 404


def test_link_is_stored_trimmed_and_read_back_with_order_0(client: httpx.Client, specs: SpecBook) -> None:
    client.put(PORTALS, json=_portal())
    body = {"hrid": "my-link", "name": "  Docs ", "href": " https://docs.example.com ", "location": "/guides"}
    state = client.put(f"{PORTALS}/{PORTAL}/links", json=body).json()
    assert (
        state["name"] == "  Docs " and "order" not in state and state["portalHrid"] == PORTAL
    )  # the request
    specs.schema(AUTOMATION, "PortalLinkState", state)
    got = client.get(f"{PORTALS}/{PORTAL}/links/my-link").json()
    assert got == {**state, "name": "Docs", "href": "https://docs.example.com", "order": 0}
    assert client.delete(f"{PORTALS}/{PORTAL}/links/my-link").status_code == 204
    assert client.get(f"{PORTALS}/{PORTAL}/links/my-link").status_code == 404


@pytest.mark.parametrize(
    ("name", "href", "message"),
    [
        ("  ", "not a url", "The title field is required and cannot be blank."),  # title first
        ("Docs", "docs.example.com", "Provided url is invalid"),  # not absolute
        ("Docs", "https://", "Provided url is invalid"),  # no authority
        ("Docs", "gopher://x.io", "Provided url is invalid"),  # no such protocol handler
        ("Docs", "https://x.io/a b", "Provided url is invalid"),  # illegal character
    ],
)
def test_a_refused_link_answers_its_state_with_400(
    client: httpx.Client, name: str, href: str, message: str
) -> None:
    client.put(PORTALS, json=_portal())
    body = {"hrid": "my-link", "name": name, "href": href}
    dry = client.put(f"{PORTALS}/{PORTAL}/links", params={"dryRun": "true"}, json=body)
    assert dry.status_code == 200 and dry.json()["errors"] == {"severe": [message], "warning": []}
    r = client.put(f"{PORTALS}/{PORTAL}/links", json=body)
    assert r.status_code == 400
    assert r.json()["errors"] == {"severe": [message], "warning": []} and r.json()["hrid"] == "my-link"
    assert client.get(f"{PORTALS}/{PORTAL}/links/my-link").status_code == 404


def test_a_link_without_its_portal_is_answered_but_not_stored(client: httpx.Client) -> None:
    body = {"hrid": "my-link", "name": "Docs", "href": "mailto:team@example.com"}
    r = client.put(f"{PORTALS}/{PORTAL}/links", json=body)
    assert r.status_code == 200 and "errors" not in r.json()
    assert client.get(f"{PORTALS}/{PORTAL}/links/my-link").status_code == 404


def test_gko_examples_are_accepted(client: httpx.Client, specs: SpecBook) -> None:
    for example in ("portal.yml", "portal-structure.yml"):
        body = portal_body(load(example))
        r = client.put(PORTALS, params={"dryRun": "false"}, json=body)
        assert r.status_code == 200, r.text
        state = r.json()
        specs.schema(AUTOMATION, "PortalState", state)
        paths = [
            "/projects/alpha",
            "/projects/alpha/docs",
            "/projects/alpha/src",
            "/projects/beta",
            "/archive/2024",
        ]
        assert [p["path"] for p in state["structure"]["topNavbar"]] == paths
        assert state["navigation"][0] == {"path": "/projects/alpha", "displayName": "Alpha"}  # no order
        assert client.get(f"{PORTALS}/{body['hrid']}").json() == state
    portal_hrid, listing = listing_call(load("portal-listing.yml"))
    r = client.put(f"{AUTO}/portals/{portal_hrid}/listings", params={"dryRun": "false"}, json=listing)
    assert r.status_code == 200, r.text
    assert r.json()["apis"] == [
        {"apiHrid": "default-api-v4-with-context", "location": "/projects/alpha", "order": 1}
    ]
    portal_hrid, link = link_call(load("portal-link.yml"))
    r = client.put(f"{AUTO}/portals/{portal_hrid}/links", params={"dryRun": "false"}, json=link)
    assert r.status_code == 200, r.text
    got = client.get(f"{AUTO}/portals/{portal_hrid}/links/{link['hrid']}").json()
    assert {k: got[k] for k in ("name", "href", "location", "order")} == {
        "name": "External Docs",
        "href": "https://docs.example.com",
        "location": "/projects/alpha",
        "order": 1,
    }


def test_portal_objects_survive_a_restart(make_emulator: Any, tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with _client(make_emulator, state_file=str(state_file)) as first:
        first.put(PORTALS, json=_portal(structure={"topNavbar": [{"path": "/a"}]}))
        first.put(f"{PORTALS}/{PORTAL}/listings", json={"hrid": "my-listing", "apis": []})
        first.put(
            f"{PORTALS}/{PORTAL}/links", json={"hrid": "my-link", "name": "Docs", "href": "https://x.io"}
        )
        portal = first.get(f"{PORTALS}/{PORTAL}").json()
    with _client(make_emulator, state_file=str(state_file)) as second:
        assert second.get(f"{PORTALS}/{PORTAL}").json() == portal
        assert second.get(f"{PORTALS}/{PORTAL}/listings/my-listing").status_code == 200
        assert second.get(f"{PORTALS}/{PORTAL}/links/my-link").json()["href"] == "https://x.io"
