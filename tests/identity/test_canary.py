"""No token byte in the stdout or stderr of any service-account command, at debug level, unless asked.

The administrator's credentials are canaries (a token and a password configured in the emulator); every
token the commands create is read back from the secret files after each run and looked for in every
output that came before. `--show-token` is the positive control: it proves the scan finds a leak.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.identity.helpers import make_repo, read_token, sa

CANARY_ADMIN_TOKEN = "cnry-admin-tok-8d1f4a"
CANARY_ADMIN_PASSWORD = "cnry-admin-pw-3e9b70"
USERS = {
    "organizations": [{"id": "DEFAULT", "environments": [{"id": "DEFAULT", "name": "Default"}]}],
    "users": [
        {
            "username": "root",
            "password": CANARY_ADMIN_PASSWORD,
            "tokens": [CANARY_ADMIN_TOKEN],
            "organizations": ["*"],
        }
    ],
}
DEBUG = ("--log-level", "debug", "--log-format", "json")


@pytest.fixture
def canary_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(users=USERS)) as emu:
        yield emu


def _leaks(outputs: list[subprocess.CompletedProcess[str]], secrets: set[str]) -> list[str]:
    found: list[str] = []
    for result in outputs:
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            found.extend(f"{stream}: {s}" for s in secrets if s in text)
    return found


def test_no_token_in_any_output_unless_show_token(tmp_path: Path, canary_emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, canary_emulator.base_url), tmp_path / "secrets"
    basic = base64.b64encode(f"root:{CANARY_ADMIN_PASSWORD}".encode()).decode()
    watched = {CANARY_ADMIN_TOKEN, CANARY_ADMIN_PASSWORD, basic}
    runs: list[subprocess.CompletedProcess[str]] = []

    def run(action: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = sa(action, context, secrets, *extra, *DEBUG, env=env)
        runs.append(result)
        if (secrets / "apim-token" / "bearerToken").exists():
            watched.add(read_token(secrets))
        return result

    by_token = {"APIM_ADMIN_TOKEN": CANARY_ADMIN_TOKEN}
    by_password = {"APIM_ADMIN_USERNAME": "root", "APIM_ADMIN_PASSWORD": CANARY_ADMIN_PASSWORD}
    assert run("create", "--name", "robot", env=by_token).returncode == 0
    assert run("create", "--name", "robot", env=by_password).returncode == 0
    assert run("check").returncode == 0
    assert run("rotate").returncode == 0
    assert run("rotate", "--fail-after", "written").returncode == 137
    assert run("check").returncode == 0
    manifest = run("create", "--name", "robot", "--output", "secret-manifest", env=by_token)
    assert manifest.returncode == 0
    wrong = {"APIM_ADMIN_USERNAME": "root", "APIM_ADMIN_PASSWORD": CANARY_ADMIN_PASSWORD + "x"}
    assert run("create", "--name", "robot", env=wrong).returncode == 1
    assert any('"level": "debug"' in r.stderr for r in runs)  # debug logging really was on
    assert len(watched) >= 6
    assert _leaks(runs, watched) == []

    # Positive control: --show-token prints the value, and the scan catches it.
    shown = run("rotate", "--show-token")
    assert shown.returncode == 0
    assert _leaks([shown], {read_token(secrets)}) == [f"stdout: {read_token(secrets)}"]
