"""Profile a sync with pyinstrument: ``python -m bench.profile_sync [--scenario cold-sync] [--n 1000]``.

Starts the emulator (20 ms latency, 32 in flight), generates the repository, runs `bench.runner profile`
(one sync in APPLY mode under pyinstrument, 1 ms sampling: from an empty APIM for ``cold-sync``, after
an unprofiled sync for ``noop-sync``) and writes ``bench/profiles/SCENARIO-LABEL.txt`` (the call tree)
and ``SCENARIO-LABEL.json`` (the five functions with the most self time, overall and among ours). pyinstrument is a benchmark-only tool:
``pip install -r bench/requirements.txt``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.generate import generate_repository
from bench.harness import EMPTY_STATE, emulator, run_child

OUT = Path(__file__).with_name("profiles")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("cold-sync", "noop-sync"), default="cold-sync")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--label", default="after")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--server-cap", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    text = OUT / f"{args.scenario}-{args.label}.txt"
    with tempfile.TemporaryDirectory() as tmp, emulator(Path(tmp), args.latency_ms, args.server_cap) as emu:
        repo = generate_repository(Path(tmp) / "repo", args.n, base_url=emu.url)
        emu.load_state(EMPTY_STATE)
        if args.scenario == "noop-sync":
            run_child(["ours", str(repo), "--concurrency", str(args.concurrency)], 900, emu.url)
        result = run_child(
            ["profile", str(repo), "--concurrency", str(args.concurrency), "--profile-out", str(text)],
            900,
            emu.url,
        )
    summary = {
        "scenario": args.scenario,
        "n": args.n,
        "wall_s_under_profiler": round(result["wall_s"], 3),
        "ok": result["ok"],
        "top_frames": result["top_frames"],
    }
    (OUT / f"{args.scenario}-{args.label}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
