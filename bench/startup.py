"""The whole command, as a user waits for it: `python -m bench.startup` (`make bench-startup`).

Each scenario runs the console script, `apim-reconciler`, as a fresh process, once to warm the page
cache and then `--runs` times (the median is reported): `--version`, `--help`, `validate` of one
file (a context and a v4 API, the pre-commit hook's case), `validate` of a generated repository of
1,000 APIs, and a `diff --exit-code` with nothing to do of 1,000 and 10,000 APIs against the
emulator in its own process (`--latency-ms 20`, synced once first). Then each runs once more for
the breakdown: through `bench.startup_probe` (the phases: start-up, load, listing, planning, apply,
report, exit) and with `PYTHONPROFILEIMPORTTIME` (the time spent importing, and the costliest
top-level imports).

Prints a table and writes bench/results-startup.json. It asserts nothing about time; it exits
non-zero only when a command fails. `--code DIR` runs another tree's `reconciler` package (for a
before/after comparison) with this tree's benchmark. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import API, CONTEXT, generate_repository
from bench.harness import ROOT, child_env, emulator
from bench.startup_probe import OUT_ENV, T0_ENV

RESULTS = Path(__file__).with_name("results-startup.json")
CONSOLE_SCRIPT = Path(sys.executable).with_name("apim-reconciler")
ALL_SCENARIOS = ("version", "help", "validate-1", "validate-1000", "diff-1000", "diff-10000")
# The goals (issue 20, "What a user waits for"), in seconds, start to exit.
GOALS = {
    "version": 0.1,
    "help": 0.1,
    "validate-1": 0.25,
    "diff-1000": 0.75,
    "diff-10000": 3.0,
}
PHASES = ("load", "listing", "reads", "planning", "apply", "report")


@dataclass
class Scenario:
    name: str
    args: list[str]
    cwd: Path
    env: dict[str, str]
    times: list[float] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def _env(code: Path, base_url: str | None = None) -> dict[str, str]:
    """The bench's child environment, with `code` first on the path: the shared virtualenv's editable
    install may point at another tree, and PYTHONPATH wins over it."""
    env = child_env(base_url)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys((str(code), str(ROOT))))
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _run(scenario: Scenario, command: Sequence[str], extra_env: Mapping[str, str] | None = None) -> float:
    """Run a command of the scenario; its wall time, start to exit. A failure raises."""
    env = {**scenario.env, **(extra_env or {})}
    started = time.perf_counter()
    env[T0_ENV] = repr(started)
    done = subprocess.run(
        list(command), cwd=scenario.cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{scenario.name}: {' '.join(command[-len(scenario.args) :])} exited {done.returncode}:\n"
            f"{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    if extra_env and "PYTHONPROFILEIMPORTTIME" in extra_env:
        scenario.record["imports"] = _imports(done.stderr)
    return wall


def _imports(stderr: str) -> dict[str, Any]:
    """Time spent importing after start-up (the top-level imports after `site`), and where it goes:
    self time summed by package (by sub-package for reconciler's own)."""
    total = 0
    by_package: dict[str, int] = {}
    after_site = False
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|")
        top_level = name.startswith(" ") and not name.startswith("  ")
        name = name.strip()
        if top_level and name == "site":
            after_site = True
            continue
        if not after_site:
            continue
        if top_level:
            total += int(cumulative)
        parts = name.split(".")
        package = ".".join(parts[:2]) if parts[0] == "reconciler" else parts[0]
        by_package[package] = by_package.get(package, 0) + int(self_us)
    top = sorted(by_package.items(), key=lambda item: -item[1])[:10]
    return {
        "total_s": round(total / 1e6, 4),
        "top": [{"module": m, "s": round(us / 1e6, 4)} for m, us in top],
    }


def _measure(scenario: Scenario, runs: int, code: Path) -> None:
    command = [str(CONSOLE_SCRIPT), *scenario.args]
    _run(scenario, command)  # warm-up: page cache, .pyc files
    scenario.times = [_run(scenario, command) for _ in range(runs)]
    _run(scenario, command, {"PYTHONPROFILEIMPORTTIME": "1"})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "phases.json"
        probe = [sys.executable, str(Path(__file__).with_name("startup_probe.py")), *scenario.args]
        wall = _run(scenario, probe, {OUT_ENV: str(out)})
        marks = json.loads(out.read_text())
    t0 = marks["t0"]
    phases = {name: round(end - start, 4) for name, (start, end) in marks["phases"].items()}
    first = min((start for start, _ in marks["phases"].values()), default=marks["main_returned"])
    last = max((end for _, end in marks["phases"].values()), default=marks["main_returned"])
    scenario.record.update(
        {
            "name": scenario.name,
            "args": scenario.args,
            "code": str(code),
            "runs_s": [round(t, 4) for t in scenario.times],
            "median_s": round(statistics.median(scenario.times), 4),
            "goal_s": GOALS.get(scenario.name),
            "probe": {
                "wall_s": round(wall, 4),
                "interpreter_s": round(marks["interpreter_ready"] - t0, 4),
                "startup_s": round(first - t0, 4),  # interpreter, imports, parser, source: until work
                "phases_s": phases,
                "exit_s": round(wall - (last - t0), 4),  # after the last phase: rest of main, exit
            },
        }
    )
    goal = scenario.record["goal_s"]
    scenario.record["goal_met"] = None if goal is None else scenario.record["median_s"] < goal


def _single_file(folder: Path) -> Path:
    """One file holding a context and a small v4 API: what a pre-commit hook validates."""
    folder.mkdir(parents=True, exist_ok=True)
    text = CONTEXT.format(name="bench-a", base_url="http://127.0.0.1:8083", env="DEFAULT")
    text += "---\n" + API.format(i=1, team=1, context="bench-a", rev=0, suffix="")
    path = folder / "api.yaml"
    path.write_text(text)
    return path


@contextmanager
def _synced(workdir: Path, n: int, code: Path, latency_ms: float) -> Iterator[tuple[Path, dict[str, str]]]:
    """A repository of N APIs, synced once into a fresh emulator: a `diff` of it has nothing to do."""
    workdir.mkdir(parents=True, exist_ok=True)
    with emulator(workdir, latency_ms, 32) as emu:
        repo = generate_repository(workdir / f"repo-{n}", n, base_url=emu.url)
        env = _env(code, emu.url)
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), "sync", "--output", "json", str(repo)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"the first sync of {n} APIs failed ({done.returncode}):\n{done.stderr[-4000:]}"
            )
        yield repo, env


def _table(records: Sequence[Mapping[str, Any]]) -> str:
    head = ["scenario", "median s", "goal s", "met", "imports s", "start-up s", *(f"{p} s" for p in PHASES)]
    head += ["exit s"]
    rows = [head]
    for r in records:
        probe = r["probe"]
        goal = r["goal_s"]
        row = [
            r["name"],
            f"{r['median_s']:.3f}",
            "-" if goal is None else f"{goal:g}",
            "-" if r["goal_met"] is None else ("yes" if r["goal_met"] else "NO"),
            f"{r['imports']['total_s']:.3f}",
            f"{probe['startup_s']:.3f}",
            *(f"{probe['phases_s'][p]:.3f}" if p in probe["phases_s"] else "-" for p in PHASES),
            f"{probe['exit_s']:.3f}",
        ]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    tops = [
        f"{r['name']}: " + ", ".join(f"{t['module']} {t['s']:.3f}" for t in r["imports"]["top"][:5])
        for r in records
    ]
    return "\n".join([*lines, "", "costliest top-level imports (s):", *tops]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per scenario (the median is reported)"
    )
    parser.add_argument(
        "--scenarios", default=",".join(ALL_SCENARIOS), help=f"comma-separated, of {', '.join(ALL_SCENARIOS)}"
    )
    parser.add_argument("--quick", action="store_true", help="leave out diff-10000")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the emulator's latency per request")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="tree whose reconciler package runs (default: this one)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = [n for n in args.scenarios.split(",") if n]
    unknown = sorted(set(names) - set(ALL_SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    if args.quick:
        names = [n for n in names if n != "diff-10000"]
    code = args.code.resolve()
    load_before = os.getloadavg()
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        for name in names:
            kind, _, size = name.partition("-")
            env = _env(code)
            if kind in ("version", "help"):
                scenario = Scenario(name, [f"--{kind}"], work, env)
            elif name == "validate-1":
                scenario = Scenario(name, ["validate", str(_single_file(work / "one"))], work, env)
            elif kind == "validate":
                repo = generate_repository(work / f"validate-{size}", int(size))
                scenario = Scenario(name, ["validate", str(repo)], work, env)
            else:
                repo, env = stack.enter_context(_synced(work / name, int(size), code, args.latency_ms))
                scenario = Scenario(name, ["diff", "--exit-code", str(repo)], work, env)
            try:
                _measure(scenario, args.runs, code)
            except RuntimeError as exc:
                print(f"bench.startup: {exc}", file=sys.stderr)
                return 1
            records.append(scenario.record)
            print(f"{name}: median {scenario.record['median_s']:.3f} s", file=sys.stderr, flush=True)
            stack.close()  # the emulator of a diff scenario stops before the next scenario
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "latency_ms": args.latency_ms,
        "runs": args.runs,
        "console_script": str(CONSOLE_SCRIPT),
    }
    args.out.write_text(json.dumps({"meta": meta, "scenarios": records}, indent=2) + "\n")
    sys.stdout.write(_table(records))
    print(f"load average before {meta['load_average_before']}, after {meta['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
