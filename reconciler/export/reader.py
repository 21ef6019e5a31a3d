"""Reading an environment for export: every API and application, in the shape the mapping takes.

Why these endpoints. mAPI v2 `GET .../apis?expands=metadata` lists every API (v2 and v4) with its
metadata, hence any ownership record, but never shows an API's HRID; the Automation API state does,
and it is the very shape GKO's spec is mapped to, so each v4 API is read there by its id
(`hridContainsUUID=true`). A v2 API has no Automation API state: it is read through APIM's own GKO
export, mAPI v1 `GET .../apis/{id}/crd` (an `ApiDefinition` in YAML; mAPI v2's `_export/crd` refuses
v2 APIs), whose spec leaves out `lifecycle_state`, taken from the listing instead.
Applications are listed through mAPI v1 `_paged` and read through the Automation API by HRID;
those without an HRID only have their listing item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import kinds
from reconciler.apim.client import ApimClient
from reconciler.apim.errors import UnexpectedResponseError
from reconciler.apply.actual import bounded
from reconciler.kinds import AutomationEndpoints
from reconciler.manifests.yamlparse import YamlError, parse_documents
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
    record_name: str | None = None
    """The `metadata.name` of the manifest that its ownership record names (the one that wrote it)."""


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
        kind = kinds.api_kind(item.get("definitionVersion"))
        state: JSON = None
        if kind is not None and isinstance(kind.endpoints, AutomationEndpoints):
            state = await client.get_api_by_uuid(str(item["id"]))
        elif kind is not None:  # a v2 API: mAPI v1's import-crd has its export twin
            state = await _v2_state(client, item)
        return _object(item, state if isinstance(state, Mapping) else None, item.get("metadata"))

    async def application(item: Mapping[str, JSON]) -> RemoteObject:
        state = await client.get_application_by_uuid(str(item["id"]))  # the listing shows no HRID
        full = state if isinstance(state, Mapping) else None
        return _object(
            item, full or item, metadata_map(full.get("metadata")) if full else item.get("metadata")
        )

    return EnvironmentContents(
        tuple(await bounded(concurrency, (api(i) for i in listed))),
        tuple(await bounded(concurrency, (application(i) for i in apps))),
    )


async def _v2_state(client: ApimClient, item: Mapping[str, JSON]) -> JSON:
    """The spec of APIM's `ApiDefinition` export of a v2 API, with the listing's lifecycle state."""
    api_id = str(item["id"])
    text = await client.export_api_definition(api_id)
    if text is None:
        return None
    where = f"APIM's export of API {api_id}"
    try:
        documents = [d.body for d in parse_documents(text, where)]
    except YamlError as exc:
        raise UnexpectedResponseError(
            f"{where} is not YAML: {exc.message}", method="GET", path=where
        ) from None
    spec = documents[0].get("spec") if len(documents) == 1 and isinstance(documents[0], Mapping) else None
    if not isinstance(spec, Mapping):
        raise UnexpectedResponseError(f"{where} is not an ApiDefinition", method="GET", path=where)
    lifecycle = item.get("lifecycleState")
    if spec.get("lifecycle_state") is None and isinstance(lifecycle, str):
        spec = {**spec, "lifecycle_state": lifecycle}
    return spec


def _object(item: Mapping[str, JSON], state: Mapping[str, JSON] | None, metadata: JSON) -> RemoteObject:
    object_id = str(item["id"])
    owner, name = _record(metadata, object_id)
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
        record_name=name,
    )


def _record(metadata: JSON, object_id: str) -> tuple[str | None, str | None]:
    """The owner of the ownership record on an object, and the name of the manifest it names (only
    from a record written onto this very object)."""
    value = metadata.get(OWNERSHIP_KEY) if isinstance(metadata, Mapping) else None
    if value is None:
        return None, None
    record = parse_record(value, "").record
    if record is None:
        return "(unreadable record)", None
    on_this_object = record.carrier_id is None or record.carrier_id == object_id
    return record.owner, record.resource.name if on_this_object else None
