"""Each action the planner can choose, from plain data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from reconciler.kinds import RemoteKind
from reconciler.plan.diff import ChangeOp, diff
from reconciler.plan.model import ActionKind, Plan, PlanOptions
from reconciler.plan.normalise import hashable
from reconciler.plan.planner import CreationChanges, make_plan, reads_needed
from tests.plan.plan_helpers import CTX, OPTIONS, T0, api, app, applied, desired, one, remote


def _plan(states: Any, summaries: Any, full: Any, options: PlanOptions = OPTIONS) -> Plan:
    return make_plan(states, summaries, full, options)


def test_create_when_absent_from_apim() -> None:
    states = desired(api("orders"))
    plan = _plan(states, {}, {})
    (action,) = plan.actions
    assert action.kind is ActionKind.CREATE
    assert action.hrid == "default-orders"
    assert action.remote_id == one(states, "orders").remote_id
    assert {c.path_text for c in action.changes} >= {"name", "plans"}
    assert all(c.op is ChangeOp.ADDED for c in action.changes)
    assert plan.summary() == "Plan: 1 to create, 0 to update, 0 to delete"
    assert plan.has_changes


def test_a_creations_changes_are_its_body_as_sent_worked_out_when_read() -> None:
    (action,) = _plan(desired(api("orders", description="Orders")), {}, {}).actions
    assert isinstance(action.changes, CreationChanges)  # a view of the body, not a second copy
    assert action.body is not None
    expected = diff(hashable("ApiV4Definition", action.body), {})
    assert action.changes == expected and len(action.changes) == len(expected)
    assert [c.path_text for c in action.changes] == [c.path_text for c in expected]
    description = next(c for c in action.changes if c.path_text == "description")
    assert (description.op, description.new) == (ChangeOp.ADDED, "Orders")
    assert description.position is not None and description.position.file == "orders.yaml"
    assert action.changes[0] == expected[0] and list(action.changes[1:3]) == list(expected[1:3])


def test_request_body_carries_the_ownership_record() -> None:
    states = desired(api("orders"))
    (action,) = _plan(states, {}, {}).actions
    body = action.request_body(T0)
    (entry,) = [m for m in body["metadata"] if m["key"] == "apim-reconciler"]
    assert '"owner":"apim-reconciler"' in entry["value"]
    assert '"commit":"abc123"' in entry["value"]
    assert '"appliedAt":"2026-11-23T10:00:00.000Z"' in entry["value"]
    assert one(states, "orders").spec_hash in entry["value"]


def test_unchanged_without_any_read() -> None:
    states = desired(api("orders"))
    summaries, _ = remote(applied(one(states, "orders")))
    assert reads_needed(states, summaries, OPTIONS) == ()
    (action,) = _plan(states, summaries, {}).actions
    assert action.kind is ActionKind.UNCHANGED
    assert not _plan(states, summaries, {}).has_changes


def test_update_when_the_manifest_changed() -> None:
    before = desired(api("orders", description="old"))
    after = desired(api("orders", description="new"))
    summaries, full = remote(applied(one(before, "orders")))
    (read,) = reads_needed(after, summaries, OPTIONS)
    assert read.reason == "desired spec changed since last apply"
    (action,) = _plan(after, summaries, full).actions
    assert action.kind is ActionKind.UPDATE
    (change,) = action.changes
    assert (change.op, change.path_text, change.old, change.new) == (
        ChangeOp.CHANGED,
        "description",
        "old",
        "new",
    )


def test_update_reports_added_and_removed_paths() -> None:
    before = desired(api("orders", labels=["a"]))
    after = desired(api("orders", tags=["eu"]))
    summaries, full = remote(applied(one(before, "orders")))
    (action,) = _plan(after, summaries, full).actions
    assert {(c.op, c.path_text) for c in action.changes} == {
        (ChangeOp.ADDED, "tags"),
        (ChangeOp.REMOVED, "labels"),
    }


def test_long_strings_are_shown_as_unified_diffs() -> None:
    before = desired(
        api("orders", pages={"doc": {"name": "Doc", "type": "MARKDOWN", "content": "a\nb\nc\n"}})
    )
    after = desired(api("orders", pages={"doc": {"name": "Doc", "type": "MARKDOWN", "content": "a\nB\nc\n"}}))
    summaries, full = remote(applied(one(before, "orders")))
    (action,) = _plan(after, summaries, full).actions
    (change,) = action.changes
    assert change.path_text == "pages.doc.content"
    diff = change.text_diff()
    assert diff is not None and "-b" in diff and "+B" in diff


def test_drift_detected_and_reverted() -> None:
    states = desired(api("orders", description="from git"))

    def console_edit(state: dict[str, Any]) -> None:
        state["description"] = "edited in console"

    summaries, full = remote(applied(one(states, "orders"), updated=timedelta(hours=1), change=console_edit))
    (read,) = reads_needed(states, summaries, OPTIONS)
    assert read.reason == "modified in APIM after last apply"
    plan = _plan(states, summaries, full)
    (action,) = plan.actions
    assert action.kind is ActionKind.DRIFTED and action.writes
    assert action.changes[0].old == "edited in console"
    assert plan.summary() == "Plan: 0 to create, 1 to update, 0 to delete (1 drifted)"


def test_drift_reported_only_when_revert_is_off() -> None:
    states = desired(api("orders", description="from git"))
    summaries, full = remote(
        applied(one(states, "orders"), updated=timedelta(hours=1), change=lambda s: s.update(description="x"))
    )
    plan = _plan(states, summaries, full, replace(OPTIONS, revert_drift=False))
    (action,) = plan.actions
    assert action.kind is ActionKind.DRIFTED and not action.writes
    assert not plan.has_changes


def test_touched_but_equal_is_unchanged() -> None:
    states = desired(api("orders"))
    summaries, full = remote(applied(one(states, "orders"), updated=timedelta(hours=1)))
    (action,) = _plan(states, summaries, full).actions
    assert action.kind is ActionKind.UNCHANGED


def test_update_within_tolerance_is_not_drift() -> None:
    states = desired(api("orders"))
    summaries, _ = remote(applied(one(states, "orders"), updated=timedelta(seconds=119)))
    assert reads_needed(states, summaries, OPTIONS) == ()
    summaries, _ = remote(applied(one(states, "orders"), updated=timedelta(seconds=121)))
    assert len(reads_needed(states, summaries, OPTIONS)) == 1


def test_full_read_option_reads_everything() -> None:
    states = desired(api("orders"))
    summaries, _ = remote(applied(one(states, "orders")))
    assert len(reads_needed(states, summaries, replace(OPTIONS, full_read=True))) == 1


def test_missing_full_state_falls_back_to_reapply() -> None:
    before = desired(api("orders", description="old"))
    after = desired(api("orders", description="new"))
    summaries, _ = remote(applied(one(before, "orders")))
    (action,) = _plan(after, summaries, {}).actions
    assert action.kind is ActionKind.UPDATE and "full state not read" in action.reason


def test_delete_owned_resource_gone_from_git() -> None:
    old = desired(api("orders"), api("billing"), api("users"), api("stock"), api("search"))
    now = desired(api("orders"), api("billing"), api("users"), api("stock"))
    summaries, full = remote(
        *(applied(one(old, n)) for n in ("orders", "billing", "users", "stock", "search"))
    )
    plan = _plan(now, summaries, full)
    (delete,) = [a for a in plan.actions if a.kind is ActionKind.DELETE]
    assert delete.hrid == "default-search"
    assert delete.resource.name == "search"
    assert plan.summary() == "Plan: 0 to create, 0 to update, 1 to delete"


def test_foreign_and_unowned_resources_are_never_deleted() -> None:
    old = desired(api("a"), api("b"), api("c"), api("d"))
    summaries, _ = remote(
        applied(one(old, "a")),
        applied(one(old, "b"), owner="team-b"),
        applied(one(old, "c"), metadata={}),
        applied(one(old, "d"), metadata={"apim-reconciler": "{not json"}),
    )
    plan = _plan(desired(api("a")), summaries, {}, replace(OPTIONS, force_prune=True))
    assert [a.kind for a in plan.actions] == [ActionKind.UNCHANGED]


def test_conflict_with_an_unowned_resource() -> None:
    states = desired(api("orders"))
    summaries, full = remote(applied(one(states, "orders"), metadata={}))
    (read,) = reads_needed(states, summaries, OPTIONS)
    assert "unowned" in read.reason
    plan = _plan(states, summaries, full)
    (action,) = plan.actions
    assert action.kind is ActionKind.CONFLICT and not action.writes
    assert "without an ownership record" in action.reason
    assert plan.has_errors


def test_conflict_with_another_owner_even_with_adopt() -> None:
    states = desired(api("orders"))
    summaries, full = remote(applied(one(states, "orders"), owner="someone-else"))
    (action,) = _plan(states, summaries, full, replace(OPTIONS, adopt=True)).actions
    assert action.kind is ActionKind.CONFLICT
    assert "someone-else" in action.reason


def test_conflict_with_a_malformed_record() -> None:
    states = desired(api("orders"))
    summaries, full = remote(applied(one(states, "orders"), metadata={"apim-reconciler": '{"owner": 1}'}))
    (action,) = _plan(states, summaries, full).actions
    assert action.kind is ActionKind.CONFLICT and "unreadable ownership record" in action.reason


def test_adopt_turns_a_conflict_into_an_update() -> None:
    states = desired(api("orders", description="git"))
    summaries, full = remote(
        applied(one(states, "orders"), metadata={}, change=lambda s: s.update(description="console"))
    )
    (action,) = _plan(states, summaries, full, replace(OPTIONS, adopt=True)).actions
    assert action.kind is ActionKind.UPDATE and action.reason.startswith("adopting")
    assert [c.path_text for c in action.changes] == ["description"]
    assert action.record is not None and action.record.owner == "apim-reconciler"


def test_configurable_owner_id() -> None:
    states = desired(api("orders"))
    summaries, _ = remote(applied(one(states, "orders"), owner="repo-2"))
    (action,) = _plan(states, summaries, {}, replace(OPTIONS, owner_id="repo-2")).actions
    assert action.kind is ActionKind.UNCHANGED


def test_matched_by_record_even_if_ids_differ() -> None:
    states = desired(api("orders"))
    summary, state = applied(one(states, "orders"), remote_id="legacy-uuid", cross_id="legacy-cross")
    plan = _plan(states, {CTX: [summary]}, {(CTX, "legacy-uuid"): state})
    (action,) = plan.actions
    assert action.kind is ActionKind.UNCHANGED and action.remote_id == "legacy-uuid"


def test_application_actions() -> None:
    before = desired(app("mobile", domain="a.example"))
    after = desired(app("mobile", domain="b.example"))
    summaries, full = remote(applied(one(before, "mobile")))
    (action,) = _plan(after, summaries, full).actions
    assert action.kind is ActionKind.UPDATE and action.remote_kind is RemoteKind.APPLICATION
    assert [c.path_text for c in action.changes] == ["domain"]


def test_changes_point_at_manifest_lines() -> None:
    from reconciler.manifests.model import Position, Positions, Resource

    base = api(
        "orders", description="new", plans={"Key Less": {"name": "Free", "security": {"type": "KEY_LESS"}}}
    )
    positions = Positions(
        {
            ("spec", "description"): Position("orders.yaml", 7),
            ("spec", "plans", "Key Less"): Position("orders.yaml", 20),
            ("spec", "plans", "Key Less", "name"): Position("orders.yaml", 21),
        },
        Position("orders.yaml", 1),
    )
    located = Resource(base.id, base.spec, base.metadata, positions)
    before = desired(api("orders", description="old", plans={"Key Less": {"name": "Gratis"}}))
    summaries, full = remote(applied(one(before, "orders")))
    (action,) = _plan(desired(located), summaries, full).actions
    where = {c.path_text: str(c.position) for c in action.changes}
    assert where["description"] == "orders.yaml:7:1"
    assert where["plans.Key-Less.name"] == "orders.yaml:21:1"
    assert where["plans.Key-Less.security"] == "orders.yaml:20:1"


def test_console_edit_of_a_listed_field_is_seen_within_the_tolerance() -> None:
    """A description edited seconds after an apply: `updatedAt` cannot tell, the listing can."""
    states = desired(api("orders", description="From git", tags=["b", "a"]))
    summary, state = applied(one(states, "orders"), updated=timedelta(seconds=5))
    state["description"] = "Edited in the console"
    listed = replace(summary, listed={"description": "Edited in the console", "tags": ["a", "b"]})
    summaries, full = remote((listed, state))
    (read,) = reads_needed(states, summaries, OPTIONS)
    assert "listing differs" in read.reason
    (action,) = _plan(states, summaries, full).actions
    assert action.kind is ActionKind.DRIFTED
    assert [(c.path_text, c.new) for c in action.changes] == [("description", "From git")]
    # the same listing with only a reordered set and padding is no reason to read
    quiet = replace(summary, listed={"description": " From git ", "tags": ["a", "b"]})
    assert reads_needed(states, remote((quiet, state))[0], OPTIONS) == ()
