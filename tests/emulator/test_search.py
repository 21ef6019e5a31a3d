"""mAPI v2 ``_search`` is served by a per-node, asynchronously updated index (reconciler/emulator/search.py);
``GET /apis`` is a repository listing. No timing is measured: lags are minutes long and ended by the
``/_emulator/search/sync`` control, so "not yet" and "now" are both certain.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.support import AUTO, V2, api_body

AUTH = ("admin", "admin")
LONG = 600_000  # ms: far longer than any test


def _names(page: dict[str, Any]) -> list[str]:
    return [a["name"] for a in page["data"]]


def _search(client: httpx.Client, **params: Any) -> dict[str, Any]:
    r = client.post(f"{V2}/apis/_search", params=params, json={})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_search_order_is_index_order(client: httpx.Client) -> None:
    for hrid, name in (("default-b", "Beta"), ("default-a", "alpha"), ("default-c", "Gamma")):
        assert client.put(f"{AUTO}/apis", json=api_body(hrid, name=name)).status_code == 200
    # no sortBy: Lucene document order, i.e. the order the APIs were indexed
    assert _names(_search(client)) == ["Beta", "alpha", "Gamma"]
    # re-indexing (any update) deletes and re-adds the document: it moves to the end
    client.put(f"{AUTO}/apis", json=api_body("default-b", name="Beta"))
    assert _names(_search(client)) == ["alpha", "Gamma", "Beta"]
    # the repository listing is stable: lower(name), then id
    assert _names(client.get(f"{V2}/apis").json()) == ["alpha", "Beta", "Gamma"]


def test_sort_by_name_is_stable_and_ties_keep_index_order(client: httpx.Client) -> None:
    for hrid, name in (
        ("default-x2", "Same"),
        ("default-y", "b-api"),
        ("default-x1", "Same"),
        ("default-z", "A api"),
    ):
        client.put(f"{AUTO}/apis", json=api_body(hrid, name=name))
    ids = {a["listeners"][0]["paths"][0]["path"]: a["id"] for a in _search(client)["data"]}
    by_name = _search(client, sortBy="name")["data"]
    # "-" is removed and case ignored before comparing (toSortedValue): "A api" < "b-api" < "Same"
    assert [a["name"] for a in by_name] == ["A api", "b-api", "Same", "Same"]
    # ties keep document order (x2 was indexed before x1)
    assert [a["id"] for a in by_name[2:]] == [ids["/default-x2/"], ids["/default-x1/"]]
    descending = _search(client, sortBy="-name")["data"]
    assert [a["name"] for a in descending] == ["Same", "Same", "b-api", "A api"]
    assert [a["id"] for a in descending[:2]] == [ids["/default-x2/"], ids["/default-x1/"]]
    # re-indexing one of the tied APIs changes the tie order: sortBy=name alone is not a total order
    client.put(f"{AUTO}/apis", json=api_body("default-x2", name="Same"))
    assert [a["id"] for a in _search(client, sortBy="name")["data"][2:]] == [
        ids["/default-x1/"],
        ids["/default-x2/"],
    ]
    # paths: the first path, "/" and "-" removed
    assert [a["id"] for a in _search(client, sortBy="paths")["data"]] == [
        ids["/default-x1/"],
        ids["/default-x2/"],
        ids["/default-y/"],
        ids["/default-z/"],
    ]


def test_pagination_links(client: httpx.Client) -> None:
    for i in range(3):
        client.put(f"{AUTO}/apis", json=api_body(f"default-p{i}"))
    base = f"{client.base_url}{V2}/apis"
    page = client.get(f"{V2}/apis", params={"page": 1, "perPage": 2}).json()
    assert page["links"] == {
        "first": f"{base}?page=1&perPage=2",
        "last": f"{base}?page=2&perPage=2",
        "next": f"{base}?page=2&perPage=2",
        "self": f"{base}?page=1&perPage=2",
    }
    last = client.get(f"{V2}/apis", params={"perPage": 2, "page": 2}).json()
    assert last["links"]["previous"] == f"{base}?perPage=2&page=1" and "next" not in last["links"]
    # no query string: only page= is added (PaginationLinks); one page: only self
    assert client.get(f"{V2}/apis").json()["links"] == {"self": base}
    assert last["pagination"] == {
        "page": 2,
        "perPage": 2,
        "pageItemsCount": 1,
        "pageCount": 2,
        "totalCount": 3,
    }


def test_index_lags_behind_the_database(make_emulator: Any) -> None:
    emu = make_emulator(search_index_delay_ms=LONG, search_sync_ms=LONG)
    with httpx.Client(base_url=emu.base_url, auth=AUTH) as client:
        client.put(f"{AUTO}/apis", json=api_body("default-new"))
        assert _search(client)["data"] == []  # @Async indexing not done yet
        assert _names(client.get(f"{V2}/apis").json()) == ["default-new"]  # the database has it
        assert httpx.post(f"{emu.base_url}/_emulator/search/sync").status_code == 204
        assert _names(_search(client)) == ["default-new"]

        client.put(f"{AUTO}/apis", json=api_body("default-other"))
        emu.sync_search()
        assert client.delete(f"{AUTO}/apis/default-new").status_code == 204
        # the delete waits for the poller: the id is still in the index, gone from the database, so the
        # page has a hole and totalCount still counts it
        page = _search(client)
        assert _names(page) == ["default-other"]
        assert page["pagination"]["totalCount"] == 2 and page["pagination"]["pageItemsCount"] == 1
        emu.sync_search()
        assert _search(client)["pagination"]["totalCount"] == 1


def test_nodes_disagree_and_paging_sees_an_api_twice_or_misses_one(make_emulator: Any) -> None:
    emu = make_emulator(search_nodes=2, search_sync_ms=LONG)
    with httpx.Client(base_url=emu.base_url, auth=AUTH) as client:
        for name in ("a", "b", "c", "d"):
            client.put(f"{AUTO}/apis", json=api_body(f"default-{name}", name=name))
        emu.sync_search()
        # each node indexed its own writes at once and the others' when it polled: two orders
        orders = httpx.get(f"{emu.base_url}/_emulator/search").json()["nodes"]
        first, second = (order["DEFAULT/DEFAULT"] for order in orders)
        assert sorted(first) == sorted(second) and first != second
        pages = [_search(client, page=p, perPage=2)["data"] for p in (1, 2)]  # served by both nodes
        seen = [a["id"] for page in pages for a in page]
        assert seen in (first[:2] + second[2:], second[:2] + first[2:])
        assert len(set(seen)) < 4  # an API twice, hence another one missing
        # with sortBy=name the nodes agree (unique names), so paging is consistent
        pages = [_search(client, page=p, perPage=2, sortBy="name")["data"] for p in (1, 2)]
        assert [a["name"] for page in pages for a in page] == ["a", "b", "c", "d"]


def test_a_write_reaches_the_other_nodes_late(make_emulator: Any) -> None:
    emu = make_emulator(search_nodes=2, search_sync_ms=LONG)
    with httpx.Client(base_url=emu.base_url, auth=AUTH) as client:
        client.put(f"{AUTO}/apis", json=api_body("default-late"))
        totals = {_search(client)["pagination"]["totalCount"] for _ in range(2)}
        assert totals == {0, 1}  # the node that wrote has it, the other not yet
        emu.sync_search()
        assert {_search(client)["pagination"]["totalCount"] for _ in range(2)} == {1}
