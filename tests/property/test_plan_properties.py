"""Ownership and prune-guard properties of the planner, for generated mixes and histories."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.model import ActionKind
from reconciler.plan.ownership import OWNERSHIP_KEY
from reconciler.plan.planner import make_plan
from tests.plan.plan_helpers import OPTIONS, api, applied, desired, one, remote
from tests.property.settings import fuzz

NAMES = [f"api{i}" for i in range(12)]
OWNERSHIP = st.sampled_from(["ours", "foreign", "unowned", "malformed"])


@fuzz
@given(
    remote_objects=st.dictionaries(st.sampled_from(NAMES), OWNERSHIP, max_size=12),
    wanted=st.sets(st.sampled_from(NAMES), max_size=12),
    adopt=st.booleans(),
    prune=st.booleans(),
    force=st.booleans(),
    changed=st.sets(st.sampled_from(NAMES)),
)
def test_only_our_own_objects_are_ever_written_or_deleted(
    remote_objects: dict[str, str], wanted: set[str], adopt: bool, prune: bool, force: bool, changed: set[str]
) -> None:
    everything = desired(*(api(n, description="old") for n in NAMES))
    pairs: list[Any] = []
    for name, ownership in remote_objects.items():
        metadata = None
        if ownership == "foreign":
            summary, _ = applied(one(everything, name), owner="someone-else")
        else:
            summary, _ = applied(one(everything, name))
            metadata = {"unowned": {}, "malformed": {OWNERSHIP_KEY: "{not json"}}.get(ownership)
        if metadata is not None:
            summary = replace(summary, metadata=metadata)
        pairs.append((summary, applied(one(everything, name))[1]))
    summaries, full = remote(*pairs)
    states = desired(*(api(n, description="new" if n in changed else "old") for n in sorted(wanted)))
    options = replace(OPTIONS, adopt=adopt, prune=prune, force_prune=force)
    plan = make_plan(states, summaries, full, options)

    for action in plan.actions:
        ownership = remote_objects.get(action.resource.name)
        if action.kind is ActionKind.DELETE:
            assert ownership == "ours" and action.resource.name not in wanted and prune
        if action.writes and action.kind is not ActionKind.DELETE:
            assert action.resource.name in wanted
            assert ownership in (None, "ours") or (adopt and ownership in ("unowned", "malformed"))
        if ownership == "foreign" and action.resource.name in wanted:
            assert action.kind is ActionKind.CONFLICT


@fuzz
@given(history=st.lists(st.sets(st.sampled_from(NAMES)), min_size=1, max_size=8), force=st.booleans())
def test_no_repository_history_deletes_past_the_guard(history: list[set[str]], force: bool) -> None:
    everything = desired(*(api(n) for n in NAMES))
    owned: set[str] = set()
    for wanted in history:
        summaries, full = remote(*(applied(one(everything, n)) for n in sorted(owned)))
        states = desired(*(api(n) for n in sorted(wanted)))
        plan = make_plan(states, summaries, full, replace(OPTIONS, force_prune=force))
        deleted = {a.resource.name for a in plan.actions if a.kind is ActionKind.DELETE}
        created = {a.resource.name for a in plan.actions if a.kind is ActionKind.CREATE}
        if not force and owned:
            assert len(deleted) <= 0.25 * len(owned)
            assert deleted != owned or not deleted
        if not wanted and not force:
            assert not deleted
        refused = [a for a in plan.actions if a.kind is ActionKind.BLOCKED and a.refused is ActionKind.DELETE]
        # While deletions are refused, creations wait too, so that they cannot outvote the refusal.
        assert deleted <= owned - wanted and created == (set() if refused else wanted - owned)
        owned = (owned - deleted) | created
