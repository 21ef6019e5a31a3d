"""The push-to-applied scenario works end to end at a tiny size: the emulator, git daemon and the
reconciler's daemon as processes on 127.0.0.1, two pushes each applied through the webhook, and its
records written. Nothing here measures speed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import push_to_applied

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]


def test_two_pushes_are_applied_and_recorded(tmp_path: Path) -> None:
    out = tmp_path / "results-push.json"
    code = push_to_applied.main(
        ["--apis", "10", "--pushes", "2", "--latency-ms", "0", "--timeout", "60", "--out", str(out)]
    )
    assert code == 0
    written = json.loads(out.read_text())
    [record] = written["records"]
    assert record["ok"] and record["error"] is None
    assert record["parameters"]["n"] == 10 and record["parameters"]["pushes"] == 2
    assert [p["push"] for p in record["pushes"]] == [1, 2]
    for push in record["pushes"]:
        assert push["applied_s"] is not None and push["applied_s"] > 0
        # every stage of the daemon's log was found for this push's commit, in order
        stages = [push["stages"][name] for name, _ in push_to_applied.STAGES]
        assert None not in stages and stages == sorted(stages)
    assert record["p50_s"] is not None and record["p95_s"] is not None


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert push_to_applied.percentile(values, 0.95) == 19.0
    assert push_to_applied.percentile(values, 0.5) == 10.0
    assert push_to_applied.percentile([3.0], 0.95) == 3.0
