"""Fixtures of the source tests: an upstream repository and real git servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.source.gitservers import HttpGitServer, SshServer, Upstream, ensure_sshd, run_sshd

TOKEN = "tok-3f9a-SECRET-c0ffee"
USERNAME = "deployer"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a test that takes more than a second or two")


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    """A bare repository with two files on ``main``."""
    up = Upstream(tmp_path / "srv")
    up.commit({"apis/echo.yaml": "kind: ApiV4Definition\n", "README.md": "hello\n"}, "first")
    return up


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def http_server(upstream: Upstream) -> Iterator[HttpGitServer]:
    server = HttpGitServer(upstream.base, username=USERNAME, token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    reason = ensure_sshd()
    if reason is not None:
        pytest.skip(reason)
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server
