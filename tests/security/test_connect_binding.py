"""A pull request that points `spec.baseUrl` at its own server must not receive the deploy token.

Every command that connects (diff, sync, run, check-context, export, service-account check, rotate,
create) is run in process against a repository whose context points at a recording server on
127.0.0.1 (tests/security/connect_support.py says why it is not the emulator). Whatever the case, the
recorder must get nothing at all (the refusal comes before any connection), the command must exit 1,
and its message must say which context, which secret, which URL, and how to bind it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.security.connect_support import (
    CANARY,
    COMMANDS,
    FAKE_HOST,
    SECRET,
    Recorder,
    Workspace,
    argv,
    resolve_to_loopback,
    run,
)

ADMIN = {"APIM_ADMIN_USERNAME": "admin", "APIM_ADMIN_PASSWORD": "admin"}


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECONCILER_ALLOWED_APIM_URLS", "APIM_ADMIN_BASEURL", "APIM_ADMIN_ALLOWEDURLS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ADMIN.items():
        monkeypatch.setenv(name, value)


def refused(code: int, output: str, recorder: Recorder, *, url: str, source: str) -> None:
    assert code == 1, output
    assert recorder.requests == [], "a request reached the server that the repository chose"
    assert "nothing was sent" in output, output
    assert url in output, output  # the URL the context asks for
    assert source in output, output  # where the credential comes from
    assert "--allowed-apim-url" in output, output  # how to bind it
    assert CANARY not in output


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unbound_secret_goes_nowhere(
    command: str, tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace.make(tmp_path, recorder.url)
    code, output = run(capsys, argv(command, ws))
    if command == "sa-create":  # create talks with an administrator's login, from APIM_ADMIN_*
        refused(code, output, recorder, url=recorder.url, source="environment variable APIM_ADMIN_PASSWORD")
        assert "APIM_ADMIN_BASEURL" in output
        return
    refused(code, output, recorder, url=recorder.url, source=f"secret default/{SECRET}")
    assert "context.yaml:" in output  # file:line of the context
    assert "APIM_SECRET_DEFAULT_APIM_TOKEN_BASEURL" in output


@pytest.mark.parametrize("command", COMMANDS)
def test_a_secret_bound_to_another_server_goes_nowhere(
    command: str,
    tmp_path: Path,
    recorder: Recorder,
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The operator bound the token (and the admin login) to the real APIM; the PR moved baseUrl."""
    ws = Workspace.make(tmp_path, recorder.url)
    ws.bind(emulator.base_url)
    monkeypatch.setenv("APIM_ADMIN_BASEURL", emulator.base_url)
    code, output = run(capsys, argv(command, ws))
    source = "APIM_ADMIN_PASSWORD" if command == "sa-create" else f"secret default/{SECRET}"
    refused(code, output, recorder, url=recorder.url, source=source)
    assert f"is bound to {emulator.base_url}" in output
    assert emulator.stats()["total"] == 0  # and nothing went to the real one either


@pytest.mark.parametrize(
    "bound",
    [
        pytest.param("https://127.0.0.1:{port}", id="other-scheme"),
        pytest.param("http://127.0.0.1:{port}/gateway", id="longer-path"),
        pytest.param("http://localhost:{port}", id="other-host-spelling"),
        pytest.param("http://127.0.0.1:{other_port}", id="other-port"),
    ],
)
def test_a_near_miss_is_a_miss(
    bound: str, tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace.make(tmp_path, recorder.url)
    ws.bind(bound.format(port=recorder.port, other_port=recorder.port % 65535 + 1))
    code, output = run(capsys, argv("sync", ws))
    refused(code, output, recorder, url=recorder.url, source=f"secret default/{SECRET}")


INLINE = """\
apiVersion: gravitee.io/v1alpha1
kind: ManagementContext
metadata:
  name: apim
spec:
  baseUrl: {url}
  auth:
    bearerToken: {token}
"""


@pytest.mark.parametrize("command", ["diff", "sync", "run", "check-context", "export", "sa-check"])
def test_plain_http_to_a_name_that_is_not_loopback_is_refused(
    command: str,
    tmp_path: Path,
    recorder: Recorder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even a credential written in the repository (no binding needed) does not travel in clear text
    to a host that is not loopback, though the name does reach a server here (see the control)."""
    url = f"http://{FAKE_HOST}:{recorder.port}"
    ws = Workspace.make(tmp_path, url, context_text=INLINE.format(url=url, token=CANARY))
    with resolve_to_loopback(monkeypatch):
        code, output = run(capsys, argv(command, ws))
    assert code == 1, output
    assert recorder.requests == []
    assert f"plain http:// to {FAKE_HOST}" in output and "nothing was sent" in output
    assert CANARY not in output


def test_control_the_fake_name_does_reach_the_recorder_when_allowed(
    tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without this, the refusals above could pass because the name never resolved at all."""
    url = f"http://{FAKE_HOST}:{recorder.port}"
    ws = Workspace.make(tmp_path, url, context_text=INLINE.format(url=url, token=CANARY))
    with resolve_to_loopback(monkeypatch):
        run(capsys, [*argv("check-context", ws), "--allowed-apim-url", url])
        inline = recorder.authorizations()
        # A secret bound to that very http:// URL is the explicit allowance too.
        secret_ws = Workspace.make(tmp_path / "secret", url)
        secret_ws.bind(url)
        _, output = run(capsys, argv("check-context", secret_ws))
    assert inline and inline[0] == f"Bearer {CANARY}"
    assert recorder.authorizations()[len(inline)] == f"Bearer {CANARY}"
    assert f"secret default/{SECRET} key baseUrl ({url})" in output


def test_one_refused_context_does_not_stop_the_others(
    tmp_path: Path,
    recorder: Recorder,
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = Workspace.make(tmp_path, emulator.base_url)
    ws.bind(emulator.base_url)
    (ws.secrets / SECRET / "bearerToken").write_text("emulator-token")  # one the emulator accepts
    (ws.repo / "evil.yaml").write_text(
        (ws.context.read_text().replace("name: apim\n", "name: evil\n", 1)).replace(
            emulator.base_url, recorder.url
        )
    )
    (ws.repo / "evil-api.yaml").write_text(
        (ws.repo / "orders.yaml").read_text().replace("name: apim", "name: evil").replace("orders", "loot")
    )
    code, output = run(capsys, [*argv("sync", ws), "--output", "json"])
    assert code == 1
    assert recorder.requests == []
    assert "default/evil" in output and "nothing was sent" in output
    listed = httpx.post(
        f"{emulator.base_url}/management/v2/organizations/DEFAULT/environments/DEFAULT/apis/_search",
        json={},
        headers={"Authorization": "Bearer emulator-token"},
    ).json()
    assert [api["name"] for api in listed["data"]] == ["orders"]


def test_allowed_urls_and_the_flag_bind_too(
    tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.make(tmp_path, recorder.url)
    ws.bind(f"https://apim.example.com,\n{recorder.url}/", key="allowedUrls")
    _, output = run(capsys, argv("check-context", ws))
    assert f"bound by:     secret default/{SECRET} key allowedUrls ({recorder.url}/)" in output
    assert recorder.requests and recorder.authorizations() == [f"Bearer {CANARY}"] * len(recorder.requests)

    flagged = Workspace.make(tmp_path / "flag", recorder.url)
    monkeypatch.setenv("RECONCILER_ALLOWED_APIM_URLS", f"https://apim.example.com,{recorder.url}")
    _, output = run(capsys, argv("check-context", flagged))
    assert f"bound by:     --allowed-apim-url {recorder.url} (for secret default/{SECRET})" in output
    assert CANARY not in output


def test_a_malformed_binding_is_refused_without_showing_it(
    tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator who put the token under `baseUrl` by mistake must not see it printed."""
    ws = Workspace.make(tmp_path, recorder.url)
    ws.bind(CANARY)
    code, output = run(capsys, argv("diff", ws))
    assert code == 1 and recorder.requests == []
    assert "key baseUrl does not hold an http:// or https:// URL" in output
    assert CANARY not in output


def test_a_bad_allowed_url_flag_is_a_usage_error(
    tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace.make(tmp_path, recorder.url)
    code, output = run(capsys, [*argv("diff", ws), "--allowed-apim-url", "http://[::1"])
    assert code == 64 and "--allowed-apim-url" in output
    assert recorder.requests == []
