"""Running the daemon as a real process, reading its endpoints, logs and metrics, and APIM's state."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import TOKEN_ENV
from tests.source.gitservers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 20.0, step: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without RECONCILER_* settings, plus the APIM token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env[TOKEN_ENV] = "emulator-token"
    env.update(extra)
    return env


def run_cli(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
        check=False,
    )


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DaemonProcess:
    """``python -m reconciler run ...`` with JSON logs to a file and the endpoints on a free port."""

    def __init__(self, args: list[str], workdir: Path, *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"daemon-{self.port}.log"
        self.out_path = workdir / f"daemon-{self.port}.out"
        self.argv = [
            sys.executable,
            "-m",
            "reconciler",
            "run",
            *args,
            "--listen",
            f"127.0.0.1:{self.port}",
            "--log-format",
            "json",
            "--log-level",
            "info",
        ]
        with self.log_path.open("wb") as log, self.out_path.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                stdout=out,
                stderr=log,
                env=env or clean_env(),
                start_new_session=True,
            )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    # -- process ---------------------------------------------------------------------------------

    def wait_serving(self) -> DaemonProcess:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                return self.client.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "the daemon to serve /healthz")
        return self

    def signal(self, number: signal.Signals) -> None:
        self.proc.send_signal(number)

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # -- output ----------------------------------------------------------------------------------

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def logs(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_text().splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return lines

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.logs() if line.get("event") == name]

    # -- endpoints -------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        response = self.client.get("/status")
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = self.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return parse_metrics(response.text)

    def syncs(self, outcome: str = "success") -> float:
        return self.metrics().get(("apim_reconciler_syncs_total", (("outcome", outcome),)), 0.0)

    def condition(self, kind: str) -> dict[str, Any]:
        (found,) = [c for c in self.status()["conditions"] if c["type"] == kind]
        return dict(found)


# -- Prometheus text format ---------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples by (name, labels); fails on any line that is not a comment or ``name{labels} value``,
    and on a sample whose family has no ``# TYPE``."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    typed: set[str] = set()
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, label_text, value = match.groups()
        labels: list[tuple[str, str]] = []
        if label_text:
            consumed = 0
            for found in _LABEL.finditer(label_text):
                assert found.start() == consumed, f"bad labels in {line!r}"
                consumed = found.end()
                labels.append((found.group(1), found.group(2).replace('\\"', '"').replace("\\\\", "\\")))
            assert consumed == len(label_text), f"bad labels in {line!r}"
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no # TYPE line"
        samples[(name, tuple(labels))] = float(value)
    return samples


# -- APIM (the emulator) ------------------------------------------------------------------------


def apis(emulator: RunningEmulator | str) -> dict[str, str]:
    """name → description of every API in the emulator."""
    base = emulator if isinstance(emulator, str) else emulator.base_url
    with httpx.Client(
        base_url=base, headers={"Authorization": "Bearer emulator-token"}, timeout=10
    ) as client:
        response = client.post(f"{MAPI}/apis/_search", params={"perPage": 100}, json={})
        response.raise_for_status()
        return {item["name"]: item.get("description", "") for item in response.json()["data"]}
