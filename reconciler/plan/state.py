"""Actual state as the client hands it to the planner: cheap summaries, and full reads on demand.

The client lists each environment a page at a time (mAPI v2 `POST .../apis/_search?expands=metadata`
for APIs, the applications listing for applications) and turns each item into a `RemoteSummary`.
The planner then names, in `ReadRequest`s, the few objects whose full state it needs (Automation
API `GET .../apis/{hrid}` or `.../applications/{hrid}`); the client reads them and passes the bodies
back keyed by `ReadRequest.key`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.kinds import RemoteKind
from reconciler.manifests.model import ResourceId
from reconciler.plan.ownership import ParsedRecord, metadata_map, parse_instant, record_from_metadata

JSON = Any

LISTED_FIELDS = {
    "name": "name",
    "description": "description",
    "version": "apiVersion",
    "visibility": "visibility",
    "lifecycleState": "lifecycleState",
    "state": "state",
    "tags": "tags",
    "labels": "labels",
}
"""Automation API body field -> the mAPI v2 listing field that holds the same value."""
FullStates = Mapping[tuple[ResourceId, str], Mapping[str, JSON]]
"""Full states by (context, remote id): the bodies of the Automation API GETs that were asked for."""


@dataclass(frozen=True)
class RemoteSummary:
    """One object of an environment, as a listing shows it."""

    kind: RemoteKind
    id: str
    name: str
    cross_id: str | None = None
    hrid: str | None = None
    updated_at: datetime | None = None
    metadata: Mapping[str, JSON] = field(default_factory=dict)
    definition_version: str | None = None
    listed: Mapping[str, JSON] = field(default_factory=dict)
    """Top-level fields the listing shows in the same form as our body (`LISTED_FIELDS`), so that a
    console edit of one of them is seen without a read and without trusting clocks."""
    origin: str | None = None
    """Where APIM says the object is managed from (`originContext.origin`): `KUBERNETES` for what the
    Automation API wrote, `MANAGEMENT` once a console user detached it."""

    def ownership(self, our_owner: str) -> ParsedRecord:
        """Our record in this object's metadata, checked against this object's id, read once: one sync
        asks for it several times."""
        cached: tuple[str, ParsedRecord] | None = self.__dict__.get("_ownership")
        if cached is None or cached[0] != our_owner:
            cached = (our_owner, record_from_metadata(self.metadata, our_owner).on_carrier(self.id))
            object.__setattr__(self, "_ownership", cached)  # a cache, not state: equality ignores it
        return cached[1]

    @classmethod
    def from_mapi_v2_api(cls, item: Mapping[str, JSON]) -> RemoteSummary:
        """From one `data` item of mAPI v2 `_search?expands=metadata` (or `GET /apis?expands=metadata`)."""
        metadata = item.get("metadata")
        return cls(
            kind=RemoteKind.API,
            id=str(item["id"]),
            name=str(item.get("name") or ""),
            cross_id=item.get("crossId"),
            hrid=item.get("hrid"),
            updated_at=parse_instant(item.get("updatedAt")),
            metadata=metadata if isinstance(metadata, Mapping) else {},
            definition_version=item.get("definitionVersion"),
            origin=_origin(item),
            listed={
                body_field: item[listing_field]
                for body_field, listing_field in LISTED_FIELDS.items()
                if listing_field in item
            },
        )

    @classmethod
    def from_application(cls, item: Mapping[str, JSON]) -> RemoteSummary:
        """From an application listing item, or from an Automation API ApplicationState.

        `metadata` may be a key -> value map or the Automation API's `[{key, value, ...}]` list.
        """
        metadata = item.get("metadata")
        return cls(
            kind=RemoteKind.APPLICATION,
            id=str(item["id"]),
            name=str(item.get("name") or ""),
            hrid=item.get("hrid"),
            updated_at=parse_instant(item.get("updatedAt", item.get("updated_at"))),
            metadata=metadata if isinstance(metadata, Mapping) else metadata_map(metadata),
        )


@dataclass(frozen=True)
class ReadRequest:
    """A full read the planner needs before it can decide about one object."""

    context: ResourceId
    kind: RemoteKind
    remote_id: str
    hrid: str | None
    resource: ResourceId | None
    reason: str

    @property
    def key(self) -> tuple[ResourceId, str]:
        return (self.context, self.remote_id)


def _origin(item: Mapping[str, JSON]) -> str | None:
    for key in ("originContext", "definitionContext"):
        context = item.get(key)
        origin = context.get("origin") if isinstance(context, Mapping) else None
        if isinstance(origin, str) and origin:
            return origin.upper()
    return None
