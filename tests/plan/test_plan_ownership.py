"""The ownership record: written, read back, and every way it can be missing or wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reconciler.manifests.model import ResourceId
from reconciler.plan.ownership import (
    OWNERSHIP_KEY,
    Ownership,
    OwnershipRecord,
    metadata_map,
    parse_instant,
    parse_record,
    record_from_metadata,
    with_record,
)
from reconciler.plan.state import RemoteSummary

RID = ResourceId("ApiV4Definition", "default", "orders")
AT = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)
RECORD = OwnershipRecord("apim-reconciler", RID, "abc123", "sha256:00", AT)


def test_value_is_compact_json_with_every_field() -> None:
    value = RECORD.to_value()
    assert " " not in value
    data = json.loads(value)
    assert data == {
        "v": 2,
        "owner": "apim-reconciler",
        "kind": "ApiV4Definition",
        "namespace": "default",
        "name": "orders",
        "commit": "abc123",
        "hash": "sha256:00",
        "appliedAt": "2026-11-23T10:00:00.123Z",
        "sig": data["sig"],
    }
    assert len(data["sig"]) == 24


def test_ours_round_trips() -> None:
    parsed = record_from_metadata({OWNERSHIP_KEY: RECORD.to_value(), "other": "x"}, "apim-reconciler")
    assert parsed.ownership is Ownership.OURS
    assert parsed.record == RECORD


def test_foreign_owner() -> None:
    assert parse_record(RECORD.to_value(), "someone-else").ownership is Ownership.FOREIGN


def test_no_record() -> None:
    assert record_from_metadata({}, "apim-reconciler").ownership is Ownership.UNOWNED
    assert record_from_metadata(None, "apim-reconciler").ownership is Ownership.UNOWNED


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[]",
        '{"owner": "apim-reconciler"}',
        json.dumps({**json.loads(RECORD.to_value()), "appliedAt": "soon"}),
    ],
)
def test_malformed_record(value: str) -> None:
    parsed = parse_record(value, "apim-reconciler")
    assert parsed.ownership is Ownership.MALFORMED and parsed.problem


def test_apply_time_must_be_set_and_aware() -> None:
    with pytest.raises(ValueError):
        OwnershipRecord("o", RID, "c", "h").to_value()
    with pytest.raises(ValueError):
        RECORD.stamped(datetime(2026, 1, 1)).to_value()


def test_with_record_replaces_an_earlier_entry() -> None:
    body = {
        "metadata": [
            {"key": OWNERSHIP_KEY, "value": "old"},
            {"key": "team", "name": "team", "format": "STRING", "value": "a"},
        ]
    }
    out = with_record(body, RECORD)
    assert [m["key"] for m in out["metadata"]] == ["team", OWNERSHIP_KEY]
    assert body["metadata"][0]["value"] == "old"  # input untouched


def test_summary_from_mapi_v2_search_item() -> None:
    item = {
        "id": "i",
        "crossId": "c",
        "name": "Orders",
        "definitionVersion": "V4",
        "updatedAt": "2026-11-23T10:01:00Z",
        "metadata": {OWNERSHIP_KEY: RECORD.to_value()},
    }
    summary = RemoteSummary.from_mapi_v2_api(item)
    assert summary.updated_at == datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
    assert record_from_metadata(summary.metadata, "apim-reconciler").record == RECORD


def test_summary_from_application_with_metadata_list() -> None:
    item = {"id": "a", "name": "App", "metadata": [RECORD.metadata_entry()], "updatedAt": 1763892000000}
    summary = RemoteSummary.from_application(item)
    assert summary.metadata == metadata_map([RECORD.metadata_entry()])
    assert summary.updated_at == parse_instant(1763892000000)
