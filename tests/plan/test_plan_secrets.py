"""Secrets: sent in the body, hashed (rotation means update), compared by value, never shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.manifests.model import Resource
from reconciler.plan.model import ActionKind
from reconciler.plan.planner import make_plan, reads_needed
from reconciler.secrets.value import Secret, reveal_all
from tests.plan.plan_helpers import OPTIONS, api, applied, desired, one, remote


def _api(secret: str) -> Resource:
    return api(
        "orders",
        resources=[{"name": "cache", "type": "cache-redis", "configuration": {"password": Secret(secret)}}],
    )


def test_secret_reaches_the_body_and_is_revealed_only_on_demand() -> None:
    states = desired(_api("s3cr3t"))
    (action,) = make_plan(states, {}, {}, OPTIONS).actions
    body = action.request_body(datetime(2026, 11, 23, tzinfo=UTC))
    assert body["resources"][0]["configuration"]["password"] == Secret("s3cr3t")
    assert "s3cr3t" not in repr(body)
    assert reveal_all(body)["resources"][0]["configuration"]["password"] == "s3cr3t"


def test_rotation_changes_the_hash_and_updates() -> None:
    before, after = desired(_api("old-secret")), desired(_api("new-secret"))
    assert one(before, "orders").spec_hash != one(after, "orders").spec_hash
    summaries, full = remote(applied(one(before, "orders")))
    assert len(reads_needed(after, summaries, OPTIONS)) == 1
    (action,) = make_plan(after, summaries, full, OPTIONS).actions
    assert action.kind is ActionKind.UPDATE
    (change,) = action.changes
    assert change.sensitive
    assert change.shown_old() == "(sensitive)" and change.shown_new() == "(sensitive)"
    assert "old-secret" not in repr(action) and "new-secret" not in repr(action)


def test_echoed_plain_value_equals_the_secret() -> None:
    states = desired(_api("s3cr3t"))
    summaries, full = remote(applied(one(states, "orders"), updated=timedelta(hours=2)))
    (action,) = make_plan(states, summaries, full, OPTIONS).actions
    assert action.kind is ActionKind.UNCHANGED
