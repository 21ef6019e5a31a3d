"""GitSource against real servers on 127.0.0.1: git daemon (git://) and git http-backend (Basic auth)."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reconciler.source import (
    Backoff,
    GitAuth,
    GitSource,
    RepositoryNotFoundError,
    SourceAuthError,
    SourceTimeoutError,
    SourceUnreachableError,
)
from tests.source.conftest import TOKEN, USERNAME
from tests.source.gitservers import GitDaemon, HttpGitServer, Upstream, git

pytestmark = pytest.mark.timeout(60)

FAST = Backoff(attempts=2, initial=0.0)


def token_file(tmp_path: Path, value: str = TOKEN) -> Path:
    path = tmp_path / "token"
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


# -- git:// -------------------------------------------------------------------------------------


def test_git_daemon_clone_poll_and_update(upstream: Upstream, git_daemon: GitDaemon, cache_dir: Path) -> None:
    src = GitSource(git_daemon.url(upstream.relative), cache_dir=cache_dir, backoff=FAST)
    first = src.snapshot()
    assert first.commit == git("rev-parse", "HEAD", cwd=upstream.work)
    assert src.snapshot() is first
    assert src.fetch_count == 1

    new = upstream.commit({"apis/new.yaml": "n\n"})
    assert src.snapshot().commit == new
    assert src.fetch_count == 2


def test_server_down_keeps_last_good_then_recovers(
    upstream: Upstream, git_daemon: GitDaemon, cache_dir: Path
) -> None:
    pauses: list[float] = []
    src = GitSource(
        git_daemon.url(upstream.relative),
        cache_dir=cache_dir,
        backoff=Backoff(attempts=3, initial=0.5, factor=2.0),
        sleep=pauses.append,
    )
    good = src.snapshot()
    git_daemon.stop()
    newer = upstream.commit({"apis/echo.yaml": "while down\n"})

    with pytest.raises(SourceUnreachableError) as raised:
        src.snapshot()

    assert "127.0.0.1" in str(raised.value)
    assert pauses == [0.5, 1.0]  # retried with exponential backoff, then gave up
    assert src.last_good is good
    assert git("rev-parse", "HEAD", cwd=good.root) == good.commit  # checkout untouched
    assert (good.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"

    git_daemon.start()
    recovered = src.snapshot()
    assert recovered.commit == newer
    assert src.last_good is recovered


def test_missing_repository_is_a_typed_error(git_daemon: GitDaemon, cache_dir: Path) -> None:
    src = GitSource(git_daemon.url("nope.git"), cache_dir=cache_dir, backoff=FAST)
    with pytest.raises(RepositoryNotFoundError):
        src.snapshot()


def test_hung_server_times_out_and_the_git_process_group_is_killed(cache_dir: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections (kernel backlog) but never answers
    port = listener.getsockname()[1]
    try:
        src = GitSource(
            f"git://127.0.0.1:{port}/repo.git", cache_dir=cache_dir, timeout=1.0, backoff=Backoff(attempts=1)
        )
        with pytest.raises(SourceTimeoutError, match="did not finish within 1 s"):
            src.snapshot()
        # git's process group was killed: the connection it held is closed (by the kernel, as the
        # processes died), not left open to the hung server. No clock: the timeout only guards a hang.
        listener.settimeout(30)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(30)
            assert b"git-upload-pack" in read_until_closed(connection)  # git's request, then the close
    finally:
        listener.close()


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the peer sent, once it closed the connection (a reset counts as closed)."""
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


# -- http + Basic auth --------------------------------------------------------------------------


def test_http_token_from_file(
    upstream: Upstream, http_server: HttpGitServer, cache_dir: Path, tmp_path: Path
) -> None:
    auth = GitAuth(username=USERNAME, token_file=token_file(tmp_path))
    src = GitSource(http_server.url(upstream.relative), cache_dir=cache_dir, auth=auth, backoff=FAST)

    snap = src.snapshot()
    assert snap.commit == git("rev-parse", "HEAD", cwd=upstream.work)
    assert http_server.stats.fetches == 1

    # the cheap poll: an unchanged remote costs one ls-remote, no fetch
    assert src.snapshot() is snap
    assert src.snapshot() is snap
    assert http_server.stats.fetches == 1

    new = upstream.commit({"apis/new.yaml": "n\n"})
    assert src.snapshot().commit == new
    assert http_server.stats.fetches == 2

    config = (snap.root / ".git" / "config").read_text()
    assert TOKEN not in config and USERNAME not in config


def test_http_token_from_environment_variable(
    upstream: Upstream, http_server: HttpGitServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_GIT_TOKEN", TOKEN)
    auth = GitAuth(username=USERNAME, token_env="MY_GIT_TOKEN")
    snap = GitSource(
        http_server.url(upstream.relative), cache_dir=cache_dir, auth=auth, backoff=FAST
    ).snapshot()
    assert snap.commit == git("rev-parse", "HEAD", cwd=upstream.work)


def test_http_credentials_in_the_url_are_taken_out_of_it(
    upstream: Upstream, http_server: HttpGitServer, cache_dir: Path
) -> None:
    url = f"http://{USERNAME}:{TOKEN}@127.0.0.1:{http_server.port}/{upstream.relative}"
    calls: list[tuple[str, ...]] = []
    with capture_logs() as logs:
        src = GitSource(url, cache_dir=cache_dir, backoff=FAST, on_spawn=lambda argv, env: calls.append(argv))
        snap = src.snapshot()
    assert snap.source_url == http_server.url(upstream.relative)
    assert TOKEN not in (snap.root / ".git" / "config").read_text()
    assert not any(TOKEN in part for argv in calls for part in argv)
    assert TOKEN not in repr(logs)
    assert any(entry["event"] == "source.credentials_in_url" for entry in logs)


def test_bad_token_is_an_auth_error_without_the_token(
    upstream: Upstream, http_server: HttpGitServer, cache_dir: Path, tmp_path: Path
) -> None:
    wrong = "wrong-token-0123456789"
    auth = GitAuth(username=USERNAME, token_file=token_file(tmp_path, wrong))
    src = GitSource(http_server.url(upstream.relative), cache_dir=cache_dir, auth=auth, backoff=FAST)
    # no prompt waited for a keyboard: git got none (no terminal, stdin closed) and failed at once, or
    # it would have ended at the git timeout as a SourceTimeoutError, not an authentication error
    with capture_logs() as logs, pytest.raises(SourceAuthError) as raised:
        src.snapshot()
    assert not raised.value.retryable
    assert wrong not in str(raised.value) and wrong not in repr(logs)
    assert http_server.url(upstream.relative) in str(raised.value)
    assert src.last_good is None


def test_no_credentials_for_a_protected_server_fails_fast(
    upstream: Upstream, http_server: HttpGitServer, cache_dir: Path
) -> None:
    src = GitSource(http_server.url(upstream.relative), cache_dir=cache_dir, backoff=FAST)
    with pytest.raises(SourceAuthError):  # at once: a prompt would end as SourceTimeoutError
        src.snapshot()


def test_credentials_over_plain_http_to_a_remote_host_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain http"):
        GitSource("http://git.example.invalid/repo.git", auth=GitAuth(token_file=token_file(tmp_path)))
    with pytest.raises(ValueError, match="plain http"):
        GitSource(f"http://user:{TOKEN}@git.example.invalid/repo.git")


def _command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:
                continue
    return lines


@pytest.mark.slow
def test_token_never_on_any_command_line_while_fetching(
    upstream: Upstream,
    http_server: HttpGitServer,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))  # our askpass folder, not a neighbour's
    http_server.delay = 0.4  # every request waits: the git children are alive long enough to look at
    auth = GitAuth(username=USERNAME, token_file=token_file(tmp_path))
    url = http_server.url(upstream.relative)
    src = GitSource(url, cache_dir=cache_dir, auth=auth, backoff=FAST)
    seen: list[str] = []
    done = threading.Event()

    def run() -> None:
        try:
            src.snapshot()
        finally:
            done.set()

    thread = threading.Thread(target=run)
    with capture_logs() as logs:
        thread.start()
        while not done.is_set():
            seen.extend(line for line in _command_lines() if "git" in line)
            time.sleep(0.01)
        thread.join()

    assert src.last_good is not None
    assert any(" fetch " in line for line in seen), "never saw the git fetch running"
    assert any("remote-http" in line and url in line for line in seen), "never saw git-remote-http"
    assert not [line for line in seen if TOKEN in line]
    assert TOKEN not in repr(logs)
    # every Basic header the server got carried the right token: git did authenticate
    assert http_server.stats.authorizations
    # the askpass helper's private folder is gone
    assert not list(private_tmp.glob("reconciler-askpass-*"))
