"""The kind registry: one `Kind` per managed manifest kind, and the order of a sync derived from it."""

from __future__ import annotations

from pathlib import Path

from reconciler import kinds
from reconciler.kinds import AutomationEndpoints
from reconciler.manifests.model import MANAGEMENT_CONTEXT, RECONCILED_KINDS

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_every_reconciled_kind_but_the_context_is_registered_once_with_its_schema() -> None:
    assert sorted(kinds.MANAGED_KINDS) == sorted(k for k in RECONCILED_KINDS if k != MANAGEMENT_CONTEXT)
    assert len(set(kinds.MANAGED_KINDS)) == len(kinds.KINDS)
    for kind in kinds.KINDS:
        assert (SCHEMAS / f"{kind.name}.json").is_file(), kind.name
        assert kind.listing, kind.name  # what it costs to find them is stated (README's kinds table)


def test_every_write_comes_before_any_deletion_and_dependants_go_first_when_deleting() -> None:
    writes = {k.name: kinds.phase(k.name, deleting=False) for k in kinds.KINDS}
    deletions = {k.name: kinds.phase(k.name, deleting=True) for k in kinds.KINDS}
    assert max(writes.values()) < min(deletions.values())
    for a in kinds.KINDS:
        for b in kinds.KINDS:
            if a.level < b.level:  # b refers to a (an application subscribes to an API)
                assert writes[a.name] < writes[b.name] and deletions[b.name] < deletions[a.name]
    assert set(writes.values()) | set(deletions.values()) <= set(kinds.PHASES)


def test_a_kind_that_reads_its_full_state_reads_it_through_the_automation_api() -> None:
    for remote in {k.remote for k in kinds.KINDS}:
        reader = kinds.full_reader(remote)
        assert reader.reads_full_state and isinstance(reader.endpoints, AutomationEndpoints)


def test_a_record_of_a_kind_we_do_not_manage_is_ordered_with_its_apim_object() -> None:
    api = kinds.kind(kinds.MANAGED_KINDS[0])
    assert kinds.named_or_remote("ApiV5Definition", api.remote).remote is api.remote
