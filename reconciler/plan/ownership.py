"""The ownership record: one metadata entry that says "this object is managed from git, by whom".

It is what makes pruning safe (only objects carrying our record with our owner id are ever deleted)
and the no-op cheap (the recorded spec hash and apply time let the planner skip reading objects that
cannot have changed). It lives in APIM metadata because mAPI v2 search returns metadata in the
listing (`expands=metadata`), so a whole environment's records cost one paged listing.

The value is compact JSON, for example::

    {"v":1,"owner":"apim-reconciler","kind":"ApiV4Definition","namespace":"default","name":"my-api",
     "commit":"3f2a...","hash":"sha256:...","appliedAt":"2026-11-23T11:00:00Z"}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from reconciler.manifests.model import ResourceId

OWNERSHIP_KEY = "apim-reconciler"
"""The metadata key of the record, on every object we manage."""

DEFAULT_OWNER = "apim-reconciler"
RECORD_VERSION = 1

JSON = Any


@dataclass(frozen=True)
class OwnershipRecord:
    owner: str
    resource: ResourceId
    commit: str
    spec_hash: str
    applied_at: datetime | None = None
    context: ResourceId | None = None
    """The ManagementContext that wrote it: two contexts on one environment never prune each other."""

    def belongs_to(self, context: ResourceId) -> bool:
        return self.context is None or self.context == context

    def stamped(self, applied_at: datetime) -> OwnershipRecord:
        return replace(self, applied_at=applied_at)

    def to_value(self) -> str:
        """The metadata value: compact JSON with a stable key order."""
        if self.applied_at is None:
            raise ValueError("an ownership record needs its apply time before it is written")
        return json.dumps(
            {
                "v": RECORD_VERSION,
                "owner": self.owner,
                "kind": self.resource.kind,
                "namespace": self.resource.namespace,
                "name": self.resource.name,
                "commit": self.commit,
                "hash": self.spec_hash,
                "appliedAt": format_instant(self.applied_at),
                **({"context": f"{self.context.namespace}/{self.context.name}"} if self.context else {}),
            },
            separators=(",", ":"),
        )

    def metadata_entry(self) -> dict[str, str]:
        """The entry as the Automation API (and the v2 CRD import) take it."""
        return {"key": OWNERSHIP_KEY, "name": OWNERSHIP_KEY, "format": "STRING", "value": self.to_value()}


class Ownership(StrEnum):
    """Whose an object in APIM is, from the point of view of one reconciler."""

    OURS = "ours"
    FOREIGN = "foreign"  # another reconciler (another owner id)
    UNOWNED = "unowned"  # no record: made in the console, by GKO, or by a script
    MALFORMED = "malformed"  # a record we cannot read: treated as not ours, never deleted


@dataclass(frozen=True)
class ParsedRecord:
    ownership: Ownership
    record: OwnershipRecord | None = None
    problem: str | None = None


def format_instant(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, to the millisecond (APIM's own precision)."""
    if moment.tzinfo is None:
        raise ValueError("apply times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_instant(value: JSON) -> datetime | None:
    """An instant from ISO-8601 text or epoch milliseconds (mAPI v2 sends either); None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and value:
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_record(value: JSON, our_owner: str) -> ParsedRecord:
    """Read a record from the metadata value (None when the object has no record)."""
    if value is None:
        return ParsedRecord(Ownership.UNOWNED)
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        return ParsedRecord(Ownership.MALFORMED, problem="ownership record is not a JSON object")
    fields = ("owner", "kind", "namespace", "name", "commit", "hash", "appliedAt")
    missing = [f for f in fields if not isinstance(data.get(f), str)]
    if missing:
        return ParsedRecord(Ownership.MALFORMED, problem=f"ownership record lacks {', '.join(missing)}")
    applied_at = parse_instant(data["appliedAt"])
    if applied_at is None:
        return ParsedRecord(Ownership.MALFORMED, problem="ownership record has an unreadable appliedAt")
    context_namespace, _, context_name = str(data.get("context") or "").partition("/")
    record = OwnershipRecord(
        owner=data["owner"],
        resource=ResourceId(data["kind"], data["namespace"], data["name"]),
        commit=data["commit"],
        spec_hash=data["hash"],
        applied_at=applied_at,
        context=ResourceId("ManagementContext", context_namespace, context_name) if context_name else None,
    )
    return ParsedRecord(Ownership.OURS if record.owner == our_owner else Ownership.FOREIGN, record)


def record_from_metadata(metadata: Mapping[str, JSON] | None, our_owner: str) -> ParsedRecord:
    """Read the record from a mAPI v2 search item's `metadata` map (key -> value)."""
    return parse_record((metadata or {}).get(OWNERSHIP_KEY), our_owner)


def metadata_map(entries: JSON) -> dict[str, JSON]:
    """Automation API metadata (`[{key, name, format, value}]`) as the key -> value map mAPI v2 shows."""
    out: dict[str, JSON] = {}
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, Mapping) and isinstance(entry.get("key"), str):
                out[entry["key"]] = entry.get("value")
    return out


def with_record(body: Mapping[str, JSON], record: OwnershipRecord) -> dict[str, JSON]:
    """The body to send: `body` with the ownership entry put in (replacing any earlier one)."""
    metadata = [
        m
        for m in body.get("metadata") or []
        if not (isinstance(m, Mapping) and m.get("key") == OWNERSHIP_KEY)
    ]
    return {**body, "metadata": [*metadata, record.metadata_entry()]}
