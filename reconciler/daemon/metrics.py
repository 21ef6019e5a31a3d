"""Prometheus metrics, written by hand in the text exposition format (version 0.0.4).

A dozen series do not justify a dependency: counters, gauges and one histogram are a few dicts.
Every series whose labels are known in advance is present from the start (at 0), so that ``rate()``
and alerts work before the first failure; a series labelled by a ManagementContext is present from
the moment the manifests naming it are loaded. Label values are escaped as the format requires.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.kinds import MANAGED_KINDS
from reconciler.plan.model import ActionKind
from reconciler.sync.result import SyncResult

PREFIX = "apim_reconciler_"

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


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of the exposition: ``name{labels} value``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def render(self) -> str:
        value = format_value(self.value)
        if not self.labels:
            return f"{self.name} {value}"
        labels = ",".join(f'{key}="{escape_label(text)}"' for key, text in self.labels)
        return f"{self.name}{{{labels}}} {value}"


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


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
    """The daemon's metrics; updated from the loop, rendered from the HTTP server (same thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.syncs = dict.fromkeys(SYNC_OUTCOMES, 0)
        self.bucket_counts = [0] * len(DURATION_BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        self.resources = dict.fromkeys(((k, s) for k in MANAGED_KINDS for s in RESOURCE_STATES), 0)
        self.requests = dict.fromkeys(REQUEST_METHODS, 0)
        self.last_success_timestamp = 0.0
        self.last_applied_commit: str | None = None
        self.drifted = 0
        self.source_errors = 0
        self.loop_errors = 0
        self.webhook_requests = dict.fromkeys(map(str, WEBHOOK_CODES), 0)
        #: Context → seconds until its token expires; NaN while that is not known (not checked yet,
        #: or the check could not tell): 0 would say "expires now" and fire every expiry alert.
        self.token_expiry: dict[str, float] = {}
        self.suspended = 0

    def record_sync(self, outcome: str, seconds: float, result: SyncResult | None, now: float) -> None:
        """Count one sync that ran (or crashed) and take its resources, requests and commit."""
        with self._lock:
            self.syncs[outcome] = self.syncs.get(outcome, 0) + 1
            self.duration_sum += seconds
            self.duration_count += 1
            for index, bound in enumerate(DURATION_BUCKETS):
                if seconds <= bound:
                    self.bucket_counts[index] += 1
            if result is None:
                return
            for method, count in result.requests.items():
                self.requests[method] = self.requests.get(method, 0) + count
            if result.plan is not None:
                # Series seen before stay, at 0, so that a state that empties is seen emptying.
                self.resources = {key: 0 for key in self.resources} | resource_states(result)
                self.drifted = sum(1 for a in result.plan.actions if a.kind is ActionKind.DRIFTED)
            if outcome == "success":
                self.last_success_timestamp = now
                self.last_applied_commit = result.commit

    def declare_contexts(self, contexts: Iterable[str]) -> None:
        """The contexts of the manifests just loaded: each has its series (unknown values stay NaN),
        and a context that left the repository has none any more."""
        with self._lock:
            self.token_expiry = {c: self.token_expiry.get(c, math.nan) for c in sorted(set(contexts))}

    def record_token_expiry(self, expiries: Mapping[str, float]) -> None:
        """Seconds until each checked context's token expires (see `identity.token_expiry_seconds`)."""
        with self._lock:
            self.token_expiry.update(expiries)

    def set_suspended(self, suspended: bool) -> None:
        with self._lock:
            self.suspended = int(suspended)

    def count_source_error(self) -> None:
        with self._lock:
            self.source_errors += 1

    def count_loop_error(self) -> None:
        with self._lock:
            self.loop_errors += 1

    def count_webhook(self, code: int) -> None:
        with self._lock:
            key = str(code)
            self.webhook_requests[key] = self.webhook_requests.get(key, 0) + 1

    def render(self) -> str:
        with self._lock:
            families = [
                _family(
                    "syncs_total",
                    "counter",
                    "Syncs run, by outcome (success, failure, invalid: refused for manifest errors, error).",
                    [((("outcome", o),), v) for o, v in sorted(self.syncs.items())],
                ),
                self._histogram(),
                _family(
                    "resources",
                    "gauge",
                    "Managed resources after the last planned sync, by kind and state.",
                    [((("kind", k), ("state", s)), v) for (k, s), v in sorted(self.resources.items())],
                ),
                _family(
                    "apim_requests_total",
                    "counter",
                    "Requests sent to APIM, by HTTP method.",
                    [((("method", m),), v) for m, v in sorted(self.requests.items())],
                ),
                _family(
                    "last_successful_sync_timestamp_seconds",
                    "gauge",
                    "Unix time of the end of the last successful sync (0: none yet).",
                    [((), self.last_success_timestamp)],
                ),
                _family(
                    "last_applied_commit_info",
                    "gauge",
                    "The commit of the last successful sync, as a label (value always 1).",
                    [((("commit", self.last_applied_commit),), 1)] if self.last_applied_commit else [],
                ),
                _family(
                    "drifted_resources",
                    "gauge",
                    "Resources found changed in APIM behind git's back by the last planned sync.",
                    [((), self.drifted)],
                ),
                _family(
                    "source_errors_total",
                    "counter",
                    "Snapshots of the source (git or folder) that failed.",
                    [((), self.source_errors)],
                ),
                _family(
                    "loop_errors_total",
                    "counter",
                    "Unexpected errors caught by the loop (a bug: see the logs); the loop goes on.",
                    [((), self.loop_errors)],
                ),
                _family(
                    "token_expiry_seconds",
                    "gauge",
                    "Seconds until the token of each context expires, at the last check (negative: expired; "
                    "+Inf: never; NaN: not known).",
                    [((("context", c),), v) for c, v in sorted(self.token_expiry.items())],
                ),
                _family(
                    "suspended",
                    "gauge",
                    "1 while the daemon is suspended (polls and plans, writes nothing), 0 otherwise.",
                    [((), self.suspended)],
                ),
                _family(
                    "webhook_requests_total",
                    "counter",
                    "Requests to POST /trigger, by HTTP status answered.",
                    [((("code", c),), v) for c, v in sorted(self.webhook_requests.items())],
                ),
            ]
        return "".join(families)

    def _histogram(self) -> str:
        name = PREFIX + "sync_duration_seconds"
        lines = [
            f"# HELP {name} Duration of syncs (load, plan and apply), in seconds.",
            f"# TYPE {name} histogram",
        ]
        lines += [
            Sample(f"{name}_bucket", (("le", format_value(bound)),), count).render()
            for bound, count in zip(DURATION_BUCKETS, self.bucket_counts, strict=True)
        ]
        lines.append(Sample(f"{name}_bucket", (("le", "+Inf"),), self.duration_count).render())
        lines.append(Sample(f"{name}_sum", (), self.duration_sum).render())
        lines.append(Sample(f"{name}_count", (), self.duration_count).render())
        return "\n".join(lines) + "\n"


def _family(
    short: str,
    kind: str,
    help_text: str,
    samples: Iterable[tuple[tuple[tuple[str, str], ...], float]],
) -> str:
    name = PREFIX + short
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [Sample(name, labels, float(value)).render() for labels, value in samples]
    return "\n".join(lines) + "\n"
