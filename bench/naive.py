"""The naive peer: how a simple CI script or a one-at-a-time operator reconciles.

For every manifest, one after another: GET the object from APIM, compare it with the desired body,
PUT it if it differs (or is missing). Then, so that a removed manifest converges too, page through the
listings one page at a time and DELETE, one at a time, what carries our ownership record but is no
longer in git. It reuses our loader, template resolution, desired-body building, comparison rules,
ownership records and HTTP client: only the strategy differs (sequential, read-before-write, no
listing-based shortcut).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.apim.client import ApimClient
from reconciler.apim.config import ClientConfig
from reconciler.apim.endpoints import ApimTarget
from reconciler.manifests.hrid import resource_hrid
from reconciler.manifests.model import API_DEFINITION, APPLICATION, MANAGEMENT_CONTEXT, ManifestSet
from reconciler.plan.desired import DesiredResource, build_desired
from reconciler.plan.diff import diff
from reconciler.plan.model import PlanOptions
from reconciler.plan.normalise import comparable
from reconciler.plan.ownership import (
    Ownership,
    OwnershipRecord,
    metadata_map,
    record_from_metadata,
    with_record,
)
from reconciler.secrets import SecretStore, resolve_credentials, resolve_resource_templates


@dataclass(frozen=True)
class NaiveResult:
    ok: bool
    writes: int
    deletes: int
    unchanged: int
    errors: tuple[str, ...]
    requests: Mapping[str, int]


async def naive_sync(
    manifests: ManifestSet, commit: str, client_config: ClientConfig, options: PlanOptions | None = None
) -> NaiveResult:
    """GET, compare, PUT-if-different for every manifest, sequentially; then prune sequentially."""
    options = replace(options or PlanOptions(), git_commit=commit)
    store = SecretStore(None, None)
    resources = []
    for resource in manifests.resources:
        if resource.kind == MANAGEMENT_CONTEXT or resource.context_ref is None:
            resources.append(resource)
        else:
            resources.append(replace(resource, spec=resolve_resource_templates(resource, store)))
    contexts = {r.id: r for r in resources if r.kind == MANAGEMENT_CONTEXT}
    build = build_desired(resources)
    requests: Counter[str] = Counter()
    errors: list[str] = []
    writes = deletes = unchanged = 0
    for cid, state in build.states.items():
        context = contexts[cid]
        target = ApimTarget.from_context_spec(context.spec)
        async with ApimClient(target, resolve_credentials(context, store), client_config) as client:
            desired_ids = set()
            for desired in state.resources:
                desired_ids.add(desired.remote_id)
                actual = await _get(client, desired)
                if actual is not None and not diff(
                    comparable(desired.kind, desired.body), comparable(desired.kind, actual)
                ):
                    unchanged += 1
                    continue
                record = OwnershipRecord(
                    options.owner_id, desired.id, commit, desired.spec_hash, context=desired.context
                )
                body = with_record(desired.body, record.stamped(datetime.now(UTC)))
                if desired.kind == APPLICATION:
                    await client.put_automation("applications", body)
                elif desired.kind == API_DEFINITION:
                    await client.import_api_definition(body)
                else:
                    await client.put_automation("apis", body)
                writes += 1
            if options.prune:
                deletes += await _prune(client, desired_ids, options.owner_id)
            requests.update(client.stats.by_method)
    return NaiveResult(not errors, writes, deletes, unchanged, tuple(errors), dict(requests))


async def _get(client: ApimClient, desired: DesiredResource) -> Any:
    if desired.kind == APPLICATION:
        return await client.get_automation("applications", desired.hrid)
    return await client.get_automation("apis", desired.hrid)


async def _prune(client: ApimClient, desired_ids: set[str], owner: str) -> int:
    """Delete, one at a time, every object that carries our record and is no longer desired."""
    doomed_apis = [
        record.resource
        async for item in client.list_apis()
        if item.get("id") not in desired_ids and (record := _ours(item.get("metadata"), owner))
    ]
    deletes = 0
    for resource in doomed_apis:
        # Through the Automation API by HRID, as our executor deletes (it closes the plans too).
        await client.delete_automation("apis", resource_hrid(resource.namespace, resource.name))
        deletes += 1
    candidates = [item async for item in client.list_applications()]
    for item in candidates:
        hrid = item.get("hrid")
        if item.get("id") in desired_ids or not isinstance(hrid, str):
            continue
        state = await client.get_automation("applications", hrid)
        if isinstance(state, Mapping) and _ours(state.get("metadata"), owner):
            await client.delete_automation("applications", hrid)
            deletes += 1
    return deletes


def _ours(metadata: Any, owner: str) -> OwnershipRecord | None:
    """Our ownership record in an object's metadata (a map, or the Automation API's list), if any."""
    if isinstance(metadata, list):
        metadata = metadata_map(metadata)
    if not isinstance(metadata, Mapping):
        return None
    parsed = record_from_metadata(metadata, owner)
    return parsed.record if parsed.ownership is Ownership.OURS else None
