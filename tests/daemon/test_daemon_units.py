"""The daemon's pure parts: metrics exposition, webhook authentication, rate limit, status
conditions, the lock, the listen address and the renaming of checkout paths."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import platform
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.daemon import AlreadyRunningError, ProcessLock, parse_listen
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.status import StatusBoard
from reconciler.daemon.webhook import TokenBucket, authenticated
from reconciler.manifests import LoadOptions
from reconciler.manifests.model import ManifestSet, Position, Problem, Severity
from reconciler.source import Snapshot, SourceAuthError, SourceUnreachableError
from reconciler.sync.loading import load_snapshot
from reconciler.sync.result import SyncResult
from reconciler.sync.settings import SyncMode
from tests.apply.helpers import api_yaml
from tests.daemon.support import parse_metrics

SECRET = b"s3cret-value"
ROOT = Path(__file__).resolve().parents[2]


def signed(body: bytes, secret: bytes = SECRET) -> dict[str, str]:
    return {"x-hub-signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()}


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (signed(b"{}"), b"{}", True),
        (signed(b"{}"), b"{ }", False),
        (signed(b"{}", b"other"), b"{}", False),
        ({"x-hub-signature-256": "sha1=abc"}, b"{}", False),
        ({"authorization": "Bearer s3cret-value"}, b"", True),
        ({"authorization": "bearer s3cret-value"}, b"", True),
        ({"authorization": "Bearer s3cret-valuE"}, b"", False),
        ({"authorization": "Basic s3cret-value"}, b"", False),
        ({"x-gitlab-token": "s3cret-value"}, b"", True),
        ({"x-gitlab-token": ""}, b"", False),
        ({}, b"", False),
    ],
)
def test_webhook_authentication(headers: dict[str, str], body: bytes, expected: bool) -> None:
    assert authenticated(headers, body, SECRET) is expected


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=1.0, burst=5, clock=lambda: now[0])
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]
    now[0] += 0.5
    assert not bucket.take()
    now[0] += 0.5
    assert bucket.take() and not bucket.take()
    now[0] += 100
    assert sum(bucket.take() for _ in range(10)) == 5  # never more than the burst


def test_metrics_exposition_parses_and_escapes_labels() -> None:
    metrics = Metrics()
    text = metrics.render()
    samples = parse_metrics(text)
    assert samples[("apim_reconciler_syncs_total", (("outcome", "success"),))] == 0
    assert samples[("apim_reconciler_sync_duration_seconds_bucket", (("le", "+Inf"),))] == 0
    assert not [k for k in samples if k[0] == "apim_reconciler_last_applied_commit_info"]
    result = SyncResult(
        commit='c"1\\\n2', mode=SyncMode.APPLY, manifests=ManifestSet((), (), 0), requests={"GET": 3}
    )
    metrics.record_sync("success", 0.3, result, 1_800_000_000.5)
    metrics.record_sync("failure", 42.0, None, 0)
    text = metrics.render()
    assert 'apim_reconciler_last_applied_commit_info{commit="c\\"1\\\\\\n2"} 1.0' in text.splitlines()
    samples = parse_metrics(text)  # which unescapes \" and \\ (not \n)
    assert samples[("apim_reconciler_last_applied_commit_info", (("commit", 'c"1\\\\n2'),))] == 1
    assert samples[("apim_reconciler_apim_requests_total", (("method", "GET"),))] == 3
    assert samples[("apim_reconciler_last_successful_sync_timestamp_seconds", ())] == 1_800_000_000.5
    buckets = {dict(k[1])["le"]: v for k, v in samples.items() if k[0].endswith("_bucket")}
    assert (buckets["0.25"], buckets["0.5"], buckets["30.0"], buckets["60.0"], buckets["+Inf"]) == (
        0,
        1,
        1,
        2,
        2,
    )
    assert samples[("apim_reconciler_sync_duration_seconds_sum", ())] == pytest.approx(42.3)


def test_status_conditions_move_only_on_a_change_and_readiness_expires() -> None:
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    mono = [100.0]
    board = StatusBoard(
        "git://x/r.git", None, ready_within=3.0, clock=lambda: clock[0], monotonic=lambda: mono[0]
    )
    assert board.readiness().reason == "the first sync has not completed yet"
    ok = SyncResult(commit="a" * 40, mode=SyncMode.APPLY, manifests=ManifestSet((), (), 0))
    board.record_result(ok, 0.1)
    assert board.readiness().ready
    first = board.to_json()["conditions"][0]["lastTransitionTime"]
    clock[0] += timedelta(minutes=1)
    board.record_unchanged("a" * 40)
    assert board.to_json()["conditions"][0]["lastTransitionTime"] == first  # still True: no transition
    mono[0] += 3.5
    assert not board.readiness().ready and "no successful sync attempt" in board.readiness().reason

    board.record_source_error(SourceUnreachableError("git server down"))
    stalled = {c["type"]: c for c in board.to_json()["conditions"]}["Stalled"]
    assert stalled["status"] == "False"
    board.record_source_error(SourceAuthError("authentication failed"))
    conditions = {c["type"]: c for c in board.to_json()["conditions"]}
    assert conditions["Stalled"]["status"] == "True" and conditions["Ready"]["reason"] == "SourceFailed"
    assert conditions["Ready"]["lastTransitionTime"] != first

    invalid = SyncResult(
        commit="b" * 40,
        mode=SyncMode.APPLY,
        manifests=ManifestSet((), (Problem(Severity.ERROR, "bad", Position("x.yaml", 3, 2)),), 1),
    )
    board.record_result(invalid, 0.1)
    document = board.to_json()
    assert document["lastAppliedRevision"] == "a" * 40 and document["lastAttemptedRevision"] == "b" * 40
    assert document["problems"][0]["file"] == "x.yaml" and document["problems"][0]["line"] == 3
    assert "x.yaml:3:2: error: bad" in document["conditions"][0]["message"]
    board.mark_shutting_down()
    assert board.readiness().reason == "shutting down"


def test_the_lock_refuses_a_second_holder_until_released(tmp_path: Path) -> None:
    with ProcessLock(tmp_path / "cache") as lock:
        assert lock.path.read_text().strip().isdigit()
        with pytest.raises(AlreadyRunningError, match=r"already running .* --cache-dir"):
            ProcessLock(tmp_path / "cache").acquire()
    again = ProcessLock(tmp_path / "cache")
    again.acquire()
    again.release()


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("0.0.0.0:80", "0.0.0.0", 80),
        (":9000", "0.0.0.0", 9000),
        ("[::1]:81", "::1", 81),
    ],
)
def test_parse_listen(text: str, host: str, port: int) -> None:
    listen = parse_listen(text)
    assert (listen.host, listen.port) == (host, port)


@pytest.mark.parametrize("text", ["8080", "host:", "host:http", "host:70000"])
def test_parse_listen_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="--listen"):
        parse_listen(text)


def test_checkout_files_are_named_as_in_the_repository(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "0123abcd" / "apim"
    root.mkdir(parents=True)
    (root / "ok.yaml").write_text(api_yaml("ok"))
    (root / "bad.yaml").write_text("a: [unclosed\n")
    snapshot = Snapshot("c" * 40, root, None, "file:///r.git", datetime.now(UTC))
    manifests = load_snapshot(snapshot, LoadOptions(), sub_path="apim")
    files = {p.position.file for p in manifests.problems if p.position is not None}
    assert "apim/bad.yaml" in files
    (resource,) = manifests.resources
    assert str(resource.position) == "apim/ok.yaml:1:1"
    assert str(resource.at("description")) == "apim/ok.yaml:9:3"
    assert str(tmp_path) not in "".join(str(p) for p in manifests.problems)


class _BrokenSource:
    """A source whose snapshot fails with a bug (not a SourceError)."""

    source_url = "broken://"
    ref = None
    last_good = None

    def snapshot(self) -> Snapshot:
        raise RuntimeError("a bug in a source")


def test_an_unexpected_error_is_caught_counted_and_reported(tmp_path: Path) -> None:
    from reconciler.daemon import DaemonConfig
    from reconciler.daemon.loop import ReconcileLoop
    from reconciler.sync.job import SyncJob
    from reconciler.sync.settings import SyncSettings

    status = StatusBoard("broken://", None, ready_within=1.0)
    metrics = Metrics()
    job = SyncJob(_BrokenSource(), SyncSettings(), LoadOptions())  # type: ignore[arg-type]
    loop = ReconcileLoop(job, DaemonConfig(lock_dir=tmp_path), status=status, metrics=metrics)
    assert asyncio.run(loop.tick("test", forced=True)) is None
    assert asyncio.run(loop.tick("test", forced=True)) is None  # and the next tick runs too
    assert parse_metrics(metrics.render())[("apim_reconciler_loop_errors_total", ())] == 2
    ready = {c["type"]: c for c in status.to_json()["conditions"]}["Ready"]
    assert ready["reason"] == "InternalError" and "a bug in a source" in ready["message"]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_memory_goes_back_to_the_system_after_a_sync() -> None:
    # In its own process, so that the resident size is this scenario's alone: 100 MB of blocks
    # large enough to bypass pymalloc, freed but for a few survivors that pin the heap around them.
    script = (
        "from bench.harness import rss_mib\n"
        "from reconciler.daemon.memory import release_freed_memory\n"
        "blocks = [bytes(2000) for _ in range(50_000)]\n"
        "survivors = blocks[::50]\n"
        "del blocks\n"
        "before = rss_mib()\n"
        "print(release_freed_memory(), before, rss_mib())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    trimmed, before, after = done.stdout.split()
    assert trimmed == "True"
    assert float(before) - float(after) > 50, (before, after)
