"""Throughput of the APIM emulator: small GETs over 64 keep-alive connections, 10,000 APIs in store.

Run ``python -m bench.emulator_throughput [--apis 10000] [--connections 64] [--seconds 5]``. The emulator
runs in a separate process (``python -m reconciler.emulator --port 0``); the store is loaded through
``PUT /_emulator/state``; the load generator is a minimal asyncio HTTP/1.1 client (one outstanding request
per connection, no pipelining) so that the client, not the server, is cheap. Prints a table and writes
``bench/results-emulator.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reconciler.plan import ids

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results-emulator.json"
ORG = ENV = "DEFAULT"
AUTH = "Basic " + base64.b64encode(b"admin:admin").decode()


def make_state(n: int) -> dict[str, Any]:
    apis = []
    for i in range(n):
        hrid = f"bench-api-{i:05d}"
        cross_id = ids.cross_id(ORG, hrid)  # APIM derives both from the HRID (HRIDToUUID)
        apis.append(
            {
                "id": ids.name_uuid(cross_id + ENV),
                "crossId": cross_id,
                "hrid": hrid,
                "organizationId": ORG,
                "environmentId": ENV,
                "definitionVersion": "V4",
                "origin": "KUBERNETES",
                "syncFrom": "MANAGEMENT",
                "createdAt": 1_700_000_000_000 + i,
                "updatedAt": 1_700_000_000_000 + i,
                "deployedAt": None,
                "planCrossIds": {},
                "spec": {
                    "hrid": hrid,
                    "name": f"Bench API {i:05d}",
                    "version": "1.0",
                    "type": "PROXY",
                    "lifecycleState": "UNPUBLISHED",
                    "state": "STARTED",
                    "listeners": [
                        {
                            "type": "HTTP",
                            "paths": [{"path": f"/bench/{i}"}],
                            "entrypoints": [{"type": "http-proxy"}],
                        }
                    ],
                    "endpointGroups": [
                        {
                            "name": "default",
                            "type": "http-proxy",
                            "endpoints": [
                                {
                                    "name": "e",
                                    "type": "http-proxy",
                                    "configuration": {"target": "https://example.org"},
                                }
                            ],
                        }
                    ],
                    "plans": [],
                    "metadata": [{"name": "team", "format": "STRING", "value": "bench"}],
                },
            }
        )
    return {"format": "apim-emulator-state/1", "apis": apis, "applications": []}


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, target: str, body: bytes = b""
) -> tuple[int, bytes]:
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: bench\r\nAuthorization: {AUTH}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    status_and_headers = await reader.readuntil(b"\r\n\r\n")
    lines = status_and_headers.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == "content-length:":
            length = int(line[15:])
    payload = await reader.readexactly(length) if length else b""
    return status, payload


async def _worker(
    host: str, port: int, targets: list[str], offset: int, deadline: float, latencies: list[float]
) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection(host, port)
    ok = errors = 0
    i = offset
    try:
        while time.perf_counter() < deadline:
            target = targets[i % len(targets)]
            i += 1
            t0 = time.perf_counter()
            status, _ = await _request(reader, writer, "GET", target)
            latencies.append(time.perf_counter() - t0)
            if status == 200:
                ok += 1
            else:
                errors += 1
    finally:
        writer.close()
    return ok, errors


async def drive(host: str, port: int, targets: list[str], connections: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    results = await asyncio.gather(
        *(_worker(host, port, targets, k * 997, deadline, latencies) for k in range(connections))
    )
    elapsed = time.perf_counter() - start
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    return {
        "requests": ok + errors,
        "errors": errors,
        "seconds": round(elapsed, 3),
        "requests_per_second": round((ok + errors) / elapsed, 1),
        "p50_ms": round(pct(0.50), 2),
        "p99_ms": round(pct(0.99), 2),
    }


def start_server() -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.emulator", "--port", "0", "--log-level", "WARNING"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = line.strip().rsplit(" ", 1)[-1]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return proc, host, int(port)


async def load_state(host: str, port: int, state: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    status, _ = await _request(reader, writer, "PUT", "/_emulator/state", json.dumps(state).encode())
    writer.close()
    if status != 204:
        raise SystemExit(f"loading the state failed: HTTP {status}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apis", type=int, default=10_000, help="APIs in the store (default: %(default)s)")
    parser.add_argument(
        "--connections", type=int, default=64, help="keep-alive connections (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="duration of each scenario (default: %(default)s)"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="JSON results file (default: %(default)s)"
    )
    args = parser.parse_args(argv)

    proc, host, port = start_server()
    try:
        t0 = time.perf_counter()
        asyncio.run(load_state(host, port, make_state(args.apis)))
        load_seconds = time.perf_counter() - t0
        v2 = f"/management/v2/organizations/{ORG}/environments/{ENV}"
        auto = f"/automation/organizations/{ORG}/environments/{ENV}"
        n = args.apis
        scenarios = {
            "mapi-v2 GET /apis/{apiId}": [f"{v2}/apis/00000000-0000-3000-8000-{i:012d}" for i in range(n)],
            "automation GET /apis/{hrid}": [f"{auto}/apis/bench-api-{i:05d}" for i in range(n)],
            "mapi-v2 GET /apis?page=N&perPage=10&expands=metadata": [
                f"{v2}/apis?page={1 + i % (n // 10 or 1)}&perPage=10&expands=metadata" for i in range(n)
            ],
            "mapi-v2 GET environment": [v2],
        }
        rows = []
        for name, targets in scenarios.items():
            result = asyncio.run(drive(host, port, targets, args.connections, args.seconds))
            rows.append({"scenario": name, **result})
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(
        f"APIM emulator throughput: {args.apis} APIs (loaded in {load_seconds:.2f}s), "
        f"{args.connections} keep-alive connections, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"{'scenario':<56} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in rows:
        print(
            f"{row['scenario']:<56} {row['requests_per_second']:>9.0f} {row['p50_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['errors']:>7}"
        )
    args.output.write_text(
        json.dumps(
            {
                "apis": args.apis,
                "connections": args.connections,
                "seconds_per_scenario": args.seconds,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "state_load_seconds": round(load_seconds, 3),
                "scenarios": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
