"""Push to applied: with the webhook, the time from `git push` to the change being in APIM.

Everything runs as real processes on 127.0.0.1: the emulator (`bench.harness.emulator`, 20 ms of
latency per request), `git daemon` serving a bare repository of `bench.generate`'s N APIs, and the
daemon (`python -m reconciler run git://... --webhook-secret-file F`). After its first sync, each
push commits a one-API change (its description) in a work clone, runs `git push`, then POSTs a
GitHub-style push payload to `/trigger`, signed with `X-Hub-Signature-256`, and polls the
Automation API's GET of that API until the new description is there. The time recorded is from
just before `git push` to the first poll that sees the change.

The daemon's JSON log gives the breakdown of each push: webhook accepted, fetch started (after
`git ls-remote`), checked out, sync started, sync succeeded. Nothing is asserted about time; the
exit status is non-zero only when a change is not applied within `--timeout` seconds.

    python -m bench.push_to_applied                  # N = 100 and 1,000, 20 pushes each
    python -m bench.push_to_applied --apis 100 --pushes 5
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.generate import generate_repository
from bench.harness import ROOT, TOKEN, Emulator, child_env, emulator, free_port

SECRET = "push-to-applied-webhook-secret-0123456789"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}
#: The `/trigger` bucket refills 1 token a second (bursts of 5): pushes start at least this far apart.
MIN_PUSH_SPACING_S = 1.05
#: Daemon log events of one push, in the order they happen (the breakdown's stages).
STAGES = (
    ("webhook_accepted", "daemon.webhook_accepted"),
    ("fetch_started", "source.fetching"),
    ("checked_out", "source.checked_out"),
    ("sync_started", "daemon.sync_started"),
    ("sync_succeeded", "daemon.sync_succeeded"),
)


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def git_daemon(base: Path) -> Iterator[int]:
    """`git daemon` serving every repository under `base` (read-only) on a free port."""
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--export-all",
            f"--base-path={base}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def hub_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def push_payload(before: str, after: str, number: int) -> bytes:
    """The fields of GitHub's push event that a receiver would look at (the daemon reads none)."""
    payload = {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": "bench/manifests", "default_branch": "main"},
        "pusher": {"name": "bench"},
        "head_commit": {"id": after, "message": f"push {number}"},
    }
    return json.dumps(payload).encode()


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    http: httpx.Client
    log_path: Path

    def events(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return lines

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the daemon exited with {self.process.returncode}:\n{tail}")


@contextmanager
def daemon(work: Path, source: str, emu_url: str, concurrency: int) -> Iterator[Daemon]:
    secret_file = work / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    port = free_port()
    log_path = work / "daemon.log"
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "run",
        source,
        "--webhook-secret-file",
        str(secret_file),
        "--interval",
        "60",
        "--listen",
        f"127.0.0.1:{port}",
        "--cache-dir",
        str(work / "cache"),
        "--secrets-dir",
        str(work / "no-secrets"),
        "--concurrency",
        str(concurrency),
        "--log-format",
        "json",
        "--log-level",
        "info",
    ]
    env = {k: v for k, v in child_env(emu_url).items() if not k.startswith("RECONCILER_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False)
    try:
        yield Daemon(process, http, log_path)
    finally:
        http.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_first_sync(d: Daemon, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d.check_alive()
        try:
            status: dict[str, Any] = d.http.get("/status").json()
        except (httpx.HTTPError, ValueError):
            time.sleep(0.05)
            continue
        ready = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        if int(status.get("syncs") or 0) >= 1 and ready.get("Reconciling") != "True":
            if ready.get("Ready") != "True":
                raise RuntimeError(f"the first sync failed: {json.dumps(status)[:2000]}")
            return status
        time.sleep(0.05)
    raise RuntimeError(f"the daemon's first sync did not finish within {timeout} s")


def api_path(index: int) -> str:
    env = "DEFAULT" if index % 2 == 0 else "BENCH"  # bench.generate: even APIs in bench-a, odd in bench-b
    return f"/automation/organizations/DEFAULT/environments/{env}/apis/default-api-{index:05d}"


def wait_applied(emu: Emulator, d: Daemon, index: int, description: str, timeout: float) -> float | None:
    """Poll APIM until the API shows `description`: the time.time() of the poll that saw it."""
    deadline = time.monotonic() + timeout
    path = api_path(index)
    while time.monotonic() < deadline:
        response = emu.http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        seen = time.time()
        if response.status_code == 200 and response.json().get("description") == description:
            return seen
        d.check_alive()
        time.sleep(0.005)
    return None


def log_time(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()


def breakdown(events: list[dict[str, Any]], since: float, commit: str) -> dict[str, float | None]:
    """Seconds from the push's start to each stage: the first event of the stage that names this
    push's commit (`source.fetching` names it as `remote_commit`; the webhook's event names none)."""
    found: dict[str, float | None] = {}
    for stage, name in STAGES:
        found[stage] = None
        key = {"webhook_accepted": None, "fetch_started": "remote_commit"}.get(stage, "commit")
        for event in events:
            if event.get("event") != name or log_time(event) < since:
                continue
            if key is not None and event.get(key) != commit:
                continue
            found[stage] = round(log_time(event) - since, 4)
            break
    return found


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * share // 1)))
    return ordered[int(rank) - 1]


def run_size(args: argparse.Namespace, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"push-{n}-") as tmp:
        work = Path(tmp)
        with emulator(work, args.latency_ms, args.max_inflight) as emu, git_daemon(work / "git") as port:
            bare = work / "git" / "manifests.git"
            clone = work / "clone"
            git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=work)
            git("init", "--quiet", "--initial-branch=main", str(clone), cwd=work)
            git("remote", "add", "origin", str(bare), cwd=clone)
            generate_repository(clone, n, base_url=emu.url)
            git("add", "--all", cwd=clone)
            git("commit", "--quiet", "-m", "initial", cwd=clone)
            git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
            # The webhook's git host and the daemon's remote are one repository: pushes go to the bare
            # repository, the daemon reads it through git daemon.
            source = f"git://127.0.0.1:{port}/manifests.git"
            with daemon(work, source, emu.url, args.concurrency) as d:
                first = time.perf_counter()
                wait_first_sync(d, args.timeout * 5)
                first_sync_s = time.perf_counter() - first
                pushes = _pushes(args, n, emu, d, clone)
                events = d.events()
                if args.keep_logs is not None:
                    args.keep_logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(d.log_path, args.keep_logs / f"daemon-{n}.log")
            for push in pushes:
                push["stages"] = breakdown(events, push.pop("_since"), push["commit"])
    return _record(args, n, pushes, first_sync_s, time.perf_counter() - started)


def _pushes(args: argparse.Namespace, n: int, emu: Emulator, d: Daemon, clone: Path) -> list[dict[str, Any]]:
    pushes: list[dict[str, Any]] = []
    before = git("rev-parse", "HEAD", cwd=clone)
    last_post = 0.0
    for number in range(1, args.pushes + 1):
        index = (number * 37) % n
        target = clone / "apis" / f"api-{index:05d}.yaml"
        description = f"Generated API number {index} for benchmarks, push {number}"
        lines = target.read_text().splitlines(keepends=True)
        lines = [f"  description: {description}\n" if x.startswith("  description: ") else x for x in lines]
        target.write_text("".join(lines))
        git("commit", "--quiet", "--all", "-m", f"push {number}", cwd=clone)
        after = git("rev-parse", "HEAD", cwd=clone)
        body = push_payload(before, after, number)
        wait = MIN_PUSH_SPACING_S - (time.monotonic() - last_post)
        if wait > 0:
            time.sleep(wait)
        since = time.time()
        git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
        pushed = time.time()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": hub_signature(body),
        }
        last_post = time.monotonic()
        response = d.http.post("/trigger", content=body, headers=headers)
        answered = time.time()
        if response.status_code != 202:
            raise RuntimeError(f"POST /trigger answered {response.status_code}: {response.text[:200]}")
        seen = wait_applied(emu, d, index, description, args.timeout)
        record: dict[str, Any] = {
            "push": number,
            "api": f"api-{index:05d}",
            "commit": after,
            "_since": since,
            "git_push_s": round(pushed - since, 4),
            "webhook_answered_s": round(answered - since, 4),
            "applied_s": round(seen - since, 4) if seen is not None else None,
        }
        pushes.append(record)
        if seen is None:
            break
        before = after
    return pushes


def _record(
    args: argparse.Namespace, n: int, pushes: list[dict[str, Any]], first_sync_s: float, total_s: float
) -> dict[str, Any]:
    applied = [p["applied_s"] for p in pushes if p["applied_s"] is not None]
    ok = len(applied) == args.pushes
    stage_medians: dict[str, float | None] = {}
    for stage, _ in STAGES:
        values = [p["stages"][stage] for p in pushes if p["stages"].get(stage) is not None]
        stage_medians[stage] = round(statistics.median(values), 4) if values else None
    return {
        "name": "push-to-applied",
        "parameters": {
            "n": n,
            "applications": n // 10,
            "pushes": args.pushes,
            "latency_ms": args.latency_ms,
            "server_cap": args.max_inflight,
            "concurrency": args.concurrency,
            "interval_s": 60,
        },
        "ok": ok,
        "error": None if ok else f"a change was not applied within {args.timeout} s",
        "p50_s": round(statistics.median(applied), 4) if applied else None,
        "p95_s": round(percentile(applied, 0.95), 4) if applied else None,
        "max_s": round(max(applied), 4) if applied else None,
        "min_s": round(min(applied), 4) if applied else None,
        "stage_medians_s": stage_medians,
        "first_sync_s": round(first_sync_s, 3),
        "bench_wall_s": round(total_s, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "pushes": pushes,
    }


def table(records: Sequence[dict[str, Any]]) -> str:
    stages = [stage for stage, _ in STAGES]
    head = f"{'N':>6} {'pushes':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}  " + "  ".join(
        f"{s} (p50)" for s in ["git_push", *stages]
    )
    lines = [head, "-" * len(head)]
    for r in records:
        medians = r["stage_medians_s"]
        git_push = statistics.median([p["git_push_s"] for p in r["pushes"]]) if r["pushes"] else None
        cells = [_cell(git_push), *(_cell(medians[s]) for s in stages)]
        lines.append(
            f"{r['parameters']['n']:>6} {len(r['pushes']):>6} {_cell(r['p50_s']):>7} {_cell(r['p95_s']):>7} "
            f"{_cell(r['max_s']):>7}  "
            + "  ".join(f"{c:>{len(s) + 6}}" for c, s in zip(cells, ["git_push", *stages], strict=True))
        )
    lines.append(
        "stages: seconds from the start of `git push` to each daemon log event (median over the pushes)"
    )
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.push_to_applied", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--apis", default="100,1000", help="comma-separated sizes N (default: 100,1000)")
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--max-inflight", type=int, default=32, help="the emulator's server cap")
    parser.add_argument("--concurrency", type=int, default=32, help="the daemon's --concurrency")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a change may take to be applied")
    parser.add_argument("--keep-logs", type=Path, help="copy each daemon's JSON log to this folder")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-push.json")
    args = parser.parse_args(argv)
    if shutil.which("git") is None:
        print("bench.push_to_applied needs git", file=sys.stderr)
        return 2
    records = []
    for n in (int(x) for x in args.apis.split(",") if x.strip()):
        record = run_size(args, n)
        records.append(record)
        print(f"N = {n}: p50 {_cell(record['p50_s'])} s, p95 {_cell(record['p95_s'])} s", file=sys.stderr)
    args.out.write_text(json.dumps({"machine": _machine(), "records": records}, indent=2) + "\n")
    print(table(records))
    failed = [r for r in records if not r["ok"]]
    for r in failed:
        print(f"N = {r['parameters']['n']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    sys.exit(main())
