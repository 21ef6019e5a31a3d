"""Reading what APIM holds: cheap listings for every sync, full reads only where the planner asks.

APIs are listed through mAPI v2 search with `expands=metadata`, which carries our ownership record:
a no-op costs one request per page. Applications have no such listing (mAPI v1 `_paged` shows no
metadata), so each one is read through the Automation API; those reads double as its full state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reconciler.apim.client import ApimClient
from reconciler.apim.errors import ApimError
from reconciler.manifests.model import ResourceId
from reconciler.plan.kinds import RemoteKind
from reconciler.plan.state import ReadRequest, RemoteSummary

T = TypeVar("T")
States = dict[tuple[ResourceId, str], Mapping[str, Any]]


@dataclass(frozen=True)
class Listing:
    summaries: list[RemoteSummary]
    states: States


async def read_listing(
    context: ResourceId,
    client: ApimClient,
    per_page: int,
    concurrency: int,
    application_hrids: Mapping[str, str] | None = None,
) -> Listing:
    """Every API and application of one environment, as the planner's summaries.

    Both listings run side by side; each reads its first page, then all the others concurrently
    (the first tells how many there are); application reads start as soon as their listing is
    complete. One gate bounds all of these requests to `concurrency` at a time.

    The application listing shows no HRID: an application whose id is one that a manifest's HRID
    gives (`application_hrids`: id -> HRID) is read by that HRID, any other by its id.
    """
    known = application_hrids or {}
    gate = asyncio.Semaphore(max(1, concurrency))

    async def gated(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    async def application(item: Mapping[str, Any]) -> tuple[RemoteSummary, Mapping[str, Any] | None]:
        app_id = str(item["id"])
        hrid = known.get(app_id)
        read = client.get_application(hrid) if hrid else client.get_application_by_uuid(app_id)
        state = await gated(read)
        if not isinstance(state, Mapping):
            return RemoteSummary.from_application(item), None
        return RemoteSummary.from_application({**state, "updated_at": item.get("updated_at")}), state

    async def applications() -> list[tuple[RemoteSummary, Mapping[str, Any] | None]]:
        items = await all_pages(lambda page: gated(client.list_applications_page(page, per_page=per_page)))
        return list(await asyncio.gather(*(application(item) for item in items)))

    async def api_page(page: int) -> tuple[list[RemoteSummary], int | None]:
        # Summarised as soon as each page arrives: a page holds full API definitions, and 100 pages
        # of them alive at once were most of the memory of a no-op sync of 10,000 APIs.
        items, count = await gated(client.search_apis_page(page, per_page=per_page))
        return [RemoteSummary.from_mapi_v2_api(item) for item in items], count

    apis, apps = await asyncio.gather(all_pages(api_page), applications())
    states: States = {(context, summary.id): state for summary, state in apps if state is not None}
    return Listing(apis + [summary for summary, _ in apps], states)


async def all_pages(fetch: Callable[[int], Awaitable[tuple[list[Any], int | None]]]) -> list[Any]:
    """Every item of a paged listing: page 1, then pages 2..count concurrently, in page order."""
    items, count = await fetch(1)
    if not items or count is None or count <= 1:
        return items
    for rest, _ in await asyncio.gather(*(fetch(page) for page in range(2, count + 1))):
        items += rest
    return items


@dataclass(frozen=True)
class FullReads:
    states: Mapping[tuple[ResourceId, str], Mapping[str, Any]] = field(default_factory=dict)
    failures: Mapping[ResourceId, str] = field(default_factory=dict)


async def read_full_states(
    requests: Iterable[ReadRequest], clients: Mapping[ResourceId, ApimClient], concurrency: int
) -> FullReads:
    """The Automation API state of each requested object, `concurrency` requests at a time."""
    states: States = {}
    failures: dict[ResourceId, str] = {}

    async def read(request: ReadRequest) -> None:
        try:
            body = await _read_one(clients[request.context], request)
        except ApimError as exc:
            failures.setdefault(request.context, f"reading {request.hrid or request.remote_id}: {exc}")
            return
        if isinstance(body, Mapping):
            states[request.key] = body

    await bounded(concurrency, (read(r) for r in requests))
    return FullReads(states, failures)


async def _read_one(client: ApimClient, request: ReadRequest) -> Any:
    if request.hrid is None:
        return None
    if request.kind is RemoteKind.APPLICATION:
        return await client.get_application(request.hrid)
    return await client.get_api(request.hrid)


async def bounded(limit: int, tasks: Iterable[Awaitable[T]]) -> list[T]:
    """Run awaitables with at most `limit` at a time, keeping their order in the result."""
    gate = asyncio.Semaphore(max(1, limit))

    async def run(task: Awaitable[T]) -> T:
        async with gate:
            return await task

    return list(await asyncio.gather(*(run(t) for t in tasks)))
