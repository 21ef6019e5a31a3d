"""Subscriptions through the Automation API (``ApiSubscriptionsResource``, ``ApiSubscriptionResource``,
``SubscriptionCRDDomainServiceImpl``, ``SubscriptionServiceImpl``, ``ReconcileApiKeysDomainService``,
``CloseSubscriptionDomainService``), what deleting their API or application does to them, and the mAPI v2
reads of subscriptions and API keys, over real HTTP."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator, ids
from tests.emulator.conftest import People
from tests.emulator.support import APP_SPEC, AUTO, AUTOMATION, V1, V2, SpecBook, api_body
from tests.emulator.test_contract import v2_definition
from tests.emulator.test_dictionaries import MANUAL
from tests.emulator.test_shared_policy_groups import SPG

API = "default-sub-api"
KEY_1 = "my-custom-api-key-1-at-least-32c"
KEY_2 = "my-custom-api-key-2-at-least-32c"
GKO_FLAGS = {"hridContainsUUID": "false", "hridContainsApiUUID": "false", "hridContainsAppUUID": "false"}


def _plan(hrid: str, security: str | None, **extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "hrid": hrid,
        "name": hrid,
        "status": "PUBLISHED",
        "type": "API",
        "mode": "STANDARD",
        "validation": "AUTO",
        **extra,
    }
    if security is not None:
        plan["security"] = {"type": security}
    return plan


PLANS = [
    _plan("keyless", "KEY_LESS"),
    _plan("apikey", "API_KEY"),
    _plan("jwt", "JWT"),
    _plan("oauth", "OAUTH2"),
    _plan("mtls", "MTLS"),
    _plan("staging", "API_KEY", status="STAGING"),
    _plan("deprecated", "API_KEY", status="DEPRECATED"),
    _plan("closed", "API_KEY", status="CLOSED"),
    _plan("push", None, mode="PUSH"),
]
CERT_APP = {
    **APP_SPEC,
    "hrid": "default-cert-app",
    "name": "With a certificate",
    "settings": {"app": {"type": "web"}, "tls": {"clientCertificates": [{"name": "c", "content": "PEM"}]}},
}
BARE_APP = {
    **APP_SPEC,
    "hrid": "default-bare-app",
    "name": "No client id",
    "settings": {"app": {"type": "web"}},
}


def _setup(client: httpx.Client, plans: list[dict[str, Any]] | None = None) -> str:
    for app in (APP_SPEC, CERT_APP, BARE_APP):
        assert client.put(f"{AUTO}/applications", json=app).status_code == 200
    r = client.put(f"{AUTO}/apis", json=api_body(API, plans=plans or copy.deepcopy(PLANS)))
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def _sub(
    hrid: str = "default-sub", plan: str = "apikey", app: str = "default-my-app", **extra: Any
) -> dict[str, Any]:
    # what GKO sends: status and startingAt always empty strings, endingAt empty when unset
    return {
        "hrid": hrid,
        "applicationHrid": app,
        "planHrid": plan,
        "status": "",
        "startingAt": "",
        "endingAt": "",
        **extra,
    }


def _put(client: httpx.Client, body: dict[str, Any], api: str = API, **params: str) -> httpx.Response:
    return client.put(f"{AUTO}/apis/{api}/subscriptions", json=body, params={**GKO_FLAGS, **params})


def _keys(client: httpx.Client, api_id: str, sub_id: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"{V2}/apis/{api_id}/subscriptions/{sub_id}/api-keys")
    assert r.status_code == 200, r.text
    return {k["key"]: k for k in r.json()["data"]}


def _status(client: httpx.Client, api_id: str, sub_id: str) -> str:
    r = client.get(f"{V2}/apis/{api_id}/subscriptions/{sub_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def test_api_key_subscription_with_custom_keys(client: httpx.Client, specs: SpecBook) -> None:
    api_id = _setup(client)
    body = _sub(
        endingAt="2040-12-25T10:12:28+01:00",
        metadata={"team": "core"},
        apiKeys=[{"key": KEY_1, "expireAt": "2030-01-01T00:00:00Z"}, {"key": KEY_2}],
    )
    r = _put(client, body)
    assert r.status_code == 200, r.text
    state = r.json()
    specs.schema(AUTOMATION, "SubscriptionState", state)
    assert state["id"] == ids.subscription_id("DEFAULT", "DEFAULT", API, "default-sub")
    assert state["apiHrid"] == API and state["endingAt"] == "2040-12-25T09:12:28Z"  # written in UTC
    assert state["errors"] == {"severe": [], "warning": []}
    assert "status" not in state  # not a SubscriptionSpec property
    read = client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub")
    assert read.status_code == 200
    specs.schema(AUTOMATION, "SubscriptionState", read.json())
    assert {k: read.json()[k] for k in ("hrid", "applicationHrid", "planHrid", "metadata", "apiKeys")} == {
        "hrid": "default-sub",
        "applicationHrid": "default-my-app",
        "planHrid": "apikey",
        "metadata": {"team": "core"},
        "apiKeys": [],  # never read back
    }
    keys = _keys(client, api_id, state["id"])
    assert keys[KEY_1]["expireAt"] == "2030-01-01T00:00:00.000Z"
    assert keys[KEY_2]["expireAt"] == "2040-12-25T09:12:28.000Z"  # no expireAt: the subscription's end
    assert _status(client, api_id, state["id"]) == "ACCEPTED"
    view = client.get(f"{V2}/apis/{api_id}/subscriptions/{state['id']}").json()
    assert view["publisherMessage"] == "Kubernetes subscriptions are always auto accepted"


def test_keys_removed_from_the_spec_are_revoked_and_relisted_ones_reactivated(client: httpx.Client) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub(apiKeys=[{"key": KEY_1}, {"key": KEY_2}])).json()["id"]
    assert _put(client, _sub(apiKeys=[{"key": KEY_2}])).status_code == 200
    keys = _keys(client, api_id, sub_id)
    assert keys[KEY_1]["revoked"] is True and keys[KEY_2]["revoked"] is False
    assert _put(client, _sub(apiKeys=[{"key": KEY_1}, {"key": KEY_2}])).status_code == 200
    assert _keys(client, api_id, sub_id)[KEY_1]["revoked"] is False
    # an empty or absent list reconciles nothing: no key is revoked
    assert _put(client, _sub()).status_code == 200
    assert not any(k["revoked"] for k in _keys(client, api_id, sub_id).values())


def test_a_random_key_without_custom_keys(client: httpx.Client) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub()).json()["id"]
    [key] = _keys(client, api_id, sub_id)
    uuid.UUID(key)


@pytest.mark.parametrize(
    ("plan", "keys", "message"),
    [
        ("jwt", [{"key": KEY_1}], "apiKeys is only allowed for API_KEY plans (plan: {plan_id})"),
        ("apikey", [{"key": "short"}], "key length must be between 32 and 256 characters, got 5"),
        ("apikey", [{"key": KEY_1}, {"key": KEY_1}], f"duplicate key [{KEY_1}] in apiKeys"),
        ("apikey", [{"key": "   "}], "apiKeys entries must have a non-empty key"),
    ],
)
def test_custom_keys_are_checked_first(
    client: httpx.Client, plan: str, keys: list[Any], message: str
) -> None:
    _setup(client)
    r = _put(client, _sub(plan=plan, apiKeys=keys))
    assert r.status_code == 400
    plan_id = ids.plan_id("DEFAULT", "DEFAULT", API, plan)
    expected = f"Unable to import because of errors [{message.format(plan_id=plan_id)}]"
    assert r.json() == {"httpStatus": 400, "message": expected, "technicalCode": "invalid"}
    assert client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 404


def test_a_key_already_used_on_the_api_fails_after_the_subscription_was_stored(client: httpx.Client) -> None:
    api_id = _setup(client)
    assert _put(client, _sub(apiKeys=[{"key": KEY_1}])).status_code == 200
    r = _put(client, _sub(hrid="default-second", app="default-cert-app", apiKeys=[{"key": KEY_1}]))
    assert r.status_code == 400
    assert r.json() == {
        "httpStatus": 400,
        "message": "API Key already exists",
        "technicalCode": "apiKey.existing",
    }
    second = ids.subscription_id("DEFAULT", "DEFAULT", API, "default-second")
    assert _status(client, api_id, second) == "PENDING"  # created, never accepted
    # a PENDING subscription has no startingAt: the Automation GET fails on it
    r = client.get(f"{AUTO}/apis/{API}/subscriptions/default-second")
    assert r.status_code == 500 and r.content == b""


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (_sub(plan="nope"), 404, "Plan [{plan}] cannot be found."),
        (_sub(app="default-nope"), 404, "Application [{app}] cannot be found."),
        (_sub(plan="keyless"), 400, "A keyless plan is not subscribable!"),
        (_sub(plan="staging"), 400, "Plan {plan} is not yet published !"),
        (_sub(plan="closed"), 400, "Plan {plan} is already closed !"),
        (_sub(plan="deprecated"), 400, "{plan}"),
        (
            _sub(plan="jwt", app="default-bare-app"),
            400,
            "A client_id is required to subscribe to an OAuth2 or JWT plan.",
        ),
        (
            _sub(plan="mtls"),
            400,
            "You cannot subscribe to a mTLS plan without a client_certificate configured at application level",
        ),
        (_sub(plan="push"), 400, "Subscription configuration must contain entrypoint id"),
    ],
)
def test_create_refusals(client: httpx.Client, body: dict[str, Any], status: int, message: str) -> None:
    _setup(client)
    r = _put(client, body)
    assert r.status_code == status, r.text
    plan_id = ids.plan_id("DEFAULT", "DEFAULT", API, body["planHrid"])
    app_id = ids.application_id("DEFAULT", "DEFAULT", body["applicationHrid"])
    assert r.json()["message"] == message.format(plan=plan_id, app=app_id)


def test_an_unknown_api_is_an_unknown_plan(client: httpx.Client) -> None:
    _setup(client)
    r = _put(client, _sub(), api="default-nope")
    plan_id = ids.plan_id("DEFAULT", "DEFAULT", "default-nope", "apikey")
    assert r.status_code == 404
    assert r.json() == {
        "httpStatus": 404,
        "message": f"Plan [{plan_id}] cannot be found.",
        "technicalCode": "plan.notFound",
        "parameters": {"plan": plan_id},
    }


def test_one_active_subscription_per_plan_and_one_jwt_or_oauth2_per_api(client: httpx.Client) -> None:
    _setup(client)
    assert _put(client, _sub(plan="jwt")).status_code == 200
    r = _put(client, _sub(hrid="default-again", plan="jwt"))
    assert r.json()["message"] == "There is already a PENDING or ACCEPTED subscription for this plan."
    r = _put(client, _sub(hrid="default-oauth", plan="oauth"))
    assert r.json()["message"] == "An other OAuth2 or JWT plan is already subscribed by the same application."
    assert _put(client, _sub(hrid="default-mtls", plan="mtls", app="default-cert-app")).status_code == 200


def test_push_plan_consumer_configuration(client: httpx.Client) -> None:
    _setup(client)
    config = {
        "entrypointId": "webhook",
        "channel": "/a",
        "entrypointConfiguration": {"callbackUrl": "https://h"},
    }
    assert _put(client, _sub(plan="push", consumerConfiguration=config)).status_code == 200
    assert (
        client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").json()["consumerConfiguration"] == config
    )
    # a second push subscription of the application on another channel is allowed
    other = {**config, "channel": "/b"}
    assert _put(client, _sub(hrid="default-b", plan="push", consumerConfiguration=other)).status_code == 200
    # an update without a configuration carries none: the push plan refuses it
    r = _put(client, _sub(plan="push"))
    assert (
        r.status_code == 400
        and r.json()["message"] == "Subscription configuration must contain entrypoint id"
    )


def test_plan_and_application_cannot_change(client: httpx.Client) -> None:
    _setup(client)
    sub_id = _put(client, _sub()).json()["id"]
    r = _put(client, _sub(plan="jwt"))
    assert r.json() == {
        "httpStatus": 400,
        "message": f"Subscription [{sub_id}] plan cannot be changed",
        "technicalCode": "invalid",
    }
    r = _put(client, _sub(app="default-cert-app"))
    assert r.json()["message"] == f"Subscription [{sub_id}] application cannot be changed"


def test_before_4_10_9_a_plan_change_is_ignored(make_emulator: Any) -> None:
    client = httpx.Client(base_url=make_emulator(apim_version="4.10.8").base_url, auth=("admin", "admin"))
    _setup(client, plans=[{**p, "security": p.get("security", {"type": "KEY_LESS"})} for p in PLANS])
    assert _put(client, _sub(), legacy="false").status_code == 200
    assert _put(client, _sub(plan="jwt"), legacy="false").status_code == 200
    assert client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").json()["planHrid"] == "apikey"


def test_delete_closes_revokes_keys_and_a_put_restores(client: httpx.Client) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub(apiKeys=[{"key": KEY_1}])).json()["id"]
    assert client.delete(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 204
    assert _status(client, api_id, sub_id) == "CLOSED"
    assert _keys(client, api_id, sub_id)[KEY_1]["revoked"] is True
    assert client.delete(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 204  # no-op
    # the Automation GET still answers: its state has no status
    assert client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 200
    assert _put(client, _sub(apiKeys=[{"key": KEY_1}])).status_code == 200
    assert _status(client, api_id, sub_id) == "ACCEPTED"
    assert _keys(client, api_id, sub_id)[KEY_1]["revoked"] is False
    r = client.delete(f"{AUTO}/apis/{API}/subscriptions/default-never")
    assert r.status_code == 404 and r.json()["message"] == "HRID [default-never] cannot be found."


@pytest.mark.parametrize(
    ("version", "closes"), [("4.9.17", False), ("4.9.18", True), ("4.11.2", False), ("4.11.3", True)]
)
def test_delete_closes_from_a_patch_per_minor(make_emulator: Any, version: str, closes: bool) -> None:
    client = httpx.Client(base_url=make_emulator(apim_version=version).base_url, auth=("admin", "admin"))
    plans = [{**p, "security": p.get("security", {"type": "KEY_LESS"})} for p in PLANS]
    _setup(client, plans=plans)
    assert _put(client, _sub(), legacy="false").status_code == 200
    assert client.delete(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 204
    after = client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub")
    assert after.status_code == (200 if closes else 404)


def test_dates_and_metadata(client: httpx.Client) -> None:
    _setup(client)
    r = _put(client, _sub(plan="jwt", metadata={"team": " <b>core</b> ", "blank": "<i></i>"}))
    assert r.status_code == 200 and "endingAt" not in r.json()  # GKO's "" is null
    stored = client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").json()
    assert stored["metadata"] == {"team": "core"}  # tags stripped, blanks dropped
    r = _put(client, _sub(plan="jwt", metadata={"bad key": "x"}))
    assert r.status_code == 400
    assert r.json() == {
        "httpStatus": 400,
        "message": "Invalid metadata key: bad key",
        "technicalCode": "subscription.metadata.key.invalid",
        "parameters": {},
    }
    r = _put(client, _sub(plan="jwt", endingAt="next week"))
    assert r.status_code == 400 and r.json()["technicalCode"] == "invalidValue"
    assert r.json()["details"][0]["location"] == "endingAt"
    r = _put(client, _sub(hrid="default-late", endingAt="2020-01-01T00:00:00Z"))
    assert r.status_code == 400 and r.json()["technicalCode"] == "subscription.closed"


def test_ending_at_moves_the_keys_expiry(client: httpx.Client) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub()).json()["id"]
    assert _put(client, _sub(endingAt="2041-01-01T00:00:00Z")).status_code == 200
    [key] = _keys(client, api_id, sub_id).values()
    assert key["expireAt"] == "2041-01-01T00:00:00.000Z"


def test_deleting_the_api_deletes_its_subscriptions_and_keys(
    emulator: RunningEmulator, client: httpx.Client
) -> None:
    _setup(client)
    assert _put(client, _sub()).status_code == 200
    assert client.delete(f"{AUTO}/apis/{API}").status_code == 204
    state = emulator.dump_state()
    assert state["subscriptions"] == [] and state["apiKeys"] == []


def test_archiving_the_application_closes_its_subscriptions_and_deletes_their_keys(
    client: httpx.Client,
) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub(apiKeys=[{"key": KEY_1}])).json()["id"]
    assert client.delete(f"{AUTO}/applications/default-my-app").status_code == 204
    assert _status(client, api_id, sub_id) == "CLOSED"
    assert _keys(client, api_id, sub_id) == {}


def test_a_plan_dropped_from_the_api_closes_its_subscriptions(client: httpx.Client) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub()).json()["id"]
    r = client.put(
        f"{AUTO}/apis", json=api_body(API, plans=[p for p in copy.deepcopy(PLANS) if p["hrid"] != "apikey"])
    )
    assert r.status_code == 200
    assert _status(client, api_id, sub_id) == "CLOSED"
    # the Automation GET reads the plan's HRID: the plan is gone
    r = client.get(f"{AUTO}/apis/{API}/subscriptions/default-sub")
    assert r.status_code == 404 and r.json()["technicalCode"] == "plan.notFound"


def test_a_v2_plan_with_a_subscription_cannot_be_deleted(
    emulator: RunningEmulator, client: httpx.Client
) -> None:
    """GKO subscribes to v2 APIs by UUID (hridContainsApiUUID): the v1 import then refuses to drop the plan."""
    plans = [
        {
            "name": "Gold",
            "id": "id-gold",
            "crossId": "cross-gold",
            "security": "API_KEY",
            "status": "PUBLISHED",
        }
    ]
    api_id = client.put(f"{V1}/apis/import-crd", json=v2_definition(plans=plans)).json()["id"]
    assert client.put(f"{AUTO}/applications", json=APP_SPEC).status_code == 200
    flags = {"hridContainsApiUUID": "true"}
    r = client.put(
        f"{AUTO}/apis/{api_id}/subscriptions", json=_sub(plan="id-gold"), params={**GKO_FLAGS, **flags}
    )
    assert r.status_code == 200, r.text
    r = client.put(
        f"{V1}/apis/import-crd", json=v2_definition(plans=[{**plans[0], "id": "id-x", "crossId": "x"}])
    )
    assert r.status_code == 400
    assert (
        r.json()["message"] == "You can't delete a plan with existing subscriptions. Please close it instead."
    )


def test_permissions_are_on_the_api(people: People) -> None:
    publisher, other = people.as_("publisher"), people.as_("other")
    assert publisher.put(f"{AUTO}/apis", json=api_body(API, plans=copy.deepcopy(PLANS))).status_code == 200
    assert publisher.put(f"{AUTO}/applications", json=APP_SPEC).status_code == 200
    assert _put(publisher, _sub()).status_code == 200  # PRIMARY_OWNER of the API
    assert _put(other, _sub(hrid="default-x")).status_code == 403
    assert other.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 403
    assert other.get(f"{AUTO}/apis/default-nope/subscriptions/default-sub").status_code == 403


def test_uuid_mode_checks_the_api(client: httpx.Client) -> None:
    api_id = _setup(client)
    sub_id = _put(client, _sub()).json()["id"]
    by_uuid = {"hridContainsUUID": "true"}
    r = client.get(
        f"{AUTO}/apis/{api_id}/subscriptions/{sub_id}", params={**by_uuid, "hridContainsApiUUID": "true"}
    )
    assert r.status_code == 200 and "hrid" not in r.json()
    r = client.get(f"{AUTO}/apis/default-other/subscriptions/{sub_id}", params=by_uuid)
    assert r.status_code == 404  # the subscription is not on that API


def test_fields_per_version(make_emulator: Any) -> None:
    plans = [{**p, "security": p.get("security", {"type": "KEY_LESS"})} for p in PLANS]
    old = httpx.Client(base_url=make_emulator(apim_version="4.10.28").base_url, auth=("admin", "admin"))
    api_id = _setup(old, plans=plans)
    state = _put(old, _sub(metadata={"a": "b"}, apiKeys=[{"key": KEY_1}]), legacy="false").json()
    assert "metadata" not in state and "apiKeys" not in state  # not SubscriptionSpec properties before 4.11
    [key] = _keys(old, api_id, state["id"])
    assert key != KEY_1  # custom keys came with 4.12: a random one
    v411 = httpx.Client(base_url=make_emulator(apim_version="4.11.25").base_url, auth=("admin", "admin"))
    _setup(v411, plans=plans)
    assert _put(v411, _sub(metadata={"a": "b"}), legacy="false").json()["metadata"] == {"a": "b"}
    # the 4.11 GET sets no metadata: the generated model's empty map shows
    assert v411.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").json()["metadata"] == {}


def test_no_subscriptions_in_4_8(make_emulator: Any) -> None:
    emu = make_emulator(apim_version="4.8.32")
    r = httpx.get(f"{emu.base_url}{AUTO}/apis/{API}/subscriptions/x", auth=("admin", "admin"))
    assert r.status_code == 404 and r.json()["message"].startswith("Resource [")


def test_mapi_v2_listing(client: httpx.Client, specs: SpecBook) -> None:
    api_id = _setup(client)
    first = _put(client, _sub(apiKeys=[{"key": KEY_1}])).json()["id"]
    second = _put(client, _sub(hrid="default-mtls", plan="mtls", app="default-cert-app")).json()["id"]
    r = client.get(f"{V2}/apis/{api_id}/subscriptions")
    assert r.status_code == 200
    specs.check(
        "openapi-apis.yaml",
        "/components/responses/SubscriptionsResponse/content/application~1json/schema",
        r.json(),
    )
    assert [s["id"] for s in r.json()["data"]] == [second, first]  # newest first
    assert client.delete(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 204
    assert [s["id"] for s in client.get(f"{V2}/apis/{api_id}/subscriptions").json()["data"]] == [second]
    closed = client.get(f"{V2}/apis/{api_id}/subscriptions", params={"statuses": "CLOSED,ACCEPTED"}).json()
    assert len(closed["data"]) == 2
    by_key = client.get(
        f"{V2}/apis/{api_id}/subscriptions", params={"statuses": "CLOSED", "apiKey": KEY_1}
    ).json()
    assert [s["id"] for s in by_key["data"]] == [first]
    keys = client.get(f"{V2}/apis/{api_id}/subscriptions/{first}/api-keys").json()
    specs.check(
        "openapi-apis.yaml",
        "/components/responses/SubscriptionApiKeysResponse/content/application~1json/schema",
        keys,
    )
    r = client.get(f"{V2}/apis/{api_id}/subscriptions/nope")
    assert r.status_code == 404
    assert r.json() == {
        "httpStatus": 404,
        "message": "Subscription [nope] cannot be found.",
        "technicalCode": "subscription.notFound",
        "parameters": {"subscription": "nope"},
    }


def test_every_kind_survives_a_restart_with_the_state_file(make_emulator: Any, tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    first = make_emulator(state_file=state_file)
    client = httpx.Client(base_url=first.base_url, auth=("admin", "admin"))
    api_id = _setup(client)
    sub_id = _put(client, _sub(apiKeys=[{"key": KEY_1}])).json()["id"]
    assert client.put(f"{AUTO}/groups", json={"hrid": "default-g", "name": "g"}).status_code == 200
    assert client.put(f"{AUTO}/dictionaries", json=MANUAL).status_code == 200
    assert client.put(f"{AUTO}/shared-policy-groups", json=SPG).status_code == 200
    first.close()
    second = make_emulator(state_file=state_file)
    again = httpx.Client(base_url=second.base_url, auth=("admin", "admin"))
    assert again.get(f"{AUTO}/apis/{API}/subscriptions/default-sub").status_code == 200
    assert list(_keys(again, api_id, sub_id)) == [KEY_1]
    for path in ("groups/default-g", f"dictionaries/{MANUAL['hrid']}", f"shared-policy-groups/{SPG['hrid']}"):
        assert again.get(f"{AUTO}/{path}").status_code == 200, path
    # found by crossId after the restart: an update, not a second group
    assert again.put(f"{AUTO}/shared-policy-groups", json=SPG).status_code == 200
    assert again.get(f"{V2}/shared-policy-groups").json()["pagination"]["totalCount"] == 1
