"""Desired bodies: GKO defaults, GKO naming, manifest-only fields dropped, grouping by context."""

from __future__ import annotations

import copy

from reconciler.manifests.model import ResourceId
from reconciler.plan.desired import build_desired
from reconciler.plan.ids import gko_uuid, name_uuid
from tests.plan.plan_helpers import CTX, api, app, context, desired, one, resource


def test_gko_defaults_are_applied() -> None:
    body = one(desired(api("orders")), "orders").body
    assert body["state"] == "STARTED"
    assert body["lifecycleState"] == "UNPUBLISHED"
    assert body["visibility"] == "PRIVATE"
    assert "definitionContext" not in body  # the Automation API has none: APIM sets its own
    assert body["notifyMembers"] is True
    (plan,) = body["plans"]
    assert (plan["status"], plan["validation"], plan["type"], plan["mode"]) == (
        "PUBLISHED",
        "AUTO",
        "API",
        "STANDARD",
    )
    # Every default of GKO's CRD (crd_defaults.py), not only these: the endpoints' `secondary`...
    assert body["endpointGroups"][0]["endpoints"][0]["secondary"] is False
    # ...but none where the CRD has none: listeners are free-form in it, so APIM fills their qos.
    assert "qos" not in body["listeners"][0]["entrypoints"][0]


def test_pages_get_the_crd_visibility_that_apim_requires() -> None:
    """`PageV4.visibility` is required by APIM; GKO's CRD defaults it to PUBLIC (as the Kubernetes
    API server would fill it in before GKO sends the page)."""
    manifest = api("orders", pages={"doc": {"name": "Doc", "type": "MARKDOWN", "content": "x"}})
    (page,) = one(desired(manifest), "orders").body["pages"]
    assert (page["visibility"], page["published"], page["homepage"]) == ("PUBLIC", False, False)


def test_defaults_are_filled_without_changing_or_copying_the_manifest() -> None:
    manifest = api("orders")
    before = copy.deepcopy(dict(manifest.spec))
    body = one(desired(manifest), "orders").body
    assert manifest.spec == before  # the GKO defaults went into the body only
    assert body["endpointGroups"][0]["endpoints"][0]["secondary"] is False
    assert "secondary" not in manifest.spec["endpointGroups"][0]["endpoints"][0]
    # what no default touches is shared with the manifest, not copied
    assert body["listeners"] is manifest.spec["listeners"]


def test_explicit_values_win_over_defaults() -> None:
    body = one(desired(api("orders", state="STOPPED", visibility="PUBLIC")), "orders").body
    assert (body["state"], body["visibility"]) == ("STOPPED", "PUBLIC")


def test_hrid_ids_and_context() -> None:
    d = one(desired(api("my-api")), "my-api")
    assert d.hrid == "default-my-api"
    assert d.body["hrid"] == "default-my-api"
    assert d.cross_id == "b54c45d2-1e4f-3330-aa2d-9c931c795b92"
    assert d.remote_id == name_uuid(d.cross_id + "DEFAULT")
    assert d.context == CTX
    assert str(d.position) == "my-api.yaml:3:1"


def test_manifest_only_fields_are_dropped() -> None:
    body = one(desired(api("orders", groupRefs=[{"name": "g"}], id="x", crossId="y")), "orders").body
    assert not {"contextRef", "groupRefs", "id", "crossId"} & set(body)


def test_unsupported_fields_are_dropped_with_a_warning() -> None:
    build = build_desired([context(), api("orders", surprise=1)])
    assert "surprise" not in build.states[CTX].resources[0].body
    (problem,) = build.problems
    assert problem.severity == "warning" and "surprise" in problem.message


def test_plan_and_page_keys_become_hrids() -> None:
    pages = {
        "Folder v1.0": {"name": "docs", "type": "FOLDER"},
        "Intro page": {"name": "intro", "type": "MARKDOWN", "content": "hi", "parent": "Folder v1.0"},
    }
    plans = {"Key less": {"name": "Free", "security": {"type": "KEY_LESS"}, "id": "legacy"}}
    body = one(desired(api("orders", pages=pages, plans=plans)), "orders").body
    assert [p["hrid"] for p in body["plans"]] == ["Key-less"]
    assert "id" not in body["plans"][0]
    assert [p["hrid"] for p in body["pages"]] == ["Folder-v1-0", "Intro-page"]
    assert body["pages"][1]["parentHrid"] == "Folder-v1-0"
    assert "parent" not in body["pages"][1]


def test_plan_order_field_orders_the_list() -> None:
    plans = {"a": {"name": "A", "order": 2}, "b": {"name": "B", "order": 1}}
    body = one(desired(api("orders", plans=plans)), "orders").body
    assert [p["hrid"] for p in body["plans"]] == ["b", "a"]


def test_application_body() -> None:
    d = one(desired(app("mobile", groups=["devs"], picture="data:x")), "mobile")
    assert d.body["hrid"] == "default-mobile"
    assert "contextRef" not in d.body and "picture" not in d.body
    assert d.remote_id == name_uuid(name_uuid("DEFAULT" + "default-mobile") + "DEFAULT")


def test_application_oauth_type_in_automation_api_case() -> None:
    settings = {"oauth": {"applicationType": "BACKEND_TO_BACKEND", "grantTypes": ["client_credentials"]}}
    d = one(desired(app("b2b", settings=settings)), "b2b")
    assert d.body["settings"]["oauth"]["applicationType"] == "backend_to_backend"


def test_v2_body_stays_close_to_the_crd_spec() -> None:
    spec = {
        "contextRef": {"name": "dev-ctx"},
        "name": "v2",
        "version": "1",
        "proxy": {"virtual_hosts": [{"path": "/v2"}]},
    }
    d = one(desired(resource("ApiDefinition", "v2", spec)), "v2")
    assert d.body["proxy"] == {**spec["proxy"], "groups": []}  # + the CRD's defaults
    # GKO's crossId of a v2 API: XXH3-128 of "<namespace>/<name>" (internal/uuid FromStrings).
    assert d.body["crossId"] == d.cross_id == gko_uuid("default/v2")
    assert d.body["id"] == d.remote_id == name_uuid(d.cross_id + "DEFAULT")
    assert d.body["definition_context"] == {
        "origin": "kubernetes",
        "mode": "fully_managed",
        "syncFrom": "management",
    }


def test_missing_context_or_context_ref_is_reported() -> None:
    orphan = resource("ApiV4Definition", "orphan", {"name": "o"})
    lost = api("lost", ctx="nowhere")
    build = build_desired([context(), orphan, lost])
    assert build.states[CTX].resources == ()
    assert sorted(p.resource.name for p in build.problems if p.resource) == ["lost", "orphan"]


def test_hash_ignores_order_of_unordered_lists_but_not_content() -> None:
    a = one(desired(api("orders", tags=["a", "b"])), "orders").spec_hash
    b = one(desired(api("orders", tags=["b", "a"])), "orders").spec_hash
    c = one(desired(api("orders", tags=["a", "c"])), "orders").spec_hash
    assert a == b != c
    assert a.startswith("sha256:")


def test_hash_covers_write_only_fields() -> None:
    a = one(desired(api("orders")), "orders").spec_hash
    b = one(desired(api("orders", notifyMembers=False)), "orders").spec_hash
    assert a != b


def test_grouping_by_context_uses_its_organization() -> None:
    states = desired(api("x", ctx="other"), contexts=(context("other", org="ORG2"),))
    (state,) = states.values()
    assert state.context == ResourceId("ManagementContext", "default", "other")
    assert state.organization_id == "ORG2"
    assert state.resources[0].cross_id == name_uuid("ORG2" + "default-x")


def test_fields_the_automation_api_would_drop_are_reported_not_sent() -> None:
    """`ApiV4Spec` has no definition context and never maps a primary owner: APIM would ignore both
    silently, so they are not sent, and the manifest gets a warning (APIM's source: ApiV4Spec in the
    automation module's open-api.yaml; ApiCRDSpec's builder default)."""
    manifest = api(
        "orders",
        definitionContext={"origin": "KUBERNETES", "syncFrom": "KUBERNETES"},
        primaryOwner={"id": "x"},
    )
    build = build_desired([context(), manifest])
    (state,) = build.states.values()
    body = state.resources[0].body
    assert "definitionContext" not in body and "primaryOwner" not in body
    warned = sorted(p.field for p in build.problems)
    assert warned == [("spec", "definitionContext"), ("spec", "primaryOwner")]


def test_plan_general_conditions_are_sent_as_the_hrid_planv4_knows() -> None:
    """GKO's `pickPlanHRIDs`: the CRD's `generalConditions` (a page key) becomes
    `generalConditionsHrid`; `PlanV4` has no `generalConditions`, so sent as is it was lost."""
    manifest = api(
        "orders",
        plans={
            "Free": {"name": "Free", "security": {"type": "KEY_LESS"}, "generalConditions": "terms.of use"}
        },
        pages={"terms.of use": {"name": "Terms", "type": "MARKDOWN", "content": "x"}},
    )
    (plan,) = one(desired(manifest), "orders").body["plans"]
    assert plan["generalConditionsHrid"] == "terms-of-use" and "generalConditions" not in plan


def test_v2_plans_get_the_ids_gko_gives_them() -> None:
    """GKO's `generateEmptyPlanIDs`: crossId = FromStrings(apiId, "/", name), id = FromStrings(crossId,
    "/", name). APIM matches plans by id on import: without one, a plan is deleted and re-created under a
    random id on every update (its subscriptions and keys with it)."""
    spec = {
        "contextRef": {"name": "dev-ctx"},
        "name": "v2",
        "version": "1",
        "proxy": {"virtual_hosts": [{"path": "/v2"}]},
        "plans": [
            {"name": "free", "security": "KEY_LESS"},
            {"name": "keys", "security": "API_KEY", "id": "mine"},
        ],
    }
    d = one(desired(resource("ApiDefinition", "v2", spec)), "v2")
    free, keys = d.body["plans"]
    assert free["crossId"] == gko_uuid(d.remote_id, "/", "free")
    assert free["id"] == gko_uuid(free["crossId"], "/", "free")
    assert keys["id"] == "mine"
    # the same every time
    assert one(desired(resource("ApiDefinition", "v2", spec)), "v2").body["plans"][0]["id"] == free["id"]


def test_gko_ids_match_the_reference_vectors() -> None:
    """XXH3-128 (seed 0), canonical big-endian digest, dashes inserted, no version bits (GKO
    internal/uuid/uuid.go with zeebo/xxh3 and google/uuid FromBytes)."""
    assert gko_uuid("foo", "bar") == "3c9e1026-2899-7f44-ac87-b0b131c6992d"
    assert gko_uuid("") == "99aa06d3-0147-98d8-6001-c324468d497f"  # XXH3-128 of nothing, as in zeebo/xxh3


def test_a_v2_update_keeps_the_ids_apim_holds() -> None:
    """An object APIM holds under ids of its own (written by an earlier version, or by GKO with a
    Kubernetes UID) is updated under those ids: APIM matches the API by crossId and plans by id."""
    from dataclasses import replace

    from reconciler.plan.model import ActionKind
    from reconciler.plan.planner import make_plan
    from tests.plan.plan_helpers import OPTIONS, applied, remote

    spec = {
        "contextRef": {"name": "dev-ctx"},
        "name": "v2",
        "version": "1",
        "proxy": {"virtual_hosts": [{"path": "/v2"}]},
        "plans": [{"name": "free", "security": "KEY_LESS"}, {"name": "new", "security": "KEY_LESS"}],
    }
    before = desired(resource("ApiDefinition", "v2", {**spec, "description": "old"}))
    after = desired(resource("ApiDefinition", "v2", {**spec, "description": "new"}))
    summary, state = applied(one(before, "v2"), remote_id="k8s-uid", cross_id="gko-cross")
    state["plans"] = [
        {"name": "free", "id": "server-plan-id", "crossId": "server-plan-cross", "security": "KEY_LESS"}
    ]
    summaries, full = remote((summary, state))
    (action,) = make_plan(after, summaries, full, replace(OPTIONS)).actions
    assert action.kind is ActionKind.UPDATE and action.body is not None
    assert (action.body["id"], action.body["crossId"]) == ("k8s-uid", "gko-cross")
    free, new = action.body["plans"]
    assert (free["id"], free["crossId"]) == ("server-plan-id", "server-plan-cross")
    assert new["id"] == one(after, "v2").body["plans"][1]["id"]  # a new plan keeps GKO's id
