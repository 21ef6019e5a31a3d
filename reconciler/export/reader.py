"""Reading an environment for export: every API and application, in the shape the mapping takes.

Why these endpoints. mAPI v2 search lists every API (v2 and v4) with its metadata, hence any
ownership record, but never shows an API's HRID; the Automation API state does, and it is the very
shape GKO's spec is mapped to, so each v4 API is read there by its id (`hridContainsUUID=true`).
APIM's `GET /apis/{apiId}/_export/crd` would answer the same question in one request, but it is not
in the published OpenAPI specs this project is held to (see docs/export.md), so it is not used.
v2 APIs have no Automation API state and no documented full read: they are listed and skipped.
Applications are listed through mAPI v1 `_paged` and read through the Automation API by HRID;
those without an HRID only have their listing item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.apim.client import ApimClient
from reconciler.apply.actual import bounded
from reconciler.plan.ownership import OWNERSHIP_KEY, metadata_map, parse_record

JSON = Any


@dataclass(frozen=True)
class RemoteObject:
    """One API or application of the environment, with its full state when one could be read."""

    id: str
    name: str
    hrid: str | None
    definition_version: str | None
    state: Mapping[str, JSON] | None
    record_owner: str | None = None
    """The owner id of an ownership record found on it (another reconciler's, or ours)."""


@dataclass(frozen=True)
class EnvironmentContents:
    apis: tuple[RemoteObject, ...]
    applications: tuple[RemoteObject, ...]


async def read_environment(
    client: ApimClient, *, per_page: int = 100, concurrency: int = 8
) -> EnvironmentContents:
    """Every API and application of the client's environment, each v4 API and HRID-named
    application read in full (`concurrency` reads at a time)."""
    listed = [item async for item in client.list_apis(per_page=per_page)]
    apps = [item async for item in client.list_applications(per_page=per_page)]

    async def api(item: Mapping[str, JSON]) -> RemoteObject:
        version = item.get("definitionVersion")
        state = await client.get_api_by_uuid(str(item["id"])) if version == "V4" else None
        return _object(item, state if isinstance(state, Mapping) else None, _owner(item.get("metadata")))

    async def application(item: Mapping[str, JSON]) -> RemoteObject:
        state = await client.get_application_by_uuid(str(item["id"]))  # the listing shows no HRID
        full = state if isinstance(state, Mapping) else None
        owner = _owner(metadata_map(full.get("metadata")) if full else item.get("metadata"))
        return _object(item, full or item, owner)

    return EnvironmentContents(
        tuple(await bounded(concurrency, (api(i) for i in listed))),
        tuple(await bounded(concurrency, (application(i) for i in apps))),
    )


def _object(item: Mapping[str, JSON], state: Mapping[str, JSON] | None, owner: str | None) -> RemoteObject:
    object_id = str(item["id"])
    hrid = (state or {}).get("hrid") or item.get("hrid")
    if hrid == object_id:
        # A legacy object read by UUID may echo the UUID as its HRID (the schema requires one): it is
        # not a name GKO would have given, and adopting by it would plan a duplicate.
        hrid = None
    return RemoteObject(
        id=object_id,
        name=str(item.get("name") or ""),
        hrid=hrid if isinstance(hrid, str) and hrid else None,
        definition_version=item.get("definitionVersion"),
        state=state,
        record_owner=owner,
    )


def _owner(metadata: JSON) -> str | None:
    value = metadata.get(OWNERSHIP_KEY) if isinstance(metadata, Mapping) else None
    if value is None:
        return None
    parsed = parse_record(value, "")
    return parsed.record.owner if parsed.record else "(unreadable record)"
