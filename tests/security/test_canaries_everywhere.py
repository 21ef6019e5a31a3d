"""No secret, in any form, in any output of any command, in any format.

Canaries are planted wherever a secret lives: the context's bearer token (a mounted file), a Basic
password (an env variable), an ``[[ env ]]`` variable, template secrets (alone and inside a longer
string), a multi-line PEM-like secret, the git token (an env variable, used for real against an
http git server), and the webhook secret (a file). APIM echoes them back: one server in front of
the emulator answers every write with an error quoting the request's `Authorization` header and
body fields raw, upper-cased, JSON-escaped, URL-encoded, in base64 and cut short; another answers
every read that way.

Every command then runs as a user runs it (`python -m reconciler`, debug logging, console and JSON
log formats): validate, check-context, diff and sync in text, JSON and Markdown (a first sync, then
one after a rotation; HTML too, printed and written with --html-report), run --once, the daemon (its
status page, /status, /metrics, /readyz and logs, a refused webhook call), export and service-account
check. No form of any canary may appear in anything
they print, serve or log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.daemon.support import DaemonProcess, wait_for
from tests.security.helpers import (
    EchoApim,
    api_yaml,
    assert_no_leak,
    clean_env,
    cli,
    context_yaml,
    write_secret,
)
from tests.source.gitservers import HttpGitServer, Upstream

PEM = (
    "-----BEGIN CNRY PRIVATE KEY-----\n"
    "cnry-pem-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6\n"
    "cnry-pem-f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5\n"
    "-----END CNRY PRIVATE KEY-----"
)
CANARIES = {
    "bearer token": "cnry-tok-5b0e1f7a9c2d4e6f",
    "basic password": "cnry-pwd-6c1f8a4b52e9d7a3",
    "env variable": "cnry-env-0d9e8f7a6b5c4d3e",
    "template secret": "cnry-hdr-4f1c9e2a77b3c5d1",
    "secret in a string": "cnry-inl-2e7a5d9f30c8b6a4",
    "rotated secret": "cnry-rot-8b3d0c6e11f2a9d7",
    "pem": PEM,
    "git token": "cnry-git-9a8b7c6d5e4f3a2b",
    "webhook secret": "cnry-whk-1f2e3d4c5b6a7f8e",
}
USER = "cnry-ops"  # the APIM user of the token and the password: a name, not a secret
ENV_VAR = "APIM_VAR_CNRY_HEADER"
GIT_TOKEN_VAR = "CNRY_GIT_TOKEN"


@pytest.fixture
def apim(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    users = {
        "organizations": [
            {"id": "DEFAULT", "name": "Default", "environments": [{"id": "DEFAULT", "name": "Default"}]}
        ],
        "users": [
            {
                "username": USER,
                "password": CANARIES["basic password"],
                "tokens": [CANARIES["bearer token"]],
                "organizations": ["*"],
            }
        ],
    }
    return make_emulator(users=users)


@pytest.fixture
def echoes(apim: RunningEmulator) -> Iterator[tuple[EchoApim, EchoApim]]:
    """One server echoing on writes (reads pass through to the emulator), one echoing on reads."""
    writes = EchoApim(
        apim.base_url, lambda method, path: 400 if method in ("PUT", "DELETE") else None
    ).start()
    reads = EchoApim(apim.base_url, lambda method, path: 500 if "/environments/" in path else None).start()
    yield writes, reads
    writes.stop()
    reads.stop()


def secretive_api(name: str, context: str) -> str:
    """An API whose backend is reached with template secrets: alone, inside a URL, a PEM, an env value."""
    return api_yaml(
        name,
        context,
        extra=(
            "            headers:\n"
            "              - name: X-Api-Key\n"
            '                value: "[[ secret `backend/header` ]]"\n'
            "              - name: X-Env\n"
            f'                value: "[[ env `{ENV_VAR}` ]]"\n'
            "              - name: X-Pem\n"
            '                value: "[[ secret `backend/pem` ]]"\n'
        ),
    ).replace(
        f"            target: https://{name}.example.com\n",
        '            target: "https://backend.example.com/?k=[[ secret `backend/inline` ]]"\n',
    )


def manifests(apim: RunningEmulator, echo_writes: EchoApim, echo_reads: EchoApim) -> dict[str, str]:
    return {
        "contexts/apim.yaml": context_yaml("apim", apim.base_url),
        "contexts/basic.yaml": context_yaml("basic", apim.base_url, secret="basic"),
        "contexts/echo-writes.yaml": context_yaml("echo-writes", echo_writes.base_url),
        "contexts/echo-reads.yaml": context_yaml("echo-reads", echo_reads.base_url),
        "apis/secretive.yaml": secretive_api("secretive", "apim"),
        "apis/echoed.yaml": secretive_api("echoed", "echo-writes"),
        "apis/plain.yaml": api_yaml("plain", context="basic"),
    }


def test_no_canary_in_any_output(
    tmp_path: Path, apim: RunningEmulator, echoes: tuple[EchoApim, EchoApim]
) -> None:
    echo_writes, echo_reads = echoes
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", CANARIES["bearer token"])
    write_secret(secrets, "basic", "username", USER)
    # The operator binds each credential to the servers its contexts point at (the echoing ones too).
    urls = ",".join((apim.base_url, echo_writes.base_url, echo_reads.base_url))
    write_secret(secrets, "apim", "allowedUrls", urls)
    write_secret(secrets, "basic", "baseUrl", apim.base_url)
    write_secret(secrets, "backend", "header", CANARIES["template secret"])
    write_secret(secrets, "backend", "inline", CANARIES["secret in a string"])
    write_secret(secrets, "backend", "pem", PEM)
    webhook = tmp_path / "webhook-secret"
    webhook.write_text(CANARIES["webhook secret"] + "\n")

    files = manifests(apim, echo_writes, echo_reads)
    folder = tmp_path / "repo"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    upstream = Upstream(tmp_path / "srv")
    upstream.commit(files)
    git_server = HttpGitServer(upstream.base, username="deployer", token=CANARIES["git token"])
    git_server.start()
    env = clean_env(
        APIM_SECRET_DEFAULT_BASIC_PASSWORD=CANARIES["basic password"],
        **{ENV_VAR: CANARIES["env variable"], GIT_TOKEN_VAR: CANARIES["git token"]},
    )
    source = git_server.url(upstream.relative)
    git = ["--git-username", "deployer", "--git-token-env", GIT_TOKEN_VAR, "--cache-dir", tmp_path / "cache"]
    common = ["--secrets-dir", secrets, "--log-level", "debug"]
    outputs: dict[str, str] = {}
    page = tmp_path / "report.html"  # --html-report, as CI keeps it

    def run(label: str, *args: str | Path) -> str:
        result = cli(*args, env=env)
        text = result.stdout + result.stderr
        outputs[label] = text
        assert "Traceback" not in text, f"{label}:\n{text}"
        return text

    try:
        run("validate", "validate", folder)
        run("validate json", "validate", folder, "--output", "json")
        run("check-context", "check-context", folder, *common, "--log-format", "console")
        run(
            "check-context json", "check-context", folder, *common, "--output", "json", "--log-format", "json"
        )
        for fmt, logs in (("text", "console"), ("json", "json"), ("markdown", "console"), ("html", "json")):
            run(f"diff {fmt}", "diff", source, *git, *common, "--output", fmt, "--log-format", logs)
        first_sync = run("sync", "sync", source, *git, *common, "--log-format", "json", "--html-report", page)
        outputs["sync html report"] = page.read_text()
        write_secret(secrets, "backend", "header", CANARIES["rotated secret"])  # the plan shows a change
        for fmt in ("text", "json", "markdown", "html"):
            run(f"diff {fmt} after rotation", "diff", source, *git, *common, "--output", fmt, "--verbose")
        run("sync json", "sync", source, *git, *common, "--output", "json", "--log-format", "console")
        run("run --once", "run", source, *git, *common, "--once", "--output", "markdown", "--listen", "")
        run("run --once html", "run", source, *git, *common, "--once", "--listen", "", "--html-report", page)
        outputs["run --once html report"] = page.read_text()
        run("export", "export", folder, "--context", "apim", "--out", tmp_path / "exported", *common)
        for fmt in ("text", "json"):
            sa = ["service-account", "check", folder, "--context", "apim", *common]
            run(f"service-account check {fmt}", *sa, "--output", fmt)
        daemon_output = _daemon(tmp_path, [str(source), *map(str, git), *map(str, common)], webhook, env)
    finally:
        git_server.stop()
    outputs.update(daemon_output)

    # The paths that could leak were taken: APIM echoed, the secrets were used and shown as such.
    assert echo_writes.echoed and echo_reads.echoed
    assert "400" in first_sync and "invalid request" in first_sync  # APIM's echo reached the report
    assert "(sensitive) -> (sensitive)" in outputs["diff text after rotation"]
    assert "(sensitive) -&gt; (sensitive)" in outputs["diff html after rotation"]
    assert "invalid request" in outputs["sync html report"]  # APIM's echo reached the page too
    assert "context default/apim" in outputs["daemon /"]  # the page showed the sync
    assert git_server.stats.fetches >= 1  # the git token was used for real
    state = json.dumps(apim.dump_state())
    assert CANARIES["env variable"] in state and CANARIES["rotated secret"] in state  # APIM got them
    for label, text in outputs.items():
        assert_no_leak(text, {f"{name} in {label}": value for name, value in CANARIES.items()})


def _daemon(tmp_path: Path, args: list[str], webhook: Path, env: dict[str, str]) -> dict[str, str]:
    """The daemon's endpoints and logs after one sync and a refused webhook call."""
    daemon = DaemonProcess(
        [*args, "--webhook-secret-file", str(webhook), "--interval", "300"], tmp_path / "daemon", env=env
    )
    try:
        daemon.wait_serving()
        wait_for(lambda: daemon.status().get("lastSyncTime"), "the daemon's first sync", timeout=60)
        refused = daemon.client.post(
            "/trigger",
            content=b"{}",
            headers={"Authorization": "Bearer " + CANARIES["webhook secret"].upper()},
        )
        assert refused.status_code == 401
        bodies: dict[str, str] = {}
        for path in ("/status", "/metrics", "/readyz", "/"):
            response: httpx.Response = daemon.client.get(path)
            bodies[f"daemon {path}"] = response.text
        status: Any = json.loads(bodies["daemon /status"])
        assert status["conditions"], status
    finally:
        daemon.stop()
    bodies["daemon log"] = daemon.log_text()
    bodies["daemon stdout"] = daemon.out_path.read_text(errors="replace")
    return bodies
