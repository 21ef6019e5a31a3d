"""Credentials that cannot be used are refused with a message naming where they are, never what
they hold: a CR/LF or non-ASCII character in a token (which used to crash every command with a
traceback quoting the header, token included, and put it into the daemon's /status and logs),
a secret file of 20 MB, a git token on two lines, a webhook secret of newlines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.daemon.support import DaemonProcess, wait_for
from tests.security.helpers import (
    api_yaml,
    assert_no_leak,
    clean_env,
    cli,
    context_yaml,
    write_repo,
    write_secret,
)
from tests.source.gitservers import HttpGitServer, Upstream

CANARY = "cnry-crlf-0a1b2c3d4e5f6a7b"


def repo(root: Path, base_url: str) -> Path:
    return write_repo(root, {"ctx.yaml": context_yaml("apim", base_url), "api.yaml": api_yaml("probe")})


def run_everything(root: Path, secrets: Path, env: dict[str, str], *, every: bool = True) -> dict[str, str]:
    """check-context, diff (three formats), sync and run --once (or, not `every`, check-context and
    diff): each must fail cleanly."""
    outputs = {}
    runs = {
        "check-context": ["check-context", root],
        "diff text": ["diff", root],
        "diff json": ["diff", root, "--output", "json"],
        "diff markdown": ["diff", root, "--output", "markdown"],
        "sync": ["sync", root],
        "run --once": ["run", root, "--once", "--listen", "", "--cache-dir", secrets.parent / "cache"],
    }
    if not every:
        runs = {label: runs[label] for label in ("check-context", "diff text")}
    for label, args in runs.items():
        result = cli(*args, "--secrets-dir", secrets, "--log-level", "debug", env=env)
        text = result.stdout + result.stderr
        assert result.returncode == 1, f"{label}: {text}"
        assert "Traceback" not in text, f"{label}: {text}"
        outputs[label] = text
    return outputs


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (f"{CANARY}\r\nX-Injected: yes", "a line break"),
        (f"{CANARY}-\u00e9t\u00e9", "a non-ASCII character"),
        (f"{CANARY} more", "a space"),
        (f"{CANARY}\x00", "a control character"),
    ],
)
def test_a_token_file_with_an_unusable_character(
    tmp_path: Path, emulator: RunningEmulator, token: str, kind: str
) -> None:
    root = repo(tmp_path / "repo", emulator.base_url)
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", token)
    outputs = run_everything(root, secrets, clean_env(), every=kind == "a line break")
    where = f"secret default/apim key bearerToken (file {secrets}/apim/bearerToken)"
    assert f"{where}: bearerToken holds {kind}" in outputs["diff text"]
    assert "bearerToken holds" in outputs["check-context"]
    assert_no_leak("\n".join(outputs.values()), {"token": CANARY})
    assert not emulator.dump_state()["apis"]


def test_basic_credentials_from_the_environment(tmp_path: Path, emulator: RunningEmulator) -> None:
    root = write_repo(
        tmp_path / "repo",
        {"ctx.yaml": context_yaml("apim", emulator.base_url, secret="basic"), "api.yaml": api_yaml("probe")},
    )
    secrets = tmp_path / "secrets"
    env = clean_env(
        APIM_SECRET_DEFAULT_BASIC_USERNAME="admin", APIM_SECRET_DEFAULT_BASIC_PASSWORD=CANARY + "\n"
    )
    outputs = run_everything(root, secrets, env, every=False)
    assert (
        "secret default/basic key password (env APIM_SECRET_DEFAULT_BASIC_PASSWORD): password holds a line break"
        in outputs["diff text"]
    )
    assert_no_leak("\n".join(outputs.values()), {"password": CANARY})

    env["APIM_SECRET_DEFAULT_BASIC_USERNAME"], env["APIM_SECRET_DEFAULT_BASIC_PASSWORD"] = "ad:min", CANARY
    colon = cli("diff", root, "--secrets-dir", secrets, env=env)
    assert colon.returncode == 1 and "a Basic username may not contain ':'" in colon.stderr


def test_the_daemon_reports_the_bad_token_without_it(tmp_path: Path, emulator: RunningEmulator) -> None:
    root = repo(tmp_path / "repo", emulator.base_url)
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", f"{CANARY}\r\nX-Injected: yes")
    daemon = DaemonProcess(
        [str(root), "--secrets-dir", str(secrets), "--cache-dir", str(tmp_path / "cache")],
        tmp_path / "daemon",
        env=clean_env(),
    )
    try:
        daemon.wait_serving()
        status = wait_for(lambda: daemon.status() if daemon.status().get("lastSyncTime") else None, "a sync")
        bodies = [json.dumps(status), daemon.client.get("/metrics").text, daemon.client.get("/readyz").text]
    finally:
        daemon.stop()
    assert "bearerToken holds a line break" in bodies[0]
    log = daemon.log_text()
    assert "Traceback" not in log
    assert_no_leak("\n".join([*bodies, log]), {"token": CANARY})


def test_a_huge_secret_file_is_refused_naming_the_file(tmp_path: Path, emulator: RunningEmulator) -> None:
    """A 20 MB token once took 70 s and 3.2 GB; 1 MiB shows the same: refused before it is used."""
    root = repo(tmp_path / "repo", emulator.base_url)
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", CANARY * (1024 * 1024 // len(CANARY)))
    diff = cli("diff", root, "--secrets-dir", secrets)
    assert diff.returncode == 1
    assert f"{secrets}/apim/bearerToken is larger than 65536 bytes" in diff.stderr
    assert_no_leak(diff.stdout + diff.stderr, {"token": CANARY})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"{CANARY}\nsecond-line", "holds a line break"),
        (f"{CANARY}\u00e9", "holds a non-ASCII character"),
        (CANARY * 5000, "is larger than 65536 bytes"),
    ],
)
def test_an_unusable_git_token_file(
    tmp_path: Path, emulator: RunningEmulator, content: str, message: str
) -> None:
    upstream = Upstream(tmp_path / "srv")
    upstream.commit({"ctx.yaml": context_yaml("apim", emulator.base_url), "api.yaml": api_yaml("probe")})
    server = HttpGitServer(upstream.base, username="deployer", token=CANARY)
    server.start()
    token = tmp_path / "git-token"
    token.write_text(content)
    try:
        diff = cli(
            "diff",
            server.url(upstream.relative),
            "--git-token-file",
            token,
            "--cache-dir",
            tmp_path / "cache",
        )
    finally:
        server.stop()
    assert diff.returncode == 1 and "Traceback" not in diff.stderr
    assert f"the token file {token} {message}" in diff.stderr
    assert_no_leak(diff.stdout + diff.stderr, {"git token": CANARY})
    assert server.stats.requests == 0  # nothing was sent with it


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("\n\n\n", "is empty (or only whitespace)"),
        ("  \t\n", "is empty (or only whitespace)"),
        ("short-secret\n", "is shorter than 16 characters"),
        ("x" * 70000, "is larger than 65536 bytes"),
    ],
)
def test_an_unusable_webhook_secret_stops_the_daemon_at_start(
    tmp_path: Path, emulator: RunningEmulator, content: str, message: str
) -> None:
    root = repo(tmp_path / "repo", emulator.base_url)
    secret = tmp_path / "webhook-secret"
    secret.write_text(content)
    run = cli("run", root, "--webhook-secret-file", secret, "--listen", "", "--cache-dir", tmp_path / "cache")
    assert run.returncode == 64 and message in run.stderr and str(secret) in run.stderr
