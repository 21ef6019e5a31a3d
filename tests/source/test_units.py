"""The small pure pieces: backoff, URL redaction, error classification, askpass, environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler.source import (
    Backoff,
    GitAuth,
    HostKeyVerificationError,
    RefNotFoundError,
    RepositoryNotFoundError,
    SourceAuthError,
    SourceError,
    SourceUnreachableError,
    redact_url,
    retry,
)
from reconciler.source.git import classify_failure, looks_like_git_url
from reconciler.source.gitauth import auth_session, read_secret, ssh_command
from reconciler.source.gitcmd import base_environment
from reconciler.source.redact import Scrubber, is_scp_like, split_credentials
from tests.source import gitservers

# -- backoff ------------------------------------------------------------------------------------


def test_backoff_delays_grow_and_are_capped() -> None:
    assert list(Backoff(attempts=5, initial=1, factor=3, maximum=5).delays()) == [1, 3, 5, 5]
    assert list(Backoff(attempts=1).delays()) == []


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"factor": 0.5}, {"initial": -1}])
def test_backoff_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_retry_retries_retryable_errors_then_succeeds() -> None:
    pauses: list[float] = []
    notes: list[int] = []
    outcomes: list[Exception | str] = [SourceUnreachableError("down"), SourceUnreachableError("down"), "ok"]

    def operation() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = retry(
        operation,
        backoff=Backoff(attempts=3, initial=0.25),
        should_retry=lambda e: isinstance(e, SourceError) and e.retryable,
        sleep=pauses.append,
        on_retry=lambda error, attempt, delay: notes.append(attempt),
    )
    assert result == "ok"
    assert pauses == [0.25, 0.5]
    assert notes == [1, 2]


def test_retry_gives_up_at_once_on_a_permanent_error() -> None:
    pauses: list[float] = []

    def operation() -> None:
        raise SourceAuthError("no")

    with pytest.raises(SourceAuthError):
        retry(operation, backoff=Backoff(attempts=5), should_retry=lambda e: False, sleep=pauses.append)
    assert pauses == []


def test_retry_raises_the_last_error_when_tries_run_out() -> None:
    calls = 0

    def operation() -> None:
        nonlocal calls
        calls += 1
        raise SourceUnreachableError(f"down {calls}")

    with pytest.raises(SourceUnreachableError, match="down 3"):
        retry(
            operation,
            backoff=Backoff(attempts=3, initial=0),
            should_retry=lambda e: True,
            sleep=lambda s: None,
        )


# -- URLs and scrubbing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:s3cr3t@git.example.com/org/repo.git", "https://git.example.com/org/repo.git"),
        ("https://ghp_tokenvalue@git.example.com/org/repo.git", "https://git.example.com/org/repo.git"),
        ("http://u:p@127.0.0.1:8080/r.git", "http://127.0.0.1:8080/r.git"),
        ("ssh://git:pw@host:2222/r.git", "ssh://git@host:2222/r.git"),
        ("ssh://git@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://[::1]:8443/r.git", "https://[::1]:8443/r.git"),
        ("https://u:p@[::1]:8443/r.git", "https://[::1]:8443/r.git"),
        ("/srv/git/repo", "/srv/git/repo"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_split_credentials_keeps_them_for_the_askpass_helper() -> None:
    split = split_credentials("https://me:tok@host/r.git")
    assert (split.url, split.username, split.password) == ("https://host/r.git", "me", "tok")


@pytest.mark.parametrize(
    ("spec", "is_url"),
    [
        ("git@github.com:org/repo.git", True),
        ("host:repo", True),
        ("https://h/r.git", True),
        ("file:///tmp/r", True),
        ("git://h/r", True),
        ("ext::sh -c x", False),
        ("./manifests", False),
        ("/abs/path", False),
        ("dir/with:colon", False),
        ("ftp://h/r", False),
    ],
)
def test_looks_like_git_url(spec: str, is_url: bool) -> None:
    assert looks_like_git_url(spec) is is_url
    if "://" not in spec:
        assert is_scp_like(spec) is is_url


def test_scrubber_removes_secrets_and_url_credentials() -> None:
    scrub = Scrubber(["tok-123456", "tok"]).scrub
    text = "fatal: https://bob:pw@h/r and http://tok-123456@h/ said tok-123456; ssh://git@h/r"
    assert scrub(text) == (
        "fatal: https://(sensitive)@h/r and http://(sensitive)@h/ said (sensitive); ssh://git@h/r"
    )


# -- classification -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            "Host key verification failed.\nfatal: Could not read from remote repository.",
            HostKeyVerificationError,
        ),
        ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", HostKeyVerificationError),
        (
            "git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.",
            SourceAuthError,
        ),
        ("fatal: Authentication failed for 'https://h/r.git/'", SourceAuthError),
        ("fatal: could not read Username for 'https://h': terminal prompts disabled", SourceAuthError),
        ("fatal: repository 'https://h/r.git/' not found", RepositoryNotFoundError),
        ("fatal: remote error: access denied or repository not exported: /r.git", RepositoryNotFoundError),
        ("fatal: couldn't find remote ref refs/heads/nope", RefNotFoundError),
        ("fatal: Could not resolve host: h", SourceUnreachableError),
        ("fatal: unable to access 'https://h/': Failed to connect to h port 443", SourceUnreachableError),
        ("error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502", SourceUnreachableError),
        ("fatal: something nobody expected", SourceError),
    ],
)
def test_classify_failure(stderr: str, expected: type[SourceError]) -> None:
    error = classify_failure("git fetch", "https://h/r.git", stderr)
    assert type(error) is expected
    assert error.message.startswith("git fetch https://h/r.git failed: ")
    assert error.retryable is (expected is SourceUnreachableError)


# -- auth ---------------------------------------------------------------------------------------


def _ask(script: str, env: dict[str, str], prompt: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script, prompt], env=env, capture_output=True, text=True, timeout=10, check=False)


def test_askpass_helper_answers_known_prompts_only(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("the-token\n")
    with auth_session(GitAuth(username="bob", token_file=token), ssh=False) as session:
        script = session.env["GIT_ASKPASS"]
        folder = Path(script).parent
        assert folder.stat().st_mode & 0o777 == 0o700
        assert Path(script).read_text().count("the-token") == 0  # the script holds no secret
        env = {"PATH": "/usr/bin:/bin", **session.env}
        assert _ask(script, env, "Username for 'https://h': ").stdout == "bob\n"
        assert _ask(script, env, "Password for 'https://bob@h': ").stdout == "the-token\n"
        unknown = _ask(script, env, "Are you sure you want to continue connecting (yes/no)? ")
        assert unknown.returncode != 0 and unknown.stdout == ""
        assert session.secrets == ("the-token",)
    assert not folder.exists()


def test_token_without_a_user_name_gets_the_default_one(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t0k3n-value")
    with auth_session(GitAuth(token_file=token), ssh=False) as session:
        assert session.env["RECONCILER_ASKPASS_USERNAME"] == "x-access-token"


def test_no_credentials_means_no_askpass(tmp_path: Path) -> None:
    with auth_session(GitAuth(), ssh=False) as session:
        assert "GIT_ASKPASS" not in session.env
        assert session.secrets == ()


def test_token_as_url_user_name_is_sent_and_scrubbed() -> None:
    with auth_session(GitAuth(), ssh=False, url_username="ghp_abcdef123456") as session:
        assert session.env["RECONCILER_ASKPASS_USERNAME"] == "ghp_abcdef123456"
        assert session.env["RECONCILER_ASKPASS_PASSWORD"] == ""
        assert "ghp_abcdef123456" in session.secrets


def test_secret_files_and_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s"
    path.write_text("value\r\n")
    assert read_secret(file=path, variable=None, what="token") == "value"
    monkeypatch.setenv("SOME_TOKEN", "from-env")
    assert read_secret(file=None, variable="SOME_TOKEN", what="token") == "from-env"
    assert read_secret(file=None, variable=None, what="token") is None
    with pytest.raises(SourceAuthError, match="cannot read the token file"):
        read_secret(file=tmp_path / "missing", variable=None, what="token")
    with pytest.raises(SourceAuthError, match="MISSING_VARIABLE is not set"):
        read_secret(file=None, variable="MISSING_VARIABLE", what="token")
    path.write_text("\n")
    with pytest.raises(SourceAuthError, match="empty"):
        read_secret(file=path, variable=None, what="token")


def test_auth_options_are_checked() -> None:
    with pytest.raises(ValueError):
        GitAuth(token_file=Path("a"), password_file=Path("b"))
    with pytest.raises(ValueError):
        GitAuth(ssh_passphrase_file=Path("p"))


def test_ssh_command_quotes_paths_and_checks_host_keys() -> None:
    command = ssh_command(
        GitAuth(ssh_key_file=Path("/keys/my key"), known_hosts_file=Path("/kh")), with_passphrase=False
    )
    assert "-i '/keys/my key'" in command
    assert "StrictHostKeyChecking=yes" in command and "UserKnownHostsFile=/kh" in command
    assert "BatchMode=yes" in command
    lab = ssh_command(GitAuth(strict_host_key_checking=False), with_passphrase=True)
    assert "StrictHostKeyChecking=no" in lab and "BatchMode" not in lab


def test_ssh_passphrase_goes_through_ssh_askpass(tmp_path: Path) -> None:
    key, passphrase = tmp_path / "key", tmp_path / "pass"
    passphrase.write_text("open sesame")
    with auth_session(GitAuth(ssh_key_file=key, ssh_passphrase_file=passphrase), ssh=True) as session:
        env = session.env
        assert env["SSH_ASKPASS_REQUIRE"] == "force" and env["DISPLAY"]
        assert "open sesame" not in env["GIT_SSH_COMMAND"]
        answer = _ask(
            env["SSH_ASKPASS"], {"PATH": "/usr/bin:/bin", **env}, f"Enter passphrase for key '{key}': "
        )
        assert answer.stdout == "open sesame\n"


# -- environment --------------------------------------------------------------------------------


def test_git_environment_drops_redirections_and_forbids_prompts() -> None:
    env = base_environment(
        {
            "PATH": "/usr/bin",
            "HOME": "/root",
            "GIT_DIR": "/elsewhere",
            "GIT_WORK_TREE": "/elsewhere",
            "GIT_ASKPASS": "/evil",
            "SSH_ASKPASS": "/evil",
            "GIT_TRACE_CURL": "1",
            "GIT_SSL_CAINFO": "/ca.pem",
        }
    )
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_ALLOW_PROTOCOL"] == "file:git:http:https:ssh"
    assert env["GIT_SSL_CAINFO"] == "/ca.pem"
    for dropped in ("GIT_DIR", "GIT_WORK_TREE", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_TRACE_CURL"):
        assert dropped not in env


def test_sshd_fixture_skips_with_a_reason_when_it_cannot_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitservers, "SSHD", Path("/nonexistent/sshd"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    reason = gitservers.ensure_sshd()
    assert reason is not None and "sshd is missing" in reason
