"""Dictionaries through the Automation API (``DictionariesResource``, ``DictionaryResource``,
``ValidateDictionaryDomainService``, ``DictionaryAutomationDomainServiceLegacyWrapper``) and the mAPI v1
listing, over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import ids
from tests.emulator.conftest import People
from tests.emulator.support import AUTO, AUTOMATION, V1, SpecBook

MANUAL: dict[str, Any] = {
    "hrid": "default-manual-dict",
    "name": "manual-dict",
    "type": "MANUAL",
    "deployed": True,
    "manual": {"properties": {"env": "test", "region": "eu"}},
}
DYNAMIC: dict[str, Any] = {
    "hrid": "default-dynamic-dict",
    "name": "dynamic-dict",
    "type": "DYNAMIC",
    "deployed": True,
    "dynamic": {
        "provider": {
            "type": "HTTP",
            "url": "https://api.gravitee.io/echo",
            "method": "GET",
            "specification": '[{"operation": "default"}]',
        },
        "trigger": {"rate": 30, "unit": "SECONDS"},
    },
}


def _put(client: httpx.Client, body: dict[str, Any], **params: str) -> httpx.Response:
    return client.put(f"{AUTO}/dictionaries", json=body, params=params)


def _listed(client: httpx.Client, hrid: str) -> dict[str, Any]:
    items = client.get(f"{V1}/configuration/dictionaries").json()
    return next(i for i in items if i["key"] == hrid)  # type: ignore[no-any-return]


def test_manual_dictionary_round_trip(client: httpx.Client, specs: SpecBook) -> None:
    specs.schema(AUTOMATION, "DictionarySpec", MANUAL)
    r = _put(client, MANUAL)
    assert r.status_code == 200, r.text
    state = r.json()
    specs.schema(AUTOMATION, "DictionaryState", state)
    assert state == {
        "id": ids.top_level_id("DEFAULT", "DEFAULT", "default-manual-dict"),
        "environmentId": "DEFAULT",
        "organizationId": "DEFAULT",
        "hrid": "default-manual-dict",
        "name": "manual-dict",
        "type": "MANUAL",
        "deployed": True,
        "manual": {"properties": {"env": "test", "region": "eu"}},
    }
    assert client.get(f"{AUTO}/dictionaries/default-manual-dict").json() == state


def test_deployed_false_undeploys_a_manual_dictionary_and_stops_a_dynamic_one(client: httpx.Client) -> None:
    assert _put(client, MANUAL).json()["deployed"] is True
    assert "deployed_at" in _listed(client, "default-manual-dict")
    assert _put(client, {**MANUAL, "deployed": False}).json()["deployed"] is False
    item = _listed(client, "default-manual-dict")
    assert "deployed_at" not in item and item["state"] == "STOPPED"
    assert _put(client, DYNAMIC).json()["deployed"] is True
    assert _listed(client, "default-dynamic-dict")["state"] == "STARTED"
    assert _put(client, {**DYNAMIC, "deployed": False}).json()["deployed"] is False
    assert _listed(client, "default-dynamic-dict")["state"] == "STOPPED"
    # created stopped and not asked to start: it stays stopped
    fresh = {**DYNAMIC, "hrid": "default-idle", "deployed": False}
    assert _put(client, fresh).json()["deployed"] is False


def test_dynamic_dictionary_stores_the_generated_provider(client: httpx.Client, specs: SpecBook) -> None:
    state = _put(client, DYNAMIC).json()
    specs.schema(AUTOMATION, "DictionaryState", state)
    assert state["dynamic"] == {
        "provider": {**DYNAMIC["dynamic"]["provider"], "headers": []},  # the generated model's default
        "trigger": {"rate": 30, "unit": "SECONDS"},
    }
    assert "manual" not in state


def test_reads_need_the_dictionary_permission(people: People) -> None:
    assert _put(people.as_("admin"), DYNAMIC).status_code == 200
    user = people.as_("user")  # the environment USER role has no ENVIRONMENT_DICTIONARY
    assert user.get(f"{AUTO}/dictionaries/default-dynamic-dict").status_code == 403
    assert _put(user, DYNAMIC).status_code == 403
    assert user.delete(f"{AUTO}/dictionaries/default-dynamic-dict").status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**MANUAL, "manual": {"properties": {}}}, "Manual dictionary must have at least one property."),
        (
            {**MANUAL, "dynamic": DYNAMIC["dynamic"]},
            "Manual dictionary must not have 'dynamic' properties (provider, trigger). "
            "Set type to 'DYNAMIC' or remove them.",
        ),
        (
            {**DYNAMIC, "manual": {"properties": {"a": "b"}}},
            "Dynamic dictionary must not have 'manual' properties. Set type to 'MANUAL' or remove them.",
        ),
        ({**DYNAMIC, "dynamic": None}, "Dynamic dictionary must have a provider and a trigger."),
    ],
)
def test_manual_and_dynamic_consistency_is_checked_before_the_dry_run(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    for params in ({"dryRun": "true"}, {}):
        r = _put(client, body, **params)
        assert r.status_code == 400, r.text
        assert r.json() == {"httpStatus": 400, "message": message, "technicalCode": "invalid"}
    assert client.get(f"{AUTO}/dictionaries/{body['hrid']}").status_code == 404


def test_dry_run_answers_the_echo_alone(client: httpx.Client) -> None:
    r = _put(client, MANUAL, dryRun="true")
    assert r.status_code == 200
    assert r.json() == MANUAL  # no ids, no errors (toDictionaryState(spec))
    assert client.get(f"{AUTO}/dictionaries/default-manual-dict").status_code == 404


def test_body_errors(client: httpx.Client) -> None:
    r = _put(client, {k: v for k, v in MANUAL.items() if k != "deployed"})
    assert r.status_code == 400
    assert r.json()["details"] == [{"message": "must not be null", "location": "deployed"}]
    r = _put(client, {**MANUAL, "type": "STATIC"})
    assert r.json() == {
        "httpStatus": 400,
        "message": "Unexpected value 'STATIC'",
        "technicalCode": "invalidValue",
        "details": [{"message": "Unexpected value 'STATIC'", "location": "type"}],
    }
    no_trigger = {**DYNAMIC, "dynamic": {"provider": DYNAMIC["dynamic"]["provider"]}}
    assert _put(client, no_trigger).json()["details"] == [
        {"message": "must not be null", "location": "dynamic.trigger"}
    ]


def test_an_update_changes_the_type_and_keeps_the_key(client: httpx.Client) -> None:
    assert _put(client, MANUAL).status_code == 200
    as_dynamic = {**DYNAMIC, "hrid": MANUAL["hrid"], "name": "renamed"}
    state = _put(client, as_dynamic).json()
    assert state["type"] == "DYNAMIC" and state["name"] == "renamed" and state["hrid"] == MANUAL["hrid"]
    assert state["deployed"] is True and "manual" not in state


def test_delete_and_not_found(client: httpx.Client) -> None:
    assert _put(client, DYNAMIC).status_code == 200
    assert client.delete(f"{AUTO}/dictionaries/default-dynamic-dict").status_code == 204
    r = client.delete(f"{AUTO}/dictionaries/default-dynamic-dict")
    assert r.status_code == 404
    assert r.json()["message"] == "HRID [default-dynamic-dict] cannot be found."
    assert client.get(f"{V1}/configuration/dictionaries").json() == []


def test_mapi_v1_listing(client: httpx.Client) -> None:
    _put(client, MANUAL)
    _put(client, DYNAMIC)
    items = client.get(f"{V1}/configuration/dictionaries").json()
    assert [(i["name"], i["type"], i["properties"], i.get("provider")) for i in items] == [
        ("dynamic-dict", "DYNAMIC", 0, "HTTP"),
        ("manual-dict", "MANUAL", 2, None),
    ]
    assert all(isinstance(i["created_at"], int) for i in items)  # mAPI v1 dates: epoch millis


@pytest.mark.parametrize(("version", "status"), [("4.11.25", 404), ("4.12.0", 200)])
def test_dictionaries_exist_from_4_12(make_emulator: Any, version: str, status: int) -> None:
    emu = make_emulator(apim_version=version)
    r = httpx.put(f"{emu.base_url}{AUTO}/dictionaries", json=MANUAL, auth=("admin", "admin"))
    assert r.status_code == status, r.text
