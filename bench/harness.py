"""Shared pieces of the benchmark suite: the emulator process, its state and stats, CPU and RSS readings.

The emulator always runs in its own process (``python -m reconciler.emulator``) so that its CPU use is
measured apart from ours (``/proc/<pid>/stat``), with two environments (``DEFAULT`` and ``BENCH``) for
the two contexts of `bench.generate`, given through its ``--users`` file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
SECRET_ENV = "APIM_SECRET_DEFAULT_APIM_BENCH_BEARERTOKEN"  # secretRef apim-bench of bench.generate
BIND_ENV = "APIM_SECRET_DEFAULT_APIM_BENCH_BASEURL"  # the URL that token may be sent to (its binding)
EMPTY_STATE: dict[str, Any] = {"format": "apim-emulator-state/1", "apis": [], "applications": []}
USERS: dict[str, Any] = {
    "organizations": [
        {
            "id": "DEFAULT",
            "name": "Default organization",
            "environments": [
                {"id": "DEFAULT", "hrids": ["default"], "name": "Default environment"},
                {"id": "BENCH", "hrids": ["bench"], "name": "Benchmark environment"},
            ],
        }
    ],
    "users": [{"username": "admin", "password": "admin", "tokens": [TOKEN], "organizations": ["DEFAULT"]}],
}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A port free on 127.0.0.1 now (for a server the benchmark starts, which binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc/<pid>/stat (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_mib(pid: int | None = None) -> float:
    """Current resident set size of a process (this one by default), in MiB."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid: int | None = None) -> float:
    """Peak resident set size (VmHWM) of a process (this one by default), in MiB."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Emulator:
    """A running emulator process and an HTTP client for its `/_emulator` endpoints."""

    process: subprocess.Popen[str]
    url: str
    latency_ms: float
    max_inflight: int
    http: httpx.Client

    def reset_stats(self) -> None:
        self.http.post("/_emulator/reset").raise_for_status()

    def stats(self) -> dict[str, int]:
        """Requests since the last reset, by HTTP method (the emulator counts `METHOD template`)."""
        snapshot = self.http.get("/_emulator/stats").json()
        by_method: dict[str, int] = {}
        for key, count in snapshot["requests"].items():
            method = key.split(" ", 1)[0]
            by_method[method] = by_method.get(method, 0) + int(count)
        return by_method

    def dump_state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.http.get("/_emulator/state").json()
        return state

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.http.put("/_emulator/state", content=json.dumps(state).encode()).raise_for_status()

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)


@contextmanager
def emulator(workdir: Path, latency_ms: float, max_inflight: int) -> Iterator[Emulator]:
    """Start the emulator on a free port with the benchmark's users file; stop it on exit."""
    users = workdir / "users.json"
    users.write_text(json.dumps(USERS))
    command = [
        sys.executable,
        "-m",
        "reconciler.emulator",
        "--port",
        "0",
        "--users",
        str(users),
        "--latency-ms",
        str(latency_ms),
        "--max-inflight",
        str(max_inflight),
        "--log-level",
        "WARNING",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        if not url.startswith("http://"):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        with httpx.Client(base_url=url, timeout=60, trust_env=False) as http:
            yield Emulator(process, url, latency_ms, max_inflight, http)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def child_env(base_url: str | None = None) -> dict[str, str]:
    """Environment of the processes we start: the context's token (bound to `base_url`, the emulator),
    and no proxy for 127.0.0.1."""
    env = {**os.environ, SECRET_ENV: TOKEN, "NO_PROXY": "127.0.0.1,localhost"}
    if base_url is not None:
        env[BIND_ENV] = base_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_child(args: list[str], timeout: float, base_url: str) -> dict[str, Any]:
    """Run `python -m bench.runner ARGS` and return the JSON it prints on its last stdout line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.runner", *args],
        cwd=ROOT,
        env=child_env(base_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"bench.runner {' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    result["process_wall_s"] = round(time.perf_counter() - started, 4)
    return result
