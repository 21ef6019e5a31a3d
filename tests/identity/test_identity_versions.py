"""service-account create, check and rotate on every supported APIM version (role ids, default roles,
tokens that never expire: the same on all of them, docs/emulator-fidelity.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.identity.helpers import ADMIN_ENV, make_repo, read_token, sa, whoami

SUPPORTED = ["4.9.18", "4.10.13", "4.11.5", "4.12.0", "4.13.0"]


@pytest.mark.parametrize("version", SUPPORTED)
def test_create_check_rotate(
    version: str, tmp_path: Path, make_emulator: Callable[..., RunningEmulator]
) -> None:
    emulator = make_emulator(apim_version=version)
    context, secrets = make_repo(tmp_path, emulator.base_url, apis=("orders",)), tmp_path / "secrets"
    created = sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV)
    assert created.returncode == 0, created.stdout + created.stderr
    checked = sa("check", context, secrets)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    old = read_token(secrets)
    rotated = sa("rotate", context, secrets)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert whoami(emulator.base_url, old).status_code == 401
    assert whoami(emulator.base_url, read_token(secrets)).json()["sourceId"] == "apim-reconciler"
