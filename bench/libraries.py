"""Benchmark: what the libraries of issue 21 cost (docs/libraries.md holds the numbers).

Run: `python -m bench.libraries metrics|imports|startup`. Prints medians; asserts nothing about time
(machines here are shared and noisy), and fails only when a command it runs fails.

- `metrics`: renders `/metrics` of a daemon with 3 contexts and a few syncs recorded, `--renders`
  times, and prints the median time of one render; `--dump FILE` writes one rendering (to diff the
  series before and after a change).
- `imports`: `python -X importtime -c 'import MODULE'` `--runs` times per module; the median of the
  module's cumulative import time (in a fresh interpreter each time), and of each `--show` module
  within it (what a dependency adds on top of what the module imports anyway).
- `retry`: the cost of the retry loop itself, per call, for a call that succeeds at once and for one
  that fails twice first (no pause: the sleep is a no-op): our loop's shape (`while`/`try`, as in
  reconciler/apim/client.py), tenacity's `AsyncRetrying` with the hooks the client would need
  (stop, wait, retry on one exception type) and stamina's `retry_context`. Needs tenacity and
  stamina (bench/requirements.txt).
- `startup`: `apim-reconciler validate samples/` `--runs` times with each `--python` (a venv's, say
  one with a library and one without), in turn; the median wall time of each.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess  # nosec B404: our own interpreter and CLI, fixed arguments
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODULES = ("reconciler.daemon.metrics", "reconciler.cli", "reconciler.report.progress")


def render_metrics(renders: int, dump: Path | None) -> None:
    from reconciler.daemon.metrics import Metrics
    from reconciler.manifests.model import ManifestSet
    from reconciler.sync.result import SyncMode, SyncResult

    metrics = Metrics()
    contexts = ["default/alpha", "default/beta", "other/gamma"]
    metrics.declare_contexts(contexts)
    metrics.record_token_expiry({"default/alpha": 3600.0, "default/beta": math.inf})
    result = SyncResult(
        commit="a" * 40,
        mode=SyncMode.APPLY,
        manifests=ManifestSet((), (), 0),
        requests={"GET": 12, "PUT": 3},
    )
    for seconds in (0.04, 0.3, 2.0):
        metrics.record_sync("success", seconds, result, time.time())
    metrics.record_sync("failure", 42.0, None, time.time())
    metrics.count_webhook(202)
    metrics.count_source_error()
    if dump is not None:
        dump.write_text(metrics.render())
    times = []
    for _ in range(renders):
        started = time.perf_counter()
        metrics.render()
        times.append(time.perf_counter() - started)
    lines = len(metrics.render().splitlines())
    print(f"render /metrics (3 contexts, {lines} lines): median {statistics.median(times) * 1e6:.0f} µs")


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)$")


def import_times(modules: list[str], shown: list[str], runs: int) -> None:
    """For each module, the cumulative import time of itself and of each of `shown` within it."""
    for module in modules:
        cumulative: dict[str, list[int]] = {name: [] for name in [module, *shown]}
        for _ in range(runs):
            done = subprocess.run(  # nosec B603
                [sys.executable, "-X", "importtime", "-c", f"import {module}"],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            for line in done.stderr.splitlines():
                match = _IMPORTTIME.match(line)
                if match and match.group(3) in cumulative:
                    cumulative[match.group(3)].append(int(match.group(2)))
        for name, values in cumulative.items():
            where = "" if name == module else f" within import {module}"
            median = f"{statistics.median(values) / 1000:.1f} ms" if values else "not imported"
            print(f"import {name}{where}: median {median} cumulative ({runs} runs)")


def startup(runs: int, pythons: list[str], env: dict[str, str]) -> None:
    """Each interpreter (each venv) in turn, run after run, so that the machine's load hits all alike."""
    times: dict[str, list[float]] = {python: [] for python in pythons}
    for _ in range(runs):
        for python in pythons:
            started = time.perf_counter()
            command = [python, "-m", "reconciler", "validate", "samples/"]
            subprocess.run(command, capture_output=True, check=True, cwd=ROOT, env=env)  # nosec B603
            times[python].append(time.perf_counter() - started)
    for python, values in times.items():
        median = statistics.median(values) * 1000
        print(f"validate samples/ with {python}: median {median:.0f} ms wall ({runs} runs)")


class _Again(Exception):
    """A retryable failure (the shape the client would raise for tenacity or stamina)."""


async def _loops(calls: int, failures: int) -> dict[str, float]:
    """Median seconds per call of each loop over a coroutine failing `failures` times, then succeeding."""
    import asyncio

    import stamina
    import tenacity

    stamina.set_testing(True, attempts=10)  # no pauses
    # stamina logs every retry through structlog (a warning) and counts it in prometheus-client's
    # global registry when they are installed, as both are here: off, to time the loop alone.
    stamina.instrumentation.set_on_retry_hooks([])
    left = [0]

    async def attempt() -> int:
        if left[0]:
            left[0] -= 1
            raise _Again
        return 1

    async def ours() -> int:
        retry_number = 0
        while True:
            try:
                return await attempt()
            except _Again:
                if retry_number + 1 >= 10:
                    raise
                retry_number += 1
                await asyncio.sleep(0)

    async def with_tenacity() -> int:
        retrying = tenacity.AsyncRetrying(
            sleep=lambda _: asyncio.sleep(0),
            retry=tenacity.retry_if_exception_type(_Again),
            stop=lambda state: state.attempt_number >= 10,
            wait=lambda state: 0.0,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                return await attempt()
        raise AssertionError("unreachable")

    async def with_stamina() -> int:
        async for try_ in stamina.retry_context(on=_Again, attempts=10):
            with try_:
                return await attempt()
        raise AssertionError("unreachable")

    medians = {}
    for name, loop in (("ours", ours), ("tenacity", with_tenacity), ("stamina", with_stamina)):
        runs = []
        for _ in range(7):
            started = time.perf_counter()
            for _ in range(calls):
                left[0] = failures
                await loop()
            runs.append((time.perf_counter() - started) / calls)
        medians[name] = statistics.median(runs)
    return medians


def retry_loops(calls: int) -> None:
    import asyncio

    for failures in (0, 2):
        medians = asyncio.run(_loops(calls, failures))
        shown = ", ".join(f"{name} {seconds * 1e6:.1f} µs" for name, seconds in medians.items())
        print(f"retry loop, {failures} failures before the success: {shown} per call (median of 7)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("what", choices=("metrics", "imports", "retry", "startup"))
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=5000, help="for retry: calls per run")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--module", action="append", help=f"for imports (default: {DEFAULT_MODULES})")
    parser.add_argument("--show", action="append", default=[], help="for imports: a module imported within")
    parser.add_argument(
        "--python", action="append", help="for startup: interpreters, in turn (default: this one)"
    )
    parser.add_argument("--env", action="append", default=[], help="for startup: NAME=VALUE to set")
    args = parser.parse_args(argv)
    if args.what == "metrics":
        render_metrics(args.renders, args.dump)
    elif args.what == "retry":
        retry_loops(args.calls)
    elif args.what == "imports":
        import_times(args.module or list(DEFAULT_MODULES), args.show, args.runs)
    else:
        env = dict(os.environ) | dict(item.split("=", 1) for item in args.env)
        startup(args.runs, args.python or [sys.executable], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
