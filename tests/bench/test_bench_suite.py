"""The benchmark harness works end to end at a tiny size, and its bounds checks can fail.

Nothing here measures speed (benchmarks do that); it proves that the suite runs, converges, writes
its records, and that `bench.bounds.violations` catches a broken run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import bounds, suite

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    code = suite.main(
        [
            "--sizes",
            "20",
            "--latency-ms",
            "0",
            "--runs",
            "1",
            "--scenarios",
            "cold-sync,noop-sync,one-change,prune",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    result: list[dict[str, Any]] = json.loads(out.read_text())
    return result


def test_the_suite_runs_converges_and_writes_one_record_per_scenario(records: list[dict[str, Any]]) -> None:
    assert [r["name"] for r in records] == ["cold-sync", "noop-sync", "one-change", "prune"]
    for record in records:
        assert record["converged"], record["error"]
        assert record["parameters"]["n"] == 20
        assert {"latency_ms", "concurrency_per_context", "server_cap", "per_page"} <= set(
            record["parameters"]
        )
        assert record["wall_s"] > 0
        assert record["peak_rss_mib"] > 0
        assert record["naive"]["converged"], record["naive"]["error"]
        assert record["naive_ratio"] is not None
        assert record["lower_bound_ratio"] is None  # latency 0: no lower bound to compare with
    assert bounds.violations(records) == []


def test_request_counts_are_exact_at_a_tiny_size(records: list[dict[str, Any]]) -> None:
    by_name = {r["name"]: r for r in records}
    # 20 APIs and 2 applications over two contexts: one listing page per kind and context.
    # A creation first reads its HRID (APIM's listing can lag or hide objects): one GET per object.
    assert by_name["cold-sync"]["requests"] == {"GET": 4 + 22, "PUT": 22}
    assert by_name["noop-sync"]["requests"] == {"GET": 6}  # + one read per application
    assert by_name["one-change"]["requests"].get("PUT") == 1
    assert by_name["prune"]["requests"].get("DELETE") == 2


def _record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": "noop-sync",
        "parameters": {"n": 10000},
        "requests": {"POST": 100, "GET": 1004},
        "bounds": {
            "max_requests": 1108,
            "formula": "pages + N_apps + 4",
            "exact_writes": {"PUT": 0, "DELETE": 0},
        },
        "converged": True,
    }
    record.update(overrides)
    return record


def test_a_record_within_its_bounds_passes() -> None:
    assert bounds.violations([_record()]) == []


def test_too_many_requests_breaks_the_bound() -> None:
    broken = bounds.violations([_record(requests={"POST": 100, "GET": 1100})])
    assert len(broken) == 1 and "more than the bound 1108" in broken[0]


def test_an_unexpected_write_breaks_the_bound() -> None:
    broken = bounds.violations([_record(requests={"POST": 100, "GET": 1004, "PUT": 1})])
    assert broken == ["noop-sync n=10000: 1 PUT requests, expected exactly 0"]


def test_a_run_that_did_not_converge_fails() -> None:
    broken = bounds.violations([_record(converged=False, error="pending after the sync")])
    assert broken == ["noop-sync n=10000: did not converge (pending after the sync)"]
    naive = bounds.violations([_record(naive={"converged": False, "error": "boom"})])
    assert naive == ["noop-sync n=10000: the naive peer did not converge (boom)"]


def test_requests_needed_formulas() -> None:
    shape = bounds.Shape(apis=[5000, 5000], apps=[500, 500], per_page=100)
    assert shape.pages == 50 + 50 + 5 + 5
    assert bounds.requests_needed("noop-sync", shape, 10000, 1000) == 110 + 1000
    assert bounds.requests_needed("one-change", shape, 10000, 1000) == 110 + 1000 + 2
    assert bounds.requests_needed("drift", shape, 10000, 1000, changed=100) == 110 + 1000 + 200
    empty = bounds.Shape(apis=[0, 0], apps=[0, 0], per_page=100)
    assert bounds.requests_needed("cold-sync", empty, 1000, 100) == 4 + 2 * 1100
    assert bounds.lower_bound_s(1104, 64, 32, 20) == pytest.approx(0.7)
