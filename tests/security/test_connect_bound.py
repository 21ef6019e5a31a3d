"""The other side of the binding rule: a credential bound by the operator works with every command.

Against the emulator (a real APIM double is what matters here, not a recorder): `service-account
create` writes the token *and* its binding (`baseUrl`) beside it, and from then on check, rotate,
check-context, diff, sync, run and export all reach APIM with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.security.connect_support import SECRET, Workspace, argv, run


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    monkeypatch.delenv("RECONCILER_ALLOWED_APIM_URLS", raising=False)
    monkeypatch.setenv("APIM_ADMIN_USERNAME", "admin")
    monkeypatch.setenv("APIM_ADMIN_PASSWORD", "admin")
    monkeypatch.setenv("APIM_ADMIN_BASEURL", emulator.base_url)  # the operator binds the admin login


def test_a_bound_credential_works_with_every_command(
    tmp_path: Path, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace.make(tmp_path, emulator.base_url)
    (ws.secrets / SECRET / "bearerToken").unlink()  # a fresh secret: create fills it

    code, output = run(capsys, argv("sa-create", ws))
    assert code == 0, output
    assert (ws.secrets / SECRET / "baseUrl").read_text() == emulator.base_url  # bound where it was made

    for command in ("sa-check", "sa-rotate", "check-context", "diff", "sync", "run", "export"):
        code, output = run(capsys, argv(command, ws))
        assert code == 0, f"{command}: {output}"
    code, output = run(capsys, argv("check-context", ws))
    assert f"bound by:     secret default/{SECRET} key baseUrl ({emulator.base_url})" in output
    token = (ws.secrets / SECRET / "bearerToken").read_text().strip()
    assert token not in output


def test_create_refuses_a_secret_bound_to_another_server(
    tmp_path: Path, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """The secret belongs to the server it is bound to: create does not hand it a token of another."""
    ws = Workspace.make(tmp_path, emulator.base_url)
    ws.bind("https://apim.elsewhere.example.com")
    emulator.reset_stats()
    code, output = run(capsys, argv("sa-create", ws))
    assert code == 1
    assert "is bound to https://apim.elsewhere.example.com" in output
    assert emulator.stats()["total"] == 0
