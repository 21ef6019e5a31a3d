"""Fixtures of the daemon tests: daemon processes (always stopped), upstream repositories, repos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, set_token_env
from tests.daemon.support import DaemonProcess, clean_env
from tests.source.gitservers import Upstream

StartDaemon = Callable[..., DaemonProcess]


@pytest.fixture(autouse=True)
def bound_token(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test on the `emulator` (or `slow_emulator`) fixture: the token of secret apim-token in the
    environment (which `clean_env` hands to the daemon), bound to that emulator's URL as an operator
    would bind it."""
    for name in ("emulator", "slow_emulator"):
        if name in request.fixturenames:
            set_token_env(monkeypatch, request.getfixturevalue(name).base_url)


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[StartDaemon]:
    """``start_daemon(*args, env=None, wait=True)``: a daemon process, stopped after the test."""
    started: list[DaemonProcess] = []

    def start(*args: str | Path, env: dict[str, str] | None = None, wait: bool = True) -> DaemonProcess:
        process = DaemonProcess([str(a) for a in args], tmp_path / "daemon", env=env or clean_env())
        started.append(process)
        return process.wait_serving() if wait else process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def folder(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    """A folder of manifests with a ManagementContext pointing at the emulator."""
    return Repo(tmp_path / "manifests", emulator.base_url)


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path / "srv")
