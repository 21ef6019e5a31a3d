"""`service-account rotate`: the old token is revoked only after the new one works, and a rotation killed
between any two steps leaves the context with a working token."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.identity.helpers import ADMIN_ENV, SECRET, admin_get, cli, make_repo, read_token, sa, whoami
from tests.secrets.helpers import secret_volume


def _tokens_of(base_url: str, token: str) -> list[str]:
    user_id = whoami(base_url, token).json()["id"]
    return [t["id"] for t in admin_get(base_url, f"/users/{user_id}/tokens")]


def test_rotation_revokes_the_old_token_after_the_new_one_works(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    context = make_repo(tmp_path, emulator.base_url, apis=("orders",))
    secrets = tmp_path / "secrets"
    assert sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV).returncode == 0
    old = read_token(secrets)
    old_id = (secrets / SECRET / "tokenId").read_text()

    rotated = sa("rotate", context, secrets)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    steps = [
        line.removeprefix("rotate: ") for line in rotated.stderr.splitlines() if line.startswith("rotate: ")
    ]
    assert steps == ["created", "written", "verified", "revoked"]
    assert f"old token {old_id} revoked" in rotated.stdout

    new = read_token(secrets)
    assert new != old
    assert whoami(emulator.base_url, old).status_code == 401
    assert whoami(emulator.base_url, new).json()["sourceId"] == "apim-reconciler"
    assert _tokens_of(emulator.base_url, new) == [(secrets / SECRET / "tokenId").read_text()]
    assert stat.S_IMODE((secrets / SECRET / "bearerToken").stat().st_mode) == 0o600

    synced = cli("sync", tmp_path / "repo", "--secrets-dir", secrets)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "1 to create" in synced.stdout


@pytest.mark.parametrize("step", ["created", "written", "verified"])
def test_a_rotation_killed_after_any_step_leaves_a_working_token(
    tmp_path: Path, emulator: RunningEmulator, step: str
) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    assert sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV).returncode == 0
    old = read_token(secrets)

    killed = sa("rotate", context, secrets, "--fail-after", step)
    assert killed.returncode == 137, killed.stdout + killed.stderr
    assert killed.stderr.rstrip().endswith(f"rotate: {step}")
    assert [p.name for p in (secrets / SECRET).iterdir() if p.name.startswith(".")] == []  # no temp left

    in_file = read_token(secrets)
    assert in_file == old if step == "created" else in_file != old
    assert whoami(emulator.base_url, in_file).status_code == 200
    assert whoami(emulator.base_url, old).status_code == 200  # never revoked before the end
    assert cli("check-context", context, "--secrets-dir", secrets).returncode == 0
    check = sa("check", context, secrets)
    assert check.returncode == 0 and "the user has 1 other live token(s)" in check.stdout

    # The next rotation picks up from there and completes.
    again = sa("rotate", context, secrets)
    assert again.returncode == 0, again.stdout + again.stderr
    assert whoami(emulator.base_url, read_token(secrets)).status_code == 200
    assert cli("check-context", context, "--secrets-dir", secrets).returncode == 0


def test_rotation_keeps_kubelets_data_layout(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    assert sa("create", context, secrets / "staging", "--name", "robot", env=ADMIN_ENV).returncode == 0
    token = read_token(secrets / "staging")
    bound = {"baseUrl": emulator.base_url}
    volume = secret_volume(secrets / "default" / SECRET, {"bearerToken": token, "extra": "kept", **bound})
    before = os.readlink(volume / "..data")

    rotated = sa("rotate", context, secrets)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    after = os.readlink(volume / "..data")
    assert after != before and not (volume / before).exists()
    assert (volume / "bearerToken").is_symlink() and os.readlink(
        volume / "bearerToken"
    ) == "..data/bearerToken"
    assert (volume / "extra").read_text().strip() == "kept"
    new = (volume / "bearerToken").read_text()
    assert new != token and whoami(emulator.base_url, new).status_code == 200
    assert whoami(emulator.base_url, token).status_code == 401
    assert stat.S_IMODE((volume / after / "bearerToken").stat().st_mode) == 0o600


def test_rotate_refuses_a_token_that_is_not_a_file(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    result = sa(
        "rotate", context, secrets, env={"APIM_SECRET_DEFAULT_APIM_TOKEN_BEARERTOKEN": "emulator-token"}
    )
    assert result.returncode == 1
    assert "comes from env APIM_SECRET_DEFAULT_APIM_TOKEN_BEARERTOKEN" in result.stderr
    assert whoami(emulator.base_url, "emulator-token").status_code == 200


def test_a_new_token_that_fails_verification_is_revoked_and_the_old_one_written_back(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    from reconciler.emulator import Fault

    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    assert sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV).returncode == 0
    old, old_id = read_token(secrets), (secrets / SECRET / "tokenId").read_text()
    # The verification reaches the environment with the new token (the first read of it in a rotation).
    emulator.set_faults([Fault.parse("GET /management/v2/organizations/DEFAULT/environments/DEFAULT=500:1")])
    rotated = sa("rotate", context, secrets)
    assert rotated.returncode == 1, rotated.stdout + rotated.stderr
    steps = [line for line in rotated.stderr.splitlines() if line.startswith("rotate: ")]
    assert steps == ["rotate: created", "rotate: written"]  # written, then not verified
    assert read_token(secrets) == old and (secrets / SECRET / "tokenId").read_text() == old_id
    assert whoami(emulator.base_url, old).status_code == 200
    assert _tokens_of(emulator.base_url, old) == [old_id]  # the new one is revoked
