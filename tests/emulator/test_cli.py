"""``python -m reconciler.emulator`` as users run it."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import httpx

from reconciler.emulator import cli

ROOT = Path(__file__).resolve().parents[2]


def test_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reconciler.emulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0
    for option in (
        "--port",
        "--users",
        "--state",
        "--latency-ms",
        "--jitter-ms",
        "--max-inflight",
        "--fault",
        "--apim-version",
        "--repository",
        "--search-nodes",
        "--search-index-delay-ms",
        "--search-sync-ms",
        "--token-ttl",
    ):
        assert option in out.stdout
    assert "TEST KNOB, not real APIM behaviour" in " ".join(out.stdout.split())


def test_add_arguments_builds_config(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--fault", "PUT */apis=503:0.1", "--fault", "GET *=hang:2", "--max-inflight", "4"]
    )
    config = cli.config_from_args(args)
    assert [f.action for f in config.faults] == ["503", "hang"] and config.max_inflight == 4
    args = parser.parse_args(
        [
            "--repository",
            "mongodb",
            "--search-nodes",
            "3",
            "--search-sync-ms",
            "5000",
            "--apim-version",
            "4.11.5",
        ]
    )
    config = cli.config_from_args(args)
    assert (config.repository, config.search_nodes, config.search_sync_ms, config.apim_version) == (
        "mongodb",
        3,
        5000,
        "4.11.5",
    )


def test_serves_in_foreground(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text(
        json.dumps(
            {
                "organizations": [{"id": "DEFAULT", "environments": [{"id": "DEFAULT"}]}],
                "users": [{"username": "u", "password": "p"}],
            }
        )
    )
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler.emulator",
            "--port",
            "0",
            "--users",
            str(users),
            "--state",
            str(state),
            "--fault",
            "GET */apis/*=503:1",
            "--log-level",
            "DEBUG",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        base = f"{url}/management/v2/organizations/DEFAULT/environments/DEFAULT"
        assert httpx.get(base, auth=("u", "p")).status_code == 200
        assert httpx.get(f"{base}/apis/x", auth=("u", "p")).status_code == 503
        assert httpx.get(f"{base}/apis/x", auth=("u", "p")).status_code == 404
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "GET /management/v2" in err  # DEBUG logs each request...
    assert "dTpw" not in err and "Basic" not in err  # ...but never credentials (base64 of u:p)


def test_bad_bind_exits_non_zero() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reconciler.emulator", "--host", "203.0.113.1", "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 1 and "cannot listen" in out.stderr
