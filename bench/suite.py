"""The benchmark suite: ``python -m bench.suite`` (``make bench``), ``python -m bench.suite --quick``
(``make bench-quick``).

For each size N it generates a repository (N v4 APIs with two plans each, N/10 applications, two
management contexts on two environments), starts the APIM emulator in its own process with injected
latency and a cap on concurrent requests, and runs the scenarios: validate, cold-sync, noop-sync,
one-change, drift, prune, daemon-memory. Each sync runs in a fresh process (`bench.runner`), ours
`--runs` times (the median is reported), the naive peer (`bench.naive`) once, each followed by a
full-read diff that must find nothing to do (convergence). Prints a table and writes
bench/results.json. Exits non-zero when a run fails or does not converge, or a request-count bound
is broken; it asserts nothing about time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import bounds
from bench.generate import CONTEXTS, generate_repository
from bench.harness import (
    EMPTY_STATE,
    ROOT,
    TOKEN,
    Emulator,
    child_env,
    emulator,
    free_port,
    rss_mib,
    run_child,
)

RESULTS = Path(__file__).with_name("results.json")
ALL_SCENARIOS = ("validate", "cold-sync", "noop-sync", "one-change", "drift", "prune", "daemon-memory")
QUICK_SCENARIOS = ("cold-sync", "noop-sync")
CHILD_TIMEOUT = 3600.0


class Bench:
    """One size: its repositories, the emulator, and the state after a cold sync."""

    def __init__(self, args: argparse.Namespace, n: int, work: Path, emu: Emulator) -> None:
        self.args = args
        self.n = n
        self.n_apps = n // 10
        self.work = work
        self.emu = emu
        self.repo = generate_repository(work / "repo", n, base_url=emu.url)
        self.synced: dict[str, Any] | None = None
        self.changed_repo = _one_change(self.repo, work / "repo-one-change")
        self.pruned_repo, self.pruned = _pruned(self.repo, work / "repo-pruned", n)
        self.drifted = max(1, math.ceil(n / 100))

    # ----------------------------------------------------------------- helpers

    def sync_args(self, mode: str, repo: Path) -> list[str]:
        return [
            mode,
            str(repo),
            "--concurrency",
            str(self.args.concurrency),
            "--per-page",
            str(self.args.per_page),
        ]

    def parameters(self, **extra: Any) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_apps": self.n_apps,
            "contexts": len(CONTEXTS),
            "latency_ms": self.args.latency_ms,
            "server_cap": self.args.server_cap,
            "concurrency_per_context": self.args.concurrency,
            "client_concurrency": self.args.concurrency * len(CONTEXTS),
            "per_page": self.args.per_page,
            "runs": self.args.runs,
            **extra,
        }

    def shape(self, apis: int, apps: int) -> bounds.Shape:
        k = len(CONTEXTS)
        return bounds.Shape(
            [apis // k + (1 if i < apis % k else 0) for i in range(k)],
            [apps // k + (1 if i < apps % k else 0) for i in range(k)],
            self.args.per_page,
        )

    def ensure_synced(self) -> dict[str, Any]:
        if self.synced is None:
            self.emu.load_state(EMPTY_STATE)
            run_child(self.sync_args("ours", self.repo), CHILD_TIMEOUT, self.emu.url)
            self.synced = self.emu.dump_state()
        return self.synced

    def measure(self, mode: str, repo: Path, prepare: Any) -> dict[str, Any]:
        """Prepare the emulator, run one child, and return its result with the server's counts."""
        prepare()
        self.emu.reset_stats()
        cpu0 = self.emu.cpu_seconds()
        result = run_child(self.sync_args(mode, repo), CHILD_TIMEOUT, self.emu.url)
        result["emulator_cpu_s"] = self.emu.cpu_seconds() - cpu0
        result["requests"] = self.emu.stats()
        return result

    def verify(self, repo: Path) -> tuple[bool, str | None]:
        try:
            result = run_child(self.sync_args("verify", repo), CHILD_TIMEOUT, self.emu.url)
        except RuntimeError as exc:
            return False, str(exc)[-500:]
        if result.get("ok"):
            return True, None
        return False, f"pending after the sync: {result.get('pending') or result.get('errors') or result}"

    # ----------------------------------------------------------------- scenarios

    def sync_scenario(self, name: str) -> dict[str, Any]:
        n, n_apps = self.n, self.n_apps
        changed = 0
        repo = self.repo
        if name == "cold-sync":

            def prepare() -> None:
                self.emu.load_state(EMPTY_STATE)

            shape = self.shape(0, 0)
        else:
            state = self.ensure_synced()
            shape = self.shape(n, n_apps)

            def prepare() -> None:
                self.emu.load_state(state)
                if name == "drift":
                    _console_edits(self.emu, state, self.drifted)

            if name == "one-change":
                repo = self.changed_repo
            elif name == "drift":
                changed = self.drifted
            elif name == "prune":
                repo, changed = self.pruned_repo, self.pruned
        needed = bounds.requests_needed(name, shape, n, n_apps, changed)
        lower = bounds.lower_bound_s(
            needed, self.args.concurrency * len(CONTEXTS), self.args.server_cap, self.args.latency_ms
        )
        runs = []
        error: str | None = None
        for _ in range(self.args.runs):
            try:
                runs.append(self.measure("ours", repo, prepare))
            except RuntimeError as exc:
                error = str(exc)[-500:]
                break
        converged = error is None and all(r.get("ok") for r in runs)
        if converged:
            converged, error = self.verify(repo)
        elif error is None:
            error = "; ".join(str(r.get("failed") or r.get("failures") or r.get("errors")) for r in runs)
        walls = [r["wall_s"] for r in runs] or [math.nan]
        wall = statistics.median(walls)
        worst: dict[str, Any] = max(runs, key=lambda r: sum(r["requests"].values()), default={"requests": {}})
        naive = self.naive(repo, prepare) if n <= self.args.naive_max_n else None
        emu_cpu = statistics.median([r["emulator_cpu_s"] / r["wall_s"] for r in runs]) if runs else None
        return {
            "name": name,
            "parameters": self.parameters(**({"changed": changed} if changed else {})),
            "wall_s": round(wall, 4),
            "wall_runs_s": [round(w, 4) for w in walls],
            "cpu_s": round(statistics.median([r["cpu_s"] for r in runs]), 4) if runs else None,
            "load_s": round(statistics.median([r["load_s"] for r in runs]), 4) if runs else None,
            "requests": worst["requests"],
            "peak_rss_mib": max((r["peak_rss_mib"] for r in runs), default=None),
            "requests_needed": needed,
            "lower_bound_s": round(lower, 4),
            "lower_bound_ratio": round(wall / lower, 2) if lower > 0 and runs else None,
            "naive_ratio": round(naive["wall_s"] / wall, 1)
            if naive and naive.get("wall_s") and runs
            else None,
            "naive": naive,
            "emulator_cpu_share": round(emu_cpu, 3) if emu_cpu is not None else None,
            "bounds": {
                "max_requests": needed + bounds.FEW,
                "formula": _FORMULAS[name] + f" + {bounds.FEW}",
                "exact_writes": bounds.expected_writes(name, n, n_apps, changed),
            },
            "converged": converged,
            "error": error,
        }

    def naive(self, repo: Path, prepare: Any) -> dict[str, Any]:
        try:
            result = self.measure("naive", repo, prepare)
        except RuntimeError as exc:
            return {"converged": False, "error": str(exc)[-500:]}
        converged, error = self.verify(repo) if result.get("ok") else (False, str(result.get("errors")))
        return {
            "wall_s": round(result["wall_s"], 4),
            "requests": result["requests"],
            "peak_rss_mib": result["peak_rss_mib"],
            "converged": converged,
            "error": error,
        }

    def validate(self) -> dict[str, Any]:
        out = self.work / "validate.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.validate_throughput", "--files", str(self.n), "--out", str(out)],
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        record: dict[str, Any] = json.loads(out.read_text())[0] if out.exists() else {}
        return {
            "name": "validate",
            "parameters": {**self.parameters(), **record.get("parameters", {}), "latency_ms": None},
            "wall_s": record.get("wall_s"),
            "files_per_s": record.get("files_per_s"),
            "requests": {},
            "peak_rss_mib": record.get("peak_rss_mib"),
            "lower_bound_ratio": None,
            "naive_ratio": None,
            "converged": done.returncode == 0,
            "error": None if done.returncode == 0 else done.stderr[-500:],
        }

    def daemon_memory(self) -> dict[str, Any]:
        syncs = self.args.daemon_syncs
        state = self.ensure_synced()
        self.emu.load_state(state)
        driver = self.args.daemon_driver
        if driver == "auto":
            driver = "daemon" if _daemon_available() else "engine"
        error = None
        try:
            if driver == "daemon":
                result = _real_daemon(self, syncs)
            else:
                args = [*self.sync_args("daemon", self.repo), "--alt", str(self.changed_repo)]
                result = run_child([*args, "--syncs", str(syncs)], CHILD_TIMEOUT, self.emu.url)
        except (RuntimeError, TimeoutError, httpx.HTTPError) as exc:
            result, error = {"ok": False}, str(exc)[-500:]
        converged = bool(result.get("ok"))
        if converged:
            last = self.repo if syncs % 2 else self.changed_repo
            converged, error = self.verify(last)
        return {
            "name": "daemon-memory",
            "parameters": self.parameters(syncs=syncs, driver=driver, runs=1),
            "wall_s": result.get("wall_s"),
            "requests": {},
            "peak_rss_mib": result.get("peak_rss_mib"),
            "rss_start_mib": result.get("rss_start_mib"),
            "rss_end_mib": result.get("rss_end_mib"),
            "rss_growth_pct": result.get("rss_growth_pct"),
            "rss_every_10_syncs_mib": result.get("rss_every_10_syncs_mib"),
            "lower_bound_ratio": None,
            "naive_ratio": None,
            "converged": converged,
            "error": error,
        }


_FORMULAS = {
    "cold-sync": "pages + 2 (N + N_apps)",
    "noop-sync": "pages + N_apps",
    "one-change": "pages + N_apps + 2",
    "drift": "pages + N_apps + 2 d",
    "prune": "pages + N_apps + k",
}


def _one_change(repo: Path, target: Path) -> Path:
    """A copy of `repo` where one API (api-00007) has a new description."""
    shutil.copytree(repo, target)
    path = target / "apis" / "api-00007.yaml"
    if path.exists():
        text = path.read_text()
        path.write_text(text.replace("for benchmarks", "for benchmarks (changed in git)", 1))
    return target


def _pruned(repo: Path, target: Path, n: int) -> tuple[Path, int]:
    """A copy of `repo` without 10 % of its API manifests, spread over both contexts."""
    shutil.copytree(repo, target)
    removed = 0
    for i in range(n):
        if i % 20 in (0, 1):
            (target / "apis" / f"api-{i:05d}.yaml").unlink()
            removed += 1
    return target, removed


def _console_edits(emu: Emulator, state: dict[str, Any], count: int) -> None:
    """Edit `count` APIs "in the console": mAPI v2 GET for the ETag, then PUT with If-Match."""
    apis = sorted(state["apis"], key=lambda a: str(a.get("hrid")))
    step = max(1, len(apis) // count)
    keep = (
        "name",
        "apiVersion",
        "definitionVersion",
        "type",
        "visibility",
        "lifecycleState",
        "tags",
        "labels",
        "listeners",
        "endpointGroups",
        "flowExecution",
        "flows",
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for api in apis[::step][:count]:
        url = (
            f"/management/v2/organizations/{api['organizationId']}/environments/"
            f"{api['environmentId']}/apis/{api['id']}"
        )
        current = emu.http.get(url, headers=headers)
        current.raise_for_status()
        body = current.json()
        update = {key: body[key] for key in keep if key in body}
        update["description"] = "Edited by hand in the console"
        emu.http.put(
            url, json=update, headers={**headers, "If-Match": current.headers["ETag"]}
        ).raise_for_status()


def _daemon_available() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "run", "--help"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _real_daemon(bench: Bench, syncs: int) -> dict[str, Any]:
    """`apim-reconciler run` on a folder whose content alternates between the repository and its
    one-change copy; each change is followed by SIGHUP (a sync now) and a wait for `/status` to
    count one more finished sync."""
    live = bench.work / "daemon-repo"
    if live.exists():
        shutil.rmtree(live)
    shutil.copytree(bench.repo, live)
    changed = live / "apis" / "api-00007.yaml"
    versions = [changed.read_text(), (bench.changed_repo / "apis" / "api-00007.yaml").read_text()]
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "run",
        str(live),
        "--listen",
        f"127.0.0.1:{port}",
        "--interval",
        "3600",
        "--resync-interval",
        "3600",
        "--full-read-interval",
        "0",
        "--concurrency",
        str(bench.args.concurrency),
        "--per-page",
        str(bench.args.per_page),
        "--secrets-dir",
        str(bench.work / "no-secrets"),
        "--log-level",
        "error",
        "--output",
        "json",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=child_env(bench.emu.url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    walls: list[float] = []
    rss: list[float] = []
    failures = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False) as http:
            status = _wait_status(http, process, lambda s: int(s.get("syncs") or 0) >= 1, 300)
            for i in range(syncs):
                if i:  # the first sync is the start-up one
                    before = int(status.get("syncs") or 0)
                    changed.write_text(versions[i % 2])
                    started = time.perf_counter()
                    process.send_signal(signal.SIGHUP)
                    status = _wait_status(
                        http, process, lambda s, b=before: int(s.get("syncs") or 0) > b, 300
                    )
                    walls.append(time.perf_counter() - started)
                failures += not _status_ok(status)
                rss.append(rss_mib(process.pid))
            peak = _peak(process.pid)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    return {
        "ok": failures == 0,
        "failed_syncs": failures,
        "wall_s": round(statistics.median(walls), 4) if walls else None,
        "rss_start_mib": round(rss[0], 1),
        "rss_end_mib": round(rss[-1], 1),
        "rss_growth_pct": round(100 * (rss[-1] - rss[0]) / rss[0], 2),
        "rss_every_10_syncs_mib": [round(r, 1) for r in rss[::10]] + [round(rss[-1], 1)],
        "peak_rss_mib": round(peak, 1),
    }


def _peak(pid: int) -> float:
    from bench.harness import peak_rss_mib

    return peak_rss_mib(pid)


def _status_ok(status: dict[str, Any]) -> bool:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return bool(status.get("lastAppliedRevision") == status.get("lastAttemptedRevision"))


def _wait_status(
    http: httpx.Client, process: subprocess.Popen[str], done: Any, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"the daemon exited with {process.returncode}: {stderr[-1000:]}")
        try:
            status: dict[str, Any] = http.get("/status").json()
        except (httpx.HTTPError, ValueError):
            status = {}
        if status and done(status) and not _reconciling(status):
            return status
        time.sleep(0.02)
    raise TimeoutError("the daemon did not finish a sync in time")


def _reconciling(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Reconciling" and c.get("status") == "True" for c in status.get("conditions") or []
    )


# --------------------------------------------------------------------- output


def table(records: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'scenario':<14}{'N':>7}{'wall s':>9}{'bound s':>9}{'ratio':>7}{'naive s':>9}{'naive x':>9}"
        f"{'requests':>10}  {'by method':<30}{'RSS MiB':>8}{'emu CPU':>8}  note"
    )
    lines = [head, "-" * len(head)]
    for r in records:
        p = r["parameters"]
        naive = r.get("naive") or {}
        requests = r.get("requests") or {}
        note = ""
        if r["name"] == "validate":
            note = f"{r.get('files_per_s')} files/s"
        elif r["name"] == "daemon-memory":
            note = (
                f"{p.get('syncs')} syncs ({p.get('driver')}): RSS {r.get('rss_start_mib')} -> "
                f"{r.get('rss_end_mib')} MiB ({r.get('rss_growth_pct')} %)"
            )
        if not r.get("converged"):
            note += " NOT CONVERGED"
        lines.append(
            f"{r['name']:<14}{p['n']:>7}{_num(r.get('wall_s'), 3):>9}{_num(r.get('lower_bound_s'), 3):>9}"
            f"{_num(r.get('lower_bound_ratio'), 2):>7}{_num(naive.get('wall_s'), 1):>9}"
            f"{_num(r.get('naive_ratio'), 1):>9}{sum(requests.values()) if requests else '-':>10}  "
            f"{_methods(requests):<30}{_num(r.get('peak_rss_mib'), 1):>8}"
            f"{_pct(r.get('emulator_cpu_share')):>8}  {note}"
        )
    return "\n".join(lines)


def _num(value: Any, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _methods(requests: dict[str, int]) -> str:
    return " ".join(f"{m}:{c}" for m, c in sorted(requests.items())) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="cold-sync and noop-sync at N = 1,000")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N (default: %(default)s)")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS), help="comma-separated")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of ours per scenario; the median is reported"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="injected per request (default: 20)")
    parser.add_argument("--server-cap", type=int, default=32, help="emulator --max-inflight (default: 32)")
    parser.add_argument("--concurrency", type=int, default=32, help="our requests in flight per context")
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument(
        "--naive-max-n", type=int, default=1000, help="run the naive peer only up to this N (it is slow)"
    )
    parser.add_argument("--daemon-syncs", type=int, default=100)
    parser.add_argument("--daemon-max-n", type=int, default=1000, help="run daemon-memory only up to this N")
    parser.add_argument("--daemon-driver", choices=("auto", "daemon", "engine"), default="auto")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.scenarios = "1000", ",".join(QUICK_SCENARIOS)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(ALL_SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-{n}-") as tmp:
            work = Path(tmp)
            with emulator(work, args.latency_ms, args.server_cap) as emu:
                bench = Bench(args, n, work, emu)
                for name in scenarios:
                    if name == "validate":
                        record = bench.validate()
                    elif name == "daemon-memory":
                        if n > args.daemon_max_n:
                            continue
                        record = bench.daemon_memory()
                    else:
                        record = bench.sync_scenario(name)
                    records.append(record)
                    print(table([record]).splitlines()[-1], file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    print(
        f"\napim-reconciler benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"latency {args.latency_ms:g} ms, server cap {args.server_cap}, concurrency {args.concurrency} "
        f"per context, {args.runs} runs (median), {elapsed:.0f} s in all\n"
    )
    print(table(records))
    args.out.write_text(json.dumps(records, indent=2) + "\n")
    broken = bounds.violations(records)
    for line in broken:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
