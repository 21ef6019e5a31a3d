"""What each scenario needs at the very least, the lower bound on its time, and the request-count checks.

Notation (per management context c): A_c APIs and P_c applications in APIM when the sync starts,
pp the listing page size. Listing pages:

    pages = sum over c of max(1, ceil(A_c / pp)) + max(1, ceil(P_c / pp))

(mAPI v2 `GET /apis` for APIs, mAPI v1 `_paged` for applications; an empty listing still costs a page).

`requests_needed` per scenario (N APIs, N_apps applications, all counts over both contexts):

| scenario | requests_needed | why |
| --- | --- | --- |
| cold-sync | pages + 2 (N + N_apps) | one listing page per kind and context (all empty); per created object one GET of its HRID (APIM's listing can lag or hide objects: a creation checks that nothing is there) and one PUT |
| noop-sync | pages + N_apps | the listings, plus one GET per application: applications have no listing that shows metadata (see README) |
| one-change | pages + N_apps + 2 | plus one GET of the changed API (the plan shows its field diff) and one PUT |
| drift | pages + N_apps + 2 d | d = ceil(1 % of N) APIs edited in the console: one GET each (field diff), one PUT each (revert) |
| prune | pages + N_apps + k | k = 10 % of the API manifests removed: one DELETE each |

lower bound = ceil(requests_needed / min(client concurrency, server cap)) x latency, where client
concurrency is the requests in flight over all contexts (per-context concurrency x contexts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FEW = 4
"""Slack allowed over `requests_needed` before a request-count bound counts as broken."""

SCENARIOS_WITH_BOUNDS = ("cold-sync", "noop-sync", "one-change", "drift", "prune")


@dataclass(frozen=True)
class Shape:
    """Objects in APIM per context when a sync starts, and the page size."""

    apis: Sequence[int]
    apps: Sequence[int]
    per_page: int

    @property
    def pages(self) -> int:
        return sum(
            max(1, math.ceil(a / self.per_page)) + max(1, math.ceil(p / self.per_page))
            for a, p in zip(self.apis, self.apps, strict=True)
        )


def requests_needed(scenario: str, shape: Shape, n: int, n_apps: int, changed: int = 0) -> int:
    """The minimum number of requests of a scenario (see the module docstring for each formula)."""
    pages = shape.pages
    if scenario == "cold-sync":
        return pages + 2 * (n + n_apps)
    if scenario == "noop-sync":
        return pages + n_apps
    if scenario == "one-change":
        return pages + n_apps + 2
    if scenario == "drift":
        return pages + n_apps + 2 * changed
    if scenario == "prune":
        return pages + n_apps + changed
    raise ValueError(f"no request bound for {scenario}")


def lower_bound_s(needed: int, concurrency: int, server_cap: int, latency_ms: float) -> float:
    return math.ceil(needed / max(1, min(concurrency, server_cap))) * latency_ms / 1000


def expected_writes(scenario: str, n: int, n_apps: int, changed: int = 0) -> dict[str, int]:
    """Exactly the writes a converging sync sends, by method."""
    if scenario == "cold-sync":
        return {"PUT": n + n_apps, "DELETE": 0}
    if scenario == "noop-sync":
        return {"PUT": 0, "DELETE": 0}
    if scenario == "one-change":
        return {"PUT": 1, "DELETE": 0}
    if scenario == "drift":
        return {"PUT": changed, "DELETE": 0}
    if scenario == "prune":
        return {"PUT": 0, "DELETE": changed}
    return {}


def violations(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every broken rule of a list of result records: a run that failed or did not converge, a
    request count over its bound, or writes other than exactly those the scenario needs."""
    broken: list[str] = []
    for record in records:
        label = f"{record.get('name')} n={record.get('parameters', {}).get('n')}"
        if not record.get("converged", False):
            broken.append(f"{label}: did not converge ({record.get('error') or 'see the run'})")
        bound = record.get("bounds") or {}
        requests = record.get("requests") or {}
        total = sum(requests.values())
        max_requests = bound.get("max_requests")
        if max_requests is not None and total > max_requests:
            broken.append(
                f"{label}: {total} requests, more than the bound {max_requests} ({bound.get('formula')})"
            )
        for method, count in (bound.get("exact_writes") or {}).items():
            if requests.get(method, 0) != count:
                broken.append(
                    f"{label}: {requests.get(method, 0)} {method} requests, expected exactly {count}"
                )
        naive = record.get("naive") or {}
        if naive and not naive.get("converged", False):
            broken.append(f"{label}: the naive peer did not converge ({naive.get('error') or 'see the run'})")
    return broken
