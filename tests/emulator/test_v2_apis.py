"""v2 ``ApiDefinition`` APIs: mAPI v1 ``import-crd`` (ApiCRDServiceImpl, ApiIdsCalculatorServiceImpl,
ApiDuplicatorServiceImpl), and deleting them through mAPI v1, mAPI v2 and the Automation API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from reconciler.emulator import RunningEmulator
from tests.emulator.conftest import People
from tests.emulator.support import AUTO, V1, V2
from tests.emulator.test_contract import v2_definition

ORG_ENV = {"organizationId": "DEFAULT", "environmentId": "DEFAULT"}


def _import(client: httpx.Client, body: dict[str, Any], **params: str) -> httpx.Response:
    return client.put(f"{V1}/apis/import-crd", params=params, json=body)


def _plans(emulator: RunningEmulator) -> list[dict[str, Any]]:
    [api] = emulator.dump_state()["apis"]
    return api["spec"]["plans"]  # type: ignore[no-any-return]


def _plan(name: str, plan_id: str | None = None, cross_id: str | None = None, **extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {"name": name, "security": "API_KEY", "status": "PUBLISHED", **extra}
    if plan_id is not None:
        plan["id"] = plan_id
    if cross_id is not None:
        plan["crossId"] = cross_id
    return plan


def test_plans_sent_with_gko_ids_keep_them(emulator: RunningEmulator, client: httpx.Client) -> None:
    """GKO's generateEmptyPlanIDs sends a crossId and an id for every plan: a new kubernetes-origin API keeps
    them, and an update matches existing plans by crossId and keeps their ids."""
    body = v2_definition(
        plans=[_plan("Gold", "id-gold", "cross-gold"), _plan("Free", "id-free", "cross-free")]
    )
    status = _import(client, body).json()
    assert status["plans"] == {"cross-gold": "id-gold", "cross-free": "id-free"}
    # an update that sends other ids still lands on the existing plans (matched by crossId)
    body["plans"][0]["id"] = "id-gold-renamed-by-mistake"
    again = _import(client, body).json()
    assert again["plans"] == {"cross-gold": "id-gold", "cross-free": "id-free"}
    assert sorted(p["id"] for p in _plans(emulator)) == ["id-free", "id-gold"]


def test_plans_without_ids_get_random_ones_and_replace_the_old(
    emulator: RunningEmulator, client: httpx.Client
) -> None:
    body = v2_definition(plans=[_plan("Free", security="KEY_LESS")])
    r = _import(client, body)
    # the plan has no crossId: the status map (crossId -> id) cannot be built, after the import is done
    assert r.status_code == 500
    first = _plans(emulator)[0]["id"]
    uuid.UUID(first)  # a random id
    _import(client, body)
    second = _plans(emulator)
    assert len(second) == 1 and second[0]["id"] != first  # deleted and created again


def test_a_new_crossid_on_an_existing_api_gets_a_random_plan_id(client: httpx.Client) -> None:
    _import(client, v2_definition(plans=[_plan("Gold", "id-gold", "cross-gold")]))
    status = _import(client, v2_definition(plans=[_plan("Silver", "id-silver", "cross-silver")])).json()
    assert status["plans"]["cross-silver"] != "id-silver"  # recalculatePlanIdsFromCrossIds: no match, random
    uuid.UUID(status["plans"]["cross-silver"])


def test_deleting_a_plan_with_subscriptions_fails_half_way(
    emulator: RunningEmulator, client: httpx.Client
) -> None:
    body = v2_definition(
        description="first",
        plans=[_plan("Gold", "id-gold", "cross-gold"), _plan("Free", "id-free", "cross-free")],
    )
    api_id = _import(client, body).json()["id"]
    r = httpx.put(
        f"{emulator.base_url}/_emulator/subscriptions",
        json={"apiId": api_id, "planId": "id-gold", "active": 2},
    )
    assert r.status_code == 204
    r = _import(
        client, v2_definition(description="second", plans=[_plan("Other", "id-other", "cross-other")])
    )
    assert r.status_code == 400
    assert r.json() == {
        "message": "You can't delete a plan with existing subscriptions. Please close it instead.",
        "http_status": 400,
        "parameters": {"plan": "id-gold"},
        "technicalCode": "plan.notDeletable",
    }
    # not transactional: the API itself was updated, the plan with subscriptions remains
    [api] = emulator.dump_state()["apis"]
    assert api["spec"]["description"] == "second"
    assert "id-gold" in [p["id"] for p in api["spec"]["plans"]]
    # a keyless plan or one without active subscriptions deletes fine
    httpx.put(
        f"{emulator.base_url}/_emulator/subscriptions",
        json={"apiId": api_id, "planId": "id-gold", "active": 0},
    )
    assert (
        _import(client, v2_definition(plans=[_plan("Other", "id-other", "cross-other")])).status_code == 200
    )


def test_dry_run_reports_and_severe_errors_are_bare(client: httpx.Client) -> None:
    _import(client, v2_definition(plans=[_plan("Gold", "id-gold", "cross-gold")]))
    clash = v2_definition(id="other-id", crossId="other-cross", categories=["nope"])
    dry = _import(client, clash, dryRun="true")
    assert dry.status_code == 200
    assert dry.json()["errors"] == {
        "severe": ["Path [/legacy/] already exists"],
        "warning": ["category [nope] is not defined in environment [DEFAULT]"],
    }
    r = _import(client, clash)
    assert (r.status_code, set(r.json())) == (400, {"severe", "warning"})


def test_required_fields_and_sanitized_name(emulator: RunningEmulator, client: httpx.Client) -> None:
    r = _import(client, v2_definition(id=""))
    assert r.status_code == 400 and r.json()["details"][0]["location"] == "id"
    assert (
        _import(client, v2_definition(name="<i>Legacy</i> API", plans=[_plan("G", "g", "cg")])).status_code
        == 200
    )
    assert emulator.dump_state()["apis"][0]["spec"]["name"] == "Legacy API"


def test_update_of_someone_elses_v2_api_is_refused_and_ownership_moves(people: People) -> None:
    body = v2_definition(plans=[_plan("Gold", "id-gold", "cross-gold")])
    assert _import(people.as_("publisher"), body).status_code == 200
    # updateWithImportedDefinition: environment ADMIN or API_DEFINITION[U] on the API
    assert _import(people.as_("other"), body).status_code == 403
    assert _import(people.as_("admin"), body).status_code == 200
    # transferOwnerShip: the caller is now the primary owner, the publisher an OWNER (still manages it)
    api_id = body["id"]
    assert people.as_("publisher").get(f"{V2}/apis/{api_id}").status_code == 200
    found = people.as_("admin").get(f"{V2}/apis/{api_id}").json()
    assert found["primaryOwner"]["displayName"] == "admin"


def test_deleting_v2_apis(client: httpx.Client) -> None:
    body = v2_definition(plans=[_plan("Gold", "id-gold", "cross-gold")])
    api_id = _import(client, body).json()["id"]
    r = client.delete(f"{V2}/apis/{api_id}")
    assert r.json()["message"] == "Plan(s) [Gold] must be closed before being able to delete the API !"
    r = client.delete(f"{V1}/apis/{api_id}")
    assert r.json() == {
        "message": "Plan(s) [Gold] must be closed before being able to delete the API !",
        "http_status": 400,
        "parameters": {"plans": "Gold"},
        "technicalCode": "api.notDeletable",
    }
    assert client.delete(f"{V1}/apis/{api_id}", params={"closePlans": "true"}).status_code == 204
    # the Automation DELETE works for a v2 API too (by its id), closing its plans
    api_id = _import(client, body).json()["id"]
    assert client.delete(f"{AUTO}/apis/{api_id}", params={"hridContainsUUID": "true"}).status_code == 204
    assert client.get(f"{V2}/apis/{api_id}").status_code == 404


def test_v2_api_view(client: httpx.Client) -> None:
    api_id = _import(client, v2_definition(plans=[_plan("Gold", "id-gold", "cross-gold")])).json()["id"]
    api = client.get(f"{V2}/apis/{api_id}").json()
    assert api["definitionVersion"] == "V2" and api["contextPath"] == "/legacy/"
    assert api["proxy"] == {"virtualHosts": [{"path": "/legacy/", "overrideEntrypoint": False}]}
    assert api["definitionContext"] == {
        "origin": "KUBERNETES",
        "mode": "FULLY_MANAGED",
        "syncFrom": "MANAGEMENT",
    }
    assert (
        ORG_ENV.items()
        <= _import(client, v2_definition(plans=[_plan("G", "g", "cross-gold")])).json().items()
    )
