"""One `apim-reconciler` command with its phases timed: `python -m bench.startup_probe COMMAND ARGS...`.

`bench.startup` runs every command as the console script for its timings; it runs each once more
through this probe for the breakdown. The probe does what the console script does (`from
reconciler.cli import main`, then `main()`), with the functions that mark a phase wrapped in a
timer: loading the manifests, the listings, the full reads, the plan, the writes, the report. Times
are `time.perf_counter()`, which on Linux is CLOCK_MONOTONIC, the same clock in every process: the
parent passes the moment it started the process (`BENCH_STARTUP_T0`) and reads the marks from the
JSON file named by `BENCH_STARTUP_OUT` after the process has exited.

Only the standard library is imported before `reconciler.cli`, so that the import phase is the
command's own; the modules wrapped for a command are ones that command imports anyway.
"""

from __future__ import annotations

import time

INTERPRETER_READY = time.perf_counter()

import functools  # noqa: E402  (after the first mark, on purpose)
import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

T0_ENV = "BENCH_STARTUP_T0"
OUT_ENV = "BENCH_STARTUP_OUT"

# command -> (phase, module, function): each function wrapped where its caller looks it up.
PHASES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "validate": (
        ("load", "reconciler.manifests.loader", "load_manifests"),
        ("report", "reconciler.report.problems", "render_text"),
        ("report", "reconciler.report.problems", "render_json"),
    ),
    "diff": (
        ("load", "reconciler.sync.run", "load_snapshot"),
        ("listing", "reconciler.sync.engine", "_read_context"),
        ("reads", "reconciler.sync.engine", "read_full_states"),
        ("planning", "reconciler.sync.engine", "make_plan"),
        ("apply", "reconciler.sync.engine", "execute"),
        ("report", "reconciler.cli.oneshot", "print_result"),
    ),
}
PHASES["sync"] = PHASES["diff"]


def _timed(spans: list[tuple[str, float, float]], phase: str, function: Callable[..., Any]) -> Any:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spans.append((phase, started, time.perf_counter()))

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spans.append((phase, started, time.perf_counter()))

    return timed


def _wrap(command: str, spans: list[tuple[str, float, float]]) -> None:
    for phase, module_name, name in PHASES.get(command, ()):
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        wrapped = _timed(spans, phase, original)
        setattr(module, name, wrapped)
        # Modules that imported the function by name already (a package's re-export, a command's
        # `from ... import`) get the wrapper too.
        for other in list(sys.modules.values()):
            if (
                getattr(other, "__name__", "").startswith("reconciler")
                and getattr(other, name, None) is original
            ):
                setattr(other, name, wrapped)


def main(argv: list[str]) -> int:
    from reconciler.cli import main as cli_main

    imported = time.perf_counter()
    spans: list[tuple[str, float, float]] = []
    _wrap(argv[0] if argv else "", spans)
    wrapped = time.perf_counter()
    try:
        code = cli_main(argv)
    finally:
        phases: dict[str, list[float]] = {}
        for phase, started, ended in spans:
            first, last = phases.get(phase, [started, ended])
            phases[phase] = [min(first, started), max(last, ended)]
        record = {
            "t0": float(os.environ.get(T0_ENV, INTERPRETER_READY)),
            "interpreter_ready": INTERPRETER_READY,
            "cli_imported": imported,
            "wrap_s": wrapped - imported,
            "main_returned": time.perf_counter(),
            "phases": phases,
        }
        out = os.environ.get(OUT_ENV)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                json.dump(record, handle)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
