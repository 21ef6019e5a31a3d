"""Load: the daemon holds a large estate and syncs every few seconds with small changes.

Every change must be applied by a successful sync, no sync may fail, and memory must stay flat.
`make test` runs it for 60 s over 2,000 APIs (plus 200 applications); `make soak` for 10 minutes
over 10,000 (RECONCILER_SOAK_SECONDS, RECONCILER_SOAK_APIS). It prints its figures and, when
RECONCILER_SOAK_RESULTS names a file, writes them there as JSON (docs/reliability.md quotes them).
The run carries its own timeout, sized from its length: the project's 300 s default would cut a
10-minute soak in half.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.generate import API, CONTEXTS, generate_repository
from tests.daemon.support import DaemonProcess, clean_env, wait_for
from tests.source.gitservers import free_port

SECONDS = float(os.environ.get("RECONCILER_SOAK_SECONDS", "60"))
APIS = int(os.environ.get("RECONCILER_SOAK_APIS", "2000"))
RESULTS = os.environ.get("RECONCILER_SOAK_RESULTS")
# the cold sync of 10,000 APIs, the changes, and a busy machine's slack
TIMEOUT = int(SECONDS * 3 + 1200)
WARM_UP = 3
REPO_ROOT = Path(__file__).resolve().parents[2]
USERS = {
    "organizations": [
        {"id": "DEFAULT", "environments": [{"id": "DEFAULT", "hrids": ["default"]}, {"id": "BENCH"}]}
    ],
    "users": [
        {"username": "admin", "password": "admin", "tokens": ["emulator-token"], "organizations": ["*"]}
    ],
}


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[str]:
    """The emulator in a process of its own, so that the daemon's memory is measured alone."""
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--port", str(port), "--users", str(users)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(base_url), "the emulator")
    yield base_url
    process.terminate()
    process.wait(timeout=10)


def _up(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/_emulator/health").status_code == 200
    except httpx.TransportError:
        return False


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc/PID/stat (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_served(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/_emulator/stats").json()["total"])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def description(base_url: str, index: int) -> str:
    env = "DEFAULT" if index % 2 == 0 else "BENCH"  # bench/generate.py alternates the two contexts
    answer = httpx.get(
        f"{base_url}/automation/organizations/DEFAULT/environments/{env}/apis/default-api-{index:05d}",
        headers={"Authorization": "Bearer emulator-token"},
    )
    answer.raise_for_status()
    return str(answer.json()["description"])


@pytest.mark.timeout(TIMEOUT)
def test_soak(tmp_path: Path, emulator_process: str) -> None:
    repo = generate_repository(tmp_path / "repo", APIS, base_url=emulator_process)
    env = clean_env(
        APIM_SECRET_DEFAULT_APIM_BENCH_BEARERTOKEN="emulator-token",
        APIM_SECRET_DEFAULT_APIM_BENCH_BASEURL=emulator_process,
    )
    daemon = DaemonProcess(
        [str(repo), "--interval", "0.5", "--resync-interval", "30", "--full-read-interval", "0",
         "--cache-dir", str(tmp_path / "cache"), "--concurrency", "16"],
        tmp_path / "daemon",
        env=env,
    ).wait_serving()  # fmt: skip
    try:
        started = time.monotonic()
        wait_for(lambda: daemon.syncs() >= 1, "the first (cold) sync", timeout=TIMEOUT / 2)
        cold = time.monotonic() - started
        after_cold = rss_mib(daemon.proc.pid)
        syncs_before, cpu_before = daemon.syncs(), cpu_seconds(daemon.proc.pid)
        requests_before = requests_served(emulator_process)
        changes, samples, latencies = 0, [], []
        deadline = time.monotonic() + SECONDS
        # SECONDS of changes, and never fewer than enough to judge memory once warm: a busy machine
        # makes the soak longer, not too short to call it one
        while time.monotonic() < deadline or changes < WARM_UP + 3:
            index = changes * 7 % APIS
            text = API.format(
                i=index, team=index % 7, context=CONTEXTS[index % 2], rev=0, suffix=f" (soak {changes})"
            )
            written = time.monotonic()
            (repo / "apis" / f"api-{index:05d}.yaml").write_text(text)
            marker = f"(soak {changes})"
            wait_for(
                lambda i=index, m=marker: description(emulator_process, i).endswith(m),  # type: ignore[misc]
                "the change applied in APIM",
                timeout=120,
                step=0.1,
            )
            latencies.append(time.monotonic() - written)
            samples.append(rss_mib(daemon.proc.pid))
            changes += 1
        syncs = daemon.syncs() - syncs_before
        cpu = cpu_seconds(daemon.proc.pid) - cpu_before
        requests = requests_served(emulator_process) - requests_before
        failed = sum(daemon.syncs(outcome) for outcome in ("failure", "invalid", "error"))
        # Memory is judged once warm: the first change syncs still grow the allocator's arenas and
        # the caches of a process that so far had only done the cold sync.
        warm = samples[min(WARM_UP, len(samples) - 1)]
        growth = (samples[-1] - warm) / warm
        figures = {
            "apis": APIS,
            "applications": APIS // 10,
            "seconds": SECONDS,
            "cold_sync_s": round(cold, 1),
            "syncs": int(syncs),
            "failed_syncs": int(failed),
            "changes_written": changes,
            "changes_applied": len(latencies),
            "write_to_applied_p50_s": round(statistics.median(latencies), 2),
            "write_to_applied_p95_s": round(percentile(latencies, 0.95), 2),
            "requests": requests,
            "requests_per_sync": round(requests / max(syncs, 1), 1),
            "cpu_s_per_sync": round(cpu / max(syncs, 1), 3),
            "rss_mib_after_cold_sync": round(after_cold, 1),
            "rss_mib_warm": round(warm, 1),
            "rss_mib_end": round(samples[-1], 1),
            "rss_mib_max": round(max(samples), 1),
            "rss_growth_once_warm": round(growth, 4),
        }
        print("\nsoak figures:\n" + "\n".join(f"  {key:26} {value}" for key, value in figures.items()))
        if RESULTS:
            Path(RESULTS).write_text(json.dumps(figures, indent=2) + "\n")
        assert failed == 0, daemon.log_text()[-4000:]
        assert growth < 0.10, f"memory grew by {growth:.0%}"
    finally:
        daemon.stop()
