"""Suspend and resume a running daemon: --suspend at start, POST /suspend|/resume (authenticated),
SIGUSR1/SIGUSR2, --suspend-file; while suspended it plans (shown in /status) and writes nothing."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.daemon.endpoints import make_handler
from reconciler.daemon.http import Request
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.status import StatusBoard
from reconciler.daemon.webhook import TokenBucket
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import DaemonProcess, apis, hub_signature, wait_for

pytestmark = pytest.mark.timeout(120)

SECRET = "control-secret-0123456789abcdef"


def suspension(daemon: DaemonProcess) -> dict[str, Any]:
    return daemon.status()["suspension"]  # type: ignore[no-any-return]


def planned(daemon: DaemonProcess, name: str) -> bool:
    plan = suspension(daemon)["plan"]
    return plan is not None and any(r["name"] == name and r["action"] == "create" for r in plan["resources"])


def post(daemon: DaemonProcess, path: str, **kwargs: Any) -> httpx.Response:
    """POST, waiting out the rate limit (5 at once, 1 a second, shared with /trigger)."""

    def answer() -> httpx.Response | None:
        response = daemon.client.post(path, **kwargs)
        return None if response.status_code == 429 else response

    return wait_for(answer, f"POST {path} within the rate limit")


def gauge(daemon: DaemonProcess) -> float:
    return daemon.metrics()[("apim_reconciler_suspended", ())]


def test_a_suspended_daemon_plans_writes_nothing_and_resumes_every_way(
    start_daemon: StartDaemon, folder: Repo, emulator: RunningEmulator, tmp_path: Path
) -> None:
    secret = tmp_path / "control-secret"
    secret.write_text(SECRET)
    hold = tmp_path / "hold"
    folder.write("alpha.yaml", api_yaml("alpha"))
    daemon = start_daemon(
        folder.root, "--interval", "0.3", "--cache-dir", tmp_path / "cache",
        "--suspend", "--suspend-file", hold, "--control-secret-file", secret,
    )  # fmt: skip
    wait_for(lambda: planned(daemon, "alpha"), "a plan made while suspended")
    state = suspension(daemon)
    assert (state["suspended"], state["by"]) == (True, "--suspend") and state["plan"]["hasChanges"]
    assert apis(emulator) == {}  # planned, not applied
    ready = daemon.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["reason"].startswith("suspended by --suspend since ")
    assert gauge(daemon) == 1

    # the endpoint needs the control secret
    assert post(daemon, "/resume").status_code == 401
    assert post(daemon, "/resume", headers={"Authorization": "Bearer wrong-secret-000000"}).status_code == 401
    assert suspension(daemon)["suspended"] is True
    resumed = post(daemon, "/resume", headers={"Authorization": f"Bearer {SECRET}"})
    assert resumed.status_code == 200 and resumed.json()["suspended"] is False
    wait_for(lambda: apis(emulator) == {"alpha": "An API"}, "the resumed daemon to apply alpha")
    assert gauge(daemon) == 0 and suspension(daemon)["plan"] is None

    # a signal, and an HMAC-signed POST /suspend
    daemon.signal(signal.SIGUSR1)
    wait_for(lambda: suspension(daemon)["by"] == "SIGUSR1", "SIGUSR1 to suspend")
    folder.write("beta.yaml", api_yaml("beta"))
    wait_for(lambda: planned(daemon, "beta"), "beta planned while suspended")
    assert sorted(apis(emulator)) == ["alpha"]
    daemon.signal(signal.SIGUSR2)
    wait_for(lambda: sorted(apis(emulator)) == ["alpha", "beta"], "SIGUSR2 to resume")

    body = b"{}"
    signed = post(
        daemon, "/suspend", content=body, headers={"X-Hub-Signature-256": hub_signature(SECRET, body)}
    )
    assert signed.status_code == 200 and signed.json()["by"].startswith("POST /suspend from 127.0.0.1")
    post(daemon, "/resume", headers={"Authorization": f"Bearer {SECRET}"})

    # the file holds it even against /resume; removing it resumes
    hold.touch()
    wait_for(lambda: suspension(daemon)["by"] == f"--suspend-file {hold}", "the file to suspend")
    folder.write("gamma.yaml", api_yaml("gamma"))
    wait_for(lambda: planned(daemon, "gamma"), "gamma planned while suspended")
    still = post(daemon, "/resume", headers={"Authorization": f"Bearer {SECRET}"})
    assert still.json()["suspended"] is True
    assert sorted(apis(emulator)) == ["alpha", "beta"]
    hold.unlink()
    wait_for(lambda: sorted(apis(emulator)) == ["alpha", "beta", "gamma"], "the file's removal to resume")
    events = [e["event"] for e in daemon.logs() if e["event"] in ("daemon.suspended", "daemon.resumed")]
    assert events == ["daemon.suspended", "daemon.resumed"] * 4


def test_suspend_and_resume_are_off_without_a_control_secret() -> None:
    handle = make_handler(
        status=StatusBoard("x", None, ready_within=1.0),
        metrics=Metrics(),
        trigger=lambda reason: None,
        webhook_secret_file=None,
        bucket=TokenBucket(1.0, 5),
    )
    for path in ("/suspend", "/resume"):
        response = asyncio.run(handle(Request("POST", path, {"authorization": f"Bearer {SECRET}"})))
        assert response.status == 404 and b"--control-secret-file" in response.body
        assert asyncio.run(handle(Request("GET", path, {}))).status == 405
