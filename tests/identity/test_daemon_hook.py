"""`check_identity`, the daemon's hook, in process: an IdentityStatus with the token expiry as a datetime."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.apim.config import ClientConfig
from reconciler.emulator import RunningEmulator
from reconciler.identity import check_identity
from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.model import Resource
from reconciler.secrets import SecretStore
from tests.identity.helpers import ADMIN_ENV, SECRET, bind_secret, make_repo, sa


def _context(path: Path) -> Resource:
    (context,) = load_manifests([str(path)], LoadOptions()).resources
    return context


def test_status_of_a_working_service_account(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator]
) -> None:
    emu = make_emulator(token_ttl_seconds=3600)
    context_file, secrets = make_repo(tmp_path, emu.base_url), tmp_path / "secrets"
    assert sa("create", context_file, secrets, "--name", "robot", env=ADMIN_ENV).returncode == 0
    quiet = 0.01  # days, about 15 minutes: the one-hour token is not expiring soon
    status = asyncio.run(
        check_identity(_context(context_file), SecretStore(secrets), ClientConfig(), warn_days=quiet)
    )
    assert status.ok and status.roles_ok and status.service_account and not status.revoked
    assert (status.who, status.missing_roles, status.warnings) == ("robot", (), ())
    assert status.token_expires_at is not None
    assert timedelta(minutes=59) < status.token_expires_at - datetime.now(UTC) <= timedelta(hours=1)
    soon = asyncio.run(
        check_identity(_context(context_file), SecretStore(secrets), ClientConfig(), warn_days=1)
    )
    assert soon.ok and len(soon.warnings) == 1 and "expires in 59 minute(s)" in soon.warnings[0]


def test_status_of_a_revoked_token_and_of_a_missing_secret(tmp_path: Path, emulator: RunningEmulator) -> None:
    context_file, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    context = _context(context_file)
    missing = asyncio.run(check_identity(context, SecretStore(secrets, environ={}), ClientConfig()))
    assert not missing.ok and not missing.revoked and "apim-token" in (missing.error or "")

    bind_secret(secrets, emulator.base_url)
    (secrets / SECRET / "bearerToken").write_text("revoked-or-never-issued")
    revoked = asyncio.run(check_identity(context, SecretStore(secrets), ClientConfig()))
    assert not revoked.ok and revoked.revoked and revoked.token_expires_at is None
    assert revoked.user_id is None and not revoked.roles_ok
