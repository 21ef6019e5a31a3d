"""What the planner never does on weak evidence: copied or altered records, moved or renamed
resources, refusals that must last, rollbacks, and secrets APIM still holds (issue 14)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from reconciler.manifests.model import ResourceId
from reconciler.plan.diff import ChangeOp
from reconciler.plan.model import ActionKind, Plan, PlanOptions
from reconciler.plan.ownership import OWNERSHIP_KEY, OwnershipRecord, path_fingerprint
from reconciler.plan.planner import make_plan, reads_needed
from reconciler.plan.state import RemoteSummary
from reconciler.report.json_report import report_data
from reconciler.secrets.value import Secret
from tests.plan.plan_helpers import CTX, OPTIONS, T0, api, applied, context, desired, one, remote

NOW = T0 + timedelta(minutes=30)
SAFE = replace(OPTIONS, now=NOW)


def _kinds(plan: Plan) -> list[tuple[str, str]]:
    return sorted((str(a.kind), a.resource.name) for a in plan.actions)


def _copy_record(summary: RemoteSummary, onto: str, name: str) -> RemoteSummary:
    """Another API carrying `summary`'s record, as a console user or APIM's "duplicate" leaves it."""
    return replace(summary, id=onto, cross_id=f"cross-{onto}", name=name)


def test_a_copied_record_is_a_conflict_never_a_deletion() -> None:
    states = desired(api("orders"), api("billing"))
    real, state = applied(one(states, "orders"))
    billing, billing_state = applied(one(states, "billing"))
    copy = _copy_record(real, "console-clone", "Orders (copy)")
    summaries = {CTX: [copy, real, billing]}  # the copy listed first: it must not win the match
    full = {(CTX, real.id): state, (CTX, billing.id): billing_state, (CTX, copy.id): state}
    for _ in range(3):  # every sync, not only the first: the loop used to delete and re-create
        plan = make_plan(states, summaries, full, SAFE)
        assert not [a for a in plan.actions if a.kind is ActionKind.DELETE or a.writes]
        (conflict,) = [a for a in plan.actions if a.kind is ActionKind.CONFLICT]
        assert conflict.remote_id == "console-clone"
        assert "carries a copy of this resource's ownership record" in conflict.reason
        assert plan.has_errors


def test_a_copied_record_on_the_object_a_manifest_names_is_not_taken_over() -> None:
    states = desired(api("orders"))
    real, _ = applied(one(states, "orders"))
    # The record of `orders` copied onto an API that has the HRID-derived id of `orders`... written
    # for another object: the carrier id in the record is not this object's.
    moved = replace(
        real, metadata={OWNERSHIP_KEY: _record_value(one(states, "orders"), carrier="other-object")}
    )
    (action,) = make_plan(states, {CTX: [moved]}, {}, SAFE).actions
    assert action.kind is ActionKind.CONFLICT and "written onto another object" in action.reason


def _record_value(d: Any, *, carrier: str, applied_at: Any = T0, **fields: Any) -> str:
    record = OwnershipRecord(
        "apim-reconciler", d.id, "c0ffee", d.spec_hash, applied_at, hrid=d.hrid, carrier_id=carrier, **fields
    )
    return record.to_value()


def test_two_objects_with_an_unbound_record_of_one_resource_neither_is_deleted() -> None:
    """Records written by earlier versions name no carrier: a copy of one cannot be told from the
    original, so only the object APIM derives from the HRID is matched, and the other is kept."""
    states = desired(api("orders"), api("billing"))
    d = one(states, "orders")
    legacy = OwnershipRecord("apim-reconciler", d.id, "c0ffee", d.spec_hash, T0, version=1).to_value()
    real, _ = applied(d, metadata={OWNERSHIP_KEY: legacy})
    copy = _copy_record(real, "console-clone", "Orders (copy)")
    billing, _ = applied(one(states, "billing"))
    plan = make_plan(states, {CTX: [copy, real, billing]}, {}, SAFE)
    matched = next(a for a in plan.actions if a.kind is ActionKind.UNCHANGED and a.resource == d.id)
    assert matched.remote_id == d.remote_id
    (kept,) = [a for a in plan.actions if a.remote_id == "console-clone"]
    assert kept.kind is ActionKind.BLOCKED and kept.refused is ActionKind.DELETE
    assert "does not prove that it was written onto this object" in kept.reason


def test_a_record_edited_by_hand_does_not_hide_a_console_edit() -> None:
    states = desired(api("orders", description="from git"))
    d = one(states, "orders")
    real, state = applied(d)
    state["description"] = "edited in the console"
    # The console user also moved the record's appliedAt past their edit, without its digest.
    data = json.loads(real.metadata[OWNERSHIP_KEY])
    data["appliedAt"] = "2026-11-23T10:20:00.000Z"
    edited = replace(real, metadata={OWNERSHIP_KEY: json.dumps(data)}, updated_at=T0 + timedelta(minutes=10))
    (read,) = reads_needed(states, {CTX: [edited]}, SAFE)
    assert "edited outside apim-reconciler" in read.reason
    (action,) = make_plan(states, {CTX: [edited]}, {(CTX, edited.id): state}, SAFE).actions
    assert action.kind is ActionKind.DRIFTED and action.writes
    assert [c.path_text for c in action.changes] == ["description"]


def test_a_record_claiming_a_future_apply_time_is_not_trusted_even_with_a_valid_digest() -> None:
    states = desired(api("orders"))
    d = one(states, "orders")
    real, state = applied(d)
    state["endpointGroups"][0]["endpoints"][0]["configuration"] = {"target": "https://evil.example"}
    forged = _record_value(d, carrier=d.remote_id, applied_at=NOW + timedelta(days=365))
    summary = replace(real, metadata={OWNERSHIP_KEY: forged})
    (read,) = reads_needed(states, {CTX: [summary]}, SAFE)
    assert read.reason == "modified in APIM after last apply"
    (action,) = make_plan(states, {CTX: [summary]}, {(CTX, summary.id): state}, SAFE).actions
    assert action.kind is ActionKind.DRIFTED


def test_a_new_hrid_creates_the_new_object_and_deletes_the_old_one_after_it() -> None:
    before = desired(api("orders"))
    after = desired(api("orders", hrid="orders-v2"))
    summaries, full = remote(applied(one(before, "orders")))
    plan = make_plan(after, summaries, full, SAFE)
    create, delete = plan.actions
    assert (create.kind, create.hrid) == (ActionKind.CREATE, "orders-v2")
    assert (delete.kind, delete.hrid, delete.after) == (ActionKind.DELETE, "default-orders", CTX)
    assert delete.remote_id == one(before, "orders").remote_id
    assert "new HRID" in delete.reason


CTX_B = ResourceId("ManagementContext", "default", "other-ctx")


def _two_contexts(env_b: str = "DEFAULT") -> tuple[Any, ...]:
    return (context(), context("other-ctx", env=env_b))


def test_a_move_between_two_contexts_of_one_environment_is_one_update() -> None:
    before = desired(api("orders"), api("a"), api("b"), api("c"), contexts=_two_contexts())
    after = desired(api("orders", ctx="other-ctx"), api("a"), api("b"), api("c"), contexts=_two_contexts())
    d = one(before, "orders")
    summary, state = applied(d)
    summary = replace(summary, metadata={OWNERSHIP_KEY: _record_value(d, carrier=d.remote_id, context=CTX)})
    others = [applied(one(before, n))[0] for n in "abc"]
    listing = [summary, *others]  # one environment: both contexts list the same objects
    plan = make_plan(after, {CTX: listing, CTX_B: listing}, {(CTX_B, d.remote_id): state}, SAFE)
    moved = [a for a in plan.actions if a.resource.name == "orders"]
    assert [(a.kind, a.context) for a in moved] == [(ActionKind.UPDATE, CTX_B)]
    assert "moving from context" in moved[0].reason
    assert moved[0].record is not None and moved[0].record.context == CTX_B


def test_a_move_to_another_environment_deletes_only_after_the_new_copy() -> None:
    contexts = _two_contexts(env_b="PROD")
    before = desired(api("orders"), api("a"), api("b"), api("c"), contexts=contexts)
    after = desired(api("orders", ctx="other-ctx"), api("a"), api("b"), api("c"), contexts=contexts)
    listing = [applied(one(before, n))[0] for n in ("orders", "a", "b", "c")]
    plan = make_plan(after, {CTX: listing, CTX_B: []}, {}, SAFE)
    create = next(a for a in plan.actions if a.context == CTX_B)
    delete = next(a for a in plan.actions if a.kind is ActionKind.DELETE)
    assert create.kind is ActionKind.CREATE and create.resource == delete.resource
    assert delete.after == CTX_B and "deleted once its new copy is written" in delete.reason


def test_a_resource_moved_to_a_context_outside_the_run_is_not_deleted_blind() -> None:
    before = desired(api("orders"), api("a"), api("b"), api("c"))
    after = desired(api("a"), api("b"), api("c"))  # `orders` now lives in a context this run skips
    summaries, full = remote(*(applied(one(before, n)) for n in ("orders", "a", "b", "c")))
    orders = one(before, "orders").id
    placement = {**{r.id: CTX for s in after.values() for r in s.resources}, orders: CTX_B}
    plan = make_plan(after, summaries, full, SAFE, placement=placement)
    (kept,) = [a for a in plan.actions if a.resource == orders]
    assert kept.kind is ActionKind.SKIPPED and "which this run does not sync" in kept.reason


NAMES = [f"api{i:02}" for i in range(20)]


def test_a_refused_prune_holds_back_what_would_outvote_it_and_stays_refused() -> None:
    old = desired(*(api(n) for n in NAMES))
    summaries, full = remote(*(applied(one(old, n)) for n in NAMES))
    new_names = [*NAMES[5:], *(f"new{i:02}" for i in range(80))]  # 5 removed (25%+), 80 added
    new = desired(*(api(n) for n in new_names))
    options = replace(SAFE, prune_threshold=0.2)
    for _ in range(2):  # nothing applied, so the next sync sees the same numbers
        plan = make_plan(new, summaries, full, options)
        kinds = {(a.kind, a.refused) for a in plan.actions}
        assert kinds == {
            (ActionKind.UNCHANGED, None),
            (ActionKind.BLOCKED, ActionKind.DELETE),
            (ActionKind.BLOCKED, ActionKind.CREATE),
        }
        assert not plan.has_changes and plan.has_errors
        held = next(a for a in plan.actions if a.refused is ActionKind.CREATE)
        assert "held back while this context's deletions are refused" in held.reason
    confirmed = make_plan(new, summaries, full, replace(options, force_prune=True))
    counts = confirmed.counts()
    assert (counts["create"], counts["delete"], counts["blocked"]) == (80, 5, 0)


def test_updates_still_go_ahead_while_a_prune_is_refused() -> None:
    old = desired(*(api(n) for n in NAMES[:4]))
    summaries, full = remote(*(applied(one(old, n)) for n in NAMES[:4]))
    new = desired(api(NAMES[0], description="changed"), api(NAMES[1]))  # 2 of 4 removed: refused
    plan = make_plan(new, summaries, full, SAFE)
    assert {a.kind for a in plan.actions if a.resource.name == NAMES[0]} == {ActionKind.UPDATE}


def test_a_sync_of_an_older_commit_does_not_roll_back_a_newer_one() -> None:
    before = desired(api("orders", description="newer"), api("a"), api("b"), api("c"), api("gone"))
    after = desired(api("orders", description="older"), api("a"), api("b"), api("c"))
    later, earlier = T0, T0 - timedelta(minutes=5)
    summaries, full = remote(
        *(
            applied(one(before, n), commit="newer-sha", committed=later)
            for n in ("orders", "a", "b", "c", "gone")
        )
    )
    older_sync = replace(SAFE, git_commit="older-sha", commit_time=earlier)
    plan = make_plan(after, summaries, full, older_sync)
    refused = {a.resource.name: a for a in plan.actions if a.kind is ActionKind.BLOCKED}
    assert set(refused) == {"orders", "gone"}
    assert refused["orders"].refused is ActionKind.UPDATE and refused["gone"].refused is ActionKind.DELETE
    assert "after this sync's commit older-sha" in refused["orders"].reason
    assert "not rolled back (use --allow-rollback)" in refused["gone"].reason
    assert not plan.has_changes
    allowed = make_plan(after, summaries, full, replace(older_sync, allow_rollback=True))
    assert {a.kind for a in allowed.actions if a.resource.name in ("orders", "gone")} == {
        ActionKind.UPDATE,
        ActionKind.DELETE,
    }
    assert all("rolls back" in a.reason for a in allowed.actions if a.resource.name == "orders")
    newer_sync = replace(SAFE, git_commit="next-sha", commit_time=later + timedelta(minutes=1))
    newer = make_plan(after, summaries, full, newer_sync).actions
    assert ActionKind.UPDATE in {a.kind for a in newer}
    assert not [a for a in newer if a.kind is ActionKind.BLOCKED]


def _header_api(value: Any) -> Any:
    headers = [{"name": "X-Api-Key", "value": value}, {"name": "X-Trace", "value": "on"}]
    groups = [
        {
            "name": "default",
            "type": "http-proxy",
            "endpoints": [
                {
                    "name": "e",
                    "type": "http-proxy",
                    "configuration": {"target": "https://b.example", "headers": headers},
                }
            ],
        }
    ]
    return api("orders", endpointGroups=groups)


def test_a_removed_secret_field_never_shows_the_value_apim_holds() -> None:
    with_secret = desired(replace(_header_api(Secret("canary-live-9f8e7d6c")), has_templates=True))
    d = one(with_secret, "orders")
    assert d.secret_fields, "the fields that hold secrets are recorded"
    summary, state = applied(d)
    summary = replace(
        summary, metadata={OWNERSHIP_KEY: _record_value(d, carrier=d.remote_id, sensitive=d.secret_fields)}
    )
    plain = api(
        "orders",
        endpointGroups=[
            {
                "name": "default",
                "type": "http-proxy",
                "endpoints": [
                    {"name": "e", "type": "http-proxy", "configuration": {"target": "https://b.example"}}
                ],
            }
        ],
    )
    for manifest in (desired(plain), desired(_header_api("now-a-plain-value"))):
        (action,) = make_plan(manifest, {CTX: [summary]}, {(CTX, summary.id): state}, SAFE).actions
        assert action.kind is ActionKind.UPDATE
        report = json.dumps(
            report_data(make_plan(manifest, {CTX: [summary]}, {(CTX, summary.id): state}, SAFE))
        )
        assert "canary-live-9f8e7d6c" not in report and "canary-live" not in repr(action)
        assert any(c["sensitive"] for c in json.loads(report)["actions"][0]["changes"])
    path = ("endpointGroups", 0, "endpoints", 0, "configuration")
    assert path_fingerprint(path) not in d.secret_fields  # only the secret leaf, not its parents


def test_a_created_field_that_holds_a_secret_is_flagged_sensitive() -> None:
    states = desired(replace(_header_api(Secret("canary-new-1a2b3c4d")), has_templates=True))
    plan = make_plan(states, {}, {}, SAFE)
    changes = report_data(plan)["actions"][0]["changes"]
    groups = next(c for c in changes if c["path"] == "endpointGroups")
    assert groups["sensitive"] is True and groups["op"] == str(ChangeOp.ADDED)
    assert "canary-new" not in json.dumps(changes) and "X-Trace" in json.dumps(changes)


def test_an_ownership_record_that_would_not_fit_apim_is_refused_before_writing() -> None:
    states = desired(api("orders"))
    (action,) = make_plan(states, {}, {}, replace(SAFE, owner_id="o" * 900)).actions
    assert action.kind is ActionKind.CONFLICT and "more than the 1000" in action.reason


def test_a_renamed_resource_keeps_its_object() -> None:
    before = desired(api("orders", hrid="orders"))
    after = desired(api("orders-renamed", hrid="orders"))
    summaries, full = remote(applied(one(before, "orders")))
    (action,) = make_plan(after, summaries, full, SAFE).actions
    assert action.kind is ActionKind.UPDATE and action.reason.startswith("renamed from")


def test_plans_are_the_same_without_a_clock() -> None:
    states = desired(api("orders"))
    summaries, full = remote(applied(one(states, "orders")))
    assert (
        make_plan(states, summaries, full, PlanOptions(git_commit="abc123")).actions[0].kind
        is ActionKind.UNCHANGED
    )


def test_a_detached_api_is_reported_not_silently_re_attached() -> None:
    """A console "detach" (mAPI v2 `_detach`) turns the origin to MANAGEMENT; the next Automation PUT
    would silently re-attach it, and deleting it while it runs fails. It is a conflict until adopted."""
    states = desired(api("orders", description="from git"), api("a"), api("b"), api("c"))
    summaries, full = remote(*(applied(one(states, n)) for n in ("orders", "a", "b", "c")))
    detached = replace(summaries[CTX][0], origin="MANAGEMENT", updated_at=NOW)
    listing = {CTX: [detached, *summaries[CTX][1:]]}
    plan = make_plan(states, listing, full, SAFE)
    (action,) = [a for a in plan.actions if a.resource.name == "orders"]
    assert action.kind is ActionKind.CONFLICT and "detached" in action.reason and not action.writes
    adopted = make_plan(states, listing, full, replace(SAFE, adopt=True))
    assert next(a for a in adopted.actions if a.resource.name == "orders").reason.startswith("re-attaching")
    gone = make_plan(desired(api("a"), api("b"), api("c")), listing, full, SAFE)
    (kept,) = [a for a in gone.actions if a.resource.name == "orders"]
    assert kept.kind is ActionKind.BLOCKED and "detached" in kept.reason


def test_a_lifecycle_move_apim_refuses_is_an_error_before_writing() -> None:
    """DEPRECATED may only become ARCHIVED, ARCHIVED is final, UNPUBLISHED cannot go back to CREATED
    (APIM's ApiValidationServiceImpl); an update APIM refuses would come back as an opaque 500."""
    for current, wanted, refused in (
        ("DEPRECATED", "PUBLISHED", True),
        ("DEPRECATED", "ARCHIVED", False),
        ("ARCHIVED", "PUBLISHED", True),
        ("UNPUBLISHED", "CREATED", True),
        ("UNPUBLISHED", "PUBLISHED", False),
    ):
        before = desired(api("orders", lifecycleState=current))
        after = desired(api("orders", lifecycleState=wanted))
        summary, state = applied(one(before, "orders"))
        summary = replace(summary, listed={**summary.listed, "lifecycleState": current})
        (action,) = make_plan(after, {CTX: [summary]}, {(CTX, summary.id): state}, SAFE).actions
        assert (action.kind is ActionKind.CONFLICT) is refused, (current, wanted, action)
        assert not action.writes if refused else action.writes
