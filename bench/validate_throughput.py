"""Benchmark: load and validate a generated repository of N API files (files per second, peak RSS).

Run: `python -m bench.validate_throughput --files 1000` (or `make bench-quick`). Prints a table and
writes bench/results-validate.json. It asserts nothing about time: machines here are shared and noisy,
so it reports the median of several runs; it fails only if the repository does not validate.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import generate_repository
from reconciler.manifests import load_manifests

RESULTS = Path(__file__).with_name("results-validate.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--files", type=int, default=1000, help="number of API files (plus N/10 applications)"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        repo = generate_repository(Path(tmp) / "repo", args.files)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            manifests = load_manifests([repo])
            times.append(time.perf_counter() - started)
            if not manifests.ok:
                print("\n".join(str(p) for p in manifests.errors[:10]), file=sys.stderr)
                return 1
    wall = statistics.median(times)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {
        "name": "validate",
        "parameters": {"n": args.files, "files": manifests.files, "runs": args.runs},
        "wall_s": round(wall, 4),
        "files_per_s": round(manifests.files / wall, 1),
        "peak_rss_mib": round(rss_mib, 1),
    }
    print(f"{'scenario':<10} {'files':>7} {'median s':>9} {'files/s':>9} {'peak RSS MiB':>13}")
    print(
        f"{'validate':<10} {manifests.files:>7} {wall:>9.3f} {record['files_per_s']:>9} {record['peak_rss_mib']:>13}"
    )
    args.out.write_text(json.dumps([record], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
