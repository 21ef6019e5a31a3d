"""The ownership record: one metadata entry that says "this object is managed from git, by whom".

It is what makes pruning safe (only objects carrying our record with our owner id are ever deleted)
and the no-op cheap (the recorded spec hash and apply time let the planner skip reading objects that
cannot have changed). It lives in APIM metadata because mAPI v2 search returns metadata in the
listing (`expands=metadata`), so a whole environment's records cost one paged listing.

A record is only as good as its binding to the object that carries it. Anybody with console access
can copy a metadata value onto another API (APIM's own "duplicate" copies metadata too), so a
version-2 record names the APIM id of the object it was written onto (`id`) and the HRID it was
written under (`hrid`); a record found on any other object is a copy, never a reason to update or
delete anything. A digest over the record (`sig`) shows a hand edit (a future `appliedAt` hiding a
console edit, say): an altered record is not trusted for the shortcuts that skip reading an object.
The digest has no key, so it stops careless edits, not a forger who recomputes it; the periodic full
read (docs/plan.md) is what catches any drift whatever the records say.

`sensitive` lists fingerprints of the fields that held secret values when the object was written,
so that a report can mask the value APIM still holds after the secret is removed from git.

`view` (`vh`) is a short digest of what APIM should hold once the write is done (the comparable
form of the body, see `applied_view`): a later sync that reads the object tells from it whether
anybody else changed what we manage since, whatever APIM's `updatedAt` says. Without it (records of
earlier versions) a report can only say that APIM's clock moved.

The value is compact JSON, for example::

    {"v":2,"owner":"apim-reconciler","kind":"ApiV4Definition","namespace":"default","name":"my-api",
     "context":"default/ctx","hrid":"default-my-api","id":"0b7c...","commit":"3f2a...","ct":1795000000,
     "hash":"sha256:...","appliedAt":"2026-11-23T11:00:00.000Z","s":["1a2b3c4d"],
     "vh":"5e0c...","sig":"9f..."}

`ct` is when `commit` was committed (git sources): a sync of a commit committed earlier than the
one an object was last written from is a rollback, and is refused unless asked for.

JDBC-backed APIM stores metadata values in `nvarchar(1024)`: a record must stay below
`MAX_RECORD_LENGTH`, and the planner refuses to write one that would not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from reconciler.manifests.model import FieldPath, ResourceId
from reconciler.plan.canonical import canonical_json

OWNERSHIP_KEY = "apim-reconciler"
"""The metadata key of the record, on every object we manage."""

RECORD_VERSION = 2
MAX_RECORD_LENGTH = 1000
"""JDBC-backed APIM keeps metadata values in nvarchar(1024); a margin for the server's own framing."""

JSON = Any


def path_fingerprint(path: FieldPath) -> str:
    """A short, stable fingerprint of a field path (of the comparable form of a body)."""
    text = "\x1f".join(str(part) for part in path)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class OwnershipRecord:
    owner: str
    resource: ResourceId
    commit: str
    spec_hash: str
    applied_at: datetime | None = None
    context: ResourceId | None = None
    """The ManagementContext that wrote it: two contexts on one environment never prune each other."""
    hrid: str | None = None
    """The HRID the object was written under (None in version-1 records)."""
    carrier_id: str | None = None
    """The APIM id of the object the record was written onto (None in version-1 records)."""
    sensitive: frozenset[str] = frozenset()
    """`path_fingerprint`s of the fields that held secret values in what was applied."""
    commit_time: datetime | None = None
    """When `commit` was committed (git sources), to the second: what tells a rollback."""
    view: str | None = None
    """`view_digest` of what APIM holds right after this write (None in records of earlier versions)."""
    version: int = RECORD_VERSION

    def belongs_to(self, context: ResourceId) -> bool:
        return self.context is None or self.context == context

    def stamped(self, applied_at: datetime) -> OwnershipRecord:
        return replace(self, applied_at=applied_at)

    def bound_to(self, carrier_id: str) -> OwnershipRecord:
        return replace(self, carrier_id=carrier_id)

    def held_secret_at(self, path: FieldPath) -> bool:
        return bool(self.sensitive) and path_fingerprint(path) in self.sensitive

    def _payload(self) -> dict[str, JSON]:
        if self.applied_at is None:
            raise ValueError("an ownership record needs its apply time before it is written")
        payload: dict[str, JSON] = {
            "v": RECORD_VERSION,
            "owner": self.owner,
            "kind": self.resource.kind,
            "namespace": self.resource.namespace,
            "name": self.resource.name,
        }
        if self.context is not None:
            payload["context"] = f"{self.context.namespace}/{self.context.name}"
        if self.hrid is not None:
            payload["hrid"] = self.hrid
        if self.carrier_id is not None:
            payload["id"] = self.carrier_id
        payload["commit"] = self.commit
        if self.commit_time is not None:
            payload["ct"] = int(self.commit_time.timestamp())
        payload.update(hash=self.spec_hash, appliedAt=format_instant(self.applied_at))
        if self.sensitive:
            payload["s"] = sorted(self.sensitive)
        if self.view is not None:
            payload["vh"] = self.view
        return payload

    def to_value(self) -> str:
        """The metadata value: compact JSON with a stable key order, its digest last.

        A record of `version` 1 is written in that version's layout (no binding, no digest): what
        earlier releases wrote, so that tests can set an APIM up as they left it.
        """
        payload = self._payload()
        if self.version == 1:
            legacy = {
                k: payload[k] for k in ("owner", "kind", "namespace", "name", "commit", "hash", "appliedAt")
            }
            if "context" in payload:
                legacy["context"] = payload["context"]
            return json.dumps({"v": 1, **legacy}, separators=(",", ":"), ensure_ascii=False)
        payload["sig"] = _digest(payload)
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)

    def metadata_entry(self) -> dict[str, str]:
        """The entry as the Automation API (and the v2 CRD import) take it."""
        return {"key": OWNERSHIP_KEY, "name": OWNERSHIP_KEY, "format": "STRING", "value": self.to_value()}


def _digest(payload: Mapping[str, JSON]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class Ownership(StrEnum):
    """Whose an object in APIM is, from the point of view of one reconciler."""

    OURS = "ours"
    FOREIGN = "foreign"  # another reconciler (another owner id)
    UNOWNED = "unowned"  # no record: made in the console, by GKO, or by a script
    MALFORMED = "malformed"  # a record we cannot read: treated as not ours, never deleted
    COPIED = "copied"  # our record, written onto another object: a copy, never ours


@dataclass(frozen=True)
class ParsedRecord:
    ownership: Ownership
    record: OwnershipRecord | None = None
    problem: str | None = None
    altered: bool = False
    """The record's digest does not match its content: edited by hand, so not trusted for shortcuts."""

    @property
    def ours(self) -> bool:
        return self.ownership is Ownership.OURS and self.record is not None

    def on_carrier(self, carrier_id: str) -> ParsedRecord:
        """This record as read off the object `carrier_id`: a copy when it was written onto another."""
        record = self.record
        if self.ownership is not Ownership.OURS or record is None or record.carrier_id is None:
            return self
        if record.carrier_id == carrier_id:
            return self
        return ParsedRecord(
            Ownership.COPIED,
            record,
            problem=f"its ownership record was written onto another object (id {record.carrier_id})",
        )


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


_REQUIRED = ("owner", "kind", "namespace", "name", "commit", "hash", "appliedAt")


def parse_record(value: JSON, our_owner: str) -> ParsedRecord:
    """Read a record from the metadata value (None when the object has no record).

    The binding to the carrying object is checked by `ParsedRecord.on_carrier`, which needs its id.
    """
    if value is None:
        return ParsedRecord(Ownership.UNOWNED)
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        return ParsedRecord(Ownership.MALFORMED, problem="ownership record is not a JSON object")
    missing = [f for f in _REQUIRED if not isinstance(data.get(f), str)]
    if missing:
        return ParsedRecord(Ownership.MALFORMED, problem=f"ownership record lacks {', '.join(missing)}")
    applied_at = parse_instant(data["appliedAt"])
    if applied_at is None:
        return ParsedRecord(Ownership.MALFORMED, problem="ownership record has an unreadable appliedAt")
    version = data.get("v")
    if version not in (1, 2):
        return ParsedRecord(Ownership.MALFORMED, problem=f"ownership record has unknown version {version!r}")
    context_namespace, _, context_name = str(data.get("context") or "").partition("/")
    sensitive = data.get("s")
    record = OwnershipRecord(
        owner=data["owner"],
        resource=ResourceId(data["kind"], data["namespace"], data["name"]),
        commit=data["commit"],
        spec_hash=data["hash"],
        applied_at=applied_at,
        context=ResourceId("ManagementContext", context_namespace, context_name) if context_name else None,
        hrid=_text(data.get("hrid")),
        carrier_id=_text(data.get("id")),
        sensitive=frozenset(s for s in sensitive if isinstance(s, str))
        if isinstance(sensitive, list)
        else frozenset(),
        commit_time=_epoch(data.get("ct")),
        view=_text(data.get("vh")),
        version=version,
    )
    ownership = Ownership.OURS if record.owner == our_owner else Ownership.FOREIGN
    if version == 1:
        return ParsedRecord(ownership, record)
    claimed = data.get("sig")
    unsigned = {k: v for k, v in data.items() if k != "sig"}
    altered = not isinstance(claimed, str) or claimed != _digest(unsigned)
    return ParsedRecord(
        ownership,
        record,
        problem="its ownership record was edited outside apim-reconciler" if altered else None,
        altered=altered,
    )


def _epoch(value: JSON) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _text(value: JSON) -> str | None:
    return value if isinstance(value, str) and value else None


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


def view_digest(comparable_body: JSON) -> str:
    """A short digest of the comparable form of a body (`normalise.comparable`): equal for two bodies
    that no diff tells apart. Numbers are compared as values (APIM may echo `1` as `1.0`); secret
    values go in, as into the spec hash, and only a digest comes out."""
    text = canonical_json(_numbers_as_values(comparable_body))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _numbers_as_values(value: JSON) -> JSON:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _numbers_as_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers_as_values(v) for v in value]
    return value


def sensitive_fingerprints(paths: Iterable[FieldPath]) -> frozenset[str]:
    return frozenset(path_fingerprint(p) for p in paths)


def hide_ownership(metadata: Any) -> Any:
    """A metadata list without our ownership record: a manifest never writes it, so it is not desired."""
    if not isinstance(metadata, list):
        return metadata
    return [m for m in metadata if not (isinstance(m, Mapping) and m.get("key") == OWNERSHIP_KEY)]
