"""GitSource over ssh against Debian's sshd on 127.0.0.1 (installed by the fixture when missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.source import Backoff, GitAuth, GitSource, HostKeyVerificationError, SourceAuthError
from tests.source.gitservers import SshServer, Upstream, git

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]

FAST = Backoff(attempts=1)


def test_clone_and_update_with_a_key_and_known_hosts(
    ssh_server: SshServer, upstream: Upstream, cache_dir: Path
) -> None:
    auth = GitAuth(ssh_key_file=ssh_server.key, known_hosts_file=ssh_server.known_hosts)
    calls: list[tuple[tuple[str, ...], dict[str, str]]] = []
    src = GitSource(
        ssh_server.url(upstream.bare),
        cache_dir=cache_dir,
        auth=auth,
        backoff=FAST,
        on_spawn=lambda argv, env: calls.append((argv, dict(env))),
    )
    first = src.snapshot()
    assert first.commit == git("rev-parse", "HEAD", cwd=upstream.work)
    assert src.snapshot() is first
    new = upstream.commit({"apis/ssh.yaml": "s\n"})
    assert src.snapshot().commit == new
    assert src.fetch_count == 2

    ssh_command = next(env["GIT_SSH_COMMAND"] for argv, env in calls if "fetch" in argv)
    assert f"-i {ssh_server.key}" in ssh_command
    assert "IdentitiesOnly=yes" in ssh_command
    assert "StrictHostKeyChecking=yes" in ssh_command
    assert f"UserKnownHostsFile={ssh_server.known_hosts}" in ssh_command
    assert all(env["GIT_TERMINAL_PROMPT"] == "0" for _, env in calls)


def test_scp_like_url_through_an_ssh_config_alias(
    ssh_server: SshServer, upstream: Upstream, cache_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Host gitalias\n  HostName 127.0.0.1\n  Port {ssh_server.port}\n")
    auth = GitAuth(
        ssh_key_file=ssh_server.key, known_hosts_file=ssh_server.known_hosts, ssh_config_file=config
    )
    scp = f"{ssh_server.user}@gitalias:{upstream.bare}"
    src = GitSource(scp, cache_dir=cache_dir, auth=auth, backoff=FAST)
    snap = src.snapshot()
    assert snap.source_url == scp
    assert snap.commit == git("rev-parse", "HEAD", cwd=upstream.work)


def test_wrong_host_key_is_refused(ssh_server: SshServer, upstream: Upstream, cache_dir: Path) -> None:
    auth = GitAuth(ssh_key_file=ssh_server.key, known_hosts_file=ssh_server.wrong_known_hosts)
    src = GitSource(ssh_server.url(upstream.bare), cache_dir=cache_dir, auth=auth, backoff=FAST)
    with pytest.raises(HostKeyVerificationError) as raised:
        src.snapshot()
    assert not raised.value.retryable


def test_unknown_host_is_refused_not_prompted(
    ssh_server: SshServer, upstream: Upstream, cache_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    auth = GitAuth(ssh_key_file=ssh_server.key, known_hosts_file=empty)
    # refused, not asked: a prompt about the host key would end at the git timeout (SourceTimeoutError)
    with pytest.raises(HostKeyVerificationError):
        GitSource(ssh_server.url(upstream.bare), cache_dir=cache_dir, auth=auth, backoff=FAST).snapshot()


def test_key_with_passphrase_from_a_file(
    ssh_server: SshServer, upstream: Upstream, cache_dir: Path, tmp_path: Path
) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(ssh_server.passphrase + "\n")
    auth = GitAuth(
        ssh_key_file=ssh_server.passphrase_key,
        ssh_passphrase_file=passphrase_file,
        known_hosts_file=ssh_server.known_hosts,
    )
    calls: list[tuple[str, ...]] = []
    src = GitSource(
        ssh_server.url(upstream.bare),
        cache_dir=cache_dir,
        auth=auth,
        backoff=FAST,
        on_spawn=lambda argv, env: calls.append(argv),
    )
    assert src.snapshot().commit == git("rev-parse", "HEAD", cwd=upstream.work)
    assert not any(ssh_server.passphrase in " ".join(argv) for argv in calls)


def test_key_with_passphrase_but_none_given_fails_fast(
    ssh_server: SshServer, upstream: Upstream, cache_dir: Path
) -> None:
    auth = GitAuth(ssh_key_file=ssh_server.passphrase_key, known_hosts_file=ssh_server.known_hosts)
    # fails, not asks: a passphrase prompt would end at the git timeout (SourceTimeoutError)
    with pytest.raises(SourceAuthError):
        GitSource(ssh_server.url(upstream.bare), cache_dir=cache_dir, auth=auth, backoff=FAST).snapshot()


def test_wrong_passphrase_is_an_auth_error_without_it(
    ssh_server: SshServer, upstream: Upstream, cache_dir: Path, tmp_path: Path
) -> None:
    wrong = "not the passphrase at all"
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(wrong)
    auth = GitAuth(
        ssh_key_file=ssh_server.passphrase_key,
        ssh_passphrase_file=passphrase_file,
        known_hosts_file=ssh_server.known_hosts,
    )
    with pytest.raises(SourceAuthError) as raised:
        GitSource(ssh_server.url(upstream.bare), cache_dir=cache_dir, auth=auth, backoff=FAST).snapshot()
    assert wrong not in str(raised.value)
