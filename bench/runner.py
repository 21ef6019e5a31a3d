"""One measured run, in its own process: ``python -m bench.runner MODE REPO [options]``.

Modes:

* ``ours``: load the repository, then one `reconcile` in APPLY mode (what ``apim-reconciler sync``
  does); `wall_s` times the sync (read APIM, plan, apply), `load_s` the loading before it.
* ``naive``: the same load, then `bench.naive.naive_sync`.
* ``verify``: a DIFF with ``--full-read`` (every object read and compared): exits non-zero unless the
  plan is empty, i.e. the previous run converged.
* ``daemon``: ``--syncs`` syncs in one process, alternating between REPO and ``--alt`` (a small
  change each time), the way the daemon loops; reports RSS after the first sync and at the end.
* ``profile``: ``ours`` under pyinstrument; writes the profile to ``--profile-out``.

Prints one JSON object on its last stdout line. Peak RSS is this process's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import peak_rss_mib, rss_mib
from bench.naive import naive_sync
from reconciler.apim.config import ClientConfig
from reconciler.logs import configure_logging
from reconciler.manifests import ManifestSet, load_manifests
from reconciler.plan.model import PlanOptions
from reconciler.source.folder import FolderSource
from reconciler.sync.engine import reconcile
from reconciler.sync.result import SyncResult
from reconciler.sync.settings import SyncMode, SyncSettings


def _settings(args: argparse.Namespace, *, full_read: bool = False) -> SyncSettings:
    return SyncSettings(
        plan=PlanOptions(full_read=full_read),
        concurrency=args.concurrency,
        per_page=args.per_page,
        secrets_dir=None,
        client=_client_config(args),
    )


def _client_config(args: argparse.Namespace) -> ClientConfig:
    # The pool must hold at least as many connections as requests in flight.
    pool = max(args.concurrency, ClientConfig().max_connections)
    return ClientConfig(max_connections=pool, max_keepalive_connections=pool, trust_env=False)


def _load(repo: Path) -> tuple[ManifestSet, str, float]:
    started = time.perf_counter()
    commit = FolderSource(repo).snapshot().commit
    manifests = load_manifests([repo])
    if not manifests.ok:
        raise SystemExit("the repository does not validate: " + "; ".join(map(str, manifests.errors[:5])))
    return manifests, commit, time.perf_counter() - started


def _summary(result: SyncResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "plan": result.plan.counts() if result.plan else {},
        "failed": [str(o.error) for o in result.failed_outcomes][:5],
        "failures": [f.message for f in result.failures][:5],
        "errors": [str(p) for p in result.errors][:5],
        "client_requests": dict(result.requests),
    }


async def _ours(args: argparse.Namespace) -> dict[str, Any]:
    manifests, commit, load_s = _load(args.repo)
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = await reconcile(manifests, _settings(args), commit=commit, mode=SyncMode.APPLY)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"wall_s": wall, "cpu_s": cpu, "load_s": load_s, **_summary(result)}


async def _naive(args: argparse.Namespace) -> dict[str, Any]:
    manifests, commit, load_s = _load(args.repo)
    config = ClientConfig(max_connections=1, max_keepalive_connections=1, trust_env=False)
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = await naive_sync(manifests, commit, config)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "load_s": load_s,
        "ok": result.ok,
        "plan": {"writes": result.writes, "deletes": result.deletes, "unchanged": result.unchanged},
        "errors": list(result.errors[:5]),
        "client_requests": dict(result.requests),
    }


async def _verify(args: argparse.Namespace) -> dict[str, Any]:
    manifests, commit, _ = _load(args.repo)
    result = await reconcile(manifests, _settings(args, full_read=True), commit=commit, mode=SyncMode.DIFF)
    converged = result.ok and result.plan is not None and not result.plan.has_changes
    pending = []
    if result.plan is not None:
        pending = [f"{a.kind} {a.resource}: {a.reason}" for a in result.plan.actions if a.writes][:5]
    return {**_summary(result), "ok": converged, "pending": pending}


async def _daemon(args: argparse.Namespace) -> dict[str, Any]:
    repos = [args.repo, args.alt or args.repo]
    walls: list[float] = []
    rss: list[float] = []
    failures = 0
    for i in range(args.syncs):
        manifests, commit, _ = _load(repos[i % 2])
        t0 = time.perf_counter()
        result = await reconcile(manifests, _settings(args), commit=commit, mode=SyncMode.APPLY)
        walls.append(time.perf_counter() - t0)
        failures += not result.ok
        del manifests, result
        gc.collect()
        rss.append(rss_mib())
    start, end = rss[0], rss[-1]
    return {
        "ok": failures == 0,
        "syncs": args.syncs,
        "failed_syncs": failures,
        "wall_s": statistics.median(walls),
        "rss_start_mib": round(start, 1),
        "rss_end_mib": round(end, 1),
        "rss_growth_pct": round(100 * (end - start) / start, 2),
        "rss_max_mib": round(max(rss), 1),
    }


async def _profile(args: argparse.Namespace) -> dict[str, Any]:
    from pyinstrument import Profiler

    from bench.profiling import top_frames

    manifests, commit, load_s = _load(args.repo)
    profiler = Profiler(interval=0.001, async_mode="disabled")
    t0 = time.perf_counter()
    profiler.start()
    result = await reconcile(manifests, _settings(args), commit=commit, mode=SyncMode.APPLY)
    profiler.stop()
    wall = time.perf_counter() - t0
    session = profiler.last_session
    assert session is not None
    top = top_frames(session, 5)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    if args.profile_out:
        args.profile_out.write_text(text)
    return {"wall_s": wall, "load_s": load_s, "top_frames": top, **_summary(result)}


MODES = {"ours": _ours, "naive": _naive, "verify": _verify, "daemon": _daemon, "profile": _profile}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("repo", type=Path)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--alt", type=Path, help="daemon: the repository to alternate with")
    parser.add_argument("--syncs", type=int, default=100)
    parser.add_argument("--profile-out", type=Path)
    args = parser.parse_args(argv)
    configure_logging("error")
    out = asyncio.run(MODES[args.mode](args))
    out["peak_rss_mib"] = round(peak_rss_mib(), 1)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
