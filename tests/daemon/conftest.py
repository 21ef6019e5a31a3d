"""Fixtures of the daemon tests: daemon processes (always stopped), upstream repositories, repos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo
from tests.daemon.support import DaemonProcess, clean_env
from tests.source.gitservers import Upstream

StartDaemon = Callable[..., DaemonProcess]


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
