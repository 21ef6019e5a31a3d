"""The daemon watches its own identity: token expiry as a metric and in /status, a clear /readyz
failure once APIM refuses the token (revoked), instead of a silent retry loop."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from reconciler.emulator import EmulatorConfig, start_emulator
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import clean_env, wait_for
from tests.identity.helpers import ADMIN_ENV, ORG, make_repo, read_token, sa


def test_expiry_is_published_and_a_revoked_token_fails_readiness(
    tmp_path: Path, start_daemon: StartDaemon
) -> None:
    with start_emulator(EmulatorConfig(token_ttl_seconds=10 * 86_400)) as emulator:
        context = make_repo(tmp_path, emulator.base_url, apis=("alpha",))
        secrets = tmp_path / "secrets"
        created = sa("create", context, secrets, "--name", "reconciler-bot", env=ADMIN_ENV)
        assert created.returncode == 0, created.stdout + created.stderr

        daemon = start_daemon(
            context.parent,
            "--secrets-dir", secrets, "--interval", "0.3", "--resync-interval", "0.3",
            "--cache-dir", tmp_path / "cache",
            env={k: v for k, v in clean_env().items() if not k.startswith("APIM_SECRET_")},
        )  # fmt: skip
        wait_for(lambda: daemon.syncs() >= 1, "the first sync")
        identities = wait_for(lambda: daemon.status()["identities"], "the identity check")
        (identity,) = identities
        assert identity["ok"] and identity["serviceAccount"] and not identity["revoked"]
        assert 9 * 86_400 < identity["tokenExpiresInSeconds"] <= 10 * 86_400
        assert any("expires" in w for w in identity["warnings"])  # within the 30-day warning window
        expiry = daemon.metrics()[("apim_reconciler_token_expiry_seconds", (("context", "default/apim"),))]
        assert 9 * 86_400 < expiry <= 10 * 86_400
        assert httpx.get(f"http://127.0.0.1:{daemon.port}/readyz").status_code == 200

        # someone revokes the token in the console: every request now gets a 401
        token = read_token(secrets)
        auth = httpx.BasicAuth("admin", "admin")
        me = httpx.get(f"{emulator.base_url}{ORG}/user", headers={"Authorization": f"Bearer {token}"}).json()
        tokens = httpx.get(f"{emulator.base_url}{ORG}/users/{me['id']}/tokens", auth=auth).json()
        for entry in tokens:
            httpx.delete(f"{emulator.base_url}{ORG}/users/{me['id']}/tokens/{entry['id']}", auth=auth)

        def refused() -> str | None:
            answer = httpx.get(f"http://127.0.0.1:{daemon.port}/readyz")
            return answer.text if answer.status_code == 503 and "refuses the token" in answer.text else None

        reason = wait_for(refused, "/readyz to name the revoked token")
        assert "default/apim" in reason and "service-account rotate" in reason
        assert token not in daemon.log_text()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait_exit() == 0
