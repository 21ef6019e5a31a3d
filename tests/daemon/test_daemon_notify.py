"""The daemon notifies a receiver on 127.0.0.1: a signed webhook and a GitHub commit status per sync
(success, then a broken commit's failure), configured from flags and RECONCILER_* variables."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import api_yaml, context_yaml
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import clean_env, run_cli, wait_for
from tests.notify.receiver import receiving
from tests.source.gitservers import Upstream

pytestmark = pytest.mark.timeout(90)

KEY = "daemon-notify-key-0123456789"
TOKEN = "gh-token-never-printed-42"


def test_the_daemon_notifies_each_sync_and_sets_commit_statuses(
    start_daemon: StartDaemon, upstream: Upstream, emulator: RunningEmulator, tmp_path: Path
) -> None:
    (tmp_path / "key").write_text(KEY)
    (tmp_path / "token").write_text(TOKEN)
    first = upstream.commit(
        {"context.yaml": context_yaml(emulator.base_url), "alpha.yaml": api_yaml("alpha")}
    )
    with receiving() as receiver:
        env = clean_env(
            RECONCILER_NOTIFY_WEBHOOK=f"{receiver.url}/hook",
            RECONCILER_NOTIFY_WEBHOOK_SECRET_FILE=str(tmp_path / "key"),
            RECONCILER_NOTIFY_COMMIT_STATUS_TOKEN_FILE=str(tmp_path / "token"),
            RECONCILER_NOTIFY_ON="sync_succeeded,sync_failed",
        )
        daemon = start_daemon(
            f"file://{upstream.bare}", "--interval", "0.3", "--cache-dir", tmp_path / "cache",
            "--notify-commit-status", "github", "--notify-commit-status-api", receiver.url,
            "--notify-commit-status-repo", "platform/apis",
            env=env,
        )  # fmt: skip
        wait_for(lambda: receiver.at(f"/repos/platform/apis/statuses/{first}"), "the first commit's status")
        broken = upstream.commit({"broken.yaml": api_yaml("broken").replace("type: PROXY", "type: SOAP")})
        wait_for(lambda: receiver.at(f"/repos/platform/apis/statuses/{broken}"), "the broken commit's status")
        wait_for(lambda: len(receiver.at("/hook")) >= 2, "both webhooks")
        daemon.stop()
        logs = daemon.log_text()

    (ok,) = receiver.at(f"/repos/platform/apis/statuses/{first}")
    (failed,) = receiver.at(f"/repos/platform/apis/statuses/{broken}")  # retried every tick, said once
    assert ok.json["state"] == "success" and failed.json["state"] == "failure"
    assert "broken.yaml:" in failed.json["description"]
    hooks = receiver.at("/hook")
    assert [(h.json["event"], h.json["commit"]) for h in hooks] == [
        ("sync_succeeded", first),
        ("sync_failed", broken),
    ]
    for hook in hooks:
        signature = "sha256=" + hmac.new(KEY.encode(), hook.body, hashlib.sha256).hexdigest()
        assert hook.headers["x-reconciler-signature-256"] == signature
    assert TOKEN not in logs and KEY not in logs
    (started,) = daemon.events("daemon.started")
    assert started["notify"] == [
        f"webhook {receiver.url.removeprefix('http://')}",
        "github statuses 127.0.0.1:" + receiver.url.rpartition(":")[2],
    ]


def test_notification_settings_are_checked_at_start(tmp_path: Path) -> None:
    result = run_cli("run", tmp_path, "--notify-webhook", "https://hooks.example/x")
    assert result.returncode == 64
    assert "--notify-webhook needs --notify-webhook-secret-file" in result.stderr
