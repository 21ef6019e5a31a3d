"""The daemon's Prometheus metrics, kept and exposed by ``prometheus-client`` (issue 21).

Each daemon has its own `CollectorRegistry` (not the library's global one), so that several daemons
in one process (the tests) count apart; it also holds the library's standard collectors: `process_*`
(CPU, memory, file descriptors, start time), `python_info` and `python_gc_*`, which is what
dashboards built for Python exporters expect. Our series keep the names, labels and help texts they
had when this module wrote the text format by hand; the library writes values as floats (`0.0`,
not `0`) and bucket bounds as `le="1.0"`, and `_created` series are not exported (the 0.0.4 format
has no place for them; docs/libraries.md has the before/after diff and the costs).

Every series whose labels are known in advance is present from the start (at 0), so that ``rate()``
and alerts work before the first failure; a series labelled by a ManagementContext is present from
the moment the manifests naming it are loaded.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from itertools import product

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from reconciler.kinds import MANAGED_KINDS
from reconciler.plan.model import ActionKind
from reconciler.sync.result import SyncResult

PREFIX = "apim_reconciler_"

#: What ``GET /metrics`` answers: the text format 0.0.4, which every Prometheus reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

#: Why a sync ended: applied cleanly; ran but something failed (an action, a context, a conflict
#: or a blocked deletion); refused because the manifests have errors (nothing applied); crashed.
SYNC_OUTCOMES = ("success", "failure", "invalid", "error")

#: Seconds; a no-op sync takes well under a second, a first sync of a thousand APIs minutes.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

#: States of the managed resources after the last sync that produced a plan, one per outcome of
#: an action (see `resource_states`): every `ActionKind` but DELETE (a deleted resource is gone).
RESOURCE_STATES = ("in_sync", "drifted", "conflict", "blocked", "not_pruned", "failed")

#: The methods the APIM client sends (reconciler/apim/client.py).
REQUEST_METHODS = ("DELETE", "GET", "POST", "PUT")

#: What ``POST /trigger``'s handler answers (endpoints.py); 411 and 413 are refused by the HTTP
#: server before any handler runs, for every path, and are not counted here.
WEBHOOK_CODES = (202, 401, 404, 429, 503)

# `_created` series: a timestamp per counter and histogram that the 0.0.4 text format exposes as
# extra gauges (they were never ours). The switch is the library's own and process-wide; it is the one
# function of prometheus-client without annotations (0.26.0), the rest type-checks under --strict.
disable_created_metrics()  # type: ignore[no-untyped-call]


def resource_states(result: SyncResult) -> dict[tuple[str, str], int]:
    """(kind, state) → count of the managed resources after ``result`` (deleted ones left out)."""
    if result.plan is None:
        return {}
    failed = {id(o.action) for o in result.outcomes if not o.ok}
    counts: dict[tuple[str, str], int] = {}
    for action in result.plan.actions:
        if id(action) in failed:
            state = "failed"
        elif action.kind is ActionKind.DELETE:
            continue
        elif action.kind is ActionKind.DRIFTED:
            state = "in_sync" if action.writes else "drifted"
        elif action.kind is ActionKind.CONFLICT:
            state = "conflict"
        elif action.kind is ActionKind.BLOCKED:
            state = "blocked"
        elif action.kind is ActionKind.SKIPPED:
            state = "not_pruned"
        else:
            state = "in_sync"
        key = (action.resource.kind, state)
        counts[key] = counts.get(key, 0) + 1
    return counts


class Metrics:
    """The daemon's metrics: updated from the loop, rendered from the HTTP server.

    One lock makes each update (a sync's counts, resources and commit) and each rendering atomic
    towards the other: a scrape never sees half a sync.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.registry = registry = CollectorRegistry()
        self._syncs = Counter(
            PREFIX + "syncs_total",
            "Syncs run, by outcome (success, failure, invalid: refused for manifest errors, error).",
            ["outcome"],
            registry=registry,
        )
        self._duration = Histogram(
            PREFIX + "sync_duration_seconds",
            "Duration of syncs (load, plan and apply), in seconds.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._resources = Gauge(
            PREFIX + "resources",
            "Managed resources after the last planned sync, by kind and state.",
            ["kind", "state"],
            registry=registry,
        )
        self._requests = Counter(
            PREFIX + "apim_requests_total",
            "Requests sent to APIM, by HTTP method.",
            ["method"],
            registry=registry,
        )
        self._last_success = Gauge(
            PREFIX + "last_successful_sync_timestamp_seconds",
            "Unix time of the end of the last successful sync (0: none yet).",
            registry=registry,
        )
        self._commit = Gauge(
            PREFIX + "last_applied_commit_info",
            "The commit of the last successful sync, as a label (value always 1).",
            ["commit"],
            registry=registry,
        )
        self._drifted = Gauge(
            PREFIX + "drifted_resources",
            "Resources found changed in APIM behind git's back by the last planned sync.",
            registry=registry,
        )
        self._source_errors = Counter(
            PREFIX + "source_errors_total",
            "Snapshots of the source (git or folder) that failed.",
            registry=registry,
        )
        self._loop_errors = Counter(
            PREFIX + "loop_errors_total",
            "Unexpected errors caught by the loop (a bug: see the logs); the loop goes on.",
            registry=registry,
        )
        self._token_expiry = Gauge(
            PREFIX + "token_expiry_seconds",
            "Seconds until the token of each context expires, at the last check (negative: expired; "
            "+Inf: never; NaN: not known).",
            ["context"],
            registry=registry,
        )
        self._suspended = Gauge(
            PREFIX + "suspended",
            "1 while the daemon is suspended (polls and plans, writes nothing), 0 otherwise.",
            registry=registry,
        )
        self._webhook = Counter(
            PREFIX + "webhook_requests_total",
            "Requests to POST /trigger, by HTTP status answered.",
            ["code"],
            registry=registry,
        )
        # Every series known in advance, at 0 from the start (sorted: the order of the exposition).
        for outcome in sorted(SYNC_OUTCOMES):
            self._syncs.labels(outcome)
        self._resource_keys = set(product(MANAGED_KINDS, RESOURCE_STATES))
        for kind, state in sorted(self._resource_keys):
            self._resources.labels(kind, state)
        for method in sorted(REQUEST_METHODS):
            self._requests.labels(method)
        for code in sorted(map(str, WEBHOOK_CODES)):
            self._webhook.labels(code)
        # The standard collectors, after ours in the exposition.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        #: The contexts that have a `token_expiry_seconds` series; NaN while their expiry is not
        #: known (not checked yet, or the check could not tell): 0 would say "expires now".
        self._contexts: set[str] = set()

    def record_sync(self, outcome: str, seconds: float, result: SyncResult | None, now: float) -> None:
        """Count one sync that ran (or crashed) and take its resources, requests and commit."""
        with self._lock:
            self._syncs.labels(outcome).inc()
            self._duration.observe(seconds)
            if result is None:
                return
            for method, count in result.requests.items():
                self._requests.labels(method).inc(count)
            if result.plan is not None:
                # Series seen before stay, at 0, so that a state that empties is seen emptying.
                states = resource_states(result)
                self._resource_keys |= states.keys()
                for kind, state in self._resource_keys:
                    self._resources.labels(kind, state).set(states.get((kind, state), 0))
                self._drifted.set(sum(1 for a in result.plan.actions if a.kind is ActionKind.DRIFTED))
            if outcome == "success":
                self._last_success.set(now)
                self._commit.clear()
                if result.commit:
                    self._commit.labels(result.commit).set(1)

    def declare_contexts(self, contexts: Iterable[str]) -> None:
        """The contexts of the manifests just loaded: each has its series (unknown values stay NaN),
        and a context that left the repository has none any more."""
        declared = set(contexts)
        with self._lock:
            for gone in self._contexts - declared:
                self._token_expiry.remove(gone)
            for new in sorted(declared - self._contexts):
                self._token_expiry.labels(new).set(math.nan)
            self._contexts = declared

    def record_token_expiry(self, expiries: Mapping[str, float]) -> None:
        """Seconds until each checked context's token expires (see `identity.token_expiry_seconds`)."""
        with self._lock:
            for context, seconds in expiries.items():
                self._token_expiry.labels(context).set(seconds)
            self._contexts |= expiries.keys()

    def set_suspended(self, suspended: bool) -> None:
        with self._lock:
            self._suspended.set(int(suspended))

    def count_source_error(self) -> None:
        with self._lock:
            self._source_errors.inc()

    def count_loop_error(self) -> None:
        with self._lock:
            self._loop_errors.inc()

    def count_webhook(self, code: int) -> None:
        with self._lock:
            self._webhook.labels(str(code)).inc()

    def render(self) -> str:
        """The exposition of ``GET /metrics`` (text format 0.0.4), ours and the standard collectors'."""
        with self._lock:
            return generate_latest(self.registry).decode("utf-8")
