"""The per-node search index behind mAPI v2 ``POST /apis/_search``.

What the real server does (gravitee-apim-rest-api-service, 2b94b4c9):

* ``ApiSearchServiceImpl.search`` asks Lucene for the ids of every matching API, cuts the requested page out
  of that id list (``getApiIdPageSubset``), then reads those ids from the database: the page's *content* is
  current, its *membership and order* are the index's. An id still in the index but gone from the database
  leaves a hole in the page while ``totalCount`` still counts it.
* Without ``sortBy`` the order is Lucene's: ``searcher.search(query, MAX_VALUE)`` by score, ties by document
  id; a query without text scores every document alike, so it is document order. Re-indexing an API is a
  delete plus an add (``IndexWriter.updateDocument``): the API moves to the end. With ``sortBy`` the sort
  is a ``SortField`` on ``<field>_sorted`` (``AbstractDocumentSearcher.convert``), ties again by document id.
* Each mAPI node has its own index directory (``SearchEngineConfiguration``: ``FSDirectory``). Indexing is
  ``@Async`` on the node that wrote (``SearchEngineServiceImpl.index``); other nodes index when their
  ``ScheduledSearchIndexerService`` polls the command queue (cron ``*/5 * * * * *`` by default), and they
  re-read the API from the database at that time. A delete is not applied locally at once: the writing
  node too waits for its poller (``SearchEngineServiceImpl.delete``, ``locally=false``).

The emulator keeps one ordered index per node and per environment. ``nodes`` (default 1),
``index_delay_ms`` (the ``@Async`` lag on the writing node, default 0) and ``sync_ms`` (the poll period of
the other nodes and of deletes, default 0 = at once) are knobs; the defaults are a single quiet node whose
asynchronous work has finished. How long ``@Async`` takes on a real node cannot be read from the source:
it depends on the executor's load, so both readings (0 and a delay) are available. Segment merges, which
can reorder Lucene documents, are not modelled.
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

EnvKey = tuple[str, str]
_SPECIAL = str.maketrans("", "", '|-+!(){}^"~*?:&/')


@dataclass(frozen=True)
class IndexedApi:
    """What the Lucene document of an API carries (``ApiDocumentTransformer``), at indexing time."""

    id: str
    name: str
    description: str
    hrid: str
    labels: tuple[str, ...]
    paths: tuple[str, ...]
    definition_version: str
    api_type: str
    state: str
    visibility: str
    lifecycle: str
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    owner: str

    def sort_key(self, field_name: str) -> str:
        """The ``<field>_sorted`` value: special characters removed, compared case-insensitively
        (``toSortedValue``: an English ``Collator`` at SECONDARY strength; accents are folded here, an
        approximation of the collator)."""
        value = {
            "name": self.name,
            "paths": self.paths[0] if self.paths else "",
            "api_type": self.api_type,
            "status": self.state,
            "portal_status": self.lifecycle,
            "visibility": self.visibility,
            "owner": self.owner,
            "tags_asc": ",".join(sorted(self.tags)),
            "tags_desc": ",".join(sorted(self.tags, reverse=True)),
            "categories_asc": ",".join(sorted(self.categories)),
            "categories_desc": ",".join(sorted(self.categories, reverse=True)),
        }.get(field_name)
        if value is None:
            return ""
        folded = unicodedata.normalize("NFKD", value.translate(_SPECIAL))
        return "".join(c for c in folded if not unicodedata.combining(c)).casefold()

    def has_sort_value(self, field_name: str) -> bool:
        if field_name == "access":  # no access_sorted field in ApiDocumentTransformer
            return False
        if field_name in ("tags_asc", "tags_desc"):
            return bool(self.tags)
        if field_name in ("categories_asc", "categories_desc"):
            return bool(self.categories)
        if field_name == "paths":
            return bool(self.paths)
        return True


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    node: int = field(compare=False)
    key: EnvKey = field(compare=False)
    api_id: str = field(compare=False)
    doc: IndexedApi | None = field(compare=False)  # None: a delete, or a remote node re-reading the DB
    delete: bool = field(compare=False, default=False)


Lookup = Callable[[EnvKey, str], IndexedApi | None]


class SearchCluster:
    """``nodes`` mAPI nodes, each with its own index; requests are spread over them round-robin."""

    def __init__(
        self,
        nodes: int = 1,
        index_delay_ms: float = 0,
        sync_ms: float = 0,
        lookup: Lookup | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.nodes = max(1, nodes)
        self.index_delay = index_delay_ms / 1000
        self.sync = sync_ms / 1000
        self.lookup: Lookup = lookup or (lambda key, api_id: None)
        self._clock = clock
        self._indexes: list[dict[EnvKey, dict[str, IndexedApi]]] = [{} for _ in range(self.nodes)]
        self._pending: list[_Pending] = []
        self._seq = 0
        self._next = 0

    def next_node(self) -> int:
        node = self._next
        self._next = (self._next + 1) % self.nodes
        return node

    # -- writes -----------------------------------------------------------------------------------
    def _poll_due(self, now: float) -> float:
        """The next tick of a ``*/N`` cron after ``now``."""
        if self.sync <= 0:
            return now
        return (math.floor(now / self.sync) + 1) * self.sync

    def _schedule(
        self, due: float, node: int, key: EnvKey, api_id: str, doc: IndexedApi | None, delete: bool
    ) -> None:
        if due <= self._clock():
            self._apply(node, key, api_id, doc, delete)
            return
        self._seq += 1
        self._pending.append(_Pending(due, self._seq, node, key, api_id, doc, delete))
        self._pending.sort()

    def index(self, origin: int, key: EnvKey, doc: IndexedApi) -> None:
        now = self._clock()
        for node in range(self.nodes):
            if node == origin % self.nodes:
                self._schedule(now + self.index_delay, node, key, doc.id, doc, False)
            else:
                self._schedule(self._poll_due(now), node, key, doc.id, None, False)

    def delete(self, origin: int, key: EnvKey, api_id: str) -> None:
        due = self._poll_due(self._clock())
        for node in range(self.nodes):
            self._schedule(due, node, key, api_id, None, True)

    def _apply(self, node: int, key: EnvKey, api_id: str, doc: IndexedApi | None, delete: bool) -> None:
        index = self._indexes[node].setdefault(key, {})
        index.pop(api_id, None)  # updateDocument: delete, then add at the end
        if delete:
            return
        if doc is None:  # a remote node re-reads the API when it processes the command
            doc = self.lookup(key, api_id)
        if doc is not None:
            index[api_id] = doc

    def _flush(self, node: int | None = None, until: float | None = None) -> None:
        keep: list[_Pending] = []
        for item in self._pending:
            if (until is None or item.due <= until) and (node is None or item.node == node):
                self._apply(item.node, item.key, item.api_id, item.doc, item.delete)
            else:
                keep.append(item)
        self._pending = keep

    def sync_all(self) -> None:
        """Let every node catch up now (the ``/_emulator/search/sync`` control)."""
        self._flush()

    # -- reads ------------------------------------------------------------------------------------
    def view(self, node: int, key: EnvKey) -> list[IndexedApi]:
        self._flush(node % self.nodes, self._clock())
        return list(self._indexes[node % self.nodes].get(key, {}).values())

    def rebuild(self, docs: Iterable[tuple[EnvKey, IndexedApi]]) -> None:
        """Every node indexes everything at once, in the given order (a start or a state load)."""
        self._indexes = [{} for _ in range(self.nodes)]
        self._pending = []
        for key, doc in docs:
            for node in range(self.nodes):
                self._indexes[node].setdefault(key, {})[doc.id] = doc

    def snapshot(self) -> dict[str, Any]:
        return {
            "nodes": [
                {f"{org}/{env}": list(ids) for (org, env), ids in index.items()} for index in self._indexes
            ],
            "pending": len(self._pending),
        }
