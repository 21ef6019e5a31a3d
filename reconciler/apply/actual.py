"""Reading what APIM holds: cheap listings for every sync, full reads only where the planner asks.

APIs are listed through mAPI v2 search with `expands=metadata`, which carries our ownership record:
a no-op costs one request per page. Applications have no such listing (mAPI v1 `_paged` shows no
metadata), so each one is read through the Automation API; those reads double as its full state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import structlog

from reconciler.apim.client import ApimClient, ListingPage
from reconciler.apim.errors import ApimError
from reconciler.kinds import AutomationEndpoints, full_reader
from reconciler.manifests.model import ResourceId
from reconciler.plan.state import ReadRequest, RemoteSummary

_log = structlog.get_logger(__name__)

T = TypeVar("T")
States = dict[tuple[ResourceId, str], Mapping[str, Any]]


@dataclass(frozen=True)
class Listing:
    summaries: list[RemoteSummary]
    states: States


class UnsupportedServerError(ApimError):
    """A server that lacks what a safe sync needs (see `reconciler.contexts.check.Capabilities`)."""


class InconsistentListingError(ApimError):
    """A listing whose pages do not add up (duplicates, missing items, counts that disagree), even
    after reading it again: planning from it could delete what exists or create over it."""


LISTING_ATTEMPTS = 3
"""How many times a listing is read before its context is given up as unplannable."""
_REREAD_DELAY = 0.2


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

    APIM's search is not a snapshot (each node has its own index, updated asynchronously, with an
    order that may differ from page to page), so a listing is checked before it is believed: every
    page full but the last, no id twice, as many items as the server counts. One that does not add up
    is read again, and after `LISTING_ATTEMPTS` raises InconsistentListingError.

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
        read = client.get_automation("applications", hrid) if hrid else client.get_application_by_uuid(app_id)
        state = await gated(read)
        if not isinstance(state, Mapping):
            return RemoteSummary.from_application(item), None
        return RemoteSummary.from_application({**state, "updated_at": item.get("updated_at")}), state

    async def applications() -> list[tuple[RemoteSummary, Mapping[str, Any] | None]]:
        items = await consistent_listing(
            "applications",
            lambda page: gated(client.list_applications_page(page, per_page=per_page)),
            per_page,
        )
        return list(await asyncio.gather(*(application(item) for item in items)))

    shown = {"v4": 0, "metadata": 0}

    async def api_page(page: int) -> ListingPage:
        # Summarised as soon as each page arrives: a page holds full API definitions, and 100 pages
        # of them alive at once were most of the memory of a no-op sync of 10,000 APIs.
        listing = await gated(client.list_apis_page(page, per_page=per_page))
        for item in listing.items:
            shown["v4"] += item.get("definitionVersion") == "V4"
            shown["metadata"] += isinstance(item.get("metadata"), Mapping)
        return replace(listing, items=[RemoteSummary.from_mapi_v2_api(item) for item in listing.items])

    apis, apps = await asyncio.gather(consistent_listing("APIs", api_page, per_page), applications())
    if shown["v4"] and not shown["metadata"]:
        # APIM gives every v4 API an `email-support` entry: a listing without any metadata is a server
        # that ignores `expands=metadata`, where our ownership records cannot be seen at all.
        raise UnsupportedServerError(
            "APIM's API listing carries no metadata (expands=metadata is in APIM 4.9.18, 4.10.13, "
            "4.11.5, 4.12.0 and later patches): the ownership records that make updates and prunes "
            "safe are invisible, so nothing is planned for this context",
            method="GET",
            path="apis",
        )
    states: States = {(context, summary.id): state for summary, state in apps if state is not None}
    return Listing(apis + [summary for summary, _ in apps], states)


async def consistent_listing(
    what: str, fetch: Callable[[int], Awaitable[ListingPage]], per_page: int
) -> list[Any]:
    """Every item of a paged listing, read until its pages add up (see `read_listing`)."""
    problem = ""
    for attempt in range(LISTING_ATTEMPTS):
        if attempt:
            await asyncio.sleep(_REREAD_DELAY * attempt)
        pages = await all_pages(fetch)
        problem = listing_problem(pages, per_page)
        if not problem:
            return [item for page in pages for item in page.items]
        _log.warning(
            "apply.listing_inconsistent_rereading", listing=what, problem=problem, attempt=attempt + 1
        )
    raise InconsistentListingError(
        f"the {what} listing did not add up in {LISTING_ATTEMPTS} reads ({problem}); nothing is planned "
        "for this context, since a listing that misses or repeats objects could make a sync delete or "
        "take over what exists",
        method="GET",
        path=what,
    )


async def all_pages(fetch: Callable[[int], Awaitable[ListingPage]]) -> list[ListingPage]:
    """Every page of a paged listing: page 1, then pages 2..count concurrently, in page order."""
    first = await fetch(1)
    count = first.page_count
    if not first.items or count is None or count <= 1:
        return [first]
    return [first, *await asyncio.gather(*(fetch(page) for page in range(2, count + 1)))]


def listing_problem(pages: Sequence[ListingPage], per_page: int) -> str:
    """What is wrong with a listing read page by page, or "" when it adds up."""
    total = pages[0].total
    count = pages[0].page_count
    items = [item for page in pages for item in page.items]
    if any(page.total != total for page in pages):
        return "the item count changed between pages"
    if total is not None and count is not None and total and count != -(-total // per_page):
        return f"{count} pages announced for {total} items of {per_page} per page"
    for number, page in enumerate(pages[:-1], start=1):
        if len(page.items) != per_page:
            return f"page {number} holds {len(page.items)} items, not {per_page}"
    ids = [_item_id(item) for item in items]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        return f"{len(twice)} object(s) listed twice (e.g. {twice[0]})"
    if total is not None and len(items) != total:
        return f"{len(items)} items read, but the server counts {total}"
    # Without a count (APIM always sends one; the emulator's empty listings once did not), only what
    # can be checked is: an empty answer cannot make a sync delete, and creations are verified.
    return ""


def _item_id(item: Any) -> str:
    return item.id if isinstance(item, RemoteSummary) else str(item["id"])


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
    endpoints = full_reader(request.kind).endpoints
    assert isinstance(endpoints, AutomationEndpoints)  # what reads full states (kinds)  # nosec B101
    return await client.get_automation(endpoints.collection, request.hrid)


async def bounded(limit: int, tasks: Iterable[Awaitable[T]]) -> list[T]:
    """Run awaitables with at most `limit` at a time, keeping their order in the result."""
    gate = asyncio.Semaphore(max(1, limit))

    async def run(task: Awaitable[T]) -> T:
        async with gate:
            return await task

    return list(await asyncio.gather(*(run(t) for t in tasks)))
