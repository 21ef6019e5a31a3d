"""The daemon's endpoints, as a real process against the emulator: health, readiness, metrics,
status, the webhook and SIGHUP."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import Repo, api_yaml
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import apis, hub_signature, wait_for

pytestmark = pytest.mark.timeout(60)

SECRET = "whsec-3b8f-do-not-leak-91c2"
PAYLOAD = json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    """Each APIM request takes 150 ms, so that the first sync can be seen in progress."""
    with start_emulator(EmulatorConfig(latency_ms=150)) as emu:
        yield emu


def test_health_readiness_metrics_and_status_around_the_first_sync(
    start_daemon: StartDaemon, slow_emulator: RunningEmulator, tmp_path: Path, cache_dir: Path
) -> None:
    repo = Repo(tmp_path / "manifests", slow_emulator.base_url)
    repo.write("alpha.yaml", api_yaml("alpha"))
    repo.write("beta.yaml", api_yaml("beta"))
    daemon = start_daemon(repo.root, "--interval", "0.5", "--cache-dir", cache_dir)

    assert daemon.client.get("/healthz").text == "ok\n"
    head = daemon.client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    early = daemon.client.get("/readyz")
    assert early.status_code == 503
    assert early.json() == {"ready": False, "reason": "the first sync has not completed yet"}

    wait_for(lambda: daemon.client.get("/readyz").status_code == 200, "readiness after the first sync")
    assert apis(slow_emulator) == {"alpha": "An API", "beta": "An API"}

    metrics = daemon.metrics()
    assert metrics[("apim_reconciler_syncs_total", (("outcome", "success"),))] >= 1
    assert metrics[("apim_reconciler_syncs_total", (("outcome", "failure"),))] == 0
    assert metrics[("apim_reconciler_resources", (("kind", "ApiV4Definition"), ("state", "in_sync")))] == 2
    assert metrics[("apim_reconciler_apim_requests_total", (("method", "PUT"),))] == 2
    assert metrics[("apim_reconciler_sync_duration_seconds_count", ())] >= 1
    assert metrics[("apim_reconciler_sync_duration_seconds_bucket", (("le", "+Inf"),))] >= 1
    assert metrics[("apim_reconciler_last_successful_sync_timestamp_seconds", ())] > 1.7e9
    assert metrics[("apim_reconciler_drifted_resources", ())] == 0
    assert metrics[("apim_reconciler_source_errors_total", ())] == 0
    ((_, labels),) = [key for key in metrics if key[0] == "apim_reconciler_last_applied_commit_info"]
    status = daemon.status()
    assert labels == (("commit", status["lastAppliedRevision"]),)
    assert status["lastAppliedRevision"].startswith("folder:")
    assert status["lastAttemptedRevision"] == status["lastAppliedRevision"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Ready"]["reason"] == "ReconciliationSucceeded"
    assert conditions["Stalled"]["status"] == "False"
    assert all(c["lastTransitionTime"].endswith("Z") for c in conditions.values())
    resources = {r["name"]: r for r in status["resources"]}
    assert resources["alpha"]["action"] == "create" and resources["alpha"]["ok"] is True
    assert resources["alpha"]["position"] == f"{repo.root}/alpha.yaml:1:1"
    assert status["problems"] == [] and status["failures"] == []

    # no secret configured: the webhook is off
    assert daemon.client.post("/trigger", content=PAYLOAD).status_code == 404
    assert daemon.client.get("/nothing").status_code == 404
    assert daemon.client.post("/status").status_code == 405
    assert "emulator-token" not in daemon.log_text() + json.dumps(status)


def test_sighup_syncs_at_once(
    start_daemon: StartDaemon, folder: Repo, emulator: RunningEmulator, cache_dir: Path
) -> None:
    folder.write("alpha.yaml", api_yaml("alpha"))
    daemon = start_daemon(folder.root, "--interval", "120", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.syncs() == 1, "the first sync")
    folder.write("beta.yaml", api_yaml("beta"))
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "beta" in apis(emulator), "the API to appear after SIGHUP", timeout=10)
    assert daemon.events("daemon.triggered")[0]["reason"] == "sighup"
    started = daemon.events("daemon.sync_started")
    assert [s["reason"] for s in started] == ["start", "sighup, new commit"]


def test_webhook_authentication_limits_and_rate(
    start_daemon: StartDaemon, folder: Repo, emulator: RunningEmulator, cache_dir: Path, tmp_path: Path
) -> None:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    folder.write("alpha.yaml", api_yaml("alpha"))
    daemon = start_daemon(
        folder.root, "--interval", "120", "--cache-dir", cache_dir, "--webhook-secret-file", secret_file
    )
    wait_for(lambda: daemon.syncs() == 1, "the first sync")
    folder.write("beta.yaml", api_yaml("beta"))

    # refused: no signature, a wrong one, a wrong bearer token; nothing is triggered
    assert daemon.client.post("/trigger", content=PAYLOAD).status_code == 401
    bad = {"X-Hub-Signature-256": hub_signature("not-the-secret", PAYLOAD)}
    assert daemon.client.post("/trigger", content=PAYLOAD, headers=bad).status_code == 401
    wrong_bearer = {"Authorization": "Bearer not-the-secret"}
    assert daemon.client.post("/trigger", content=PAYLOAD, headers=wrong_bearer).status_code == 401
    assert daemon.events("daemon.triggered") == []
    assert len(daemon.events("daemon.webhook_refused")) == 3
    assert daemon.syncs() == 1 and "beta" not in apis(emulator)

    # a GitHub-style signature of this very body
    good = {"X-Hub-Signature-256": hub_signature(SECRET, PAYLOAD), "X-GitHub-Event": "push"}
    response = daemon.client.post("/trigger", content=PAYLOAD, headers=good)
    assert response.status_code == 202 and response.json() == {"accepted": True}
    wait_for(lambda: "beta" in apis(emulator), "the API to appear after the webhook", timeout=10)
    # the signature covers the body: another body with the same header is refused
    assert daemon.client.post("/trigger", content=PAYLOAD + b" ", headers=good).status_code == 401

    # too large: refused from its Content-Length, before reading it
    huge = b"x" * (1024 * 1024 + 1)
    assert daemon.client.post("/trigger", content=huge, headers=good).status_code == 413

    # the rate limit (1/s, burst 5) answers 429 with Retry-After, authenticated or not
    codes = [
        daemon.client.post("/trigger", content=b"", headers={"Authorization": f"Bearer {SECRET}"}).status_code
        for _ in range(8)
    ]
    assert 429 in codes and codes[0] in (202, 429)
    limited = daemon.client.post("/trigger", content=b"", headers={"X-Gitlab-Token": SECRET})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    # after the bucket refills, a GitLab-style token works too
    wait_for(
        lambda: daemon.client.post("/trigger", headers={"X-Gitlab-Token": SECRET}).status_code == 202,
        "the rate limit to let a request through",
        step=0.3,
    )
    metrics = daemon.metrics()
    assert metrics[("apim_reconciler_webhook_requests_total", (("code", "401"),))] == 4
    assert metrics[("apim_reconciler_webhook_requests_total", (("code", "429"),))] >= 2
    assert SECRET not in daemon.log_text()
    assert SECRET not in json.dumps(daemon.status())
